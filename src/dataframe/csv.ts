/**
 * CSV partition reader: validated, type-inferring parse of one byte block.
 *
 * A block is a byte range of a file aligned to line starts (Dask-style). The
 * reader does two passes:
 *
 * 1. a fast scan over the bytes ({@link scanCsv}; ordinary lines in WebAssembly) that checks the
 *    field count of every row, the quoting, and every value of a typed column,
 *    and at the same time infers the exact type of every untyped column over
 *    the whole block (null < bool < int64 < float64 < utf8) — so inference can
 *    never be wrong for the block it describes (a byte loop per column on
 *    ordinary lines, the general quote-aware path for the rest; see scanRows);
 * 2. the engine's parser (polars) with that schema.
 *
 * Polars alone is not enough: it silently drops extra fields, fills missing
 * ones with null and turns an unparsable number into null. The scan turns each
 * of those into a {@link CsvParseError} naming file, line and column.
 *
 * Line numbers: the error always carries the absolute byte offset and the line
 * inside the block. When the caller knows the block's first line
 * (`ctx.startLine`) the error names the file line directly; otherwise the
 * caller resolves it only when an error happens, by counting newlines in the
 * file prefix ({@link countNewlines}, {@link CsvParseError.withLine}).
 *
 * @module
 */
import { isUtf8 } from "node:buffer";
import { engine, type Frame } from "./engine.ts";
import { CsvErrorKind, CsvParseError } from "./errors.ts";
import { FAST_CHUNK, FastScanner } from "./csv-fast.ts";
import { castToSchema, toPolarsType, type ColumnType, type Schema } from "./schema.ts";

/** Where a block comes from and how to read it. */
export interface CsvPartitionContext {
  /** File path or URL, for error messages. */
  file: string;
  /** Absolute byte offset of `bytes[0]` in the file (default 0). */
  byteOffset?: number;
  /** 1-based file line of `bytes[0]`, if known (then errors name the file line). */
  startLine?: number;
  /**
   * Column names. `null`: the block starts with the header line, which gives
   * the names (the first block of a file read on its own).
   */
  header: readonly string[] | null;
  /** The block starts with the header line, which is skipped (first block of a file). Default: `header === null`. */
  skipHeader?: boolean;
  /** Declared types: values are validated against them (a bad value is an error). */
  dtypes?: Readonly<Partial<Schema>>;
  /** A reconciled schema to widen the result to (never narrows; see {@link reconcileSchemas}). */
  widenTo?: Readonly<Schema>;
  /** Tokens meaning "missing" (default `["NA", ""]`; an empty field is always missing in numeric columns). */
  naValues?: readonly string[];
  /** Field delimiter, one byte (default `,`). */
  delimiter?: string;
  /** Quote character, one byte (default `"`). */
  quote?: string;
}

/** What the scan found in a block. */
export interface CsvScanResult {
  /** Data rows (header excluded). */
  rows: number;
  /** Inferred type of each column over the scanned rows. */
  schema: Schema;
  /** Byte index in the buffer where the data rows start (after the header line). */
  dataStart: number;
  /** Column names (from ctx.header or the header line). */
  columns: string[];
  /** Blank lines seen (skipped). */
  blankLines: number;
}

const K_NULL = 0, K_BOOL = 1, K_INT = 2, K_FLOAT = 3, K_STR = 4;
const KIND_NAMES: ColumnType[] = ["null", "bool", "int64", "float64", "utf8"];
const KIND_OF: Record<ColumnType, number> = { null: K_NULL, bool: K_BOOL, int64: K_INT, float64: K_FLOAT, utf8: K_STR };
const NL = 10, CR = 13;
const INT64_MAX = "9223372036854775807";

function byte(s: string, what: string): number {
  if (s.length !== 1 || s.charCodeAt(0) > 127) throw new RangeError(`options.${what} must be one ASCII character, got '${s}'`);
  return s.charCodeAt(0);
}

/** Count `\n` bytes (for turning a byte offset into a line number). */
export function countNewlines(buf: Uint8Array, start = 0, end = buf.length): number {
  let n = 0;
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let i = b.indexOf(NL, start);
  while (i !== -1 && i < end) { n++; i = b.indexOf(NL, i + 1); }
  return n;
}

