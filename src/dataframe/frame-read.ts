/**
 * Readers of the distributed DataFrame. Reading is lazy: the reader lists
 * the objects, splits them into line-aligned byte blocks (Dask-style,
 * default 64 MiB) and reads a small sample of each object for the column
 * names and a first schema; the blocks themselves are parsed by tasks.
 *
 * Types never fail mid-compute: each block's types are inferred over the
 * whole block (never a 10-row sample) and widened to at least the sampled
 * schema; partitions whose types still differ (a block with floats where the
 * sample saw integers) are harmonized wherever partitions meet (combine,
 * shuffle buckets, concatenation). Declare `dtypes` to pin a column's type:
 * a value that does not fit is then an error naming file, line and column.
 *
 * @module
 */
import pl from "nodejs-polars";
import { expandPaths, read, readBlock, readRange, splitBlocks, stat, inferCompression, type Block } from "../storage/index.ts";
import { firstNonNumber, inferCsvSchema, readCsvHeader, SCHEMA_SAMPLE, type CsvPartitionContext } from "./csv.ts";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError, type TextColumnNote } from "./errors.ts";
import { DataFrame } from "./frame.ts";
import { normalizeTypes, parseJsonLines, type PartitionPlan } from "./frame-plan.ts";
import { toIpc } from "./ipc.ts";
import { fromPolarsType, reconcileSchemas, schemaOf, type ColumnType, type Schema } from "./schema.ts";

/** Default block size of the readers: 64 MiB (as Dask). */
export const DEFAULT_BLOCKSIZE = 64 * 1024 * 1024;
const SAMPLE_BYTES = 1 << 20;

/** Options of {@link readCsv}. */
export interface ReadCsvOptions {
  /** Bytes per partition (default 64 MiB); each file is split into line-aligned blocks. */
  blocksize?: number;
  /**
   * Declared column types (others inferred): `{ OwnerUserId: "float64", Tag: "utf8" }`.
   * `"category"` (pandas' name) is text stored as a polars Categorical:
   * codes plus one copy of each distinct value — less memory, faster
   * group-bys and value counts on repetitive text; logically still `utf8`.
   */
  dtypes?: Partial<Record<string, ColumnType | "category">>;
  /** Alias of `dtypes`. */
  schema?: Partial<Record<string, ColumnType | "category">>;
  /** Tokens meaning missing (default `["NA", ""]`). */
  naValues?: string[];
  /** The first line of each file is the header (default true). */
  header?: boolean;
  /** Column names when `header` is false (default `column_1`, …). */
  names?: string[];
  /** Field delimiter (default `,`). */
  delimiter?: string;
  /** Quote character (default `"`). */
  quote?: string;
}

function checkBlocksize(b: number | undefined): number {
  const v = b ?? DEFAULT_BLOCKSIZE;
  if (!Number.isSafeInteger(v) || v <= 0) throw new DataFrameArgumentError(`options.blocksize must be a positive integer, got ${String(b)}`);
  return v;
}

async function sampleOf(url: string, size: number): Promise<Buffer> {
  if (inferCompression(url) !== null) return readBlock(url, 0, size);
  const raw = await readRange(url, 0, Math.min(size, SAMPLE_BYTES));
  if (raw.length < size) {
    const nl = raw.lastIndexOf(10);
    return nl >= 0 ? raw.subarray(0, nl + 1) : raw;
  }
  return raw;
}

/**
 * Read CSV files (a path, glob, folder, list, or `s3://` / `http(s)://` /
 * `memory://` URL) as a lazy DataFrame with one partition per block.
 *
 * @example
 * ```ts
 * const q = await readCsv("data/questions-*.csv", { naValues: ["NA"], blocksize: 16 << 20 });
 * ```
 */
