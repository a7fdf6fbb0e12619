/**
 * The fast path of the CSV validation scan, in WebAssembly: ordinary lines
 * (exactly `ncols` fields, plain or well-formed quoted, every value fitting
 * its column) in one pass, 1.6–2x faster than the same loop in TypeScript
 * (StackLite blocks: 96 → 48 ms for questions, 100 → 61 ms for tags). The
 * module (`wasm/csv-scan.ts`, AssemblyScript, compiled into
 * `csv-scan-wasm.ts` by `npm run build:wasm`) has no imports and one memory;
 * each executor thread instantiates it once. Bytes are copied in chunks of
 * whole lines ({@link FAST_CHUNK}), so its memory stays about 1 MiB.
 *
 * It stops before a line it does not take (see `scanLine` in csv.ts, which
 * reads that line and either accepts it or names the error) and at `maxRows`.
 *
 * @module
 */
import { CSV_SCAN_WASM } from "./csv-scan-wasm.ts";

/** Bytes per call: whole lines up to this many (a longer line goes to the general path). */
export const FAST_CHUNK = 1 << 20;

interface ScanExports { scan(start: number, end: number, maxRows: number): void; memory: { buffer: ArrayBuffer; grow(pages: number): number } }

/** The WebAssembly global, typed as far as used here (the project's lib has no DOM types). */
const wasmApi = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object, imports: object) => { exports: unknown } };
}).WebAssembly;

let exportsOfThread: ScanExports | null = null;

function module(): ScanExports {
  exportsOfThread ??= new wasmApi.Instance(new wasmApi.Module(Buffer.from(CSV_SCAN_WASM, "base64")), {}).exports as ScanExports;
  return exportsOfThread;
}

/** What the scan of one block knows before it starts. */
export interface FastScanSetup {
  ncols: number;
  delim: number;
  quote: number;
  /** Missing-value tokens. */
  na: readonly Uint8Array[];
  /** Declared kind per column, -1 for none. */
  declared: Int8Array;
}

/** Lines, rows and bytes taken by one {@link FastScanner.scan}. */
export interface FastScanResult { rows: number; lines: number; consumed: number }

const align = (x: number, a: number): number => Math.ceil(x / a) * a;

/** The fast path for one block: lays out the block's columns and NA tokens in the module's memory once. */
export class FastScanner {
  private readonly w = module();
  private readonly kindsAt: number;
  private readonly settledAt: number;
  private readonly dataAt: number;
  private readonly ncols: number;

  constructor(s: FastScanSetup) {
    this.ncols = s.ncols;
    this.kindsAt = 64;
    this.settledAt = this.kindsAt + s.ncols;
    const declaredAt = this.settledAt + s.ncols;
    const naAt = align(declaredAt + s.ncols, 4);
    const naBytes = s.na.reduce((a, t) => a + 4 + t.length, 0);
    this.dataAt = align(naAt + naBytes + 16, 16);
    const need = this.dataAt + FAST_CHUNK + 16;
    const have = this.w.memory.buffer.byteLength;
    if (have < need) this.w.memory.grow(Math.ceil((need - have) / 65536));
    const dv = new DataView(this.w.memory.buffer);
    const u8 = new Uint8Array(this.w.memory.buffer);
    dv.setInt32(0, s.ncols, true);
    dv.setInt32(4, s.delim, true);
    dv.setInt32(8, s.quote, true);
    dv.setInt32(12, s.na.length, true);
    dv.setInt32(16, naAt, true);
    dv.setInt32(20, this.kindsAt, true);
    dv.setInt32(24, this.settledAt, true);
    dv.setInt32(28, declaredAt, true);
    u8.set(new Uint8Array(s.declared.buffer, s.declared.byteOffset, s.ncols), declaredAt);
    let p = naAt;
    for (const t of s.na) {
      dv.setInt32(p, t.length, true);
      u8.set(t, p + 4);
      p += 4 + t.length;
    }
  }

  /**
   * Scan the whole lines of `buf[start, end)` (`end` just past a newline,
   * `end - start <= FAST_CHUNK`). `kinds` and `settled` (one byte per column,
   * as scanRows keeps them) are read before and updated after.
   */
  scan(buf: Uint8Array, start: number, end: number, maxRows: number, kinds: Uint8Array, settled: Uint8Array): FastScanResult {
    const u8 = new Uint8Array(this.w.memory.buffer);
    u8.set(kinds.subarray(0, this.ncols), this.kindsAt);
    u8.set(settled.subarray(0, this.ncols), this.settledAt);
    u8.set(buf.subarray(start, end), this.dataAt);
    u8[this.dataAt + end - start] = 0;
    this.w.scan(this.dataAt, this.dataAt + end - start, Math.min(maxRows, 0x7fffffff));
    kinds.set(u8.subarray(this.kindsAt, this.kindsAt + this.ncols));
    settled.set(u8.subarray(this.settledAt, this.settledAt + this.ncols));
    const dv = new DataView(this.w.memory.buffer);
    return { rows: dv.getInt32(32, true), lines: dv.getInt32(36, true), consumed: dv.getInt32(40, true) - this.dataAt };
  }
}
