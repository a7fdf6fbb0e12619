/**
 * The commit protocol of the multi-part writers (DataFrame `toCsv` /
 * `toJsonLines` / `toParquet`, Bag `toTextFiles` / `toJsonLines`, MapReduce
 * output), after Hadoop's FileOutputCommitter:
 *
 * 1. the client picks a job id ({@link newOutputJob});
 * 2. each task attempt writes its part under the final file's directory, at
 *    `_temporary/<job>/attempt-<random>/<name>` ({@link attemptUrl}), and
 *    returns that URL — a retried or recomputed task writes a fresh attempt
 *    and never a second final part;
 * 3. when every task succeeded, the client ({@link commitOutput}) removes the
 *    old `_SUCCESS`, moves the parts the tasks returned to their final names
 *    (a local rename; on S3 a server-side copy then delete), removes
 *    `_temporary/<job>/` and writes `_SUCCESS` last (directory outputs only);
 * 4. when a task failed, the client ({@link abortOutput}) removes
 *    `_temporary/<job>/` and rethrows the task's error; no final name was
 *    touched. If the removal fails too, the error says so
 *    ({@link OutputCommitError}, code `ERR_OUTPUT_CLEANUP`, cause: the task's error).
 *
 * Readers skip names starting with `_` or `.` below a directory (see
 * `expandPaths`), so an unfinished or abandoned `_temporary/` is never read
 * as data. The client runs steps 3 and 4, so local output paths must be
 * the same files for the client as for the workers (one machine or a shared
 * file system) — as for any local directory output of a cluster.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import { toFsPath } from "./backends/file.ts";
import { OutputCommitCode, OutputCommitError } from "./errors.ts";
import { list, move, remove, write } from "./ops.ts";
import type { StorageOptions } from "./types.ts";
import { schemeOf } from "./url.ts";

/** Name of the directory that holds the parts of writes in progress. */
export const TEMPORARY_DIR = "_temporary";
/** Name of the empty file a committed directory output gets last. */
export const SUCCESS_MARKER = "_SUCCESS";
/** Parts moved to their final names at a time. */
const MOVE_CONCURRENCY = 16;

/**
 * What one multi-part write commits.
 *
 * @example
 * ```ts
 * const plan: OutputPlan = { job: newOutputJob(), finals: ["out/part-00000.csv"], marker: "out/" };
 * ```
 */
export interface OutputPlan {
  /** Job id: names `_temporary/<job>/` (see {@link newOutputJob}). */
  job: string;
  /** Final URL of each part, in part order. */
  finals: readonly string[];
  /**
   * The output directory (ending in `/`) for a directory output: it gets
   * `_SUCCESS`, and its files named like the parts (`stale`) that this write
   * did not produce are removed at commit. Null for a `*` pattern (the
   * directory may hold other data: no marker, nothing removed).
   */
  marker: string | null;
  /** Names in `marker` that are parts of an earlier write (removed at commit unless written again); default `/^part-\d+/`. */
  stale?: RegExp;
}

/**
 * A fresh job id for one write: time plus randomness, safe in a URL path segment.
 *
 * @example
 * ```ts
 * newOutputJob(); // "m1abc2de-5f0e9a1b"
 * ```
 */
export function newOutputJob(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** The directory part of a URL, with its trailing `/` ("" for a bare name). */
function dirOf(url: string): string {
  return url.slice(0, url.lastIndexOf("/") + 1);
}

/**
 * Where one attempt of the task for the part `final` writes (runs on a
 * worker): `<dir>/_temporary/<job>/attempt-<random>/<name>`, a new URL per call.
 *
 * @example
 * ```ts
 * attemptUrl("s3://b/out/part-00003.csv", job); // "s3://b/out/_temporary/<job>/attempt-1a2b3c4d/part-00003.csv"
 * ```
 */
export function attemptUrl(final: string, job: string): string {
  const dir = dirOf(final);
  return `${dir}${TEMPORARY_DIR}/${job}/attempt-${randomBytes(4).toString("hex")}/${final.slice(dir.length)}`;
}

/** The `_temporary/<job>/` directories of a plan (one per directory of its parts). */
function jobDirs(plan: OutputPlan): string[] {
  return [...new Set(plan.finals.map((f) => `${dirOf(f)}${TEMPORARY_DIR}/${plan.job}/`))];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `fn` over `items`, `limit` at a time; rejects with the first error after the running calls settle. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== null) throw (failed as { err: unknown }).err;
}

/** Deletes objects; returns those it could not delete. */
async function removeEach(urls: readonly string[], storage: StorageOptions): Promise<string[]> {
  const left: string[] = [];
  await eachLimited(urls, MOVE_CONCURRENCY, async (u) => {
    await remove(u, storage).catch(() => left.push(u));
  });
  return left;
}

/** Removes `_temporary/<job>/` of every directory of the plan; returns what it could not remove. */
async function removeJobDirs(plan: OutputPlan, storage: StorageOptions): Promise<string[]> {
  const left: string[] = [];
  for (const dir of jobDirs(plan)) {
    if (schemeOf(dir) === "file") {
      const path = toFsPath(dir);
      try {
        await fsp.rm(path, { recursive: true, force: true });
      } catch {
        left.push(dir);
        continue;
      }
      // `_temporary/` itself when no other write is using it
      await fsp.rmdir(path.slice(0, path.length - plan.job.length - 1)).catch(() => undefined);
      continue;
    }
    try {
      const files = (await list(dir, { ...storage, recursive: true })).map((e) => e.url);
      left.push(...(await removeEach(files, storage)));
    } catch {
      left.push(dir);
    }
  }
  return left;
}

