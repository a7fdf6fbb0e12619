/**
 * An in-process scheduler plus worker processes on this machine: the
 * embedded default of `Client.connect()`. One worker process per core with
 * one thread each unless told otherwise (JavaScript threads do not share a
 * heap, so processes and threads cost about the same; processes isolate
 * crashes and memory).
 */
import { fork, type ChildProcess } from "node:child_process";
import os, { tmpdir } from "node:os";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SchedulerServer } from "../scheduler/server.ts";
import { SchedulerThread } from "../scheduler/thread.ts";
import type { SchedulerConfig } from "../scheduler/state.ts";
import type { WorkerOptions } from "../worker/server.ts";
import { WorkerExit } from "../worker/exit-codes.ts";
import { engineEnv, engineThreads } from "../worker/engine-threads.ts";
import { Adaptive, type AdaptOptions } from "../elastic/adapt.ts";
import { LocalProcessLauncher } from "../elastic/launcher.ts";

export interface LocalClusterOptions {
  /** Worker processes (default: number of cores). */
  nworkers?: number;
  /** Threads per worker (default: cores / nworkers, at least 1). */
  nthreads?: number;
  /**
   * Threads of each worker's columnar-engine pool (polars): how many cores
   * one operation may use. Default: `SHOAL_ENGINE_THREADS`, else all cores
   * (see `src/worker/engine-threads.ts`).
   */
  engineThreads?: number;
  /** Bytes per worker; 0 = none (default: total memory / nworkers). */
  memoryLimit?: number;
  /** Scheduler listen address (default `tcp://127.0.0.1:0`). */
  address?: string;
  /** Seconds without heartbeat before a worker counts as dead. */
  workerTtl?: number;
  token?: string;
  /** Scheduler tuning. */
  scheduler?: Partial<SchedulerConfig>;
  /** Print join/leave lines (default false for local clusters). */
  logEvents?: boolean;
  /** Extra environment for worker processes. */
  env?: Record<string, string>;
  /**
   * The web dashboard, on by default as in Dask: `true` (the default) for
   * `127.0.0.1:8787` (any free port when 8787 is taken), `"HOST:PORT"` (or
   * `":PORT"`, port 0 = any free port) for that address, `false` for none. A host
   * other than loopback needs an access token: `accessToken` here, else the
   * cluster's `token`; with neither, start fails unless `allowUnauthenticated`.
   */
  dashboard?: boolean | string | { address?: string; accessToken?: string; allowUnauthenticated?: boolean };
  /**
   * Run the scheduler on its own thread (default: `SHOAL_SCHEDULER_THREAD=1`,
   * else false): the program's synchronous work (building a million-task
   * graph, handling a million results) then never stalls the scheduler, which
   * keeps answering heartbeats and serving the dashboard. Its state is not
   * readable from the program's thread then (`cluster.scheduler` throws),
   * `adapt()` is not available, and only the built-in dashboard is served.
   */
  schedulerThread?: boolean;
}

/** A dashboard attached to a scheduler, as {@link LocalCluster} sees it. */
export interface DashboardHandle {
  /** `http://HOST:PORT/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a dashboard for a scheduler (implemented by `src/dashboard`, which imports the engine, never the reverse). */
export type DashboardStarter = (
  scheduler: SchedulerServer,
  address: { host: string; port: number; anyPortIfBusy: boolean; accessToken?: string; clusterToken?: string; allowUnauthenticated?: boolean; unref?: boolean },
) => Promise<DashboardHandle>;

/** Set by {@link LocalCluster.useDashboard}; null = the built-in dashboard, loaded when first asked for. */
let dashboardStarter: DashboardStarter | null = null;

/**
 * The built-in dashboard, imported only when a cluster is asked for one.
 * The layering keeps `src/dashboard` a leaf that imports the engine and is
 * imported by nothing; a dynamic import at the moment the user asks for a
 * dashboard keeps that true for every program that does not, and keeps
 * importing `shoal` free of side effects (it used to install the dashboard
 * at import time, so a cluster's default depended on the import path).
 */
async function builtinDashboard(): Promise<DashboardStarter> {
  const { clusterDashboard } = await import("../dashboard/index.ts");
  return clusterDashboard;
}

const PROCESS_URL = new URL(import.meta.url.endsWith(".ts") ? "../worker/process.ts" : "../worker/process.js", import.meta.url);

export interface LocalWorker {
  readonly name: string;
  readonly process: ChildProcess;
  address: string;
}

export class LocalCluster {
  readonly workers: LocalWorker[] = [];
  private closed = false;
  /**
   * Scratch folder of all workers (code cache, spill); removed on close, even
   * for killed workers, at process exit and on SIGINT/SIGTERM/SIGHUP when the
   * program never closed the cluster, and by the workers themselves when the
   * program was SIGKILLed (see `src/worker/process.ts`).
   */
  readonly directory = newClusterDirectory();
  private spawned = 0;
  private dashboard: DashboardHandle | null = null;

