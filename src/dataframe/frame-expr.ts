/**
 * Column expressions of the distributed DataFrame: a small expression tree
 * built on the client as plain objects ({@link ExprNode}), shipped inside
 * task arguments and compiled to polars expressions on the workers
 * ({@link compileExpr}).
 *
 * @example
 * ```ts
 * import { col, lit } from "shoal";
 * df.filter(col("Score").gt(0).and(col("OwnerUserId").notNull()))
 *   .withColumns(col("Score").mul(2).alias("Double"), col("CreationDate").str.slice(0, 4).alias("Year"));
 * ```
 *
 * NA semantics: comparisons with a missing value give missing (polars/SQL);
 * `filter` drops rows whose predicate is missing (as pandas drops NaN
 * comparisons, which are false). `isNull` is true for null and, in float
 * columns, NaN (pandas `isna`).
 *
 * @module
 */
import pl from "nodejs-polars";
import { DataFrameArgumentError, ExpressionTypeError } from "./errors.ts";
import type { Frame } from "./engine.ts";
import { fromPolarsType, isCategorical, toPolarsType, type ColumnType } from "./schema.ts";

/** A literal value in an expression. */
export type LitValue = number | string | boolean | null;

/** Binary operators. */
export type BinaryOp = "add" | "sub" | "mul" | "div" | "mod" | "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "and" | "or";
/** Unary operators. */
export type UnaryOp = "not" | "isNull" | "notNull" | "abs" | "neg" | "isNan" | "round" | "floor" | "ceil";
/** String operations. */
export type StrOp = "lower" | "upper" | "len" | "contains" | "startsWith" | "endsWith" | "slice" | "strip" | "replace";
/** Date-time parts of a text date column (ISO 8601 text, as StackLite's `CreationDate`). */
export type DtOp = "year" | "month" | "day" | "hour" | "minute" | "second" | "weekday" | "date";

/** The serialisable expression tree. */
export type ExprNode =
  | { t: "col"; name: string }
  | { t: "lit"; value: LitValue }
  | { t: "bin"; op: BinaryOp; l: ExprNode; r: ExprNode }
  | { t: "un"; op: UnaryOp; e: ExprNode }
  | { t: "fillNull"; e: ExprNode; v: ExprNode }
  | { t: "cast"; e: ExprNode; to: ColumnType; strict?: false }
  | { t: "alias"; e: ExprNode; name: string }
  | { t: "str"; op: StrOp; e: ExprNode; args: LitValue[] }
  | { t: "dt"; op: DtOp; e: ExprNode; format: string | null }
  | { t: "isIn"; e: ExprNode; values: LitValue[] }
  | { t: "when"; cond: ExprNode; then: ExprNode; otherwise: ExprNode };

type ExprLike = Expr | LitValue;

function node(x: ExprLike): ExprNode {
  return x instanceof Expr ? x.node : { t: "lit", value: x };
}

/** String operations of an {@link Expr} (`col("Tag").str.startsWith("java")`). */
export class StrNamespace {
  constructor(private readonly e: Expr) {}
  private op(op: StrOp, ...args: LitValue[]): Expr { return new Expr({ t: "str", op, e: this.e.node, args }); }
  lower(): Expr { return this.op("lower"); }
  upper(): Expr { return this.op("upper"); }
  /** Length in characters. */
  len(): Expr { return this.op("len"); }
  /** Contains a literal substring (`regex: true` for a regular expression). */
  contains(pattern: string, opts: { regex?: boolean } = {}): Expr { return this.op("contains", pattern, opts.regex ?? false); }
  startsWith(prefix: string): Expr { return this.op("startsWith", prefix); }
  endsWith(suffix: string): Expr { return this.op("endsWith", suffix); }
  /** Characters `[start, start + length)` (to the end without length). */
  slice(start: number, length?: number): Expr { return this.op("slice", start, length ?? null); }
  /** Strip leading and trailing whitespace. */
  strip(): Expr { return this.op("strip"); }
  /** Replace every literal occurrence of `from` with `to`. */
  replace(from: string, to: string): Expr { return this.op("replace", from, to); }
}

