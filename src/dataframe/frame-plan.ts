/**
 * Partition plans: what one partition of a distributed DataFrame is, as a
 * plain, serialisable object (a source plus a list of row-wise operations).
 *
 * Plans are *fused*: `readCsv(...).filter(...).select(...)` followed by a
 * reduction is one task per partition that reads the block, filters,
 * projects and reduces, without materialising the intermediate frames
 * (Dask's blockwise fusion). A source that is another task's result (a
 * persisted partition, a shuffle bucket) appears in the plan as a Delayed or
 * Future, which the engine turns into a dependency and replaces with its
 * value (Arrow IPC bytes) on the worker.
 *
 * {@link evalPlan} runs on workers (and on the client against empty frames,
 * to compute the schema of a lazy frame without reading data).
 *
 * @module
 */
import pl from "nodejs-polars";
import { readBlock, readRange, read } from "../storage/index.ts";
import { countNewlines, firstNonNumber, readCsvPartition, type CsvPartitionContext } from "./csv.ts";
import { engine, type Frame } from "./engine.ts";
import { CsvParseError, DataFrameArgumentError, EngineError, ExpressionTypeError, type TextColumnNote } from "./errors.ts";
import { compileExpr, type ExprNode } from "./frame-expr.ts";
import { fromIpc, fromIpcCached, fromIpcKnown, isDecoded } from "./ipc.ts";
import { mergePartitions, type MergeOptions } from "./join.ts";
import { castToSchema, fromPolarsType, isCategorical, reconcileSchemas, schemaOf, toPolarsType, type Schema } from "./schema.ts";
import { attachTextNotes, explainTextColumn, textNotesOf, type TextNotes } from "./text-notes.ts";
import { concat } from "./shuffle.ts";
import { sortBy, type SortKey } from "./frame-utils.ts";

/** CSV parsing options carried by a CSV source. */
export interface CsvSourceOptions {
  dtypes?: Partial<Schema>;
  naValues?: string[];
  delimiter?: string;
  quote?: string;
  /** The files have no header line. */
  noHeader?: boolean;
  /** Text columns stored as polars Categorical (`dtypes: { Tag: "category" }`). */
  categorical?: string[];
}

/** Where a partition's rows come from. */
export type Source =
  | {
    kind: "csv"; url: string; start: number; end: number; header: string[]; opts: CsvSourceOptions; schema: Schema;
    /** Columns the client's sample read as text although they look numeric: why (see text-notes.ts). */
    notes?: Record<string, TextColumnNote>;
  }
  | { kind: "jsonl"; url: string; start: number; end: number; schema: Schema }
  | { kind: "parquet"; url: string; schema: Schema }
  /** Arrow IPC bytes (the value of a Delayed/Future on the worker). */
  | { kind: "ipc"; data: unknown; schema: Schema }
  /** Several IPC shards concatenated (a shuffle bucket), with the expected schema. */
  | { kind: "shards"; parts: unknown[]; schema: Schema }
  | { kind: "merge"; left: PartitionPlan; right: PartitionPlan; opts: MergeOptions }
  /** The rows of several plans, concatenated in one task (partitions of another frame that a range merge pairs). */
  | { kind: "union"; parts: PartitionPlan[]; schema: Schema }
  | { kind: "empty"; schema: Schema };

/** A row-wise operation applied inside one partition. */
export type Op =
  | { op: "filter"; pred: ExprNode }
  | { op: "with"; exprs: ExprNode[] }
  | { op: "select"; exprs: ExprNode[] }
  | { op: "drop"; columns: string[] }
  | { op: "rename"; mapping: Record<string, string> }
  | { op: "dropNulls"; subset: string[] | null }
  | { op: "head"; n: number }
  | { op: "sort"; keys: SortKey[] };

/** One partition: a source and the operations on it. */
export interface PartitionPlan { source: Source; ops: Op[] }

/** An empty frame with a schema. */
export function emptyFrame(schema: Schema): Frame {
  return pl.DataFrame(Object.entries(schema).map(([c, t]) => pl.Series(c, [], toPolarsType(t))));
}

/**
 * Apply row-wise operations to a frame. A type error names the column and,
 * for a numeric operation on a text column, why it is text (text-notes.ts);
 * the result keeps the frame's read-time notes.
 */
