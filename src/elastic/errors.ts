/**
 * Errors of the elastic layer (pools, adaptive scaling, launchers, the
 * executor, Slurm). Each has a stable `code` and says whether trying again
 * can help.
 *
 * | class | code | retriable |
 * |---|---|---|
 * | {@link ElasticArgumentError} | `elastic-argument` | no |
 * | {@link LauncherError} | `launcher-failed` | yes |
 * | {@link RetireError} | `retire-failed` | yes |
 * | {@link SlurmError} | `slurm-failed` | yes |
 *
 * @module
 */
import { ShoalError } from "../utils/errors.ts";

/** An option was out of range (Node core style: `options.maximum must be ...`). */
export class ElasticArgumentError extends ShoalError {
  override name = "ElasticArgumentError";
  override readonly code = "elastic-argument";
  override readonly retriable = false;
}

/** A launcher could not start or stop a worker (the command, host or job is named). */
export class LauncherError extends ShoalError {
  override name = "LauncherError";
  override readonly code = "launcher-failed";
  override readonly retriable = true;
  constructor(message: string, readonly launcher: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? {} : { cause: opts.cause });
  }
}

/** Results of a retiring worker could not be moved; the worker was kept. */
export class RetireError extends ShoalError {
  override name = "RetireError";
  override readonly code = "retire-failed";
  override readonly retriable = true;
  constructor(message: string, readonly worker: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? {} : { cause: opts.cause });
  }
}

/** A Slurm command (`sbatch`, `scancel`, `squeue`) failed; its stderr is in the message. */
export class SlurmError extends ShoalError {
  override name = "SlurmError";
  override readonly code = "slurm-failed";
  override readonly retriable = true;
  constructor(message: string, readonly command: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? {} : { cause: opts.cause });
  }
}

/** `options.NAME must be ...` unless `ok`. */
export function check(ok: boolean, name: string, what: string, got: unknown): void {
  if (!ok) throw new ElasticArgumentError(`options.${name} must be ${what}, got ${String(got)}`);
}