/** Date-time parts of a text column holding ISO 8601 dates (`col("CreationDate").dt.year()`). */
export class DtNamespace {
  constructor(private readonly e: Expr, private readonly format: string | null = null) {}
  private op(op: DtOp): Expr { return new Expr({ t: "dt", op, e: this.e.node, format: this.format }); }
  year(): Expr { return this.op("year"); }
  month(): Expr { return this.op("month"); }
  day(): Expr { return this.op("day"); }
  hour(): Expr { return this.op("hour"); }
  minute(): Expr { return this.op("minute"); }
  second(): Expr { return this.op("second"); }
  /** ISO weekday, Monday = 1. */
  weekday(): Expr { return this.op("weekday"); }
  /** The date part as `YYYY-MM-DD` text. */
  date(): Expr { return this.op("date"); }
}

/**
 * A column expression. Immutable: every method returns a new expression.
 *
 * @example
 * ```ts
 * col("Score").add(1).gt(col("AnswerCount")).alias("flag")
 * ```
 */
export class Expr {
  constructor(readonly node: ExprNode) {}
  private bin(op: BinaryOp, other: ExprLike): Expr { return new Expr({ t: "bin", op, l: this.node, r: node(other) }); }
  private un(op: UnaryOp): Expr { return new Expr({ t: "un", op, e: this.node }); }
  add(o: ExprLike): Expr { return this.bin("add", o); }
  sub(o: ExprLike): Expr { return this.bin("sub", o); }
  mul(o: ExprLike): Expr { return this.bin("mul", o); }
  /** True division (always float). */
  div(o: ExprLike): Expr { return this.bin("div", o); }
  mod(o: ExprLike): Expr { return this.bin("mod", o); }
  eq(o: ExprLike): Expr { return this.bin("eq", o); }
  neq(o: ExprLike): Expr { return this.bin("neq", o); }
  gt(o: ExprLike): Expr { return this.bin("gt", o); }
  gte(o: ExprLike): Expr { return this.bin("gte", o); }
  lt(o: ExprLike): Expr { return this.bin("lt", o); }
  lte(o: ExprLike): Expr { return this.bin("lte", o); }
  and(o: ExprLike): Expr { return this.bin("and", o); }
  or(o: ExprLike): Expr { return this.bin("or", o); }
  not(): Expr { return this.un("not"); }
  /** Null, or NaN in a float column (pandas `isna`). */
  isNull(): Expr { return this.un("isNull"); }
  notNull(): Expr { return this.un("notNull"); }
  isNan(): Expr { return this.un("isNan"); }
  abs(): Expr { return this.un("abs"); }
  neg(): Expr { return this.un("neg"); }
  round(): Expr { return this.un("round"); }
  floor(): Expr { return this.un("floor"); }
  ceil(): Expr { return this.un("ceil"); }
  /** Replace missing values (null, and NaN in float columns). */
  fillNull(value: ExprLike): Expr { return new Expr({ t: "fillNull", e: this.node, v: node(value) }); }
  /**
   * Converts to another type. Strict by default, as pandas' `astype` and
   * polars' `cast`: a value that does not convert (text "abc" to int64, NaN
   * to int64) raises an {@link ExpressionTypeError} naming the column, the
   * first bad value and its row; `{ strict: false }` makes such values null.
   */
  cast(to: ColumnType, opts: { strict?: boolean } = {}): Expr {
    return new Expr(opts.strict === false ? { t: "cast", e: this.node, to, strict: false } : { t: "cast", e: this.node, to });
  }
  alias(name: string): Expr { return new Expr({ t: "alias", e: this.node, name }); }
  isIn(values: readonly LitValue[]): Expr { return new Expr({ t: "isIn", e: this.node, values: [...values] }); }
  get str(): StrNamespace { return new StrNamespace(this); }
  /** Date parts of ISO 8601 text (default format: inferred). */
  get dt(): DtNamespace { return new DtNamespace(this); }
  /** Date parts with an explicit `strptime` format, e.g. `"%Y-%m-%dT%H:%M:%SZ"`. */
  dtFormat(format: string): DtNamespace { return new DtNamespace(this, format); }
  /** The output name of this expression (the alias, or the first column it reads). */
  outputName(): string { return outputName(this.node); }
}

