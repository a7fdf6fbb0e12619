/**
 * A shard's durable log: append-only segment files of framed records.
 *
 *     frame   = u32 length | u32 crc32(payload) | payload        (little-endian)
 *     payload = u8 version (1) | f64 counter | f64 arrival ms | u16 key length | key | data
 *
 * Segments are named by the counter of their first record
 * (`00000000000000000042.seg`) and rolled at `segmentBytes`. Appends are
 * group-committed: every write waiting while one is in flight goes out in
 * the next single write (+ fdatasync under the `always` policy), and
 * records become readable only once they are acknowledged. Recovery scans
 * the segments and truncates a torn or corrupt tail, so a record is either
 * wholly there or absent.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/** When appended bytes are flushed to stable storage. */
export type FsyncPolicy = "always" | "interval" | "never";

/** One record as stored. */
export interface StoredRecord {
  counter: number;
  time: number;
  partitionKey: string;
  data: Buffer;
}

/** Options of a {@link ShardLog}. */
export interface ShardLogOptions {
  fsync: FsyncPolicy;
  /** Roll to a new segment once the active one reaches this many bytes. */
  segmentBytes: number;
}

const HEADER = 8;
const FIXED = 1 + 8 + 8 + 2;

/** Encodes one record as a frame. */
export function encodeFrame(r: StoredRecord): Buffer {
  const key = Buffer.from(r.partitionKey, "utf8");
  const payloadLen = FIXED + key.length + r.data.length;
  const buf = Buffer.allocUnsafe(HEADER + payloadLen);
  buf.writeUInt32LE(payloadLen, 0);
  buf.writeUInt8(1, 8);
  buf.writeDoubleLE(r.counter, 9);
  buf.writeDoubleLE(r.time, 17);
  buf.writeUInt16LE(key.length, 25);
  key.copy(buf, 27);
  r.data.copy(buf, 27 + key.length);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER)), 4);
  return buf;
}

/** Decodes the frame at `off`, or undefined if it is incomplete or corrupt. Returns the record and the frame's size. */
export function decodeFrame(buf: Buffer, off: number): { record: StoredRecord; size: number } | undefined {
  if (off + HEADER > buf.length) return undefined;
  const len = buf.readUInt32LE(off);
  if (len < FIXED || off + HEADER + len > buf.length) return undefined;
  const payload = buf.subarray(off + HEADER, off + HEADER + len);
  if (crc32(payload) !== buf.readUInt32LE(off + 4) || payload[0] !== 1) return undefined;
  const keyLen = payload.readUInt16LE(17);
  if (FIXED + keyLen > len) return undefined;
  return {
    record: {
      counter: payload.readDoubleLE(1),
      time: payload.readDoubleLE(9),
      partitionKey: payload.toString("utf8", FIXED, FIXED + keyLen),
      data: payload.subarray(FIXED + keyLen),
    },
    size: HEADER + len,
  };
}

/** A growable Float64Array with a movable head (for trimming). */
class Column {
  a = new Float64Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  dropFront(k: number): void {
    this.a.copyWithin(0, k, this.n);
    this.n -= k;
  }
}

interface Segment {
  base: number;
  path: string;
  size: number;
  fh?: FileHandle;
}

