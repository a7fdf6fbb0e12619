/**
 * A Future is a handle to a task's result on the cluster. It resolves when
 * the task finishes; `result()` fetches the value (from the scheduler for
 * small results, from the worker that holds it otherwise). Dropping the
 * last Future of a key (or `release()`) frees the result on the workers.
 */
import type { ErrorRecord } from "../protocol/messages.ts";
import type { Payload } from "../protocol/serialize.ts";
import { TASK_KEY, type HasTaskKey } from "../graph/refs.ts";
import { CancelledError, SchedulerLostError, TimeoutError, taskErrorFromRecord } from "./errors.ts";
import { holdEventLoop } from "../utils/keepalive.ts";

export type FutureStatus = "pending" | "finished" | "error" | "cancelled" | "lost";

/** Shared per-key state; many Future objects may point at one key. */
export class KeyState {
  status: FutureStatus = "pending";
  inline: Payload | null = null;
  error: ErrorRecord | null = null;
  blame = "";
  type = "";
  nbytes = -1;
  refs = 0;
  private waiters: (() => void)[] = [];
  private donePromise: Promise<void> | null = null;
  /** While someone awaits this key, the process stays alive (the client's sockets do not hold it: utils/keepalive.ts). */
  private hold: (() => void) | null = null;

  constructor(readonly key: string) {}

  settle(status: FutureStatus): void {
    this.status = status;
    const w = this.waiters;
    this.waiters = [];
    this.donePromise = null;
    this.hold?.();
    this.hold = null;
    for (const f of w) f();
  }

  reset(): void {
    this.status = "pending";
    this.inline = null;
    this.error = null;
  }

  done(): Promise<void> {
    if (this.status !== "pending") return Promise.resolve();
    if (this.donePromise === null) {
      this.hold = holdEventLoop();
      this.donePromise = new Promise<void>((r) => this.waiters.push(r));
    }
    return this.donePromise;
  }

  /** The error of a key that did not finish, as its class (a TaskError subclass, CancelledError, SchedulerLostError). */
  toError(): Error {
    if (this.status === "cancelled") return new CancelledError(this.key);
    if (this.status === "lost") return new SchedulerLostError(this.error?.message ?? `lost the connection to the scheduler; the result of ${this.key} cannot arrive`);
    const rec = this.error ?? { name: "Error", message: "failed", stack: "" };
    return taskErrorFromRecord(this.key, rec, this.blame || this.key);
  }
}

/** What a Future needs from its client. */
export interface FutureOwner {
  fetchResult(state: KeyState): Promise<unknown>;
  cancel(futures: Future[]): Promise<void>;
  /** An explicit `release()` of `future` (which its garbage collection must then not count again). */
  releaseKey(state: KeyState, future: Future): void;
}

export class Future<T = unknown> implements HasTaskKey {
  /** Phantom field carrying the result type. */
  declare readonly __type?: T;
  private released = false;
  /** @internal */
  constructor(readonly key: string, /** @internal */ readonly state: KeyState, private readonly owner: FutureOwner) {
    state.refs += 1;
  }

  get [TASK_KEY](): string {
    return this.key;
  }

  get status(): FutureStatus {
    return this.state.status;
  }

  /** True once the task finished, failed or was cancelled. */
  done(): boolean {
    return this.state.status !== "pending";
  }

  /** Waits for the task and returns its value; throws the task's error. */
  async result(opts: { timeout?: number } = {}): Promise<T> {
    await withTimeout(this.state.done(), opts.timeout, `result of ${this.key}`);
    if (this.state.status !== "finished") throw this.state.toError();
    return (await this.owner.fetchResult(this.state)) as T;
  }

  /** Waits and returns the task's error, or null if it succeeded. */
  async exception(): Promise<Error | null> {
    await this.state.done();
    return this.state.status === "finished" ? null : this.state.toError();
  }

  /** Waits until done, without fetching the value. */
  async wait(): Promise<void> {
    await this.state.done();
  }

  cancel(): Promise<void> {
    return this.owner.cancel([this]);
  }

  /** Drops this handle; when no handle of the key is left, workers free its result. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.owner.releaseKey(this.state, this);
  }

  toString(): string {
    return `Future(${this.key}, ${this.state.status})`;
  }
}

export async function withTimeout<T>(p: Promise<T>, timeout: number | undefined, what: string): Promise<T> {
  if (timeout === undefined) return p;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new TimeoutError(`timed out after ${timeout} ms waiting for ${what}`, { timeoutMs: timeout })), timeout);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