/** A column reference. */
export function col(name: string): Expr {
  if (typeof name !== "string" || name === "") throw new DataFrameArgumentError("col: name must be a non-empty string");
  return new Expr({ t: "col", name });
}

/** A literal. */
export function lit(value: LitValue): Expr {
  return new Expr({ t: "lit", value });
}

/** `when(cond).then(a).otherwise(b)`. */
export function when(cond: Expr): { then(v: ExprLike): { otherwise(v: ExprLike): Expr } } {
  return { then: (a) => ({ otherwise: (b) => new Expr({ t: "when", cond: cond.node, then: node(a), otherwise: node(b) }) }) };
}

/** Output column name of an expression node. */
export function outputName(n: ExprNode): string {
  switch (n.t) {
    case "col": return n.name;
    case "alias": return n.name;
    case "lit": return "literal";
    case "bin": return outputName(n.l);
    case "when": return outputName(n.then);
    default: return outputName(n.e);
  }
}

/** Accepts a column name or an expression. */
export type ColumnOrExpr = string | Expr;

/** Normalise a column name or expression to a node. */
export function toNode(x: ColumnOrExpr): ExprNode {
  return typeof x === "string" ? { t: "col", name: x } : x.node;
}

function isFloatCol(n: ExprNode, df: Frame | undefined): boolean {
  if (n.t !== "col" || df === undefined || !df.columns.includes(n.name)) return false;
  return fromPolarsType(df.getColumn(n.name).dtype) === "float64";
}

function litExpr(v: LitValue): pl.Expr {
  return pl.lit(v);
}

/** Compile a node to a polars expression (on a worker, with the partition for column types). */
export function compileExpr(n: ExprNode, df?: Frame): pl.Expr {
  switch (n.t) {
    case "col":
      if (df !== undefined && !df.columns.includes(n.name)) {
        throw new DataFrameArgumentError(`no column '${n.name}' (columns: ${df.columns.join(", ")})`);
      }
      return pl.col(n.name);
    case "lit": return litExpr(n.value);
    case "alias": return compileExpr(n.e, df).alias(n.name);
    case "cast": {
      const inner = compileExpr(n.e, df);
      const to = toPolarsType(n.to);
      if (df !== undefined && n.strict !== false) checkCast(n, inner, to, df);
      return inner.cast(to);
    }
    case "fillNull": {
      const e = compileExpr(n.e, df);
      return (isFloatCol(n.e, df) ? e.fillNan(null) : e).fillNull(compileExpr(n.v, df));
    }
    case "isIn": return compileExpr(n.e, df).isIn(pl.Series(n.values as unknown[]).implode()).fillNull(false);
    case "when": return pl.when(compileExpr(n.cond, df)).then(compileExpr(n.then, df)).otherwise(compileExpr(n.otherwise, df));
    case "bin": {
      const l = compileExpr(n.l, df), r = compileExpr(n.r, df);
      if (df !== undefined && NUMERIC_BINARY.has(n.op)) checkOperands(n, l, r, df);
      return compileBinary(n.op, l, r);
    }
    case "un": {
      const e = compileExpr(n.e, df);
      if (df !== undefined && NUMERIC_UNARY.has(n.op)) checkNumericInput(n.op, n.e, e, df);
      return compileUnary(n.op, e, isFloatCol(n.e, df));
    }
    // text stored as categorical ("category" dtype) is text to string operations
    case "str": return compileStr(n.op, textInput(`str.${n.op}`, n.e, df), n.args);
    case "dt": return compileDt(n.op, textInput(`dt.${n.op}`, n.e, df), n.format);
  }
}

/** Operators that need numbers (or two values of one kind), not text and a number. */
const NUMERIC_BINARY: ReadonlySet<BinaryOp> = new Set(["add", "sub", "mul", "div", "mod", "eq", "neq", "gt", "gte", "lt", "lte"]);
const NUMERIC_UNARY: ReadonlySet<UnaryOp> = new Set(["abs", "neg", "round", "floor", "ceil", "isNan"]);