/** Kind of the bytes [s, e): int, float, bool or string (NA tokens are handled by the caller). */
function classify(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  const c0 = buf[i]!;
  if (c0 === 45 || c0 === 43) i++; // - +
  const digitsStart = i;
  while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
  const nInt = i - digitsStart;
  if (i === e) {
    if (nInt === 0) return K_STR;
    if (nInt < 19) return K_INT;
    if (nInt === 19) {
      let d = "";
      for (let j = digitsStart; j < e; j++) d += String.fromCharCode(buf[j]!);
      return d <= INT64_MAX ? K_INT : K_FLOAT;
    }
    return K_FLOAT;
  }
  let nFrac = 0;
  if (buf[i] === 46) { // .
    i++;
    const f = i;
    while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
    nFrac = i - f;
  }
  if (nInt + nFrac === 0) return classifyWord(buf, s, e);
  if (i < e && (buf[i] === 101 || buf[i] === 69)) { // e E
    i++;
    if (i < e && (buf[i] === 45 || buf[i] === 43)) i++;
    const x = i;
    while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
    if (i === x) return K_STR;
  }
  return i === e ? K_FLOAT : K_STR;
}

function classifyWord(buf: Uint8Array, s: number, e: number): number {
  if (e - s > 9) return K_STR;
  let w = "";
  for (let j = s; j < e; j++) w += String.fromCharCode(buf[j]!);
  w = w.toLowerCase();
  if (w === "true" || w === "false") return K_BOOL;
  if (w === "nan" || w === "inf" || w === "-inf" || w === "+inf" || w === "infinity" || w === "-infinity") return K_FLOAT;
  return K_STR;
}

interface ScanOptions {
  file: string;
  byteOffset: number;
  startLine: number | undefined;
  /** Lines of the block before the scanned data (1 when the header was skipped). */
  lineBase: number;
  columns: string[];
  declared: Int8Array; // -1 or K_*
  na: Uint8Array[];
  delim: number;
  quote: number;
  maxRows: number;
  maxBytes: number;
}

function lineSnippet(buf: Uint8Array, start: number): string {
  let end = start;
  while (end < buf.length && buf[end] !== NL && end - start < 200) end++;
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("utf8").replace(/\r$/, "");
}

function fail(buf: Uint8Array, o: ScanOptions, kind: CsvErrorKind, lineInBlock: number, lineStart: number,
  col: number | undefined, detail: string, position?: number, value?: string): never {
  const inBlock = lineInBlock + o.lineBase;
  const err = new CsvParseError({
    kind, file: o.file, lineInBlock: inBlock, byteOffset: o.byteOffset + lineStart,
    line: o.startLine !== undefined ? o.startLine + inBlock - 1 : undefined,
    column: col !== undefined ? col + 1 : undefined,
    columnName: col !== undefined ? o.columns[col] : undefined,
    ...(position !== undefined ? { position } : {}),
    ...(value !== undefined ? { value } : {}),
    snippet: lineSnippet(buf, lineStart), detail,
  });
  throw err;
}

/** 1-based character position of byte `at` in the line starting at byte `lineStart` (UTF-8 decoded; a bad byte counts as one). */
function charPosition(buf: Uint8Array, lineStart: number, at: number): number {
  return Buffer.from(buf.buffer, buf.byteOffset + lineStart, at - lineStart).toString("utf8").length + 1;
}

/**
 * Start bytes of the fields of the row at `lineStart` up to the end of the row
 * or of `buf` (error path only: a quoted delimiter or newline does not count).
 */
function fieldStarts(buf: Uint8Array, lineStart: number, end: number, delim: number, quote: number): number[] {
  const starts = [lineStart];
  let inQ = false;
  for (let i = lineStart; i < end; i++) {
    const b = buf[i]!;
    if (inQ) { if (b === quote) inQ = false; continue; }
    if (b === quote && i === starts[starts.length - 1]) inQ = true;
    else if (b === delim) starts.push(i + 1);
    else if (b === NL) break;
  }
  return starts;
}

