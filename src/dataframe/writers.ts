/**
 * Writers for one partition, to bytes (the storage layer puts them at a URL;
 * a distributed `toCsv` writes one object per partition, or concatenates the
 * CSV bytes of partitions with the header only on the first).
 *
 * @module
 */
import type { Frame } from "./engine.ts";
import { EngineError } from "./errors.ts";

/** Options of {@link toCsvBytes}. */
export interface CsvWriteOptions {
  /** Write the header line (default true; false for every partition but the first of one file). */
  header?: boolean;
  delimiter?: string;
  quote?: string;
  /** Text for missing values (default "", as pandas `to_csv`). */
  naRep?: string;
}

function wrap<T>(op: string, fn: () => T): T {
  try { return fn(); } catch (err) { throw new EngineError(op, String((err as Error).message ?? err), { cause: err }); }
}

/** CSV bytes of a partition. */
export function toCsvBytes(df: Frame, opts: CsvWriteOptions = {}): Buffer {
  return wrap("toCsv", () => df.writeCSV({
    includeHeader: opts.header ?? true,
    separator: opts.delimiter ?? ",",
    quoteChar: opts.quote ?? '"',
    nullValue: opts.naRep ?? "",
  }));
}

/** JSON-lines bytes of a partition (one object per row, missing values as null). */
export function toJsonLinesBytes(df: Frame): Buffer {
  if (df.height === 0) return Buffer.alloc(0);
  return wrap("toJsonLines", () => df.writeJSON({ format: "lines" }));
}

/** Parquet bytes of a partition (default compression: snappy). */
export function toParquetBytes(df: Frame, opts: { compression?: "uncompressed" | "snappy" | "zstd" | "lz4" | "gzip" } = {}): Buffer {
  return wrap("toParquet", () => df.writeParquet({ compression: opts.compression ?? "snappy" }));
}
