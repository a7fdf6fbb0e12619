/**
 * Slurm: workers as batch jobs, in the shape of dask-jobqueue's
 * `SLURMCluster`. The scheduler runs in this process; each job runs one
 * `shoal worker` that connects back to it (`--name slurm-$SLURM_JOB_ID`, so
 * the launcher knows which job is which worker). `jobScript()` shows the
 * script; `scale(n)` and `adapt()` submit and cancel jobs; closing the
 * cluster, the program's exit, and Ctrl-C (SIGINT/SIGTERM/SIGHUP) `scancel`
 * every job it submitted.
 *
 * @example
 * ```ts
 * const cluster = await SlurmCluster.start({ queue: "broadwl", account: "pi-lab", cores: 4, memory: "16GB", walltime: "01:00:00",
 *   address: "tcp://0.0.0.0:0", contactAddress: "tcp://login1:0", token });
 * cluster.adapt({ minimum: 0, maximum: 20 });
 * const client = await Client.connect(cluster);
 * ```
 *
 * @module
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ElasticCluster, type ElasticClusterOptions } from "./cluster.ts";
import { check, SlurmError } from "./errors.ts";
import type { LaunchedWorker, Launcher } from "./launcher.ts";

const run = promisify(execFile);
const LOCAL_SHOAL = resolve(fileURLToPath(new URL("../../bin/shoal.mjs", import.meta.url)));

export interface SlurmJobOptions {
  /** Partition (`#SBATCH -p`). */
  queue?: string;
  /** Account to charge (`#SBATCH -A`). */
  account?: string;
  /** Cores per job (`--cpus-per-task`); the worker gets as many threads (default 1). */
  cores?: number;
  /** Memory per job, Slurm style (`4G`, `16000M`); also the worker's memory limit. */
  memory?: string;
  /** Wall time (`#SBATCH -t`, e.g. `01:00:00`; default `00:30:00`). */
  walltime?: string;
  /** Job name (default `shoal-worker`). */
  jobName?: string;
  /** More `#SBATCH` lines, without the prefix (e.g. `--gres=gpu:1`). */
  jobExtraDirectives?: string[];
  /** Shell lines run before the worker (module loads, `cd`, environment). */
  jobScriptPrologue?: string[];
  /** `node` on the compute nodes (default: this process's `node`). */
  node?: string;
  /** The shoal CLI on the compute nodes (default: this installation's `bin/shoal.mjs`). */
  shoal?: string;
  /** Folder of the jobs' output files (default: `<tmp>/shoal-slurm`). */
  logDirectory?: string;
  /** Seconds a worker waits for the scheduler before giving up (default 60). */
  deathTimeout?: number;
}

export interface SlurmClusterOptions extends SlurmJobOptions, Omit<ElasticClusterOptions, "launcher"> {}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The batch script of one worker job (what `sbatch` runs). */
export function slurmJobScript(o: SlurmJobOptions, scheduler: string): string {
  const cores = o.cores ?? 1;
  const lines = ["#!/usr/bin/env bash", "", `#SBATCH -J ${o.jobName ?? "shoal-worker"}`];
  if (o.queue) lines.push(`#SBATCH -p ${o.queue}`);
  if (o.account) lines.push(`#SBATCH -A ${o.account}`);
  lines.push("#SBATCH -n 1", `#SBATCH --cpus-per-task=${cores}`);
  if (o.memory) lines.push(`#SBATCH --mem=${o.memory}`);
  lines.push(`#SBATCH -t ${o.walltime ?? "00:30:00"}`);
  lines.push(`#SBATCH -o ${join(o.logDirectory ?? join(tmpdir(), "shoal-slurm"), "%x-%j.out")}`);
  for (const d of o.jobExtraDirectives ?? []) lines.push(`#SBATCH ${d}`);
  lines.push("");
  lines.push(...(o.jobScriptPrologue ?? []));
  const argv = [o.node ?? process.execPath, o.shoal ?? LOCAL_SHOAL, "worker", scheduler, "--nthreads", String(cores), "--no-nanny", "--death-timeout", String(o.deathTimeout ?? 60)];
  if (o.memory) argv.push("--memory-limit", slurmMemoryToBytes(o.memory));
  // the token travels in the environment of the job (sbatch --export), not in the script
  const cmd = argv.map(quote).join(" ") + ' --name "slurm-$SLURM_JOB_ID"';
  // exec: scancel's SIGTERM reaches the worker itself, which leaves the scheduler cleanly
  lines.push(`exec ${cmd}`);
  return lines.join("\n") + "\n";
}

/** `16G` → bytes as a string (`shoal worker --memory-limit` takes bytes). */
export function slurmMemoryToBytes(m: string): string {
  const x = /^(\d+(?:\.\d+)?)\s*([KMGT]?)B?$/i.exec(m.trim());
  if (!x) throw new SlurmError(`options.memory must look like 4G, 16000M or 1T, got ${m}`, "sbatch");
  const mult = { "": 1024 ** 2, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[x[2]!.toUpperCase() as "" | "K" | "M" | "G" | "T"];
  return String(Math.floor(Number(x[1]) * mult));
}

async function slurm(cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    if (input !== undefined) {
      return await new Promise<string>((ok, fail) => {
        const p = execFile(cmd, args, { env: env ?? process.env }, (err, stdout, stderr) => (err ? fail(Object.assign(err, { stderr })) : ok(stdout)));
        p.stdin?.end(input);
      });
    }
    return (await run(cmd, args, { env: env ?? process.env })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: string };
    if (e.code === "ENOENT") throw new SlurmError(`${cmd} was not found: is Slurm installed here (slurm-client) and on the PATH?`, cmd, { cause: err });
    throw new SlurmError(`${cmd} ${args.join(" ")} failed: ${(e.stderr ?? e.message).trim()}`, cmd, { cause: err });
  }
}

