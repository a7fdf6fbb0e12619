/**
 * In-process `memory://` backend for tests and small scratch data.
 *
 * Keys are everything after `memory://`; "directories" are implied by `/` in
 * keys, as in S3. Objects live in one process-wide map until deleted or
 * {@link clearMemoryStorage} is called. Writes become visible when complete.
 *
 * @module
 */
import { Readable } from "node:stream";
import { NotFoundError } from "../errors.ts";
import type { FileInfo, ListEntry, ListOptions, StorageBackend, WriteResult } from "../types.ts";

interface MemObject {
  data: Buffer;
  mtime: Date;
}

const PREFIX = "memory://";
const store = new Map<string, MemObject>();

function keyOf(url: string): string {
  return url.slice(PREFIX.length);
}

function get(url: string): MemObject {
  const o = store.get(keyOf(url));
  if (!o) throw new NotFoundError(url, { code: "NoSuchKey" });
  return o;
}

/**
 * Remove every `memory://` object (or only those under `prefix`, e.g. `"memory://test-1/"`).
 *
 * @example
 * ```ts
 * afterEach(() => clearMemoryStorage());
 * ```
 */
export function clearMemoryStorage(prefix = PREFIX): void {
  const p = keyOf(prefix);
  for (const k of [...store.keys()]) if (k.startsWith(p)) store.delete(k);
}

function info(url: string, o: MemObject): FileInfo {
  return { url, size: o.data.length, mtime: o.mtime };
}

/**
 * The `memory://` backend.
 *
 * @example
 * ```ts
 * await write("memory://t/a.txt", "hi"); // served by memoryBackend
 * ```
 */
export const memoryBackend: StorageBackend = {
  schemes: ["memory"],
  capabilities: { write: true, list: true },
  async stat(url) {
    return info(url, get(url));
  },
  async readRange(url, start, end) {
    const d = get(url).data;
    return Buffer.from(d.subarray(Math.min(start, d.length), Math.min(end ?? d.length, d.length)));
  },
  async openReadStream(url, start, end) {
    const d = get(url).data;
    const slice = d.subarray(Math.min(start, d.length), Math.min(end ?? d.length, d.length));
    const CHUNK = 64 * 1024;
    function* chunks(): Generator<Buffer> {
      for (let i = 0; i < slice.length; i += CHUNK) yield Buffer.from(slice.subarray(i, i + CHUNK));
    }
    return Readable.from(chunks(), { objectMode: false });
  },
  async write(url, source): Promise<WriteResult> {
    const parts: Buffer[] = [];
    for await (const c of source) parts.push(Buffer.from(c));
    const data = Buffer.concat(parts);
    store.set(keyOf(url), { data, mtime: new Date() });
    return { url, size: data.length };
  },
  async list(url, opts: ListOptions): Promise<ListEntry[]> {
    const dir = url.endsWith("/") ? keyOf(url) : `${keyOf(url)}/`;
    const out: ListEntry[] = [];
    const dirs = new Set<string>();
    for (const [k, o] of store) {
      if (!k.startsWith(dir)) continue;
      const rest = k.slice(dir.length);
      const slash = rest.indexOf("/");
      if (opts.recursive || slash < 0) out.push({ type: "file", ...info(PREFIX + k, o) });
      else dirs.add(PREFIX + dir + rest.slice(0, slash + 1));
    }
    for (const d of dirs) out.push({ type: "directory", url: d });
    return out;
  },
  async delete(url) {
    store.delete(keyOf(url));
  },
  async copy(src, dst) {
    const o = get(src);
    store.set(keyOf(dst), { data: o.data, mtime: new Date() });
    return true;
  },
};
