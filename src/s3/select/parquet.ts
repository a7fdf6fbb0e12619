/**
 * Parquet input for S3 Select, read with nodejs-polars (already a
 * dependency): the file is scanned lazily in slices of {@link PARQUET_BATCH}
 * rows, so only the row groups a slice touches are decoded, and each slice
 * is handed to the evaluator as JSON LINES text (INT columns stay integers,
 * nulls stay NULL). The polars module is loaded on first use.
 */
import { stat } from "node:fs/promises";
import { SelectError } from "./errors.ts";

/** Rows per slice. */
export const PARQUET_BATCH = 65_536;

/** One slice of a Parquet file as JSON LINES, with its share of the file's bytes. */
export interface ParquetChunk {
  text: string;
  bytes: number;
}

/** Reads a Parquet file slice by slice. */
export async function* parquetChunks(path: string): AsyncGenerator<ParquetChunk> {
  const { default: pl } = await import("nodejs-polars");
  const size = (await stat(path)).size;
  let total: number;
  try {
    const counted = pl.scanParquet(path).select(pl.len().alias("n")).collectSync();
    total = Number(counted.getColumn("n").get(0));
  } catch (e) {
    throw new SelectError("ParquetParsingError", `the object is not a Parquet file this server can read: ${(e as Error).message}`, { cause: e });
  }
  let sent = 0;
  for (let off = 0; off < total; off += PARQUET_BATCH) {
    const n = Math.min(PARQUET_BATCH, total - off);
    let text: string;
    try {
      const df = pl.scanParquet(path).slice(off, n).collectSync();
      text = df.writeJSON({ format: "lines" }).toString("utf8");
    } catch (e) {
      throw new SelectError("UnsupportedParquetType", `a Parquet column could not be read: ${(e as Error).message}`, { cause: e });
    }
    const bytes = off + n >= total ? size - sent : Math.floor((size * n) / total);
    sent += bytes;
    yield { text: text.endsWith("\n") ? text : `${text}\n`, bytes };
  }
}
