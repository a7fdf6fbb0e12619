/**
 * Errors a client raises. A task's failure arrives as a {@link TaskError}
 * that keeps the remote error's name, message and stack, plus the task key
 * and the worker it ran on.
 */
import type { ErrorRecord } from "../protocol/messages.ts";

export class TaskError extends Error {
  override name = "TaskError";
  /** The original error's class name on the worker (e.g. "TypeError"). */
  readonly remoteName: string;
  readonly remoteStack: string;
  readonly data: Record<string, unknown>;
  constructor(
    readonly key: string,
    readonly worker: string | undefined,
    record: ErrorRecord,
    /** The task whose failure caused this one (differs from key for dependents). */
    readonly blame: string = key,
  ) {
    const where = worker ? ` on worker ${worker}` : "";
    const via = blame !== key ? ` (because its dependency ${blame} failed)` : "";
    super(`task ${key} failed${where}${via}: ${record.name}: ${record.message}`, record.cause ? { cause: rebuild(record.cause) } : {});
    this.remoteName = record.name;
    this.remoteStack = record.stack;
    this.data = record.data ?? {};
    if (record.name === "KilledWorkerError") this.name = "KilledWorkerError";
    if (record.name === "LostDataError") this.name = "LostDataError";
    this.stack = `${this.name}: ${this.message}\n--- remote stack ---\n${record.stack || "(none)"}\n--- local stack ---\n${this.stack?.split("\n").slice(1).join("\n") ?? ""}`;
  }
}

function rebuild(r: ErrorRecord): Error {
  const e = new Error(r.message, r.cause ? { cause: rebuild(r.cause) } : {});
  e.name = r.name;
  e.stack = r.stack;
  return e;
}

export class CancelledError extends Error {
  override name = "CancelledError";
  constructor(readonly key: string) {
    super(`task ${key} was cancelled`);
  }
}

/** The scheduler went away (or refused us). */
export class SchedulerLostError extends Error {
  override name = "SchedulerLostError";
  readonly retriable = true;
}

export class TimeoutError extends Error {
  override name = "TimeoutError";
}
