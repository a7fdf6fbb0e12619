/**
 * Errors of the storage layer. Every class sets `name`, carries the `url` it is
 * about, keeps the underlying error as `cause`, says whether retrying may help
 * (`retriable`) and ends its message with what to do next.
 *
 * @example
 * ```ts
 * import { read, NotFoundError } from "shoal/storage";
 * try { await read("s3://bucket/missing.csv"); }
 * catch (e) { if (e instanceof NotFoundError) console.log("no such object:", e.url); else throw e; }
 * ```
 *
 * @module
 */

/** Options common to storage errors. @example `new StorageError("x: failed", { url: "x", cause: err, retriable: true })` */
export interface StorageErrorOptions {
  /** The URL the operation was about. */
  url?: string;
  /** The underlying error (fs, SDK or HTTP). */
  cause?: unknown;
  /** Whether retrying the same operation may succeed (network errors, 5xx, throttling). Default false. */
  retriable?: boolean;
  /** A short machine-readable code from the underlying system (e.g. `ENOENT`, `NoSuchKey`, `503`). */
  code?: string;
}

/**
 * Base class of every storage error.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof StorageError && e.retriable) retryLater(); }
 * ```
 */
export class StorageError extends Error {
  /** The URL the operation was about, if any. */
  readonly url: string | undefined;
  /** Whether retrying may succeed. */
  readonly retriable: boolean;
  /** Code from the underlying system, if any. */
  readonly code: string | undefined;

  constructor(message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StorageError";
    this.url = options.url;
    this.retriable = options.retriable ?? false;
    this.code = options.code;
  }
}

/**
 * No object at the URL (missing file, key, bucket or directory).
 *
 * @example
 * ```ts
 * await read("/tmp/nope.csv"); // throws NotFoundError, e.url === "/tmp/nope.csv"
 * ```
 */
export class NotFoundError extends StorageError {
  constructor(url: string, options: Omit<StorageErrorOptions, "url"> & { detail?: string } = {}) {
    super(
      `${url}: not found${options.detail ? ` (${options.detail})` : ""}. ` +
        `Check the path or key spelling, and list the parent with list() to see what is there.`,
      { ...options, url },
    );
    this.name = "NotFoundError";
  }
}

/**
 * Access denied (file permissions, S3 AccessDenied / bad signature, HTTP 401/403).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof PermissionError) console.error("check credentials for", e.url); }
 * ```
 */
export class PermissionError extends StorageError {
  constructor(url: string, options: Omit<StorageErrorOptions, "url"> & { detail?: string } = {}) {
    super(
      `${url}: permission denied${options.detail ? ` (${options.detail})` : ""}. ` +
        `Check file permissions, or for s3:// the credentials (AWS_ACCESS_KEY_ID/AWS_PROFILE, or {s3: {credentials}}), ` +
        `the bucket policy, and whether anonymous access was intended ({s3: {anonymous: true}}).`,
      { ...options, url },
    );
    this.name = "PermissionError";
  }
}

/**
 * The URL's scheme has no backend.
 *
 * @example
 * ```ts
 * await read("ftp://host/file"); // UnsupportedSchemeError, e.scheme === "ftp"
 * ```
 */
export class UnsupportedSchemeError extends StorageError {
  /** The scheme, without `:`. */
  readonly scheme: string;

  constructor(url: string, scheme: string, supported: readonly string[]) {
    super(
      `${url}: unsupported URL scheme "${scheme}:". Use one of ${supported.map((s) => `${s}://`).join(", ")} ` +
        `or a plain local path, or register a backend with registerBackend().`,
      { url, code: "UnsupportedScheme" },
    );
    this.name = "UnsupportedSchemeError";
    this.scheme = scheme;
  }
}

/**
 * The backend cannot do this operation (e.g. writing or listing over http(s)://).
 *
 * @example
 * ```ts
 * await write("https://example.org/x", "data"); // UnsupportedOperationError
 * ```
 */
export class UnsupportedOperationError extends StorageError {
  /** The operation attempted, e.g. `"write"`. */
  readonly operation: string;

  constructor(url: string, operation: string, hint: string) {
    super(`${url}: ${operation} is not supported for this URL scheme. ${hint}`, { url, code: "UnsupportedOperation" });
    this.name = "UnsupportedOperationError";
    this.operation = operation;
  }
}

/**
 * A glob pattern (or directory) given to a reader matched no object.
 *
 * @example
 * ```ts
 * await expandPaths("data/2031-*.csv"); // NoMatchesError, e.pattern === "data/2031-*.csv"
 * ```
 */
export class NoMatchesError extends StorageError {
  /** The pattern that matched nothing. */
  readonly pattern: string;

  constructor(pattern: string) {
    super(
      `${pattern}: the pattern matched no files. Check the directory and the pattern ` +
        `(* and ? do not cross "/", use ** for any depth), or list the directory with list().`,
      { url: pattern, code: "NoMatches" },
    );
    this.name = "NoMatchesError";
    this.pattern = pattern;
  }
}

/**
 * Raised when an argument is invalid, e.g. a negative range start.
 * Message style follows Node core: `options.start must be a non-negative integer`.
 *
 * @example
 * ```ts
 * await readRange("x", -1, 5); // InvalidArgumentError
 * ```
 */
export class InvalidArgumentError extends StorageError {
  constructor(message: string, url?: string) {
    super(message, { url, code: "ERR_INVALID_ARG_VALUE" });
    this.name = "InvalidArgumentError";
  }
}

/** Codes of {@link OutputCommitError}. */
export const OutputCommitCode = {
  /** Moving the parts to their final names (or writing `_SUCCESS`) failed; what this write had moved was removed again. */
  CommitFailed: "ERR_OUTPUT_COMMIT",
  /** A task of the write failed, and removing the temporary parts it left failed too (the cause is the task's error). */
  CleanupFailed: "ERR_OUTPUT_CLEANUP",
} as const;
/** One of {@link OutputCommitCode}. */
export type OutputCommitCode = (typeof OutputCommitCode)[keyof typeof OutputCommitCode];

/**
 * A multi-part write (DataFrame `toCsv`, Bag `toTextFiles`, MapReduce output)
 * could not be committed, or a failed one could not be cleaned up. `leftover`
 * lists the URLs that could not be removed (all are temporary or lack
 * `_SUCCESS`, so readers of the directory skip or distrust them).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof OutputCommitError) console.error(e.code, e.leftover); }
 * ```
 */
export class OutputCommitError extends StorageError {
  declare readonly code: OutputCommitCode;
  /** URLs this write left behind and could not delete. */
  readonly leftover: readonly string[];

  constructor(message: string, code: OutputCommitCode, options: { url: string; cause: unknown; leftover: readonly string[] }) {
    super(message, { url: options.url, cause: options.cause, code });
    this.name = "OutputCommitError";
    this.leftover = options.leftover;
  }
}

/** Whether `err` is a {@link NotFoundError}. Handy in `catch` clauses. @example `if (isNotFound(e)) return null;` */
export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
