/**
 * A cluster whose workers a {@link Launcher} starts: an in-process
 * scheduler (as dask-jobqueue runs it in the client's process) plus
 * `scale(n)` and `adapt()`. `SlurmCluster` is one with a Slurm launcher;
 * `ElasticCluster.start({ launcher: (address) => new SshLauncher({...}) })`
 * puts workers on SSH hosts.
 *
 * @example
 * ```ts
 * const cluster = await ElasticCluster.start({ address: "tcp://0.0.0.0:0", token, launcher: (scheduler) => new SshLauncher({ hosts, scheduler, token }) });
 * cluster.adapt({ minimum: 0, maximum: 8 });
 * const client = await Client.connect(cluster);
 * ```
 *
 * @module
 */
import { SchedulerServer } from "../scheduler/server.ts";
import type { SchedulerConfig } from "../scheduler/state.ts";
import { workersToClose } from "../scheduler/adaptive.ts";
import { Adaptive, type AdaptOptions } from "./adapt.ts";
import { check } from "./errors.ts";
import type { Launcher } from "./launcher.ts";
import { retireWorkers } from "./retire.ts";

export interface ElasticClusterOptions {
  /** Makes the launcher, given the scheduler's address. */
  launcher: (schedulerAddress: string, token: string | undefined) => Launcher;
  /** Scheduler listen address (default `tcp://127.0.0.1:0`; workers on other hosts need a reachable one and a token). */
  address?: string;
  /** Address workers are told to connect to, when the listen address is not it (`tcp://0.0.0.0:0` listens everywhere). */
  contactAddress?: string;
  token?: string;
  workerTtl?: number;
  scheduler?: Partial<SchedulerConfig>;
  logEvents?: boolean;
}

export class ElasticCluster {
  private adaptive: Adaptive | null = null;
  private closed = false;
  readonly launcher: Launcher;

  protected constructor(readonly scheduler: SchedulerServer, readonly opts: ElasticClusterOptions) {
    this.launcher = opts.launcher(this.contactAddress, opts.token);
  }

  static async start(opts: ElasticClusterOptions): Promise<ElasticCluster> {
    return new ElasticCluster(await ElasticCluster.startScheduler(opts), opts);
  }

  protected static startScheduler(opts: Omit<ElasticClusterOptions, "launcher">): Promise<SchedulerServer> {
    return new SchedulerServer({
      address: opts.address ?? "tcp://127.0.0.1:0",
      logEvents: opts.logEvents ?? false,
      listen: { unref: true },
      ...(opts.workerTtl !== undefined ? { workerTtl: opts.workerTtl } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.scheduler ? { config: opts.scheduler } : {}),
    }).start();
  }

  get schedulerAddress(): string {
    return this.scheduler.address;
  }

  /** What workers connect to: `contactAddress`, else the listen address. */
  get contactAddress(): string {
    if (this.opts.contactAddress) return this.opts.contactAddress;
    return this.scheduler.address;
  }

  get token(): string | undefined {
    return this.opts.token;
  }

  /** Adapts the worker count to the work (see `Adaptive`); replaces an earlier `adapt` or `scale`. */
  adapt(opts: AdaptOptions = {}): Adaptive {
    void this.adaptive?.stop();
    this.adaptive = new Adaptive(this.scheduler, this.launcher, opts).start();
    return this.adaptive;
  }

  /**
   * Exactly `n` workers: starts the missing ones, or retires idle ones
   * (moving their sole results first) and stops workers still starting.
   * Stops adaptive scaling.
   */
  async scale(n: number): Promise<void> {
    check(Number.isInteger(n) && n >= 0, "n", "a non-negative integer", n);
    await this.adaptive?.stop();
    this.adaptive = null;
    const live = this.launcher.status();
    if (n > live.length) {
      await this.launcher.start(n - live.length);
      return;
    }
    let extra = live.length - n;
    const registered = new Set([...this.scheduler.state.workers.values()].map((w) => w.name));
    for (const w of live) {
      if (extra === 0) break;
      if (!registered.has(w.name)) {
        await this.launcher.stop(w);
        extra--;
      }
    }
    if (extra === 0) return;
    const names = new Set(live.map((w) => w.name));
    const idle = workersToClose(this.scheduler.state, this.scheduler.state.workers.size).filter((ws) => names.has(ws.name)).slice(0, extra);
    const r = await retireWorkers(this.scheduler, idle.map((w) => w.address));
    const gone = new Set(r.retired);
    await Promise.all(idle.filter((w) => gone.has(w.address)).map((ws) => this.launcher.stop(live.find((l) => l.name === ws.name)!)));
  }

  /** Resolves when `n` workers are registered. */
  async waitForWorkers(n: number, timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.scheduler.state.workers.size < n) {
      if (Date.now() > end) throw new Error(`only ${this.scheduler.state.workers.size} of ${n} workers registered after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.adaptive?.stop();
    this.scheduler.closeWorkers("cluster closing");
    await this.launcher.close();
    await this.scheduler.close();
  }
}