/** Fails for a row with more than `ncols` fields: how many, and where the first extra one starts. */
function failTooMany(buf: Uint8Array, n: number, o: ScanOptions, line: number, lineStart: number): never {
  const ncols = o.columns.length;
  const starts = fieldStarts(buf, lineStart, n, o.delim, o.quote);
  const extra = starts[ncols] ?? lineStart;
  const last = o.columns[ncols - 1];
  fail(buf, o, CsvErrorKind.FieldCount, line, lineStart, undefined,
    `expected ${ncols} fields, found ${starts.length}: the row overflows after column ${ncols}${last !== undefined ? ` '${last}'` : ""}, where field ${ncols + 1} starts`,
    charPosition(buf, lineStart, extra));
}

function isNa(buf: Uint8Array, s: number, e: number, na: Uint8Array[]): boolean {
  const len = e - s;
  if (len === 0) return true;
  for (const t of na) {
    if (t.length !== len) continue;
    let j = 0;
    while (j < len && buf[s + j] === t[j]) j++;
    if (j === len) return true;
  }
  return false;
}

/** Kind of the field bytes [s, e), or -1 for a missing value (an NA token or an empty field). */
function fieldKind(buf: Uint8Array, s: number, e: number, na: Uint8Array[]): number {
  // fast path: a plain integer of 1..18 digits
  let j = s;
  if (j < e && buf[j] === 45) j++;
  const d0 = j;
  while (j < e) { const c = buf[j]!; if (c < 48 || c > 57) break; j++; }
  if (j === e && j > d0 && j - d0 < 19) return K_INT;
  if (isNa(buf, s, e, na)) return -1;
  return classify(buf, s, e);
}

/** Scan state shared by the fast and the general path. */
interface ScanState {
  /** Byte index of the next line. */
  i: number;
  rows: number;
  /** 1-based line (inside the scanned data) of the next line. */
  line: number;
  blank: number;
  /** Scanning is over (end of data, `maxRows` reached, or the truncated tail of a sample). */
  stop: boolean;
  /** Inferred kind per column. */
  kinds: Uint8Array;
  /** 1 where a column's kind can no longer change (declared or inferred utf8): its values are not classified. */
  settled: Uint8Array;
}

/**
 * The general path: scan exactly one row (or one blank line) starting at the
 * line start `st.i`, honouring quotes (embedded delimiters, newlines, doubled
 * quotes), CR before LF, blank lines and a last line without a newline.
 * Throws {@link CsvParseError} on a malformed row.
 */