/** Logical type of an expression over a partition: columns and literals without evaluating anything. */
function kindOf(n: ExprNode, e: pl.Expr, df: Frame): ColumnType {
  if (n.t === "col") {
    const i = df.columns.indexOf(n.name);
    if (i >= 0) return fromPolarsType(df.dtypes[i]!);
  }
  if (n.t === "lit") {
    const v = n.value;
    return v === null ? "null" : typeof v === "string" ? "utf8" : typeof v === "boolean" ? "bool" : Number.isInteger(v) ? "int64" : "float64";
  }
  if (n.t === "cast") return n.to;
  return fromPolarsType(dtypeOf(e, df));
}

const isNumber = (t: ColumnType): boolean => t === "int64" || t === "float64";

/**
 * Text and a number in one arithmetic operation or comparison is a type
 * error naming the text column (polars: "cannot compare string with
 * numeric type"), which then says why the column is text when it knows
 * (see text-notes.ts).
 */
function checkOperands(n: Extract<ExprNode, { t: "bin" }>, l: pl.Expr, r: pl.Expr, df: Frame): void {
  const tl = kindOf(n.l, l, df), tr = kindOf(n.r, r, df);
  const textSide = tl === "utf8" && isNumber(tr) ? n.l : tr === "utf8" && isNumber(tl) ? n.r : null;
  if (textSide === null) return;
  const other = textSide === n.l ? tr : tl;
  const name = outputName(textSide);
  if (textSide.t === "lit") {
    const num = outputName(textSide === n.l ? n.r : n.l);
    throw new ExpressionTypeError(`${n.op} needs two numbers, but it compares or combines '${num}' (${other}) with the text ${JSON.stringify(textSide.value)}; use a number`,
      num, { from: other, to: "utf8", op: n.op });
  }
  throw new ExpressionTypeError(`${n.op} needs numbers, but '${name}' is utf8 (text) and the other side is ${other}; convert it first with col(${JSON.stringify(name)}).cast("float64")`,
    name, { from: "utf8", to: other, op: n.op });
}

function checkNumericInput(op: UnaryOp, n: ExprNode, e: pl.Expr, df: Frame): void {
  if (kindOf(n, e, df) !== "utf8") return;
  const name = outputName(n);
  throw new ExpressionTypeError(`${op} needs numbers, but '${name}' is utf8 (text); convert it first with col(${JSON.stringify(name)}).cast("float64")`,
    name, { from: "utf8", to: "numeric", op });
}

/** The polars dtype of an expression over a partition (evaluated on none of its rows). */
function dtypeOf(e: pl.Expr, df: Frame): pl.DataType {
  return df.head(0).select(e.alias("__dtype")).getColumn("__dtype").dtype;
}

function typeLabel(dt: pl.DataType): string {
  return isCategorical(dt) ? "utf8 (categorical)" : fromPolarsType(dt);
}

/**
 * The input of a string or date-text operation: text, or text stored as
 * categorical. Any other type is a mistake (pandas: "Can only use .str
 * accessor with string values"), not something to turn into text silently.
 */
function textInput(what: string, n: ExprNode, df: Frame | undefined): pl.Expr {
  const e = compileExpr(n, df);
  if (df !== undefined) {
    const dt = dtypeOf(e, df);
    const t = fromPolarsType(dt);
    if (t !== "utf8" && t !== "null") {
      const name = outputName(n);
      throw new ExpressionTypeError(`${what} needs a text column, but '${name}' is ${t}; convert it first with col("${name}").cast("utf8")`, name, { from: t, to: "utf8" });
    }
  }
  return e.cast(pl.Utf8);
}

/**
 * A strict cast: finds the first value that the cast would turn into null.
 * Widening casts (to text, integer to float) cannot fail and are not checked.
 */