interface Pending {
  buf: Buffer;
  records: StoredRecord[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Lowest index i in [lo, n) with col[i] >= v (n if none). */
function lowerBound(col: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((col[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The durable log of one shard. Construct with {@link ShardLog.open}. */
export class ShardLog {
  private readonly segments: Segment[] = [];
  private readonly counters = new Column();
  private readonly times = new Column();
  private readonly offsets = new Column();
  private readonly sizes = new Column();
  private readonly segOf = new Column();
  private pending: Pending[] = [];
  private writing = false;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Records dropped from a torn tail at recovery. */
  readonly recoveredTornBytes: number;

  private constructor(
    readonly dir: string,
    private readonly opts: ShardLogOptions,
    torn: number,
  ) {
    this.recoveredTornBytes = torn;
    if (opts.fsync === "interval") {
      this.timer = setInterval(() => void this.syncNow(), 100);
      this.timer.unref();
    }
  }

  /** Opens (creating if needed) the log in `dir`, recovering its segments. */
  static open(dir: string, opts: ShardLogOptions): ShardLog {
    mkdirSync(dir, { recursive: true });
    const files = readdirSync(dir)
      .filter((f) => /^\d{20}\.seg$/.test(f))
      .sort();
    let torn = 0;
    const segs: Segment[] = [];
    const idx: Array<{ counter: number; time: number; off: number; size: number; seg: number }> = [];
    for (const f of files) {
      const path = join(dir, f);
      const buf = readFileSync(path);
      let off = 0;
      for (;;) {
        const fr = decodeFrame(buf, off);
        if (fr === undefined) break;
        idx.push({ counter: fr.record.counter, time: fr.record.time, off, size: fr.size, seg: Number(f.slice(0, 20)) });
        off += fr.size;
      }
      if (off < buf.length) {
        torn += buf.length - off;
        truncateSync(path, off);
      }
      if (off === 0) {
        // nothing durable in it: its name (the counter of a record that was
        // never acknowledged) must not outlive it, or a later segment could
        // sort before it
        unlinkSync(path);
        continue;
      }
      segs.push({ base: Number(f.slice(0, 20)), path, size: off });
    }
    const log = new ShardLog(dir, opts, torn);
    log.segments.push(...segs);
    for (const e of idx) log.indexAdd(e.counter, e.time, e.off, e.size, e.seg);
    return log;
  }

  private indexAdd(counter: number, time: number, off: number, size: number, seg: number): void {
    this.counters.push(counter);
    this.times.push(time);
    this.offsets.push(off);
    this.sizes.push(size);
    this.segOf.push(seg);
  }

  /** Number of readable records. */
  get length(): number {
    return this.counters.n;
  }

  /** Counter of the last readable record, or -1. */
  get lastCounter(): number {
    return this.counters.n === 0 ? -1 : (this.counters.a[this.counters.n - 1] as number);
  }

  /** Arrival time of the last readable record, or undefined. */
  get lastTime(): number | undefined {
    return this.times.n === 0 ? undefined : this.times.a[this.times.n - 1];
  }

  /** Bytes stored (frames of readable records). */
  get bytes(): number {
    return this.segments.reduce((s, g) => s + g.size, 0);
  }

  /** Index of the first record with counter >= c. */
  indexOfCounter(c: number): number {
    return lowerBound(this.counters.a, this.counters.n, c);
  }

  /** Index of the first record that arrived at or after `t` (ms). */
  indexOfTime(t: number): number {
    return lowerBound(this.times.a, this.times.n, t);
  }

  /** Counter of the record at index i. */
  counterAt(i: number): number {
    return this.counters.a[i] as number;
  }

  /** Arrival time of the record at index i. */
  timeAt(i: number): number {
    return this.times.a[i] as number;
  }

  /** Appends records (counters already assigned, increasing); resolves once they are written (and synced under `always`). */
  append(records: StoredRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`shard log ${this.dir} is closed`));
    const buf = records.length === 1 ? encodeFrame(records[0] as StoredRecord) : Buffer.concat(records.map(encodeFrame));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ buf, records, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async activeSegment(firstCounter: number): Promise<Segment> {
    let seg = this.segments[this.segments.length - 1];
    if (seg === undefined || seg.size >= this.opts.segmentBytes) {
      if (seg?.fh !== undefined) {
        await seg.fh.datasync();
        await seg.fh.close();
        delete seg.fh;
      }
      const base = firstCounter;
      seg = { base, path: join(this.dir, `${String(base).padStart(20, "0")}.seg`), size: 0 };
      seg.fh = await open(seg.path, "w+");
      if (this.opts.fsync === "always") fsyncDir(this.dir);
      this.segments.push(seg);
    }
    seg.fh ??= await open(seg.path, "r+");
    return seg;
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          const first = batch[0]?.records[0];
          const seg = await this.activeSegment(first?.counter ?? 0);
          const fh = seg.fh as FileHandle;
          const buf = batch.length === 1 ? (batch[0] as Pending).buf : Buffer.concat(batch.map((p) => p.buf));
          let written = 0;
          while (written < buf.length) {
            const { bytesWritten } = await fh.write(buf, written, buf.length - written, seg.size + written);
            written += bytesWritten;
          }
          if (this.opts.fsync === "always") await fh.datasync();
          else this.dirty = true;
          let off = seg.size;
          for (const p of batch) {
            for (const r of p.records) {
              const size = HEADER + FIXED + Buffer.byteLength(r.partitionKey, "utf8") + r.data.length;
              this.indexAdd(r.counter, r.time, off, size, seg.base);
              off += size;
            }
          }
          seg.size += buf.length;
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async syncNow(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const fh = this.segments[this.segments.length - 1]?.fh;
    await fh?.datasync().catch(() => undefined);
  }

  /**
   * Reads records from index `from`, at most `limit` records and about
   * `maxBytes` bytes (at least one record).
   */
  async read(from: number, limit: number, maxBytes: number): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    let i = from;
    let bytes = 0;
    const end = Math.min(this.counters.n, from + limit);
    while (i < end) {
      const segBase = this.segOf.a[i] as number;
      let j = i;
      let span = 0;
      while (j < end && this.segOf.a[j] === segBase && (j === i || bytes + span + (this.sizes.a[j] as number) <= maxBytes)) {
        span += this.sizes.a[j] as number;
        j++;
      }
      const seg = this.segments.find((s) => s.base === segBase);
      if (seg === undefined) break;
      const start = this.offsets.a[i] as number;
      const buf = Buffer.allocUnsafe(span);
      const fh = seg.fh ?? (await open(seg.path, "r"));
      try {
        let got = 0;
        while (got < span) {
          const { bytesRead } = await fh.read(buf, got, span - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
      } finally {
        if (seg.fh === undefined) await fh.close();
      }
      let off = 0;
      for (let k = i; k < j; k++) {
        const fr = decodeFrame(buf, off);
        if (fr === undefined) throw new Error(`corrupt record in ${seg.path} at ${start + off}`);
        out.push(fr.record);
        off += fr.size;
      }
      bytes += span;
      i = j;
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  /** Drops records that arrived before `cutoff` ms, deleting whole segments that hold only such records. */
  async trimBefore(cutoff: number): Promise<number> {
    const k = this.indexOfTime(cutoff);
    if (k === 0) return 0;
    for (const col of [this.counters, this.times, this.offsets, this.sizes, this.segOf]) col.dropFront(k);
    const firstSeg = this.counters.n > 0 ? (this.segOf.a[0] as number) : undefined;
    while (this.segments.length > 1) {
      const s = this.segments[0] as Segment;
      if (firstSeg !== undefined && s.base >= firstSeg) break;
      if (firstSeg === undefined && s === this.segments[this.segments.length - 1]) break;
      this.segments.shift();
      await s.fh?.close();
      await unlink(s.path).catch(() => undefined);
    }
    return k;
  }

  /** Waits for writes in flight, syncs and closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    if (this.timer) clearInterval(this.timer);
    for (const s of this.segments) {
      if (s.fh) {
        if (this.opts.fsync !== "never") await s.fh.datasync().catch(() => undefined);
        await s.fh.close();
        delete s.fh;
      }
    }
  }

  /** Total size on disk of this log's segment files (for tests and metrics). */
  diskBytes(): number {
    return this.segments.reduce((s, g) => {
      try {
        return s + statSync(g.path).size;
      } catch {
        return s;
      }
    }, 0);
  }
}