export function applyOps(df: Frame, ops: readonly Op[]): Frame {
  let d = df;
  const notes = textNotesOf(df);
  for (const o of ops) {
    try {
      d = applyOp(d, o);
    } catch (err) {
      if (err instanceof ExpressionTypeError) throw explainTextColumn(err, d, notes);
      if (err instanceof DataFrameArgumentError) throw err;
      throw new EngineError(o.op, String((err as Error).message ?? err).split("\n")[0]!, { cause: err });
    }
  }
  return attachTextNotes(d, notes);
}

function applyOp(d: Frame, o: Op): Frame {
  switch (o.op) {
    case "filter": return d.filter(compileExpr(o.pred, d).fillNull(false));
    case "with": return d.withColumns(...o.exprs.map((e) => compileExpr(e, d)));
    case "select": return d.select(...o.exprs.map((e) => compileExpr(e, d)));
    case "drop": {
      for (const c of o.columns) if (!d.columns.includes(c)) throw new DataFrameArgumentError(`drop: no column '${c}' (columns: ${d.columns.join(", ")})`);
      return o.columns.length === 0 ? d : d.drop(o.columns);
    }
    case "rename": {
      for (const c of Object.keys(o.mapping)) if (!d.columns.includes(c)) throw new DataFrameArgumentError(`rename: no column '${c}' (columns: ${d.columns.join(", ")})`);
      return d.rename(o.mapping);
    }
    case "dropNulls": {
      const cols = o.subset ?? d.columns;
      let keep: pl.Expr | undefined;
      for (const c of cols) {
        const e = compileExpr({ t: "un", op: "notNull", e: { t: "col", name: c } }, d);
        keep = keep ? keep.and(e) : e;
      }
      return keep ? d.filter(keep) : d;
    }
    case "head": return d.head(o.n);
    case "sort": return sortBy(d, o.keys);
  }
}

/** Bring a partition to at least the planned schema (never narrows; wider blocks stay wider). */
export function widenToPlanned(df: Frame, planned: Schema): Frame {
  const have = schemaOf(df);
  const target = reconcileSchemas([planned, have]);
  for (const [c, t] of Object.entries(have)) if (t === "null" && target[c] === "null") target[c] = planned[c] ?? "null";
  const same = Object.keys(target).length === df.width && Object.entries(target).every(([c, t], i) => df.columns[i] === c && (have[c] === t || (t === "null" && have[c] === "utf8")));
  return same ? df : castToSchema(df, target);
}

function asBuffer(x: unknown, what: string): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new DataFrameArgumentError(`${what}: expected Arrow IPC bytes, got ${typeof x}`);
}

/**
 * Make frames' column types agree (int64 + float64 → float64, null → other),
 * touching only columns whose logical types differ. Used before combining
 * partitions whose inferred types were widened differently.
 */
export function harmonize(frames: readonly Frame[]): Frame[] {
  if (frames.length < 2) return [...frames];
  // names and dtypes, not getColumns(): a Series wrapper costs ~1 ms in nodejs-polars, the dtype list µs
  const schemas = frames.map((f) => {
    const s: Record<string, string> = {};
    const names = f.columns;
    const dtypes = f.dtypes;
    for (let i = 0; i < names.length; i++) s[names[i]!] = String(dtypes[i]);
    return s;
  });
  const first = schemas[0]!;
  const differing = Object.keys(first).filter((c) => schemas.some((s) => s[c] !== first[c]));
  if (differing.length === 0) return [...frames];
  return frames.map((f) => {
    const exprs: pl.Expr[] = [];
    for (const c of differing) {
      const types = frames.map((g) => (g.columns.includes(c) ? schemaOf(g.select(c))[c]! : "null"));
      const t = reconcileSchemas(types.map((x) => ({ [c]: x })))[c]!;
      if (!f.columns.includes(c)) continue;
      const own = fromPolarsType(f.getColumn(c).dtype);
      if (own === "utf8" && t !== "utf8" && f.getColumn(c).nullCount() !== f.height) continue;
      exprs.push(pl.col(c).cast(toPolarsType(t)).alias(c));
    }
    return exprs.length > 0 ? f.withColumns(...exprs) : f;
  });
}

/** Concatenate frames after {@link harmonize} (empty input: an empty frame of `schema`). */
export function concatFrames(frames: readonly Frame[], schema?: Schema): Frame {
  if (frames.length === 0) {
    if (!schema) throw new DataFrameArgumentError("concat: no frames and no schema");
    return emptyFrame(schema);
  }
  return concat(harmonize(frames));
}

/**
 * Columns that this block read as text where the planned schema (the
 * client's sample) has numbers: the first value of each that is not a
 * number, with its file line. Costs nothing for a block whose types match
 * the plan; otherwise a scan up to that value and, for a block past the
 * file's start, a count of the newlines before it.
 */
