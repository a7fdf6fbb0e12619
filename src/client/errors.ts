/**
 * Errors a client raises, all {@link ShoalError}s with a stable `code` and
 * `retriable`. A task's failure crosses the wire as a record and is rebuilt
 * here as its class ({@link taskErrorFromRecord}): a {@link TaskError} that
 * keeps the remote error's name, message, stack, fields and cause chain, plus
 * the task key and the worker it ran on; failures the scheduler declares
 * itself are the subclasses {@link KilledWorkerError}, {@link LostDataError}
 * and {@link MissingDependencyError}.
 *
 * @example
 * ```ts
 * try {
 *   await future.result();
 * } catch (err) {
 *   if (err instanceof KilledWorkerError) console.error(`${err.key} crashed ${err.worker}`);
 *   else if (err instanceof TaskError) console.error(err.remoteStack);
 *   else throw err;
 * }
 * ```
 */
import type { ErrorRecord } from "../protocol/messages.ts";
import { recordToError } from "../utils/error-record.ts";
import { EngineErrorName, ShoalError, TimeoutError } from "../utils/errors.ts";

export { ShoalError, TimeoutError, isRetriable } from "../utils/errors.ts";

/**
 * A task failed. `remoteName`, `remoteStack` and `data` are the worker's
 * error; `cause` is that error's cause, rebuilt (with its remote stack).
 * For a task that failed because a dependency did, `blame` is the dependency.
 */
export class TaskError extends ShoalError {
  /** The class name rebuilt errors of this class get (subclasses set their own). */
  static readonly errorName: string = "TaskError";
  static readonly errorCode: string = "task-failed";

  override name: string;
  override readonly code: string;
  override readonly retriable: boolean = false;
  /** The original error's class name on the worker (e.g. "TypeError"). */
  readonly remoteName: string;
  readonly remoteStack: string;
  /** The original error's own fields (file, line, a Node `code` ...). */
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
    super(`task ${key} failed${where}${via}: ${record.name}: ${record.message}`, record.cause ? { cause: recordToError(record.cause) } : {});
    // name and code come from the class actually constructed, so that the
    // stack below already starts with the subclass's name
    const cls = new.target as typeof TaskError;
    this.name = cls.errorName;
    this.code = cls.errorCode;
    this.remoteName = record.name;
    this.remoteStack = record.stack;
    this.data = record.data ?? {};
    this.stack = `${this.name}: ${this.message}\n--- remote stack ---\n${record.stack || "(none)"}\n--- local stack ---\n${this.stack?.split("\n").slice(1).join("\n") ?? ""}`;
  }
}

/**
 * The task was executing on `allowedFailures + 1` workers that died: it is
 * probably what kills them (out of memory, a native crash, `process.exit`).
 * `worker` is the last of them; `data.allowedFailures` the limit.
 */
export class KilledWorkerError extends TaskError {
  static override readonly errorName: string = EngineErrorName.killedWorker;
  static override readonly errorCode: string = "killed-worker";
}

/** The only copy of scattered data was on a worker that left; scattered data has no recipe to recompute it. */
export class LostDataError extends TaskError {
  static override readonly errorName: string = EngineErrorName.lostData;
  static override readonly errorCode: string = "lost-data";
}

/** The task depends on a key the scheduler does not know (released, or never submitted); `data.missing` lists them. */
export class MissingDependencyError extends TaskError {
  static override readonly errorName: string = EngineErrorName.missingDependency;
  static override readonly errorCode: string = "missing-dependency";
}

const ENGINE_ERRORS: ReadonlyMap<string, typeof TaskError> = new Map<string, typeof TaskError>([
  [EngineErrorName.killedWorker, KilledWorkerError],
  [EngineErrorName.lostData, LostDataError],
  [EngineErrorName.missingDependency, MissingDependencyError],
]);

/**
 * Rebuilds the failure record of `key` as its class: a scheduler-declared
 * failure (by record name) as its subclass, anything task code threw as a
 * {@link TaskError}.
 */
export function taskErrorFromRecord(key: string, record: ErrorRecord, blame: string = key): TaskError {
  const cls = ENGINE_ERRORS.get(record.name) ?? TaskError;
  const worker = record.data?.["worker"];
  return new cls(key, typeof worker === "string" ? worker : undefined, record, blame);
}

export class CancelledError extends ShoalError {
  override name = "CancelledError";
  override readonly code = "cancelled";
  override readonly retriable = false;
  constructor(readonly key: string) {
    super(`task ${key} was cancelled`);
  }
}

/** The scheduler went away (or refused us): connect again with `Client.connect()`. */
export class SchedulerLostError extends ShoalError {
  override name = "SchedulerLostError";
  override readonly code = "scheduler-lost";
  override readonly retriable = true;
  /** The scheduler's address, when known. */
  readonly address: string | undefined;
  constructor(message: string, opts: { address?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.address = opts.address;
  }
}

/**
 * Finished results could not be fetched from the workers holding them within
 * the client's `fetchTimeout`. `keys` are the results still missing, `workers`
 * the holders tried, `cause` the last failure (a connection error, a worker
 * that no longer has the key ...). The results may still exist: fetching
 * again can succeed once the scheduler has noticed a dead worker and
 * recomputed them.
 */
export class FetchError extends ShoalError {
  override name = "FetchError";
  override readonly code = "fetch-failed";
  /** True unless the cause says trying again cannot help (a worker refused the client's token, another protocol version). */
  override readonly retriable: boolean;
  constructor(
    readonly keys: readonly string[],
    readonly workers: readonly string[],
    readonly timeoutMs: number,
    opts: { cause?: unknown } = {},
  ) {
    const shown = keys.slice(0, 5).join(", ") + (keys.length > 5 ? `, … (${keys.length} in all)` : "");
    const last = opts.cause instanceof Error ? `; last error: ${opts.cause.name}: ${opts.cause.message}` : "";
    const final = opts.cause instanceof ShoalError && !opts.cause.retriable;
    const from = workers.length > 0 ? `worker(s) ${workers.join(", ")}` : "any worker";
    super(
      `could not fetch ${keys.length === 1 ? "the result" : `${keys.length} results`} ${shown} from ${from}${final ? "" : ` within ${timeoutMs} ms`}${last}. ` +
        (final ? "Trying again will not help: give the client the same token (and Shoal version) as the workers." : "Fetch again later, or raise ClientOptions.fetchTimeout."),
      opts.cause === undefined ? {} : { cause: opts.cause },
    );
    this.retriable = !final;
  }
}
