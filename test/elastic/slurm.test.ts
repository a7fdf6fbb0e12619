// SlurmCluster against a real single-node Slurm (munged, slurmctld, slurmd started here on loopback).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { Client, SchedulerServer } from "../../src/index.ts";
import { SHOAL } from "../support/cli.ts";
import { SlurmCluster, slurmJobScript } from "../../src/elastic/slurm.ts";
import { busyMs, addTo } from "./fixtures.ts";
import { slurmSkipReason, startSlurm, type TestSlurm } from "./slurm-setup.ts";

const skip = slurmSkipReason() ?? false;
let slurm: TestSlurm | null = null;
before(async () => {
  if (!skip) slurm = await startSlurm();
});
after(async () => await slurm?.stop());

const squeue = (): string => execFileSync("squeue", ["-h", "-o", "%i %T %j"], { encoding: "utf8" }).trim();

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; squeue: ${squeue()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("jobScript has the dask-jobqueue shape", () => {
  const s = slurmJobScript({ queue: "debug", account: "lab", cores: 4, memory: "2G", walltime: "01:00:00", jobExtraDirectives: ["--gres=gpu:1"], jobScriptPrologue: ["module load node"], node: "node", shoal: "/opt/shoal/bin/shoal.mjs", logDirectory: "/tmp/l" }, "tcp://10.0.0.1:8786");
  assert.equal(s, [
    "#!/usr/bin/env bash", "", "#SBATCH -J shoal-worker", "#SBATCH -p debug", "#SBATCH -A lab", "#SBATCH -n 1", "#SBATCH --cpus-per-task=4", "#SBATCH --mem=2G",
    "#SBATCH -t 01:00:00", "#SBATCH -o /tmp/l/%x-%j.out", "#SBATCH --gres=gpu:1", "", "module load node",
    `exec node /opt/shoal/bin/shoal.mjs worker tcp://10.0.0.1:8786 --nthreads 4 --no-nanny --death-timeout 60 --memory-limit 2147483648 --name "slurm-$SLURM_JOB_ID"`, "",
  ].join("\n"));
});

test("SlurmCluster: scale(2), a graph survives scancel of one worker's job, adapt to zero, nothing left in squeue", { skip, timeout: 120_000 }, async () => {
  const cluster = await SlurmCluster.start({ cores: 1, memory: "1G", walltime: "00:10:00", token: "slurm-test", logDirectory: `${slurm!.dir}/logs` });
  try {
    await cluster.scale(2);
    assert.equal(cluster.jobIds.length, 2);
    await cluster.waitForWorkers(2, 60_000);
    const client = await Client.connect(cluster);
    // 24 tasks of 150 ms in two layers; one worker's job is cancelled after the first results arrive
    const a = Array.from({ length: 16 }, (_, i) => client.submit(busyMs, i, 150));
    const b = Array.from({ length: 8 }, (_, i) => client.submit(addTo, a[2 * i]!, a[2 * i + 1]!));
    await a[0]!.wait();
    const victim = cluster.jobIds[0]!;
    execFileSync("scancel", [victim]);
    const sums = await client.gather(b);
    assert.deepEqual(sums, Array.from({ length: 8 }, (_, i) => 4 * i + 1));
    await until("the cancelled job to leave squeue", () => !squeue().includes(`${victim} `));
    for (const f of [...a, ...b]) f.release();
    const ad = cluster.adapt({ minimum: 0, maximum: 2, interval: 0.2, waitCount: 2 });
    await until("zero workers", () => cluster.scheduler.state.workers.size === 0 && ad.launcher.status().length === 0);
    await client.close();
  } finally {
    await cluster.close();
  }
  await until("an empty squeue", () => squeue() === "");
});

test("Ctrl-C of the program cancels its jobs", { skip, timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "test/elastic/slurm-sigint-child.ts", `${slurm!.dir}/logs`], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await until("the child's job", () => /job \d+/.test(out) || child.exitCode !== null);
  const id = /job (\d+)/.exec(out)![1]!;
  assert.match(squeue(), new RegExp(`^${id} `, "m"));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once("exit", (_c, sig) => r(sig)));
  child.kill("SIGINT");
  assert.equal(await exited, "SIGINT", "the program still dies of the signal");
  await until("its job to leave squeue", () => !squeue().includes(`${id} `));
});

test("shoal slurm submit: --dry-run prints the script; jobs join a scheduler started elsewhere", { skip, timeout: 60_000 }, async () => {
  const script = execFileSync(process.execPath, [SHOAL, "slurm", "submit", "tcp://10.1.2.3:8786", "--cores", "2", "--queue", "gpu", "--dry-run"], { encoding: "utf8" });
  assert.match(script, /#SBATCH -p gpu\n/);
  assert.match(script, /worker tcp:\/\/10\.1\.2\.3:8786 --nthreads 2 /);
  const sched = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false }).start();
  try {
    const ids = execFileSync(process.execPath, [SHOAL, "slurm", "submit", sched.address, "--jobs", "2", "--log-directory", `${slurm!.dir}/logs`], { encoding: "utf8" }).trim().split("\n");
    assert.equal(ids.length, 2);
    await until("two workers", () => sched.state.workers.size === 2);
    assert.deepEqual([...sched.state.workers.values()].map((w) => w.name).sort(), ids.map((i) => `slurm-${i}`).sort());
    execFileSync("scancel", ids);
    await until("an empty squeue", () => squeue() === "");
  } finally {
    await sched.close();
  }
});
