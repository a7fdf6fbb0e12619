/**
 * `shoal/storage` — one URL-based storage layer for every reader and writer.
 *
 * Locations are URLs chosen by scheme: plain paths and `file://` (local disk),
 * `memory://` (in-process, for tests), `http(s)://` (read-only, ranged GETs) and
 * `s3://bucket/key` (AWS SDK v3; any S3-compatible endpoint). Every function
 * takes optional {@link StorageOptions} as its last argument (`{s3: {endpoint}}`,
 * `{http: {headers}}`, `{signal}`). Writes are atomic: an object appears whole
 * when the write completes, and a failed or aborted write leaves nothing.
 * Multi-part outputs commit through `commit.ts` (`_temporary/`, then
 * `_SUCCESS`), so a failed one leaves no part either.
 * Errors are typed (`NotFoundError`, `PermissionError`, ...; see `errors.ts`).
 *
 * @example
 * ```ts
 * import { read, write, glob, expandPaths, splitBlocks, readBlock } from "shoal/storage";
 * await write("s3://bucket/hello.txt", "hello\n", { s3: { endpoint: "http://127.0.0.1:9000" } });
 * const files = await glob("data/questions-*.csv");
 * for (const b of await splitBlocks(files, 64 << 20)) {
 *   const lines = (await readBlock(b.url, b.start, b.end)).toString("utf8");
 * }
 * ```
 *
 * @module
 */
export type {
  BackendCapabilities,
  FileInfo,
  ListEntry,
  ListOptions,
  ReadStreamOptions,
  S3Options,
  StorageBackend,
  StorageOptions,
  UrlLike,
  WriteData,
  WriteOptions,
  WriteResult,
} from "./types.ts";
export {
  InvalidArgumentError,
  NoMatchesError,
  NotFoundError,
  OutputCommitCode,
  OutputCommitError,
  PermissionError,
  StorageError,
  UnsupportedOperationError,
  UnsupportedSchemeError,
  isNotFound,
  type StorageErrorOptions,
} from "./errors.ts";
export {
  copy,
  createReadStream,
  createWriteStream,
  exists,
  expandPaths,
  glob,
  list,
  move,
  open,
  read,
  readRange,
  remove,
  remove as delete,
  stat,
  write,
  type CopyOptions,
  type StorageFile,
  type StorageWriteStream,
} from "./ops.ts";
export {
  Compression,
  inferCompression,
  openDecompressed,
  readBlock,
  readLines,
  readText,
  splitBlocks,
  type Block,
  type CompressionOption,
  type DecompressOptions,
  type ReadBlockOptions,
  type SplitOptions,
} from "./blocks.ts";
export {
  SUCCESS_MARKER,
  TEMPORARY_DIR,
  abortOutput,
  attemptUrl,
  commitOutput,
  newOutputJob,
  writeCommitted,
  type CommitOptions,
  type OutputPlan,
} from "./commit.ts";
export { backendFor, registerBackend } from "./registry.ts";
export { clearMemoryStorage } from "./backends/memory.ts";
export { closeS3Clients, resolveS3Options, s3Client } from "./backends/s3.ts";
export { globToRegExp, hasGlob } from "./glob.ts";
export { schemeOf, urlToString } from "./url.ts";
