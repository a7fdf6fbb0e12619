/**
 * A scheduler on its own thread (`LocalCluster.start({ schedulerThread:
 * true })`, or `SHOAL_SCHEDULER_THREAD=1`): the embedded scheduler's event
 * loop is then not the program's. A program that builds a million-task
 * graph, or a client that handles a million results, blocks only its own
 * loop; the scheduler keeps answering heartbeats, placing tasks and serving
 * the dashboard meanwhile, as Dask's scheduler runs on its own event-loop
 * thread. Clients and workers reach it over its TCP address as they would a
 * `shoal scheduler` process.
 *
 * The thread runs `scheduler/thread-main.ts`; this side is a handle with the
 * few operations a LocalCluster needs (worker count, close the workers,
 * close), answered over the thread's message port.
 */
import type { Worker } from "node:worker_threads";
import { startModuleThread } from "../utils/module-thread.ts";
import type { SchedulerOptions } from "./server.ts";

/** What the thread is asked to do, and what it answers. */
export type ThreadRequest =
  | { id: number; op: "workers" }
  | { id: number; op: "close-workers"; reason: string }
  | { id: number; op: "close" };
export type ThreadReply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string };
export type ThreadReady = { ready: true; address: string; dashboardUrl: string | null } | { ready: false; error: string; name: string };

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** Dashboard options for the scheduler thread (the built-in dashboard only). */
export interface ThreadDashboard {
  host: string;
  port: number;
  anyPortIfBusy: boolean;
  accessToken?: string;
  clusterToken?: string;
  allowUnauthenticated?: boolean;
}

export interface SchedulerThreadOptions {
  scheduler: SchedulerOptions;
  dashboard: ThreadDashboard | null;
}

const MAIN_URL = new URL(import.meta.url.endsWith(".ts") ? "./thread-main.ts" : "./thread-main.js", import.meta.url);

function spawn(data: SchedulerThreadOptions): Worker {
  return startModuleThread(MAIN_URL, { workerData: data, env: process.env });
}

/** Thrown when the scheduler thread fails to start or dies. */
export class SchedulerThreadError extends Error {
  override readonly name = "SchedulerThreadError";
  readonly code = "scheduler-thread";
}

export class SchedulerThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    /** The scheduler's address (`tcp://127.0.0.1:PORT`). */
    readonly address: string,
    /** The dashboard's URL when the thread serves one. */
    readonly dashboardUrl: string | null,
  ) {
    worker.on("message", (m: ThreadReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.ok) p.resolve(m.value);
      else p.reject(new SchedulerThreadError(m.error));
    });
    worker.on("exit", (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new SchedulerThreadError(`the scheduler thread exited (code ${code})`));
      this.pending.clear();
    });
    // like the unref'd listener of an in-process scheduler: the thread never holds the program open
    worker.unref();
  }

  /** Starts the thread and resolves once its scheduler listens. */
  static start(opts: SchedulerThreadOptions): Promise<SchedulerThread> {
    const worker = spawn(opts);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new SchedulerThreadError(`the scheduler thread failed to start: ${err.message}`, { cause: err }));
      const onExit = (code: number): void => reject(new SchedulerThreadError(`the scheduler thread exited during start-up (code ${code})`));
      worker.once("error", onError);
      worker.once("exit", onExit);
      worker.once("message", (m: ThreadReady) => {
        worker.off("error", onError);
        worker.off("exit", onExit);
        if (!m.ready) {
          void worker.terminate();
          const e = new SchedulerThreadError(`the scheduler thread failed to start: ${m.error}`);
          reject(m.name === "RangeError" ? Object.assign(new RangeError(m.error), { cause: e }) : e);
          return;
        }
        resolve(new SchedulerThread(worker, m.address, m.dashboardUrl));
      });
    });
  }

  private call(req: WithoutId<ThreadRequest>): Promise<unknown> {
    if (this.exited) return Promise.reject(new SchedulerThreadError("the scheduler thread is not running"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // a request waiting for its answer holds the program open, as a Comm request does
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  /** Workers registered now. */
  async workerCount(): Promise<number> {
    return (await this.call({ op: "workers" })) as number;
  }

  /** Tells every worker to close (the cluster is closing). */
  async closeWorkers(reason: string): Promise<void> {
    await this.call({ op: "close-workers", reason });
  }

  /** Closes the dashboard and the scheduler, then ends the thread. */
  async close(): Promise<void> {
    if (this.exited) return;
    await this.call({ op: "close" }).catch(() => undefined);
    await this.worker.terminate();
  }

  /** At process exit: ends the thread without waiting (the exit hook must be synchronous). */
  terminateNow(): void {
    if (!this.exited) void this.worker.terminate();
  }
}