export async function readCsv(pathOrGlobOrUrl: string | readonly string[], opts: ReadCsvOptions = {}): Promise<DataFrame> {
  const blocksize = checkBlocksize(opts.blocksize);
  const declared = { ...(opts.schema ?? {}), ...(opts.dtypes ?? {}) };
  const categorical = Object.keys(declared).filter((c) => declared[c] === "category");
  const dtypes: Partial<Schema> = Object.fromEntries(Object.entries(declared).map(([c, t]) => [c, t === "category" ? "utf8" : t]));
  const hasHeader = opts.header ?? true;
  const naValues = opts.naValues ?? ["NA", ""];
  const delimiter = opts.delimiter ?? ",";
  const quote = opts.quote ?? '"';
  const blocks = await splitBlocks(pathOrGlobOrUrl as string | string[], blocksize);
  const byUrl = new Map<string, Block[]>();
  for (const b of blocks) { const l = byUrl.get(b.url) ?? []; l.push(b); byUrl.set(b.url, l); }
  const files = await Promise.all([...byUrl.keys()].map(async (url) => {
    const size = byUrl.get(url)!.reduce((m, b) => Math.max(m, b.end), 0);
    if (size === 0) return { url, columns: null as string[] | null, schema: {} as Schema, notes: {} };
    const sample = await sampleOf(url, size);
    const columns = hasHeader ? readCsvHeader(sample, { file: url, delimiter, quote }).columns
      : opts.names ?? Array.from({ length: readCsvHeader(sample, { file: url, delimiter, quote }).columns.length }, (_, i) => `column_${i + 1}`);
    const ctx: CsvPartitionContext = { file: url, header: columns, skipHeader: hasHeader, dtypes, naValues, delimiter, quote };
    const schema = inferCsvSchema(sample, ctx, SCHEMA_SAMPLE);
    return { url, columns, schema, notes: sampleTextNotes(sample, ctx, schema, dtypes) };
  }));
  const named = files.filter((f) => f.columns !== null);
  if (named.length === 0) throw new DataFrameArgumentError(`readCsv: every file matched by ${JSON.stringify(pathOrGlobOrUrl)} is empty`);
  const first = named[0]!;
  for (const f of named) {
    if (f.columns!.join("\u0000") !== first.columns!.join("\u0000")) {
      throw new DataFrameArgumentError(`readCsv: ${f.url} has columns [${f.columns!.join(", ")}] but ${first.url} has [${first.columns!.join(", ")}]`);
    }
  }
  const schema = reconcileSchemas(named.map((f) => f.schema));
  for (const [c, t] of Object.entries(dtypes)) if (t !== undefined && c in schema) schema[c] = t;
  // why a column that looks numeric is text: the first file (in order) that says so
  const notes: Record<string, TextColumnNote> = {};
  for (const f of named) for (const [c, n] of Object.entries(f.notes)) if (schema[c] === "utf8" && !(c in notes)) notes[c] = n;
  const hasNotes = Object.keys(notes).length > 0;
  const plans: PartitionPlan[] = [];
  for (const f of named) {
    for (const b of byUrl.get(f.url)!) {
      plans.push({
        source: { kind: "csv", url: b.url, start: b.start, end: b.end, header: f.columns!, schema, ...(hasNotes ? { notes } : {}),
          opts: { dtypes, naValues, delimiter, quote, ...(hasHeader ? {} : { noHeader: true }), ...(categorical.length > 0 ? { categorical } : {}) } },
        ops: [],
      });
    }
  }
  return new DataFrame(plans, schema);
}

/**
 * Columns of a file's sample inferred as text although a number comes
 * before their first value that is not one (`Score`: 1, 7, 3, `12x`): that
 * value and its line, for the type error of a numeric operation on the
 * column (text-notes.ts). Each costs a scan of the sample up to that value:
 * for a column of plain text, one row.
 */
function sampleTextNotes(sample: Buffer, ctx: CsvPartitionContext, schema: Schema, dtypes: Partial<Schema>): Record<string, TextColumnNote> {
  const notes: Record<string, TextColumnNote> = {};
  for (const [c, t] of Object.entries(schema)) {
    if (t !== "utf8" || dtypes[c] !== undefined) continue;
    const hit = firstNonNumber(sample, ctx, c, SCHEMA_SAMPLE);
    if (hit?.numbersBefore) notes[c] = { column: c, value: hit.value, file: ctx.file, line: hit.line, lineInBlock: hit.lineInBlock, blockStart: 0 };
  }
  return notes;
}