async function blockTextNotes(bytes: Buffer, ctx: CsvPartitionContext, df: Frame, s: Extract<Source, { kind: "csv" }>): Promise<Record<string, TextColumnNote>> {
  const notes: Record<string, TextColumnNote> = {};
  const names = df.columns;
  const dtypes = df.dtypes;
  let base: number | undefined;
  for (let i = 0; i < names.length; i++) {
    const c = names[i]!;
    const planned = s.schema[c];
    if (planned === undefined || planned === "utf8" || s.opts.dtypes?.[c] !== undefined) continue;
    if (fromPolarsType(dtypes[i]!) !== "utf8" || isCategorical(dtypes[i]!)) continue;
    if (df.getColumn(c).nullCount() === df.height) continue; // only missing values: not text
    const hit = firstNonNumber(bytes, ctx, c);
    if (hit === null || (!hit.numbersBefore && planned !== "int64" && planned !== "float64")) continue;
    let line = hit.line;
    if (line === undefined && s.start > 0) {
      // the block's first row is line (newlines before start) + 2, as for a CsvParseError (readCsvSource)
      base ??= countNewlines(await readRange(s.url, 0, s.start)) + 2;
      line = base + hit.lineInBlock - 1;
    }
    notes[c] = { column: c, value: hit.value, file: s.url, line, lineInBlock: hit.lineInBlock, blockStart: s.start };
  }
  return notes;
}

async function readCsvSource(s: Extract<Source, { kind: "csv" }>): Promise<Frame> {
  const bytes = await readBlock(s.url, s.start, s.end);
  try {
    const ctx: CsvPartitionContext = {
      file: s.url, byteOffset: s.start, header: s.header, skipHeader: s.start === 0 && !s.opts.noHeader,
      ...(s.opts.dtypes ? { dtypes: s.opts.dtypes } : {}),
      naValues: s.opts.naValues ?? ["NA", ""],
      delimiter: s.opts.delimiter ?? ",", quote: s.opts.quote ?? '"',
    };
    const df = readCsvPartition(bytes, ctx);
    const notes: TextNotes = { ...(await blockTextNotes(bytes, ctx, df, s)), ...(s.notes ?? {}) };
    const cats = (s.opts.categorical ?? []).filter((c) => df.columns.includes(c));
    const typed = widenToPlanned(df, s.schema);
    return attachTextNotes(cats.length > 0 ? typed.withColumns(...cats.map((c) => pl.col(c).cast(pl.Utf8).cast(pl.Categorical))) : typed, notes);
  } catch (err) {
    if (err instanceof CsvParseError && err.line === undefined && s.start > 0) {
      // resolve the file line only now that something is wrong: the block's rows start after the
      // first newline at or past `start` (readBlock skips the partial line), so its first row is
      // line (newlines before start) + 2
      const prefix = await readRange(s.url, 0, s.start);
      throw err.withLine(countNewlines(prefix) + 2);
    }
    throw err;
  }
}

/** Normalise a frame read by polars from JSON/Parquet to Shoal's logical types. */
export function normalizeTypes(df: Frame): Frame {
  const exprs: pl.Expr[] = [];
  for (const s of df.getColumns()) {
    const t = fromPolarsType(s.dtype);
    const v = String((s.dtype as unknown as { variant?: string }).variant ?? s.dtype);
    if (t === "int64" && v !== "Int64") exprs.push(pl.col(s.name).cast(pl.Int64));
    else if (t === "float64" && v !== "Float64") exprs.push(pl.col(s.name).cast(pl.Float64));
    else if (v === "Null") exprs.push(pl.col(s.name).cast(pl.Utf8));
  }
  return exprs.length > 0 ? df.withColumns(...exprs) : df;
}

/** Parse JSON-lines bytes into a frame with Shoal's logical types. */
export function parseJsonLines(bytes: Buffer, file: string): Frame {
  const text = bytes.toString("utf8");
  if (text.trim() === "") return pl.DataFrame({});
  try {
    return normalizeTypes(pl.readJSON(bytes, { format: "lines", inferSchemaLength: null }));
  } catch (err) {
    // locate the bad line for the message
    const lines = text.split("\n");
    let bad = -1;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!.trim();
      if (l === "") continue;
      try { JSON.parse(l); } catch { bad = i; break; }
    }
    const where = bad >= 0 ? ` (line ${bad + 1} of its block: ${JSON.stringify(lines[bad]!.slice(0, 120))})` : "";
    throw new EngineError("readJsonLines", `cannot parse ${file}${where}: ${String((err as Error).message).split("\n")[0]}`, { cause: err });
  }
}

