/**
 * Local file system backend: plain paths and `file://` URLs.
 *
 * Writes are atomic: data goes to a temporary file in the destination's
 * directory (`.NAME.shoal-tmp-RANDOM`), which is fsynced and renamed over the
 * destination only after the last byte; the directory is fsynced after the
 * rename. A failed or aborted write removes its temporary file. Listings hide
 * temporary files of writes in progress.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { constants as fsc, createReadStream as fsCreateReadStream } from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Readable } from "node:stream";
import { NotFoundError, PermissionError, StorageError } from "../errors.ts";
import type { FileInfo, ListEntry, ListOptions, StorageBackend, StorageOptions, WriteOptions, WriteResult } from "../types.ts";
import { joinUrl } from "../url.ts";

const TMP_MARK = ".shoal-tmp-";

/**
 * The file system path of a plain path or `file://` URL (taken literally, no percent-decoding).
 *
 * @example
 * ```ts
 * toFsPath("file:///tmp/a b.csv"); // "/tmp/a b.csv"
 * ```
 */
export function toFsPath(url: string): string {
  if (/^file:\/\//i.test(url)) {
    const rest = url.slice("file://".length);
    // file:///abs → /abs; file://localhost/abs → /abs
    if (rest.startsWith("/")) return rest;
    const slash = rest.indexOf("/");
    if (slash >= 0 && rest.slice(0, slash).toLowerCase() === "localhost") return rest.slice(slash);
    throw new StorageError(`${url}: file:// URLs must be absolute (file:///path) and local. Use file:///path or a plain path.`, {
      url,
      code: "ERR_INVALID_FILE_URL_HOST",
    });
  }
  return url;
}

/**
 * Map a Node fs error to a storage error for `url`.
 *
 * @example
 * ```ts
 * try { await fsp.stat(p); } catch (e) { throw mapFsError(e, p); } // ENOENT → NotFoundError
 * ```
 */
export function mapFsError(err: unknown, url: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return new NotFoundError(url, { cause: err, code });
    case "EISDIR":
      return new NotFoundError(url, { cause: err, code, detail: "it is a directory, not a file; use list() for its contents" });
    case "EACCES":
    case "EPERM":
      return new PermissionError(url, { cause: err, code });
    case "EMFILE":
    case "ENFILE":
    case "EAGAIN":
    case "EBUSY":
      return new StorageError(`${url}: ${(err as Error).message}. Retry, or open fewer files at once.`, { url, cause: err, code, retriable: true });
    default:
      return new StorageError(`${url}: ${(err as Error)?.message ?? String(err)}`, { url, cause: err, code });
  }
}

async function statFile(url: string): Promise<FileInfo> {
  let st;
  try {
    st = await fsp.stat(toFsPath(url));
  } catch (err) {
    throw mapFsError(err, url);
  }
  if (st.isDirectory()) {
    throw new NotFoundError(url, { code: "EISDIR", detail: "it is a directory, not a file; use list() for its contents" });
  }
  return { url, size: st.size, mtime: st.mtime };
}

async function openForRead(url: string): Promise<fsp.FileHandle> {
  try {
    const fh = await fsp.open(toFsPath(url), fsc.O_RDONLY);
    const st = await fh.stat();
    if (st.isDirectory()) {
      await fh.close();
      throw new NotFoundError(url, { code: "EISDIR", detail: "it is a directory, not a file; use list() for its contents" });
    }
    return fh;
  } catch (err) {
    throw mapFsError(err, url);
  }
}

async function readRangeFile(url: string, start: number, end: number | undefined): Promise<Buffer> {
  const fh = await openForRead(url);
  try {
    const size = (await fh.stat()).size;
    const stop = Math.min(end ?? size, size);
    if (stop <= start) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(stop - start);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
      if (bytesRead === 0) break; // truncated concurrently
      off += bytesRead;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } catch (err) {
    throw mapFsError(err, url);
  } finally {
    await fh.close();
  }
}

async function openReadStreamFile(url: string, start: number, end: number | undefined): Promise<Readable> {
  const fh = await openForRead(url);
  if (end !== undefined && end <= start) {
    await fh.close();
    return Readable.from([]);
  }
  // fs streams take an inclusive end; autoClose closes the handle on end/destroy.
  return fsCreateReadStream("", { fd: fh, start, end: end === undefined ? undefined : end - 1, autoClose: true });
}

async function fsyncDir(dir: string): Promise<void> {
  let dh: fsp.FileHandle | undefined;
  try {
    dh = await fsp.open(dir, fsc.O_RDONLY);
    await dh.sync();
  } catch {
    // Some file systems do not support fsync on directories; the rename is still atomic.
  } finally {
    await dh?.close();
  }
}