/** Options of {@link readJsonLines}. */
export interface ReadJsonLinesOptions {
  /** Bytes per partition (default 64 MiB). */
  blocksize?: number;
}

/**
 * Read JSON-lines files (one object per line) as a lazy DataFrame. Integers
 * are int64, other numbers float64; the schema is sampled from the start of
 * each file and widened per block.
 */
export async function readJsonLines(pathOrGlobOrUrl: string | readonly string[], opts: ReadJsonLinesOptions = {}): Promise<DataFrame> {
  const blocksize = checkBlocksize(opts.blocksize);
  const blocks = await splitBlocks(pathOrGlobOrUrl as string | string[], blocksize);
  const urls = [...new Set(blocks.map((b) => b.url))];
  const schemas = await Promise.all(urls.map(async (url) => {
    const size = blocks.filter((b) => b.url === url).reduce((m, b) => Math.max(m, b.end), 0);
    if (size === 0) return {} as Schema;
    const sample = await sampleOf(url, size);
    const df = parseJsonLines(sample, url);
    return df.width === 0 ? ({} as Schema) : schemaOf(df);
  }));
  const schema = reconcileSchemas(schemas);
  if (Object.keys(schema).length === 0) throw new DataFrameArgumentError(`readJsonLines: no records in ${JSON.stringify(pathOrGlobOrUrl)}`);
  const plans: PartitionPlan[] = blocks.map((b) => ({ source: { kind: "jsonl", url: b.url, start: b.start, end: b.end, schema }, ops: [] }));
  return new DataFrame(plans, schema);
}

/** Read Parquet files (one partition per file) as a lazy DataFrame. The schema comes from the first file. */
export async function readParquet(pathOrGlobOrUrl: string | readonly string[]): Promise<DataFrame> {
  const urls = await expandPaths(pathOrGlobOrUrl as string | string[]);
  await Promise.all(urls.map((u) => stat(u)));
  const first = normalizeTypes(pl.readParquet(await read(urls[0]!)));
  const schema = schemaOf(first.head(0));
  for (const [c, t] of Object.entries(schemaOf(first))) if (t === "null") schema[c] = "null";
  return new DataFrame(urls.map((url) => ({ source: { kind: "parquet", url, schema }, ops: [] })), schema);
}

/**
 * A distributed frame from a local polars frame, split into `npartitions`
 * row ranges (the data travels inside the task graph: for small frames and
 * tests; write large data to storage and read it instead).
 */
export function fromFrame(df: Frame, opts: { npartitions?: number } = {}): DataFrame {
  const n = opts.npartitions ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new DataFrameArgumentError(`fromFrame: options.npartitions must be a positive integer, got ${n}`);
  const schema = schemaOf(df);
  const size = Math.ceil(df.height / n);
  const plans: PartitionPlan[] = [];
  for (let i = 0; i < n; i++) plans.push({ source: { kind: "ipc", data: toIpc(df.slice(i * size, Math.max(0, Math.min(size, df.height - i * size)))), schema }, ops: [] });
  return new DataFrame(plans, schema);
}

/** A distributed frame from row objects (see {@link fromFrame}). */
export function fromRecords(rows: Record<string, unknown>[], opts: { npartitions?: number } = {}): DataFrame {
  let df = normalizeTypes(pl.readRecords(rows));
  // JavaScript numbers arrive as float64: columns of whole numbers become int64
  const ints = df.getColumns().filter((s) => {
    if (fromPolarsType(s.dtype) !== "float64") return false;
    const v = s.dropNulls().toArray() as number[];
    return v.length > 0 && v.every((x) => Number.isSafeInteger(x));
  }).map((s) => s.name);
  if (ints.length > 0) df = df.withColumns(...ints.map((c) => pl.col(c).cast(pl.Int64)));
  return fromFrame(df, opts);
}