/** Evaluate a source to a frame. */
export async function evalSource(s: Source): Promise<Frame> {
  switch (s.kind) {
    case "csv": return readCsvSource(s);
    case "jsonl": {
      const df = parseJsonLines(await readBlock(s.url, s.start, s.end), s.url);
      return df.width === 0 ? emptyFrame(s.schema) : widenToPlanned(df, s.schema);
    }
    case "parquet": return widenToPlanned(normalizeTypes(pl.readParquet(await read(s.url))), s.schema);
    case "ipc": {
      if (!(s.data instanceof Uint8Array)) throw new DataFrameArgumentError(`partition: expected Arrow IPC bytes, got ${typeof s.data}`);
      return fromIpcCached(s.data);
    }
    case "shards": {
      // shards of a shuffle, or materialized partitions (sort): the latter may be detached bytes
      const frames = s.parts.map((p) => fromIpcKnown(p instanceof Uint8Array ? p : asBuffer(p, "shuffle shard"))).filter((f) => f.height > 0);
      return frames.length === 0 ? emptyFrame(s.schema) : concatFrames(frames);
    }
    case "merge": {
      const [l, r] = await Promise.all([evalPlan(s.left), evalPlan(s.right)]);
      return mergePartitions(l, r, s.opts);
    }
    case "union": {
      const frames = (await Promise.all(s.parts.map(evalPlan))).filter((f) => f.height > 0);
      return frames.length === 0 ? emptyFrame(s.schema) : concatFrames(frames);
    }
    case "empty": return emptyFrame(s.schema);
  }
}

/** The columns a plan's first operation keeps, when it is a plain projection (select of columns, drop). */
function leadingProjection(p: PartitionPlan): string[] | null {
  const first = p.ops[0];
  if (!first || !("schema" in p.source)) return null;
  const have = Object.keys(p.source.schema);
  let cols: string[];
  if (first.op === "select") {
    if (!first.exprs.every((e) => e.t === "col" || (e.t === "alias" && e.e.t === "col"))) return null;
    cols = [...new Set(first.exprs.map((e) => (e.t === "col" ? e.name : (e as { e: { name: string } }).e.name)))];
  } else if (first.op === "drop") {
    cols = have.filter((c) => !first.columns.includes(c));
  } else {
    return null;
  }
  return cols.length > 0 && cols.length < have.length && cols.every((c) => have.includes(c)) ? cols.sort((a, b) => have.indexOf(a) - have.indexOf(b)) : null;
}

/**
 * Evaluate a partition plan to a frame (on a worker). Projection pushdown:
 * IPC bytes that this thread has not decoded yet (a partition fetched from
 * another worker) are decoded only for the columns a leading projection
 * keeps (lz4-compressed columns that are not needed are never decompressed).
 */
export async function evalPlan(p: PartitionPlan): Promise<Frame> {
  if (p.source.kind === "ipc" && p.source.data instanceof Uint8Array && !isDecoded(p.source.data)) {
    const cols = leadingProjection(p);
    // a drop is done by the projection itself; a select still runs (order, aliases)
    if (cols) return applyOps(fromIpc(p.source.data, cols), p.ops[0]!.op === "drop" ? p.ops.slice(1) : p.ops);
  }
  return applyOps(await evalSource(p.source), p.ops);
}

/**
 * The read-time notes of a frame's CSV sources (the first source that has
 * any): why a column that looks numeric is text, for type errors raised on
 * the client while a lazy frame is built (see text-notes.ts).
 */
export function planTextNotes(plans: readonly PartitionPlan[]): TextNotes | undefined {
  for (const p of plans) if (p.source.kind === "csv" && p.source.notes !== undefined) return p.source.notes;
  return undefined;
}

/** Schema of a plan computed on empty frames (client side; no data is read). */
export function planMeta(p: PartitionPlan): Frame {
  return applyOps(sourceMeta(p.source), p.ops);
}

function sourceMeta(s: Source): Frame {
  switch (s.kind) {
    case "merge": return mergePartitions(planMeta(s.left), planMeta(s.right), s.opts);
    default: return emptyFrame(s.schema);
  }
}

/** Concatenate the values of `engine()` (re-exported for the task module). */
export const engineConcat = (dfs: readonly Frame[]): Frame => engine().concat(dfs);