async function writeFile(url: string, source: AsyncIterable<Uint8Array>): Promise<WriteResult> {
  const dest = toFsPath(url);
  if (dest.endsWith("/")) {
    throw new StorageError(`${url}: cannot write to a directory path (ends with "/"). Give a file name.`, { url, code: "EISDIR" });
  }
  const dir = path.dirname(dest);
  const tmp = path.join(dir, `.${path.basename(dest)}${TMP_MARK}${randomBytes(6).toString("hex")}`);
  let fh: fsp.FileHandle | undefined;
  let size = 0;
  try {
    await fsp.mkdir(dir, { recursive: true });
    fh = await fsp.open(tmp, "wx", 0o666);
    for await (const chunk of source) {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
      size += chunk.byteLength;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, dest);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw mapFsError(err, url);
  }
  await fsyncDir(dir);
  return { url, size };
}

async function listDir(url: string, recursive: boolean, out: ListEntry[]): Promise<void> {
  let dirents;
  try {
    dirents = await fsp.readdir(toFsPath(url) || ".", { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return;
    throw mapFsError(err, url);
  }
  const subdirs: string[] = [];
  const visible = dirents.filter((d) => !(d.name.startsWith(".") && d.name.includes(TMP_MARK)));
  // stat in parallel: one directory's entries at a time.
  const stats = await Promise.all(visible.map((d) => fsp.stat(toFsPath(joinUrl(url, d.name))).catch(() => undefined)));
  visible.forEach((d, i) => {
    const st = stats[i];
    const child = joinUrl(url, d.name);
    if (st?.isDirectory()) {
      if (recursive) subdirs.push(child);
      else out.push({ type: "directory", url: `${child}/` });
    } else if (st?.isFile()) {
      out.push({ type: "file", url: child, size: st.size, mtime: st.mtime });
    }
  });
  for (const sub of subdirs) await listDir(sub, true, out);
}

async function deleteFile(url: string): Promise<void> {
  const p = toFsPath(url);
  try {
    const st = await fsp.lstat(p);
    if (st.isDirectory()) {
      throw new StorageError(`${url}: is a directory; delete() removes single objects. Delete the files in it one by one.`, {
        url,
        code: "EISDIR",
      });
    }
    await fsp.unlink(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return;
    throw mapFsError(err, url);
  }
}

async function copyFile(src: string, dst: string): Promise<boolean> {
  // Copy into a temp file then rename, for the same atomicity as write().
  const dest = toFsPath(dst);
  const dir = path.dirname(dest);
  const tmp = path.join(dir, `.${path.basename(dest)}${TMP_MARK}${randomBytes(6).toString("hex")}`);
  await statFile(src);
  try {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.copyFile(toFsPath(src), tmp);
    const fh = await fsp.open(tmp, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, dest);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw mapFsError(err, dst);
  }
  return true;
}

async function renameFile(src: string, dst: string): Promise<boolean> {
  const from = toFsPath(src);
  const dest = toFsPath(dst);
  await statFile(src);
  const dir = path.dirname(dest);
  try {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.rename(from, dest);
  } catch (err) {
    // another file system (EXDEV): copy then delete
    if ((err as NodeJS.ErrnoException).code === "EXDEV") return false;
    throw mapFsError(err, dst);
  }
  await fsyncDir(dir);
  return true;
}

/**
 * The local file system backend (plain paths and `file://`).
 *
 * @example
 * ```ts
 * await fileBackend.readRange("/tmp/x.bin", 0, 10, {});
 * ```
 */
export const fileBackend: StorageBackend = {
  schemes: ["file"],
  capabilities: { write: true, list: true },
  stat: (url: string, _opts: StorageOptions) => statFile(url),
  readRange: (url: string, start: number, end: number | undefined, _opts: StorageOptions) => readRangeFile(url, start, end),
  openReadStream: (url: string, start: number, end: number | undefined, _opts: StorageOptions) =>
    openReadStreamFile(url, start, end),
  write: (url: string, source: AsyncIterable<Uint8Array>, _opts: WriteOptions) => writeFile(url, source),
  async list(url: string, opts: ListOptions): Promise<ListEntry[]> {
    const out: ListEntry[] = [];
    await listDir(url, opts.recursive ?? false, out);
    return out;
  },
  delete: (url: string, _opts: StorageOptions) => deleteFile(url),
  copy: (src: string, dst: string, _opts: StorageOptions) => copyFile(src, dst),
  rename: (src: string, dst: string, _opts: StorageOptions) => renameFile(src, dst),
};