function scanLine(buf: Uint8Array, n: number, sampling: boolean, o: ScanOptions, st: ScanState): void {
  const ncols = o.columns.length;
  const { kinds, settled } = st;
  const declared = o.declared;
  const { delim, quote, na } = o;
  const maxSpecial = Math.max(delim, quote, NL, CR);
  const lastCol = ncols - 1;
  let i = st.i, col = 0, line = st.line;
  const lineStart = i;
  let fieldStart = i;
  let quoted = false;
  let atEnd = false;
  for (;;) {
    let fieldEnd: number;
    let isLineEnd: boolean;
    if (i >= n) {
      if (sampling || (fieldStart >= n && col === 0 && !quoted)) { st.stop = true; st.i = i; return; }
      fieldEnd = n > fieldStart && buf[n - 1] === CR ? n - 1 : n;
      isLineEnd = true;
      atEnd = true;
    } else {
      const b = buf[i]!;
      if (b > maxSpecial) { i++; continue; }
      if (b === quote && i === fieldStart) {
        const qLine = line, qStart = i;
        i++;
        for (;;) {
          while (i < n && buf[i] !== quote) { if (buf[i] === NL) line++; i++; }
          if (i >= n) {
            if (sampling) { st.stop = true; st.i = i; return; }
            fail(buf, o, CsvErrorKind.BadQuote, qLine, lineStart, col, `unterminated quoted field starting at byte ${o.byteOffset + qStart}`);
          }
          if (buf[i + 1] === quote) { i += 2; continue; }
          i++;
          break;
        }
        const nb = i < n ? buf[i]! : NL;
        if (nb !== delim && nb !== NL && !(nb === CR && (i + 1 >= n || buf[i + 1] === NL))) {
          fail(buf, o, CsvErrorKind.BadQuote, qLine, lineStart, col, "unexpected character after closing quote");
        }
        quoted = true;
        continue;
      }
      if (b === delim) {
        fieldEnd = i;
        isLineEnd = false;
      } else if (b === NL) {
        fieldEnd = i > fieldStart && buf[i - 1] === CR ? i - 1 : i;
        isLineEnd = true;
        if (col === 0 && fieldEnd === fieldStart && !quoted && ncols > 1) {
          // blank line: skipped, as pandas does (skip_blank_lines=True)
          st.line = line + 1; st.blank++; st.i = i + 1;
          return;
        }
      } else { i++; continue; }
    }
    // ---- end of a field [fieldStart, fieldEnd) in column `col`
    if (col > lastCol) failTooMany(buf, n, o, line, lineStart);
    if (settled[col] === 0 || quoted) {
      const k = quoted ? fieldKind(buf, fieldStart + 1, fieldEnd - 1, na) : fieldKind(buf, fieldStart, fieldEnd, na);
      if (k >= 0) {
        const d = declared[col]!;
        if (d >= 0) {
          if (d !== K_STR && !(k === d || (d === K_FLOAT && k === K_INT))) {
            const s = quoted ? fieldStart + 1 : fieldStart, e = quoted ? fieldEnd - 1 : fieldEnd;
            const v = Buffer.from(buf.buffer, buf.byteOffset + s, Math.min(e - s, 60)).toString("utf8");
            fail(buf, o, CsvErrorKind.BadValue, line, lineStart, col, `cannot parse "${v}" as ${KIND_NAMES[d]}`, undefined, v);
          }
          kinds[col] = d;
        } else if (k > kinds[col]!) {
          kinds[col] = k;
          if (k === K_STR) settled[col] = 1;
        }
      }
    }
    quoted = false;
    if (isLineEnd) {
      if (col !== lastCol) fail(buf, o, CsvErrorKind.FieldCount, line, lineStart, undefined, `expected ${ncols} fields, found ${col + 1}`);
      st.rows++;
      if (atEnd || st.rows >= o.maxRows) st.stop = true;
      st.line = line + 1;
      st.i = i + 1;
      return;
    }
    col++;
    fieldStart = ++i;
  }
}

/**
 * Scan header-less CSV rows in `buf[start..]`: validate field counts, quoting
 * and declared types, and infer each column's type. Throws {@link CsvParseError}.
 * `maxRows`/`maxBytes` stop early (for sampling); the last, possibly partial,
 * line of a truncated sample is ignored.
 *
 * Two paths with one meaning. The fast path (WebAssembly, `csv-fast.ts`)
 * takes the common line — exactly `ncols` fields, each plain or a
 * well-formed quoted field, every value fitting its column — in one pass over
 * the bytes with a loop per column: a settled (utf8) column only looks for
 * the field's end, any other column first reads a plain integer up to the
 * delimiter, and only an unusual value is classified in full. No strings are
 * made. It runs over complete lines only (up to the last `\n` before the end
 * or the sample limit, in chunks of whole lines), so every unquoted inner
 * loop stops at a newline. Anything else — a wrong field count, a bad value, a blank line, a
 * quote problem, a quoted field running past that last newline, the last line
 * without a newline — sends that one line to the general path
 * ({@link scanLine}), which either accepts it exactly as the scan always did
 * or throws the error with file, line and column. The fields the fast path
 * saw before handing a line over only widened kinds the general path widens
 * the same way when it re-reads the line. `kinds0` (optional) is the kind
 * array the scan updates, for a caller that wants it after a throw.
 */
