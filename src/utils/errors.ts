/**
 * The base of every error Shoal's engine raises: {@link ShoalError}, with a
 * stable machine-readable `code` and whether trying again can help
 * (`retriable`). Branch on `instanceof` or `code`, never on message text.
 *
 * It lives in `src/utils/` because it imports nothing: every layer — the
 * transports (`src/comm/errors.ts`), scheduler, worker, client and the
 * collections — can extend it without an import against the one-way layering
 * (utils is already the shared leaf that `comm` imports for logging). The
 * wire format stays in `src/protocol/`; how errors cross it as records is
 * `src/utils/error-record.ts`.
 *
 * | class | code | retriable | where |
 * |---|---|---|---|
 * | `TaskError` | `task-failed` | no | client: a task threw (`src/client/errors.ts`) |
 * | `KilledWorkerError` | `killed-worker` | no | client: the task kept killing its workers |
 * | `LostDataError` | `lost-data` | no | client: the last copy of scattered data is gone |
 * | `MissingDependencyError` | `missing-dependency` | no | client: a dependency the scheduler does not know |
 * | `CancelledError` | `cancelled` | no | client |
 * | `SchedulerLostError` | `scheduler-lost` | yes | client: reconnect |
 * | `FetchError` | `fetch-failed` | yes, unless its cause is not (a worker refused the client's token) | client: results could not be fetched from workers |
 * | {@link TimeoutError} | `timeout` | yes | anywhere a caller's deadline passed |
 * | `CommClosedError` | `comm-closed` | yes | `src/comm/errors.ts` |
 * | `RequestTimeoutError` | `request-timeout` | yes | a `CommClosedError` |
 * | `ConnectError` | `connect-failed` | yes | |
 * | `HandshakeError` | `handshake-<reason>` | only `busy` | a `ConnectError` |
 * | `ProtocolError` | `protocol` | no | |
 * | `AddressError` | `address` | no | |
 *
 * @example
 * ```ts
 * try {
 *   await future.result();
 * } catch (err) {
 *   if (err instanceof ShoalError && err.retriable) return retry();
 *   throw err;
 * }
 * ```
 */

export abstract class ShoalError extends Error {
  /** Stable identifier of the kind of failure (kebab-case), the same in every process and release. */
  abstract readonly code: string;
  /** Whether doing the same thing again (reconnect, resubmit, fetch again) may succeed. */
  abstract readonly retriable: boolean;
}

/** True for a {@link ShoalError} that says trying again may help. */
export function isRetriable(err: unknown): boolean {
  return err instanceof ShoalError && err.retriable;
}

/**
 * A deadline the caller set passed (e.g. `future.result({ timeout })`); the
 * awaited work may still finish, so waiting again can succeed.
 */
export class TimeoutError extends ShoalError {
  override name = "TimeoutError";
  override readonly code = "timeout";
  override readonly retriable = true;
  /** The deadline that passed, in milliseconds (when known). */
  readonly timeoutMs: number | undefined;
  constructor(message: string, opts: { timeoutMs?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.timeoutMs = opts.timeoutMs;
  }
}

/**
 * Names of the failure records the scheduler makes itself (as opposed to
 * errors thrown by task code); the client rebuilds each as its class. The
 * scheduler should write `name: EngineErrorName.killedWorker` rather than
 * the string.
 */
export const EngineErrorName = {
  killedWorker: "KilledWorkerError",
  lostData: "LostDataError",
  missingDependency: "MissingDependencyError",
} as const;
export type EngineErrorName = (typeof EngineErrorName)[keyof typeof EngineErrorName];
