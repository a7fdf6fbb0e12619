/**
 * Launchers: what starts and stops worker processes for an adaptive
 * cluster, behind one small interface ({@link Launcher}: `start(n)`,
 * `stop(worker)`, `status()`). Each launched worker gets a unique name; the
 * adaptive loop matches it to the scheduler's registration by that name.
 *
 * - {@link LocalProcessLauncher}: worker processes on this machine (what
 *   `LocalCluster` forks).
 * - {@link SshLauncher}: `shoal worker` on SSH hosts, round robin, through
 *   the same SSH session handling as `shoal ssh` (the remote worker ends with
 *   the session).
 * - `SlurmLauncher` (`./slurm.ts`): one batch job per worker.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { LauncherError } from "./errors.ts";
import { sshRun, type SshOptions } from "./ssh.ts";

/** One worker a launcher started. */
export interface LaunchedWorker {
  /** Unique name (the worker registers under it). */
  readonly name: string;
  /** False once the process (or job) is gone. */
  alive(): boolean;
}

export interface Launcher {
  /** For messages: "local", "ssh", "slurm". */
  readonly kind: string;
  /** Starts `n` more workers; resolves once they were launched (not necessarily registered). */
  start(n: number): Promise<LaunchedWorker[]>;
  /** Stops one worker (after the scheduler retired it); resolves when it is gone. */
  stop(worker: LaunchedWorker): Promise<void>;
  /** The workers started and not yet gone. */
  status(): LaunchedWorker[];
  /** Stops every worker it started. */
  close(): Promise<void>;
}

/** Waits for a child process to exit; SIGTERM after `graceMs`, SIGKILL after twice that. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((done) => {
    const term = setTimeout(() => child.kill("SIGTERM"), graceMs);
    const kill = setTimeout(() => child.kill("SIGKILL"), 2 * graceMs);
    child.once("exit", () => {
      clearTimeout(term);
      clearTimeout(kill);
      done();
    });
  });
}

/** What {@link LocalProcessLauncher} needs of a local cluster (its fork and its list). */
export interface LocalSpawner {
  spawnWorker(name: string): { readonly name: string; readonly process: ChildProcess };
  readonly workers: readonly { readonly name: string; readonly process: ChildProcess }[];
}

/** Worker processes on this machine, forked by a LocalCluster. */
export class LocalProcessLauncher implements Launcher {
  readonly kind = "local";
  private count = 0;
  constructor(private readonly cluster: LocalSpawner, private readonly prefix = "adaptive") {}

  private static wrap(w: { readonly name: string; readonly process: ChildProcess }): LaunchedWorker & { process: ChildProcess } {
    return { name: w.name, process: w.process, alive: () => w.process.exitCode === null && w.process.signalCode === null };
  }

  async start(n: number): Promise<LaunchedWorker[]> {
    const out: LaunchedWorker[] = [];
    for (let i = 0; i < n; i++) out.push(LocalProcessLauncher.wrap(this.cluster.spawnWorker(`${this.prefix}-${process.pid}-${this.count++}`)));
    return out;
  }

  async stop(worker: LaunchedWorker): Promise<void> {
    const w = this.cluster.workers.find((x) => x.name === worker.name);
    if (w) await stopChild(w.process);
  }

  status(): LaunchedWorker[] {
    return this.cluster.workers.map((w) => LocalProcessLauncher.wrap(w)).filter((w) => w.alive());
  }

  async close(): Promise<void> {
    await Promise.all(this.status().map((w) => this.stop(w)));
  }
}

export interface SshLauncherOptions extends SshOptions {
  /** Hosts to start workers on, round robin. */
  hosts: string[];
  /** Scheduler address the workers connect to (reachable from the hosts). */
  scheduler: string;
  token?: string;
  /** Threads per worker (default: the remote cores). */
  nthreads?: number;
  /** Per worker, as `shoal worker --memory-limit` takes it. */
  memoryLimit?: string;
  /** `node` on the hosts (default: `node`). */
  remoteNode?: string;
  /** The shoal CLI on the hosts (default: this installation's `bin/shoal.mjs`). */
  remoteShoal?: string;
  /** Called with each output line of a worker (default: dropped). */
  onLine?: (worker: string, line: string) => void;
}

const LOCAL_SHOAL = resolve(fileURLToPath(new URL("../../bin/shoal.mjs", import.meta.url)));

/** `shoal worker` on SSH hosts, one SSH session per worker (reuses `shoal ssh`'s session handling). */
export class SshLauncher implements Launcher {
  readonly kind = "ssh";
  private readonly running = new Map<string, ChildProcess>();
  private count = 0;
  constructor(readonly opts: SshLauncherOptions) {
    if (opts.hosts.length === 0) throw new LauncherError("options.hosts must name at least one host", "ssh");
  }

  async start(n: number): Promise<LaunchedWorker[]> {
    const o = this.opts;
    const out: LaunchedWorker[] = [];
    for (let i = 0; i < n; i++) {
      const host = o.hosts[this.count % o.hosts.length]!;
      const name = `ssh-${host}-${process.pid}-${this.count++}`;
      const argv = [o.remoteNode ?? "node", o.remoteShoal ?? LOCAL_SHOAL, "worker", o.scheduler, "--name", name, "--no-nanny",
        ...(o.token !== undefined ? ["--token", o.token] : []), ...(o.nthreads !== undefined ? ["--nthreads", String(o.nthreads)] : []),
        ...(o.memoryLimit !== undefined ? ["--memory-limit", o.memoryLimit] : [])];
      const child = sshRun(host, argv, o);
      for (const s of [child.stdout, child.stderr]) {
        let buf = "";
        s?.on("data", (d: Buffer) => {
          buf += d.toString();
          let j: number;
          while ((j = buf.indexOf("\n")) >= 0) {
            o.onLine?.(name, buf.slice(0, j));
            buf = buf.slice(j + 1);
          }
        });
      }
      child.on("error", () => undefined);
      child.once("exit", () => this.running.delete(name));
      this.running.set(name, child);
      out.push({ name, alive: () => this.running.has(name) });
    }
    return out;
  }

  async stop(worker: LaunchedWorker): Promise<void> {
    const child = this.running.get(worker.name);
    if (!child) return;
    child.stdin?.end(); // the remote watcher terminates the worker when the session's stdin closes
    await stopChild(child, 3_000);
  }

  status(): LaunchedWorker[] {
    return [...this.running.keys()].map((name) => ({ name, alive: () => this.running.has(name) }));
  }

  async close(): Promise<void> {
    await Promise.all(this.status().map((w) => this.stop(w)));
  }
}