  /**
   * Replaces the dashboard that clusters started afterwards serve when their
   * `dashboard` option asks for one (an embedder's own; `null` restores the
   * built-in one). Not needed for the built-in dashboard.
   */
  static useDashboard(starter: DashboardStarter | null): void {
    dashboardStarter = starter;
  }

  /** URL of this cluster's dashboard, or null when it has none. */
  get dashboardUrl(): string | null {
    return this.dashboard?.url ?? null;
  }

  private constructor(
    private readonly inproc: SchedulerServer | null,
    private readonly thread: SchedulerThread | null,
    readonly options: Required<Pick<LocalClusterOptions, "nworkers" | "nthreads" | "memoryLimit" | "engineThreads">> & LocalClusterOptions,
  ) {}

  /** The in-process scheduler (its state, for tests and embedders); not available with `schedulerThread`. */
  get scheduler(): SchedulerServer {
    if (this.inproc === null) throw new Error("this cluster's scheduler runs on its own thread (schedulerThread: true): its state is not readable from here; use the dashboard's JSON routes or client.story()");
    return this.inproc;
  }

  /** Whether the scheduler runs on its own thread. */
  get schedulerOnThread(): boolean {
    return this.thread !== null;
  }

  static async start(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
    const cores = Math.max(1, os.availableParallelism());
    const nworkers = opts.nworkers ?? cores;
    const nthreads = opts.nthreads ?? Math.max(1, Math.floor(cores / Math.max(1, nworkers)));
    const memoryLimit = opts.memoryLimit ?? Math.floor(os.totalmem() / Math.max(1, nworkers));
    checkPositiveInt("nworkers", nworkers, true);
    checkPositiveInt("nthreads", nthreads, false);
    const pool = engineThreads(opts.engineThreads); // validated before anything starts
    const schedulerOptions = {
      address: opts.address ?? "tcp://127.0.0.1:0",
      // an embedded scheduler never holds the program open by itself: a
      // script that forgot `close()` ends when its work does (see utils/keepalive.ts)
      listen: { unref: true },
      logEvents: opts.logEvents ?? false,
      ...(opts.workerTtl !== undefined ? { workerTtl: opts.workerTtl } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.scheduler ? { config: opts.scheduler } : {}),
    };
    const full = { ...opts, nworkers, nthreads, memoryLimit, engineThreads: pool };
    const onThread = opts.schedulerThread ?? process.env["SHOAL_SCHEDULER_THREAD"] === "1";
    let cluster: LocalCluster;
    if (onThread) {
      if (dashboardStarter !== null && (opts.dashboard ?? true) !== false) throw new Error("schedulerThread serves only the built-in dashboard: LocalCluster.useDashboard(null), or dashboard: false");
      const dashboard = dashboardAddress(opts.dashboard ?? true, opts.token);
      const thread = await SchedulerThread.start({ scheduler: schedulerOptions, dashboard });
      cluster = new LocalCluster(null, thread, full);
    } else {
      cluster = new LocalCluster(await new SchedulerServer(schedulerOptions).start(), null, full);
    }
    openClusters.add(cluster);
    installExitHooks();
    try {
      if (cluster.inproc !== null) cluster.dashboard = await startClusterDashboard(cluster.inproc, opts.dashboard ?? true, opts.token);
      else if (cluster.thread!.dashboardUrl !== null) cluster.dashboard = { url: cluster.thread!.dashboardUrl, close: async () => undefined };
      for (let i = 0; i < nworkers; i++) cluster.spawnWorker(`local-${i}`);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  get schedulerAddress(): string {
    return this.thread?.address ?? this.scheduler.address;
  }

  /** The cluster token (for `Client.connect(cluster)`). */
  get token(): string | undefined {
    return this.options.token;
  }

  private adaptive: Adaptive | null = null;

  /**
   * Scales the worker processes with the work (Dask's `cluster.adapt`; see
   * `docs/elastic.md`): starts workers up to the scheduler's target, retires
   * idle ones after `waitCount` consecutive recommendations, moving the
   * results they alone hold first. Replaces an earlier `adapt`.
   *
   * @example
   * ```ts
   * const cluster = await LocalCluster.start({ nworkers: 0 });
   * cluster.adapt({ minimum: 0, maximum: 4 });
   * const client = await Client.connect(cluster);
   * ```
   */
  adapt(opts: AdaptOptions = {}): Adaptive {
    if (this.thread !== null) throw new Error("adapt() needs the scheduler in this thread: start the cluster without schedulerThread");
    void this.adaptive?.stop();
    this.adaptive = new Adaptive(this.scheduler, new LocalProcessLauncher(this), opts).start();
    return this.adaptive;
  }

  /** Starts one more worker process. */
  spawnWorker(name: string): LocalWorker {
    const o = this.options;
    const wopts: WorkerOptions = {
      scheduler: this.schedulerAddress,
      name,
      nthreads: o.nthreads,
      memoryLimit: o.memoryLimit,
      host: "127.0.0.1",
      localDirectory: join(this.directory, `${name}-${++this.spawned}`),
      ...(o.token !== undefined ? { token: o.token } : {}),
      deathTimeout: 10,
    };
    const execArgv = [...(PROCESS_URL.href.endsWith(".ts") ? ["--import", "tsx"] : []), "--expose-gc"];
    const extra = process.env["SHOAL_WORKER_EXEC_ARGV"];
    if (extra) execArgv.push(...extra.split(" ").filter(Boolean));
    const child = fork(fileURLToPath(PROCESS_URL), [JSON.stringify(wopts)], {
      execArgv,
      env: { ...process.env, ...engineEnv(o.engineThreads), SHOAL_QUIET: process.env["SHOAL_QUIET"] ?? "1", ...(o.env ?? {}), SHOAL_LOCAL_CLUSTER_DIR: this.directory },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const w: LocalWorker = { name, process: child, address: "" };
    child.on("message", (m: { type?: string; address?: string }) => {
      if (m.type === "ready" && m.address) w.address = m.address;
    });
    // A worker that restarts itself (memory past the terminate fraction, exit
    // code 70) is replaced, as a nanny would. A worker killed from outside
    // (a signal, a crash) stays dead: that is what the user asked for.
    child.on("exit", (code) => {
      if (code === WorkerExit.memory && !this.closed) {
        const i = this.workers.indexOf(w);
        if (i >= 0) this.workers.splice(i, 1);
        this.spawnWorker(name);
      }
    });
    child.unref();
    (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
    this.workers.push(w);
    return w;
  }

  /** Resolves when `n` workers (default: all started) are registered. */
  async waitForWorkers(n = this.workers.length, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const registered = async (): Promise<number> => (this.thread !== null ? await this.thread.workerCount() : this.scheduler.state.workers.size);
    let count: number;
    while ((count = await registered()) < n) {
      const dead = this.workers.filter((w) => w.process.exitCode !== null);
      if (dead.length > 0 && this.workers.length - dead.length < n) {
        throw new Error(`local cluster: ${dead.length} worker process(es) exited during start-up (exit code ${dead[0]!.process.exitCode})`);
      }
      if (Date.now() > deadline) throw new Error(`local cluster: only ${count} of ${n} workers registered after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * What is left when the program exits without {@link close} (an uncaught
   * error, `process.exit()`, a signal): kill the workers and remove the
   * scratch folder, synchronously, as an `exit` handler must.
   */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    openClusters.delete(this);
    for (const w of this.workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill("SIGKILL");
    this.thread?.terminateNow();
    rmSync(this.directory, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openClusters.delete(this);
    await this.adaptive?.stop();
    if (this.thread !== null) await this.thread.closeWorkers("cluster closing").catch(() => undefined);
    else this.scheduler.closeWorkers("cluster closing");
    await new Promise((r) => setTimeout(r, 20));
    const exits = this.workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.process.exitCode !== null || w.process.signalCode !== null) return resolve();
          const t = setTimeout(() => {
            w.process.kill("SIGKILL");
            resolve();
          }, 3000);
          w.process.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
          w.process.kill("SIGTERM");
        }),
    );
    await Promise.all(exits);
    await this.dashboard?.close();
    if (this.thread !== null) await this.thread.close();
    else await this.scheduler.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** Where a cluster's dashboard listens and who may see it (null: no dashboard), from the `dashboard` option. */
function dashboardAddress(opt: LocalClusterOptions["dashboard"], clusterToken: string | undefined): Parameters<DashboardStarter>[1] | null {
  if (opt === undefined || opt === false) return null;
  const o = typeof opt === "object" ? opt : {};
  const access = {
    ...(o.accessToken !== undefined ? { accessToken: o.accessToken } : {}),
    ...(clusterToken !== undefined ? { clusterToken } : {}),
    ...(o.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
    unref: true,
  };
  const text = typeof opt === "string" ? opt : o.address;
  if (text === undefined) return { host: "127.0.0.1", port: 8787, anyPortIfBusy: true, ...access };
  const i = text.lastIndexOf(":");
  const host = i > 0 ? text.slice(0, i).replace(/^\[(.*)\]$/, "$1") : "127.0.0.1";
  const port = Number(i >= 0 ? text.slice(i + 1) : text);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (i >= 0 && text.slice(i + 1) === "")) {
    throw new RangeError(`options.dashboard must be true, false, "HOST:PORT" or { address: "HOST:PORT", ... }, got '${text}'`);
  }
  return { host, port, anyPortIfBusy: false, ...access };
}

async function startClusterDashboard(scheduler: SchedulerServer, opt: LocalClusterOptions["dashboard"], clusterToken: string | undefined): Promise<DashboardHandle | null> {
  const address = dashboardAddress(opt, clusterToken);
  if (address === null) return null;
  const start = dashboardStarter ?? (await builtinDashboard());
  return start(scheduler, address);
}

/** Clusters of this process not yet closed: the exit and signal hooks close them. */
const openClusters = new Set<LocalCluster>();
let hooksInstalled = false;

/**
 * Once per process: on exit, and on SIGINT/SIGTERM/SIGHUP, close what the
 * program left open. A signal handler that finds no other handler of the
 * signal re-raises it after cleaning up, so the program still dies of the
 * signal (exit status 128+n) as it would without Shoal; where the program
 * has its own handler, that handler decides.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const c of [...openClusters]) c.closeNow();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      for (const c of [...openClusters]) c.closeNow();
      if (process.listenerCount(sig) === 1) {
        process.off(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/**
 * A fresh scratch folder with an `owner` file naming this process; folders
 * of dead owners (a program SIGKILLed before its workers could clean up)
 * are removed on the way.
 */
function newClusterDirectory(): string {
  const base = tmpdir();
  try {
    for (const e of readdirSync(base)) {
      if (!e.startsWith("shoal-cluster-")) continue;
      let pid = 0;
      try {
        pid = Number.parseInt(readFileSync(join(base, e, "owner"), "utf8"), 10);
      } catch {
        continue; // no owner file: not ours to judge
      }
      if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(join(base, e), { recursive: true, force: true });
    }
  } catch {
    // an unreadable temp folder only means no sweep
  }
  const dir = mkdtempSync(join(base, "shoal-cluster-"));
  writeFileSync(join(dir, "owner"), `${process.pid}\n`);
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function checkPositiveInt(name: string, v: number, allowZero: boolean): void {
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new RangeError(`options.${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${v}`);
  }
}