function scanRows(buf: Uint8Array, start: number, o: ScanOptions, kinds0?: Uint8Array): { rows: number; kinds: Uint8Array; blank: number } {
  const ncols = o.columns.length;
  const declared = o.declared;
  const st: ScanState = { i: start, rows: 0, line: 1, blank: 0, stop: false, kinds: kinds0 ?? new Uint8Array(ncols), settled: new Uint8Array(ncols) };
  const { kinds, settled } = st;
  for (let c = 0; c < ncols; c++) if (declared[c] === K_STR) { settled[c] = 1; kinds[c] = K_STR; }
  const n = o.maxBytes < buf.length - start ? start + o.maxBytes : buf.length;
  const sampling = n < buf.length;
  const { delim, quote, na } = o;
  // the general path stops after the row that reaches maxRows: at least one row, none for NaN
  const maxRows = o.maxRows >= 1 ? o.maxRows : o.maxRows < 1 ? 1 : Infinity;
  // The fast path covers complete lines only: [start, fastEnd) ends with "\n".
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const lastNl = n > start && ncols > 0 ? view.lastIndexOf(NL, n - 1) : -1;
  const fastEnd = lastNl >= start ? lastNl + 1 : start;
  const fast = fastEnd > start ? new FastScanner({ ncols, delim, quote, na, declared }) : null;
  let i = start, rows = 0, line = 1;
  while (fast && i < fastEnd && rows < maxRows) {
    // whole lines, at most FAST_CHUNK bytes (none when one line is longer: the general path takes it)
    let end = Math.min(fastEnd, i + FAST_CHUNK);
    if (end < fastEnd) end = view.lastIndexOf(NL, end - 1) + 1;
    if (end > i) {
      const r = fast.scan(view, i, end, maxRows - rows, kinds, settled);
      i += r.consumed; rows += r.rows; line += r.lines;
      if (i === end || rows >= maxRows) continue;
    }
    // not a plain line: the general path reads it from its start
    st.i = i; st.rows = rows; st.line = line;
    scanLine(buf, n, sampling, o, st);
    if (st.stop) return { rows: st.rows, kinds, blank: st.blank };
    i = st.i; rows = st.rows; line = st.line;
  }
  st.i = i; st.rows = rows; st.line = line;
  while (!st.stop && st.rows < maxRows) scanLine(buf, n, sampling, o, st);
  return { rows: st.rows, kinds, blank: st.blank };
}

/** The bytes without blank lines (rare path: polars would read them as rows of nulls). */
function dropBlankLines(buf: Uint8Array): Buffer {
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("latin1");
  return Buffer.from(text.replace(/^(?:\r?\n)+/, "").replace(/\n(?:\r?\n)+/g, "\n"), "latin1");
}

