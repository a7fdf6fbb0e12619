/**
 * ScanRange: only the records that start inside `[start, end]` are read.
 * A record starts at byte 0 or right after a record delimiter; the last
 * record whose first byte is inside the range is read to its end, past
 * `end`. The cutter works on bytes, before decoding, so the bytes read are
 * the range plus at most one record on each side.
 */

/** A resolved range over an object of known size (End inclusive). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * S3's rules: Start alone reads to the end; End alone means the last End
 * bytes; End past the object is clamped.
 */
export function resolveScanRange(r: { start: number | undefined; end: number | undefined } | undefined, size: number): ByteRange | undefined {
  if (r === undefined) return undefined;
  if (r.start === undefined && r.end === undefined) return undefined;
  if (r.start === undefined) return { start: Math.max(0, size - r.end!), end: size - 1 };
  return { start: r.start, end: Math.min(r.end ?? size - 1, size - 1) };
}

/** Passes through the bytes of the records that start in the range. */
export class RangeCutter {
  /** Absolute offset to start reading the object at. */
  readonly readFrom: number;
  private off: number; // absolute offset of the next chunk's first byte
  private skipping: boolean;
  private tail: Buffer = Buffer.alloc(0);
  private finished = false;

  constructor(
    private readonly rd: Buffer,
    private readonly start: number,
    private readonly end: number,
  ) {
    this.skipping = start > 0;
    this.readFrom = start > 0 ? Math.max(0, start - rd.length) : 0;
    this.off = this.readFrom;
    if (end < start) this.finished = true;
  }

  /** True once the last record of the range has been passed on. */
  get done(): boolean {
    return this.finished;
  }

  /** The part of `chunk` to process, and whether reading can stop after it. */
  push(chunk: Buffer): { data: Buffer; done: boolean } {
    if (this.finished) return { data: Buffer.alloc(0), done: true };
    const rdl = this.rd.length;
    // The last rdl-1 bytes of the previous chunk are kept so a delimiter split across chunks is found.
    const win = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const winStart = this.off - this.tail.length;
    let dataStart = this.tail.length; // the tail was passed on (or skipped) already
    this.off += chunk.length;
    this.tail = rdl > 1 ? Buffer.from(win.subarray(Math.max(0, win.length - (rdl - 1)))) : Buffer.alloc(0);
    if (this.skipping) {
      const i = win.indexOf(this.rd);
      if (i < 0) return { data: Buffer.alloc(0), done: false };
      this.skipping = false;
      dataStart = i + rdl;
      if (winStart + dataStart > this.end) {
        this.finished = true;
        return { data: Buffer.alloc(0), done: true };
      }
    }
    // The record that starts at or before `end` ends at the first delimiter whose last byte is at or after `end`.
    const searchFrom = Math.max(0, dataStart - rdl + 1, this.end - rdl + 1 - winStart);
    const j = searchFrom < win.length ? win.indexOf(this.rd, searchFrom) : -1;
    if (j >= 0) {
      this.finished = true;
      return { data: win.subarray(dataStart, Math.max(dataStart, j + rdl)), done: true };
    }
    return { data: win.subarray(dataStart), done: false };
  }
}