/**
 * Options of {@link commitOutput} and {@link abortOutput}.
 *
 * @example
 * ```ts
 * await commitOutput(plan, temps, { storage: { s3: { endpoint } } });
 * ```
 */
export interface CommitOptions {
  /** Storage options (S3 endpoint, credentials) of the output. */
  storage?: StorageOptions;
}

/**
 * Commits a write whose tasks all succeeded: `temps[i]` (what task `i`
 * returned from {@link attemptUrl}) becomes `plan.finals[i]`. Removes the old
 * `_SUCCESS` first and writes the new one last. If a move fails, the parts
 * already moved are deleted again and an {@link OutputCommitError}
 * (`ERR_OUTPUT_COMMIT`) is thrown with the failure as its cause.
 *
 * @example
 * ```ts
 * const temps = await runTasks(); // each wrote attemptUrl(final, plan.job)
 * await commitOutput(plan, temps);
 * ```
 */
export async function commitOutput(plan: OutputPlan, temps: readonly string[], opts: CommitOptions = {}): Promise<void> {
  const storage = opts.storage ?? {};
  const where = plan.marker ?? plan.finals[0] ?? "(no parts)";
  const marker = plan.marker === null ? null : `${plan.marker}${SUCCESS_MARKER}`;
  const moved: string[] = [];
  try {
    if (marker !== null) {
      await remove(marker, storage);
      await removeStale(plan, storage);
    }
    const pairs = plan.finals.map((final, i) => ({ final, temp: temps[i]! }));
    await eachLimited(pairs, MOVE_CONCURRENCY, async ({ final, temp }) => {
      await move(temp, final, storage);
      moved.push(final);
    });
  } catch (err) {
    const left = [...(await removeEach(moved, storage)), ...(await removeJobDirs(plan, storage))];
    throw new OutputCommitError(
      `${where}: committing the write failed: ${messageOf(err)}. ` +
        (left.length === 0 ? "Nothing of this write is left in place; " : `Could not remove ${left.join(", ")}; `) +
        `there is no ${SUCCESS_MARKER}. Fix the cause and write again.`,
      OutputCommitCode.CommitFailed,
      { url: where, cause: err, leftover: left },
    );
  }
  await removeJobDirs(plan, storage); // best effort: readers skip _temporary/
  if (marker !== null) {
    try {
      await write(marker, "", storage);
    } catch (err) {
      throw new OutputCommitError(
        `${where}: the parts are in place but writing ${SUCCESS_MARKER} failed: ${messageOf(err)}. Write the marker, or write the output again.`,
        OutputCommitCode.CommitFailed,
        { url: marker, cause: err, leftover: [...plan.finals] },
      );
    }
  }
}

/** Deletes the files in the output directory named like parts that this write does not produce. */
async function removeStale(plan: OutputPlan, storage: StorageOptions): Promise<void> {
  const dir = plan.marker!;
  const re = plan.stale ?? /^part-\d+/;
  const finals = new Set(plan.finals);
  const old = (await list(dir, storage)).filter((e) => e.type === "file" && re.test(e.url.slice(dir.length)) && !finals.has(e.url)).map((e) => e.url);
  for (const u of old) await remove(u, storage);
}

/**
 * After a failed task: removes the write's `_temporary/<job>/` and rethrows
 * `err` as it is. If some of it cannot be removed, throws an
 * {@link OutputCommitError} (`ERR_OUTPUT_CLEANUP`) that says so, with `err` as its cause.
 *
 * @example
 * ```ts
 * try { temps = await runTasks(); } catch (err) { return abortOutput(plan, err); }
 * ```
 */
export async function abortOutput(plan: OutputPlan, err: unknown, opts: CommitOptions = {}): Promise<never> {
  const left = await removeJobDirs(plan, opts.storage ?? {});
  if (left.length === 0) throw err;
  const where = plan.marker ?? plan.finals[0] ?? "(no parts)";
  throw new OutputCommitError(
    `${messageOf(err)} — and removing the temporary parts of the failed write to ${where} failed too: ${left.join(", ")} ` +
      `(readers skip ${TEMPORARY_DIR}/; delete it by hand).`,
    OutputCommitCode.CleanupFailed,
    { url: where, cause: err, leftover: left },
  );
}

/**
 * Runs the tasks of a write (`run` resolves with the attempt URL of each
 * part, in part order) and commits them, or cleans up and rethrows.
 *
 * @example
 * ```ts
 * await writeCommitted(plan, () => client.compute(...tasks).then((rs) => rs.map((r) => r.temp)));
 * ```
 */
export async function writeCommitted(plan: OutputPlan, run: () => Promise<readonly string[]>, opts: CommitOptions = {}): Promise<void> {
  let temps: readonly string[];
  try {
    temps = await run();
  } catch (err) {
    return abortOutput(plan, err, opts);
  }
  await commitOutput(plan, temps, opts);
}