/** Jobs of every open Slurm launcher of this process: cancelled at exit and on signals. */
const openJobs = new Set<string>();
let hooked = false;
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  const cancelAll = (): void => {
    if (openJobs.size === 0) return;
    try {
      execFileSync("scancel", [...openJobs], { stdio: "ignore", timeout: 10_000 });
    } catch {
      // nothing more can be done in an exit handler
    }
    openJobs.clear();
  };
  process.on("exit", cancelAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const on = (): void => {
      cancelAll();
      if (process.listenerCount(sig) === 1) {
        process.off(sig, on);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, on);
  }
}

/** One `shoal worker` per Slurm job. */
export class SlurmLauncher implements Launcher {
  readonly kind = "slurm";
  /** Job id → still queued or running (as `squeue` last said). */
  private readonly jobs = new Map<string, { name: string; gone: boolean }>();
  private poll: NodeJS.Timeout | null = null;

  private readonly cancelAtExit: boolean;

  /** `cancelAtExit: false` (the CLI's `shoal slurm submit`) leaves the jobs running when this process ends. */
  constructor(readonly opts: SlurmJobOptions, readonly scheduler: string, readonly token: string | undefined, o: { cancelAtExit?: boolean } = {}) {
    check(opts.cores === undefined || (Number.isInteger(opts.cores) && opts.cores >= 1), "cores", "a positive integer", opts.cores);
    mkdirSync(opts.logDirectory ?? join(tmpdir(), "shoal-slurm"), { recursive: true });
    this.cancelAtExit = o.cancelAtExit ?? true;
    if (this.cancelAtExit) installHooks();
  }

  jobScript(): string {
    return slurmJobScript(this.opts, this.scheduler);
  }

  /** Job ids submitted and not known to be gone. */
  get jobIds(): string[] {
    return [...this.jobs].filter(([, j]) => !j.gone).map(([id]) => id);
  }

  async start(n: number): Promise<LaunchedWorker[]> {
    const script = this.jobScript();
    const env = { ...process.env, ...(this.token !== undefined ? { SHOAL_TOKEN: this.token } : {}) };
    const out: LaunchedWorker[] = [];
    for (let i = 0; i < n; i++) {
      const id = (await slurm("sbatch", ["--parsable", "--export=ALL"], script, env)).trim().split(";")[0]!;
      if (!/^\d+$/.test(id)) throw new SlurmError(`sbatch answered '${id}', not a job id`, "sbatch");
      const job = { name: `slurm-${id}`, gone: false };
      this.jobs.set(id, job);
      if (this.cancelAtExit) openJobs.add(id);
      out.push({ name: job.name, alive: () => !job.gone });
    }
    if (this.cancelAtExit) this.watch();
    return out;
  }

  /** Polls `squeue` every second while jobs are open: a job that ended (cancelled, failed, out of time) stops counting. */
  private watch(): void {
    if (this.poll) return;
    this.poll = setInterval(() => void this.refresh().catch(() => undefined), 1000);
    this.poll.unref();
  }

  /** Asks `squeue` which of our jobs are still pending or running. */
  async refresh(): Promise<void> {
    const ids = this.jobIds;
    if (ids.length === 0) return;
    const text = await slurm("squeue", ["-h", "-o", "%i %T", "-j", ids.join(",")]).catch((err: SlurmError) => {
      // squeue -j on jobs that all finished long ago fails with "Invalid job id"
      if (/Invalid job id/i.test(err.message)) return "";
      throw err;
    });
    const live = new Set<string>();
    for (const line of text.split("\n")) {
      const [id, st] = line.trim().split(/\s+/);
      if (id && st && ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"].includes(st) && st !== "COMPLETING") live.add(id);
    }
    for (const id of ids) {
      if (!live.has(id)) {
        this.jobs.get(id)!.gone = true;
        openJobs.delete(id);
      }
    }
  }

  async stop(worker: LaunchedWorker): Promise<void> {
    const id = worker.name.replace(/^slurm-/, "");
    if (!this.jobs.has(id)) return;
    await this.cancel([id]);
  }

  private async cancel(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await slurm("scancel", ids);
    const end = Date.now() + 30_000;
    for (;;) {
      await this.refresh();
      if (ids.every((id) => this.jobs.get(id)?.gone !== false)) return;
      if (Date.now() > end) throw new SlurmError(`jobs ${ids.join(", ")} still in squeue 30 s after scancel`, "scancel");
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  status(): LaunchedWorker[] {
    return [...this.jobs].filter(([, j]) => !j.gone).map(([, j]) => ({ name: j.name, alive: () => !j.gone }));
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    await this.cancel(this.jobIds);
  }
}

/** A cluster of Slurm jobs (dask-jobqueue's `SLURMCluster`): `jobScript()`, `scale(n)`, `adapt()`, `close()`. */
export class SlurmCluster extends ElasticCluster {
  static override async start(opts: SlurmClusterOptions = {}): Promise<SlurmCluster> {
    const scheduler = await ElasticCluster.startScheduler(opts);
    return new SlurmCluster(scheduler, { ...opts, launcher: (address, token) => new SlurmLauncher(opts, address, token) });
  }

  /** The batch script each worker job runs (for review, as dask-jobqueue's `job_script()`). */
  jobScript(): string {
    return (this.launcher as SlurmLauncher).jobScript();
  }

  /** Job ids submitted and still queued or running. */
  get jobIds(): string[] {
    return (this.launcher as SlurmLauncher).jobIds;
  }
}
