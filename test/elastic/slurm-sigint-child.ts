// Child of slurm.test.ts: submits one worker job, prints its id, then waits for Ctrl-C.
import { SlurmCluster } from "../../src/elastic/slurm.ts";

const cluster = await SlurmCluster.start({ cores: 1, walltime: "00:05:00", logDirectory: process.argv[2]! });
await cluster.scale(1);
console.log(`job ${cluster.jobIds[0]}`);
setInterval(() => undefined, 1000);
