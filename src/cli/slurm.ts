/**
 * `shoal slurm submit SCHEDULER --jobs N`: submits N Slurm jobs, each running
 * one `shoal worker` connected to SCHEDULER (the CLI side of `SlurmCluster`,
 * for a scheduler started with `shoal scheduler`); prints the job ids.
 * `--dry-run` prints the job script instead. Cancel them with `scancel`.
 */
import { parseArgs } from "node:util";
import { SlurmLauncher } from "../elastic/slurm.ts";
import { parseCount, runCli, UsageError } from "./options.ts";

const USAGE = `usage: shoal slurm submit SCHEDULER_ADDRESS [options]     (e.g. tcp://login1:8786)

  --jobs N               worker jobs to submit (default 1)
  --cores C              cores per job; threads of its worker (default 1)
  --memory MEM           memory per job, Slurm style: 4G, 16000M
  --walltime HH:MM:SS    default 00:30:00
  --queue PARTITION      #SBATCH -p
  --account ACCOUNT      #SBATCH -A
  --job-name NAME        default shoal-worker
  --directive LINE       extra #SBATCH line (repeatable), e.g. --directive=--gres=gpu:1
  --prologue LINE        shell line before the worker (repeatable), e.g. "module load nodejs"
  --log-directory DIR    job output files (default <tmp>/shoal-slurm)
  --token TOKEN          cluster token (or SHOAL_TOKEN), passed in the jobs' environment
  --dry-run              print the job script and submit nothing`;

export async function run(argv: string[]): Promise<number> {
  return runCli("slurm", USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        jobs: { type: "string" }, cores: { type: "string" }, memory: { type: "string" }, walltime: { type: "string" },
        queue: { type: "string" }, account: { type: "string" }, "job-name": { type: "string" },
        directive: { type: "string", multiple: true }, prologue: { type: "string", multiple: true },
        "log-directory": { type: "string" }, token: { type: "string" }, "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const [sub, address] = positionals;
    if (sub !== "submit") throw new UsageError(sub === undefined ? "missing subcommand 'submit'" : `unknown subcommand '${sub}'`);
    if (!address) throw new UsageError("missing SCHEDULER_ADDRESS");
    const jobs = parseCount(values.jobs, "--jobs", 1);
    if (jobs < 1) throw new UsageError("--jobs must be a positive integer");
    const cores = parseCount(values.cores, "--cores", 1);
    if (cores < 1) throw new UsageError("--cores must be a positive integer");
    const launcher = new SlurmLauncher({
      cores,
      ...(values.memory !== undefined ? { memory: values.memory } : {}),
      ...(values.walltime !== undefined ? { walltime: values.walltime } : {}),
      ...(values.queue !== undefined ? { queue: values.queue } : {}),
      ...(values.account !== undefined ? { account: values.account } : {}),
      ...(values["job-name"] !== undefined ? { jobName: values["job-name"] } : {}),
      ...(values["log-directory"] !== undefined ? { logDirectory: values["log-directory"] } : {}),
      jobExtraDirectives: values.directive ?? [],
      jobScriptPrologue: values.prologue ?? [],
    }, address, values.token ?? process.env["SHOAL_TOKEN"], { cancelAtExit: false });
    if (values["dry-run"]) {
      process.stdout.write(launcher.jobScript());
      return 0;
    }
    const started = await launcher.start(jobs);
    for (const w of started) console.log(w.name.replace(/^slurm-/, ""));
    return 0;
  });
}
