/**
 * The seam between Shoal and the columnar engine used inside one partition.
 *
 * Shoal owns splitting, scheduling, movement and recovery; an engine owns the
 * bytes of one partition: parse CSV bytes, serialise to and from the wire
 * format (Arrow IPC), concatenate. Only nodejs-polars is implemented; the
 * interface exists so that another engine (DuckDB) can be measured against it
 * without touching the kernels' callers.
 *
 * Threads: nodejs-polars reads `POLARS_MAX_THREADS` once per process, when
 * the native module loads; worker processes get it from their launcher
 * (`src/worker/engine-threads.ts`: all cores unless configured).
 *
 * @module
 */
import pl from "nodejs-polars";
import { EngineError } from "./errors.ts";
import { isCategorical } from "./schema.ts";

/** A partition as the engine holds it (a nodejs-polars DataFrame). */
export type Frame = pl.DataFrame;

/** Options the engine's CSV parser needs once Shoal has validated the bytes. */
export interface EngineCsvOptions {
  /** Column names, in file order. */
  columns: readonly string[];
  /** Engine dtypes per column, in file order. */
  dtypes: readonly pl.DataType[];
  /** Tokens that mean "missing". */
  naValues: readonly string[];
  delimiter: string;
  quote: string;
}

/** Buffer compression of Arrow IPC. */
export type IpcCompression = "uncompressed" | "lz4" | "zstd";

/** What a per-partition engine must provide. */
export interface PartitionEngine {
  readonly name: string;
  /** Parse header-less CSV bytes that Shoal has already validated. */
  parseCsv(bytes: Uint8Array, opts: EngineCsvOptions): Frame;
  /** Serialise to Arrow IPC (file format) in memory (optionally lz4/zstd-compressed buffers). */
  toIpc(df: Frame, opts?: { compression?: IpcCompression }): Buffer;
  /** Read Arrow IPC (file or stream format) from memory; only `columns` when given (the others are not decoded). */
  fromIpc(buf: Uint8Array, columns?: readonly string[]): Frame;
  /** Concatenate frames with identical schemas (vertical). */
  concat(dfs: readonly Frame[]): Frame;
  /** Bytes the frame's buffers hold in memory (an estimate: shared buffers count once per frame). */
  estimatedBytes(df: Frame): number;
}

function wrap<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new EngineError(op, err instanceof Error ? err.message.split("\n")[0]! : String(err), { cause: err });
  }
}

/** The nodejs-polars engine. */
export const polarsEngine: PartitionEngine = {
  name: "polars",
  parseCsv(bytes, opts) {
    const schema: Record<string, pl.DataType> = {};
    opts.columns.forEach((c, i) => { schema[c] = opts.dtypes[i]!; });
    if (bytes.length === 0) {
      return pl.DataFrame(opts.columns.map((c, i) => pl.Series(c, [], opts.dtypes[i]!)));
    }
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return wrap("polars readCSV", () => pl.readCSV(buf, {
      hasHeader: false,
      schema,
      nullValues: [...opts.naValues],
      sep: opts.delimiter,
      quoteChar: opts.quote,
      rechunk: false,
    }));
  },
  toIpc(df, opts) {
    const compression = opts?.compression ?? "uncompressed";
    // an Arrow IPC file holds one dictionary per field: categorical columns must be one chunk
    // (the dtype list first: a Series wrapper per column costs ~1 ms in nodejs-polars)
    const names = df.columns;
    const cat = df.dtypes.some((t, i) => isCategorical(t) && df.getColumn(names[i]!).chunkLengths().length > 1);
    const d = cat ? df.rechunk() : df;
    return wrap("polars writeIPC", () => d.writeIPC({ compression }));
  },
  fromIpc(buf, columns) {
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    // Arrow IPC stream format starts with a continuation marker, the file format with "ARROW1".
    const isFile = b.length >= 6 && b.toString("latin1", 0, 6) === "ARROW1";
    const opts = columns ? { columns: [...columns] } : {};
    return wrap("polars readIPC", () => (isFile ? pl.readIPC(b, opts) : pl.readIPCStream(b, opts)));
  },
  estimatedBytes(df) {
    // polars' own estimate (not in nodejs-polars' typed API); else 8 bytes per value
    const native = (df as unknown as { _df?: { estimatedSize?: () => number } })._df;
    const n = typeof native?.estimatedSize === "function" ? Number(native.estimatedSize()) : NaN;
    return Number.isFinite(n) && n >= 0 ? n : df.height * df.width * 8;
  },
  concat(dfs) {
    if (dfs.length === 0) throw new EngineError("concat", "no frames to concatenate");
    if (dfs.length === 1) return dfs[0]!;
    return wrap("polars concat", () => pl.concat([...dfs], { how: "vertical", rechunk: false }));
  },
};

let current: PartitionEngine = polarsEngine;
/** The engine used by the kernels (polars unless replaced for a measurement). */
export function engine(): PartitionEngine { return current; }
/** Replace the engine (for measurements); returns the previous one. */
export function setEngine(e: PartitionEngine): PartitionEngine { const prev = current; current = e; return prev; }