function checkCast(n: Extract<ExprNode, { t: "cast" }>, inner: pl.Expr, to: pl.DataType, df: Frame): void {
  const from = dtypeOf(inner, df);
  const f = fromPolarsType(from);
  if (n.to === "utf8" || n.to === "null" || f === "null" || (f === n.to && !isCategorical(from)) || ((f === "int64" || f === "bool") && (n.to === "float64" || n.to === "int64"))) return;
  const both = df.select(inner.alias("v"), inner.cast(to).alias("c"));
  const indexed = (both as unknown as { withRowCount(name: string): Frame }).withRowCount("__row");
  const bad = indexed.filter(pl.col("v").isNotNull().and(pl.col("c").isNull()).and(f === "float64" ? pl.col("v").isNan().not() : pl.lit(true)));
  const nanBad = f === "float64" && n.to !== "float64" ? indexed.filter(pl.col("v").isNan()) : null;
  const hit = bad.height > 0 ? bad : nanBad !== null && nanBad.height > 0 ? nanBad : null;
  if (hit === null) return;
  const first = hit.head(1).toRecords()[0] as { __row: number; v: unknown };
  const name = outputName(n.e);
  throw new ExpressionTypeError(
    `cannot cast column '${name}' from ${typeLabel(from)} to ${n.to}: ${JSON.stringify(first.v)} at row ${first.__row} of its partition ` +
      `(${hit.height} of ${df.height} values there do not convert); fix the data, or use .cast("${n.to}", { strict: false }) to get null for them`,
    name,
    { from: typeLabel(from), to: n.to, value: first.v, row: first.__row, count: hit.height },
  );
}

function compileBinary(op: BinaryOp, l: pl.Expr, r: pl.Expr): pl.Expr {
  switch (op) {
    case "add": return l.add(r);
    case "sub": return l.sub(r);
    case "mul": return l.mul(r);
    case "div": return l.cast(pl.Float64).div(r.cast(pl.Float64));
    case "mod": return l.modulo(r);
    case "eq": return l.eq(r);
    case "neq": return l.neq(r);
    case "gt": return l.gt(r);
    case "gte": return l.gtEq(r);
    case "lt": return l.lt(r);
    case "lte": return l.ltEq(r);
    case "and": return l.and(r);
    case "or": return l.or(r);
  }
}

function compileUnary(op: UnaryOp, e: pl.Expr, float: boolean): pl.Expr {
  switch (op) {
    case "not": return e.not();
    case "isNull": return float ? e.isNull().or(e.isNan().fillNull(false)) : e.isNull();
    case "notNull": return float ? e.isNotNull().and(e.isNan().not().fillNull(true)) : e.isNotNull();
    case "isNan": return e.isNan();
    case "abs": return e.abs();
    case "neg": return pl.lit(0).sub(e);
    case "round": return e.round(0);
    case "floor": return e.floor();
    case "ceil": return e.ceil();
  }
}

function compileStr(op: StrOp, e: pl.Expr, args: LitValue[]): pl.Expr {
  const s = e.str;
  switch (op) {
    case "lower": return s.toLowerCase();
    case "upper": return s.toUpperCase();
    case "len": return s.lengths().cast(pl.Int64);
    case "contains": return s.contains(String(args[0]), !args[1]);
    case "startsWith": return s.startsWith(String(args[0]));
    case "endsWith": return s.endsWith(String(args[0]));
    case "slice": return s.slice(Number(args[0]), args[1] === null || args[1] === undefined ? undefined as never : Number(args[1]));
    case "strip": return s.strip();
    case "replace": return s.replaceAll(String(args[0]), String(args[1]), true as never);
  }
}

function compileDt(op: DtOp, e: pl.Expr, format: string | null): pl.Expr {
  if (format === null) {
    // ISO 8601 text (YYYY-MM-DD[THH:MM:SS...]): fixed positions, no format inference
    const part = (start: number, len: number): pl.Expr => e.str.slice(start, len).cast(pl.Int64);
    switch (op) {
      case "year": return part(0, 4);
      case "month": return part(5, 2);
      case "day": return part(8, 2);
      case "hour": return part(11, 2);
      case "minute": return part(14, 2);
      case "second": return part(17, 2);
      case "date": return e.str.slice(0, 10);
      case "weekday": return e.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d").date.weekday().cast(pl.Int64);
    }
  }
  const d = e.str.strptime(pl.Datetime("ms"), format);
  switch (op) {
    case "year": return d.date.year().cast(pl.Int64);
    case "month": return d.date.month().cast(pl.Int64);
    case "day": return d.date.day().cast(pl.Int64);
    case "hour": return d.date.hour().cast(pl.Int64);
    case "minute": return d.date.minute().cast(pl.Int64);
    case "second": return d.date.second().cast(pl.Int64);
    case "weekday": return d.date.weekday().cast(pl.Int64);
    case "date": return d.date.strftime("%Y-%m-%d");
  }
}
