/**
 * Why a column is text: notes that the CSV reader records at read time for a
 * column that looks numeric but was read as text because of some value (a
 * `12x` or `n/a` deep in the file), and that a numeric operation failing on
 * that column then adds to its {@link ExpressionTypeError}.
 *
 * Notes ride along with the frames of one task (a WeakMap keyed by frame,
 * carried through the row-wise operations), so nothing is added to the
 * frames' data or to the schema. Where no note was recorded (a frame that
 * crossed a shuffle, or a column whose first value is already not a number)
 * the error says instead how many of the partition's values are numbers and
 * which one is not, computed from the data only when the error happens.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { ExpressionTypeError, type TextColumnNote } from "./errors.ts";
import { fromPolarsType } from "./schema.ts";

/** Notes by column name. */
export type TextNotes = Readonly<Record<string, TextColumnNote>>;

const notesByFrame = new WeakMap<Frame, TextNotes>();

/** Record the notes of a frame (none: nothing recorded). Returns the frame. */
export function attachTextNotes(df: Frame, notes: TextNotes | undefined): Frame {
  if (notes !== undefined && Object.keys(notes).length > 0) notesByFrame.set(df, notes);
  return df;
}

/** The notes recorded for a frame. */
export function textNotesOf(df: Frame): TextNotes | undefined {
  return notesByFrame.get(df);
}

const isText = (t: string | undefined): boolean => t !== undefined && t.startsWith("utf8");
const isNumeric = (t: string | undefined): boolean => t === "int64" || t === "float64" || t === "numeric";

/** Where a note's value is: `file:line`, or the block line and offset when the file line is not known. */
export function noteWhere(n: TextColumnNote): string {
  return n.line !== undefined ? `${n.file}:${n.line}` : `${n.file} (line ${n.lineInBlock} of the block at byte ${n.blockStart})`;
}

function fixes(column: string, value: string): string {
  return `to read it as numbers, add ${JSON.stringify(value)} to readCsv's naValues (it is then missing), ` +
    `or declare dtypes: { ${JSON.stringify(column)}: "float64" } (a value that is not a number then fails the read, naming its line), ` +
    `or convert it: col(${JSON.stringify(column)}).cast("float64", { strict: false }) (values that are not numbers become null)`;
}

/**
 * The error with a note on why its column is text, when it is an
 * {@link ExpressionTypeError} of a numeric operation on a text column: the
 * read-time note for the column (`notes`, default: those of `df`), else,
 * when `df` has the column and some of its values are numbers, how many and
 * the first that is not. Any other error is returned as it is.
 */
export function explainTextColumn(err: unknown, df?: Frame, notes: TextNotes | undefined = df ? textNotesOf(df) : undefined): unknown {
  if (!(err instanceof ExpressionTypeError) || err.info.readAsText !== undefined || err.info.numbers !== undefined) return err;
  if (!isText(err.info.from) || !isNumeric(err.info.to)) return err;
  const c = err.column;
  const note = notes?.[c];
  if (note !== undefined) {
    return err.explained(`'${c}' was read as text because of the value ${JSON.stringify(note.value)} at ${noteWhere(note)}, ` +
      `the first value in it that is not a number; ${fixes(c, note.value)}`, { readAsText: note });
  }
  if (df === undefined || !df.columns.includes(c) || df.height === 0) return err;
  try {
    const idx = df.columns.indexOf(c);
    if (fromPolarsType(df.dtypes[idx]!) !== "utf8") return err;
    const both = df.select(pl.col(c).cast(pl.Utf8).alias("v"), pl.col(c).cast(pl.Utf8).cast(pl.Float64, false).alias("x"));
    const values = both.height - both.getColumn("v").nullCount();
    const numeric = both.height - both.getColumn("x").nullCount();
    if (numeric === 0) return err;
    const indexed = (both as unknown as { withRowCount(name: string): Frame }).withRowCount("__row");
    const bad = indexed.filter(pl.col("v").isNotNull().and(pl.col("x").isNull())).head(1).toRecords()[0] as { v: string; __row: number } | undefined;
    if (bad === undefined) return err;
    const row = Number(bad.__row);
    return err.explained(`${numeric} of the ${values} values of '${c}' in this partition are numbers; the first that is not is ` +
      `${JSON.stringify(bad.v)} (row ${row} of the partition), which makes the column text; ${fixes(c, bad.v)}`,
      { numbers: { numeric, values, first: bad.v, row } });
  } catch {
    return err;
  }
}

/**
 * Throws an {@link ExpressionTypeError} for operation `op` (`sum`,
 * `groupBy.mean`, ...) when column `col` of `df` is text (and not only
 * missing values), explained by {@link explainTextColumn}. A column that is
 * absent is left to the caller's own check.
 */
export function requireNumericColumn(df: Frame, col: string, op: string): void {
  const idx = df.columns.indexOf(col);
  if (idx < 0) return;
  if (fromPolarsType(df.dtypes[idx]!) !== "utf8") return;
  if (df.height > 0 && df.getColumn(col).nullCount() === df.height) return; // a null-only column is stored as text
  throw explainTextColumn(new ExpressionTypeError(
    `${op} needs a numeric column, but '${col}' is utf8 (text); convert it first with col(${JSON.stringify(col)}).cast("float64")`,
    col, { from: "utf8", to: "numeric", op }), df);
}
