/**
 * The worker's data store: serialized results in memory, least-recently-used
 * ones spilled to disk when managed memory passes the target fraction of the
 * memory limit. Spilled values are written exactly as they travel (the raw
 * frames of the payload: Arrow IPC and binary stay binary), read back
 * transparently on access.
 *
 * A value may also be *resident*: kept by the executor thread that computed
 * it (a persisted DataFrame partition) and known here only by its size
 * ({@link Resident}). It counts towards memory; the worker has its bytes
 * written ({@link DataStore.residentsOver}) before it can spill or send it.
 *
 * Spill files: `<dir>/<sha1(key)>.spill` = u32 nframes | u32 length × n |
 * header | frames. Written to a temporary name and renamed, so a half file is
 * never read back.
 */
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writevSync } from "node:fs";
import { join } from "node:path";
import { payloadBytes, type Payload } from "../protocol/serialize.ts";

/** A value held by an executor thread, not as bytes here. */
export class Resident {
  constructor(readonly nbytes: number) {}
}

function entrySize(v: Payload | Resident): number {
  return v instanceof Resident ? v.nbytes : payloadBytes(v);
}

export class DataStore {
  /** In memory, least recently used first (Map insertion order). */
  private readonly fast = new Map<string, Payload | Resident>();
  private readonly slow = new Map<string, { path: string; nbytes: number }>();
  memoryBytes = 0;
  spilledBytes = 0;
  spillCount = 0;
  private dirReady = false;

  constructor(private readonly dir: string) {}

  get size(): number {
    return this.fast.size + this.slow.size;
  }

  has(key: string): boolean {
    return this.fast.has(key) || this.slow.has(key);
  }

  keys(): string[] {
    return [...this.fast.keys(), ...this.slow.keys()];
  }

  set(key: string, p: Payload | Resident): void {
    this.delete(key);
    this.fast.set(key, p);
    this.memoryBytes += entrySize(p);
  }

  /** True when `key` is a {@link Resident} value. */
  isResident(key: string): boolean {
    return this.fast.get(key) instanceof Resident;
  }

  /** The bytes of a resident value were written: keep them instead (same recency). */
  replaceResident(key: string, p: Payload): boolean {
    const r = this.fast.get(key);
    if (!(r instanceof Resident)) return false;
    this.fast.set(key, p);
    this.memoryBytes += payloadBytes(p) - r.nbytes;
    return true;
  }

  /** Returns the value, reading it back from disk if it was spilled. */
  get(key: string): Payload | Resident | undefined {
    const p = this.fast.get(key);
    if (p) {
      // mark as recently used
      this.fast.delete(key);
      this.fast.set(key, p);
      return p;
    }
    const s = this.slow.get(key);
    if (!s) return undefined;
    const back = readSpill(s.path);
    rmSync(s.path, { force: true });
    this.slow.delete(key);
    this.spilledBytes -= s.nbytes;
    this.fast.set(key, back);
    this.memoryBytes += s.nbytes;
    return back;
  }

  /**
   * Returns the value for sending: a spilled value is read back without
   * moving it into memory (the caller drops the bytes once they are sent).
   */
  read(key: string): Payload | Resident | undefined {
    const p = this.fast.get(key);
    if (p) return p;
    const s = this.slow.get(key);
    return s ? readSpill(s.path) : undefined;
  }

  delete(key: string): void {
    const p = this.fast.get(key);
    if (p) {
      this.fast.delete(key);
      this.memoryBytes -= entrySize(p);
    }
    const s = this.slow.get(key);
    if (s) {
      rmSync(s.path, { force: true });
      this.slow.delete(key);
      this.spilledBytes -= s.nbytes;
    }
  }

  /** Spills least-recently-used values until memory bytes are at most `targetBytes`. Returns bytes spilled. */
  spillUntil(targetBytes: number, keep: ReadonlySet<string> = new Set()): number {
    let spilled = 0;
    for (const [key, p] of this.fast) {
      if (this.memoryBytes <= targetBytes) break;
      if (keep.has(key) || p instanceof Resident) continue;
      spilled += this.spillOne(key, p);
    }
    return spilled;
  }

  /**
   * Resident values that would have to be written (and then spilled), least
   * recently used first, for memory bytes to reach `targetBytes` (after
   * {@link spillUntil} spilled what it could).
   */
  residentsOver(targetBytes: number, keep: ReadonlySet<string> = new Set()): string[] {
    const out: string[] = [];
    let over = this.memoryBytes - targetBytes;
    for (const [key, p] of this.fast) {
      if (over <= 0) break;
      if (keep.has(key) || !(p instanceof Resident)) continue;
      out.push(key);
      over -= p.nbytes;
    }
    return out;
  }

  private spillOne(key: string, p: Payload): number {
    if (!this.dirReady) {
      mkdirSync(this.dir, { recursive: true });
      this.dirReady = true;
    }
    const path = join(this.dir, createHash("sha1").update(key).digest("hex") + ".spill");
    writeSpill(path, p);
    const n = payloadBytes(p);
    this.fast.delete(key);
    this.memoryBytes -= n;
    this.slow.set(key, { path, nbytes: n });
    this.spilledBytes += n;
    this.spillCount += 1;
    return n;
  }

  clear(): void {
    for (const k of [...this.slow.keys()]) this.delete(k);
    this.fast.clear();
    this.memoryBytes = 0;
  }
}

function writeSpill(path: string, p: Payload): void {
  const parts = [p.header, ...p.frames];
  const head = Buffer.allocUnsafe(4 + 4 * parts.length);
  head.writeUInt32LE(parts.length, 0);
  parts.forEach((b, i) => head.writeUInt32LE(b.byteLength, 4 + 4 * i));
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    // no fsync: spilled data dies with its worker anyway; the rename only
    // makes sure a half-written file is never read back
    writevSync(fd, [head, ...parts.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))]);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readSpill(path: string): Payload {
  const buf = readFileSync(path);
  const n = buf.readUInt32LE(0);
  let off = 4 + 4 * n;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = buf.readUInt32LE(4 + 4 * i);
    parts.push(buf.subarray(off, off + len));
    off += len;
  }
  return { header: parts[0]!, frames: parts.slice(1) };
}