/** Parse one CSV line (the header) into fields, honouring quotes. */
export function parseCsvLine(line: string, delimiter = ",", quote = '"'): string[] {
  const out: string[] = [];
  let cur = "", inQ = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (inQ) {
      if (ch === quote) { if (line[i + 1] === quote) { cur += quote; i++; } else inQ = false; } else cur += ch;
    } else if (ch === quote && cur === "") inQ = true;
    else if (ch === delimiter) { out.push(cur); cur = ""; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Read the header line at the start of `bytes` (the first block of a file). */
export function readCsvHeader(bytes: Uint8Array, opts: { file?: string; delimiter?: string; quote?: string } = {}): { columns: string[]; end: number } {
  let end = 0;
  while (end < bytes.length && bytes[end] !== NL) end++;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString("utf8").replace(/\r$/, "").replace(/^\uFEFF/, "");
  const columns = parseCsvLine(text, opts.delimiter ?? ",", opts.quote ?? '"');
  if (text.length === 0 || new Set(columns).size !== columns.length) {
    throw new CsvParseError({ kind: CsvErrorKind.BadHeader, file: opts.file ?? "<bytes>", line: 1, lineInBlock: 1, byteOffset: 0,
      snippet: text.slice(0, 200), detail: text.length === 0 ? "empty header line" : "duplicate column names in header" });
  }
  return { columns, end: end < bytes.length ? end + 1 : end };
}

function prepare(bytes: Uint8Array, ctx: CsvPartitionContext, maxRows: number, maxBytes: number): { o: ScanOptions; start: number } {
  const delimiter = ctx.delimiter ?? ",";
  const quote = ctx.quote ?? '"';
  let columns: string[];
  let start = 0;
  const skip = ctx.skipHeader ?? ctx.header === null;
  if (skip) {
    const h = readCsvHeader(bytes, { file: ctx.file, delimiter, quote });
    start = h.end;
    columns = ctx.header ? [...ctx.header] : h.columns;
  } else if (ctx.header) {
    columns = [...ctx.header];
  } else {
    throw new RangeError("ctx.header must list the columns when ctx.skipHeader is false");
  }
  const declared = new Int8Array(columns.length).fill(-1);
  for (const [name, t] of Object.entries(ctx.dtypes ?? {})) {
    const idx = columns.indexOf(name);
    if (idx < 0 || t === undefined) continue;
    declared[idx] = KIND_OF[t];
  }
  const o: ScanOptions = {
    file: ctx.file,
    byteOffset: (ctx.byteOffset ?? 0) + start,
    startLine: ctx.startLine ?? (!ctx.byteOffset ? 1 : undefined),
    lineBase: skip ? 1 : 0,
    columns, declared,
    na: (ctx.naValues ?? ["NA", ""]).map((s) => Buffer.from(s, "utf8")),
    delim: byte(delimiter, "delimiter"), quote: byte(quote, "quote"),
    maxRows, maxBytes,
  };
  return { o, start };
}

/**
 * Validate a block and infer its schema without building a frame. With
 * `sample` limits this is the cheap metadata pass (e.g. the first ~1 MB);
 * without, it covers the whole block exactly.
 */
export function scanCsv(bytes: Uint8Array, ctx: CsvPartitionContext, sample: { maxRows?: number; maxBytes?: number } = {}): CsvScanResult {
  const { o, start } = prepare(bytes, ctx, sample.maxRows ?? Infinity, sample.maxBytes ?? Infinity);
  // The scan sees bytes relative to `start`; error offsets are relative to the data start.
  const data = bytes.subarray(start);
  const { rows, kinds, blank } = scanRows(data, 0, o);
  const schema: Schema = {};
  o.columns.forEach((c, i) => { schema[c] = KIND_NAMES[kinds[i]!]!; });
  return { rows, schema, dataStart: start, columns: o.columns, blankLines: blank };
}

/** The first value of a column that is not a number (see {@link firstNonNumber}). */
export interface NonNumber {
  /** The value (quotes removed, at most 60 bytes). */
  value: string;
  /** 1-based file line, when the block's first line is known (a block at byte 0). */
  line: number | undefined;
  /** 1-based line inside the block (the header line counts when the block starts with it). */
  lineInBlock: number;
  /** Some value before it in the column is a number (the column looks numeric). */
  numbersBefore: boolean;
}

/**
 * The first value of `column` that is not a number (missing values skipped),
 * or `null` when there is none. It scans the block as the reader does, with
 * that column taken as float64 and every other column as text, and stops at
 * that value: the cost is the bytes before it (a text column costs one row).
 * Used to say why a column that looks numeric was read as text.
 *
 * @example
 * ```ts
 * firstNonNumber(bytes, { file: "q.csv", header: null }, "Score"); // { value: "12x", line: 99992, numbersBefore: true, ... }
 * ```
 */
export function firstNonNumber(bytes: Uint8Array, ctx: CsvPartitionContext, column: string, sample: { maxRows?: number; maxBytes?: number } = {}): NonNumber | null {
  const { o, start } = prepare(bytes, { ...ctx, dtypes: {} }, sample.maxRows ?? Infinity, sample.maxBytes ?? Infinity);
  const idx = o.columns.indexOf(column);
  if (idx < 0) return null;
  o.declared.fill(K_STR);
  o.declared[idx] = K_FLOAT;
  const kinds = new Uint8Array(o.columns.length);
  try {
    scanRows(bytes.subarray(start), 0, o, kinds);
    return null;
  } catch (err) {
    // another kind of error cannot happen in a block that was read; it is not this function's to report
    if (!(err instanceof CsvParseError) || err.kind !== CsvErrorKind.BadValue || err.info.column !== idx + 1) return null;
    return { value: err.info.value ?? "", line: err.line, lineInBlock: err.info.lineInBlock, numbersBefore: kinds[idx] === K_FLOAT };
  }
}

/** Rows and bytes of the sample that readCsv infers a file's first schema from. */
export const SCHEMA_SAMPLE = { maxRows: 10_000, maxBytes: 1 << 20 } as const;

/**
 * Infer a schema from a generous sample of a block (default: 10,000 rows or
 * 1 MiB, whichever ends first), NA-aware: a column with NA and integers is a
 * nullable int64. Use {@link reconcileSchemas} across blocks.
 */
export function inferCsvSchema(bytes: Uint8Array, ctx: CsvPartitionContext, sample: { maxRows?: number; maxBytes?: number } = {}): Schema {
  return scanCsv(bytes, ctx, { maxRows: sample.maxRows ?? SCHEMA_SAMPLE.maxRows, maxBytes: sample.maxBytes ?? SCHEMA_SAMPLE.maxBytes }).schema;
}

/**
 * Parse one block of CSV bytes into a frame. Validates every row first
 * (field count, quoting, declared types) and infers untyped columns over the
 * whole block, so the result's types always fit its data; pass `widenTo` (a
 * reconciled schema) to get the same schema as the other partitions.
 *
 * @throws {CsvParseError} on a malformed row, naming file, line and column.
 * @example
 * ```ts
 * const df = readCsvPartition(bytes, { file: "questions.csv", header: null, naValues: ["NA"] });
 * ```
 */
export function readCsvPartition(bytes: Uint8Array, ctx: CsvPartitionContext): Frame {
  const scan = scanCsv(bytes, ctx);
  const types = scan.columns.map((c) => scan.schema[c]!);
  const data = bytes.subarray(scan.dataStart);
  // the engine refuses bad UTF-8 without saying where: find it first
  if (!isUtf8(data)) throw encodingError(data, ctx, scan);
  let df = engine().parseCsv(scan.blankLines > 0 ? dropBlankLines(data) : data, {
    columns: scan.columns,
    dtypes: types.map(toPolarsType),
    naValues: ctx.naValues ?? ["NA", ""],
    delimiter: ctx.delimiter ?? ",",
    quote: ctx.quote ?? '"',
  });
  if (df.height !== scan.rows) {
    throw new CsvParseError({ kind: CsvErrorKind.FieldCount, file: ctx.file, lineInBlock: 1, byteOffset: ctx.byteOffset ?? 0,
      snippet: "", detail: `engine parsed ${df.height} rows where validation counted ${scan.rows}` });
  }
  if (ctx.widenTo) df = castToSchema(df, ctx.widenTo as Schema);
  return df;
}

/** Byte index of the first byte in `buf` that does not belong to a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) { i++; continue; }
    let len: number, min: number;
    if (b >= 0xc2 && b <= 0xdf) { len = 2; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { len = 3; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { len = 4; min = 0x10000; }
    else return i;
    if (i + len > n) return i;
    let cp = b & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const c = buf[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return -1;
}

/** A {@link CsvParseError} naming file, line, column and character of the first byte that is not UTF-8. */
function encodingError(data: Uint8Array, ctx: CsvPartitionContext, scan: CsvScanResult): CsvParseError {
  const bad = Math.max(0, firstInvalidUtf8(data));
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const lineStart = bad > 0 ? view.lastIndexOf(NL, bad - 1) + 1 : 0;
  const lineInBlock = countNewlines(data, 0, lineStart) + 1 + (scan.dataStart > 0 ? 1 : 0);
  const startLine = ctx.startLine ?? (!ctx.byteOffset ? 1 : undefined);
  const col = fieldStarts(data, lineStart, bad + 1, byte(ctx.delimiter ?? ",", "delimiter"), byte(ctx.quote ?? '"', "quote")).length - 1;
  const byteOffset = (ctx.byteOffset ?? 0) + scan.dataStart;
  return new CsvParseError({
    kind: CsvErrorKind.BadEncoding, file: ctx.file, lineInBlock, byteOffset: byteOffset + lineStart,
    line: startLine !== undefined ? startLine + lineInBlock - 1 : undefined,
    column: col + 1, columnName: scan.columns[col], position: charPosition(data, lineStart, bad),
    snippet: lineSnippet(data, lineStart),
    detail: `invalid UTF-8: byte 0x${data[bad]!.toString(16).padStart(2, "0")} at byte ${byteOffset + bad} of the file`,
  });
}
