/**
 * Scalar functions and operators of the S3 Select evaluator, on
 * {@link Value}s: arithmetic, LIKE patterns, string and date functions.
 */
import { SelectError } from "./errors.ts";
import { dateAdd, dateDiff, type DatePart, extract, formatTimestamp, Timestamp } from "./timestamp.ts";
import { castBool, castFloat, castInt, castString, isAbsent, MISSING, toNumeric, toText, typeName, type Value } from "./values.ts";
import type { CastType } from "./ast.ts";

/** CAST(v AS type). */
export function cast(v: Value, type: CastType): Value {
  switch (type) {
    case "int":
      return castInt(v);
    case "float":
      return castFloat(v);
    case "string":
      return castString(v);
    case "bool":
      return castBool(v);
    case "timestamp":
      return toTimestamp(v);
  }
}

/** TO_TIMESTAMP(v) / CAST(v AS TIMESTAMP). */
export function toTimestamp(v: Value): Value {
  if (isAbsent(v) || v instanceof Timestamp) return v;
  if (typeof v === "string") {
    const t = Timestamp.parse(v);
    if (t === undefined) throw new SelectError("CastFailed", `cannot read '${v.slice(0, 40)}' as a TIMESTAMP`);
    return t;
  }
  throw new SelectError("InvalidCast", `cannot cast ${typeName(v)} to TIMESTAMP`);
}

function numeric(v: Value, op: string): bigint | number {
  const n = toNumeric(v);
  if (n === undefined) throw new SelectError("InvalidDataType", `operator ${op} needs numbers, not ${typeName(v)}${typeof v === "string" ? ` '${v.slice(0, 40)}'` : ""}`);
  return n;
}

/** Arithmetic `+ - * / %` with INT staying INT (integer division) and FLOAT otherwise. */
export function arithmetic(op: "+" | "-" | "*" | "/" | "%", a: Value, b: Value): Value {
  if (isAbsent(a) || isAbsent(b)) return null;
  if (a instanceof Timestamp || b instanceof Timestamp) throw new SelectError("InvalidDataType", `operator ${op} does not take TIMESTAMP; use DATE_ADD or DATE_DIFF`);
  const x = numeric(a, op);
  const y = numeric(b, op);
  if (typeof x === "bigint" && typeof y === "bigint") {
    switch (op) {
      case "+":
        return x + y;
      case "-":
        return x - y;
      case "*":
        return x * y;
      case "/":
        if (y === 0n) throw new SelectError("DivisionByZero", "division by zero");
        return x / y;
      case "%":
        if (y === 0n) throw new SelectError("DivisionByZero", "division by zero");
        return x % y;
    }
  }
  const fx = Number(x);
  const fy = Number(y);
  switch (op) {
    case "+":
      return fx + fy;
    case "-":
      return fx - fy;
    case "*":
      return fx * fy;
    case "/":
      if (fy === 0) throw new SelectError("DivisionByZero", "division by zero");
      return fx / fy;
    case "%":
      if (fy === 0) throw new SelectError("DivisionByZero", "division by zero");
      return fx % fy;
  }
}

/** Unary minus. */
export function negate(v: Value): Value {
  if (isAbsent(v)) return null;
  const n = numeric(v, "-");
  return -n;
}

/** A value as three-valued logic: true, false or null. */
export function truth(v: Value): boolean | null {
  if (v === true || v === false) return v;
  if (isAbsent(v)) return null;
  const b = castBool(v);
  return b === true || b === false ? b : null;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/**
 * A LIKE pattern as a RegExp: `%` any run, `_` one character, `[a-z]`
 * and `[^…]` character classes (Ceph's and SQL Server's extension), and an
 * optional ESCAPE character that makes the next character literal.
 */
export function likeRegExp(pattern: string, escape: string | undefined): RegExp {
  if (escape !== undefined && [...escape].length !== 1) throw new SelectError("EvaluatorInvalidArguments", "the ESCAPE argument of LIKE must be one character");
  let re = "^";
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (escape !== undefined && c === escape && i + 1 < chars.length) {
      re += chars[++i]!.replace(REGEX_SPECIAL, "\\$&");
    } else if (c === "%") re += "[\\s\\S]*";
    else if (c === "_") re += "[\\s\\S]";
    else if (c === "[") {
      const end = chars.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = chars.slice(i + 1, end).join("");
        const neg = body.startsWith("^") || body.startsWith("!");
        if (neg) body = body.slice(1);
        re += `[${neg ? "^" : ""}${body.replace(/[\]\\]/g, "\\$&")}]`;
        i = end;
      }
    } else re += c.replace(REGEX_SPECIAL, "\\$&");
  }
  return new RegExp(`${re}$`, "u");
}

/** SUBSTRING(s, start [, length]) with SQL's 1-based positions (start below 1 shortens the length). */
export function substring(s: Value, start: Value, length: Value | undefined): Value {
  if (isAbsent(s) || isAbsent(start) || (length !== undefined && isAbsent(length))) return null;
  const text = toText(s);
  const from = Number(numeric(start, "SUBSTRING"));
  const cps = [...text];
  if (length === undefined) return cps.slice(Math.max(0, from - 1)).join("");
  const len = Number(numeric(length, "SUBSTRING"));
  if (len < 0) throw new SelectError("EvaluatorInvalidArguments", "SUBSTRING length must not be negative");
  const end = from + len; // exclusive, 1-based
  return cps.slice(Math.max(0, from - 1), Math.max(0, end - 1)).join("");
}

/** TRIM([BOTH|LEADING|TRAILING] [chars] FROM s); chars default to a space. */
export function trim(s: Value, spec: "both" | "leading" | "trailing", chars: Value | undefined): Value {
  if (isAbsent(s) || (chars !== undefined && isAbsent(chars))) return null;
  const text = toText(s);
  const set = new Set(chars === undefined ? [" "] : [...toText(chars)]);
  const cps = [...text];
  let a = 0;
  let b = cps.length;
  if (spec !== "trailing") while (a < b && set.has(cps[a]!)) a++;
  if (spec !== "leading") while (b > a && set.has(cps[b - 1]!)) b--;
  return cps.slice(a, b).join("");
}

function timestampArg(v: Value, fn: string): Timestamp {
  if (v instanceof Timestamp) return v;
  if (typeof v === "string") {
    const t = Timestamp.parse(v);
    if (t !== undefined) return t;
  }
  throw new SelectError("IncorrectSqlFunctionArgumentType", `${fn} needs a TIMESTAMP, not ${typeName(v)}`);
}

/** Scalar functions by lower-case name: [min args, max args, implementation]. `now` is the query's UTCNOW(). */
export const SCALAR_FUNCTIONS: Record<string, [number, number, (args: Value[], now: Timestamp) => Value]> = {
  lower: [1, 1, ([s]) => (isAbsent(s!) ? null : toText(s!).toLowerCase())],
  upper: [1, 1, ([s]) => (isAbsent(s!) ? null : toText(s!).toUpperCase())],
  char_length: [1, 1, ([s]) => (isAbsent(s!) ? null : BigInt([...toText(s!)].length))],
  character_length: [1, 1, ([s]) => (isAbsent(s!) ? null : BigInt([...toText(s!)].length))],
  substring: [2, 3, ([s, a, b]) => substring(s!, a!, b)],
  coalesce: [1, Infinity, (args) => args.find((v) => !isAbsent(v)) ?? null],
  nullif: [2, 2, ([a, b]) => {
    if (isAbsent(a!)) return null;
    if (isAbsent(b!)) return a!;
    const e = a === b || (typeof a === typeof b && toText(a!) === toText(b!)) || (toNumeric(a!) !== undefined && toNumeric(a!) == toNumeric(b!)); // eslint-disable-line eqeqeq
    return e ? null : a!;
  }],
  to_timestamp: [1, 1, ([s]) => toTimestamp(s!)],
  to_string: [2, 2, ([t, p]) => (isAbsent(t!) ? null : formatTimestamp(timestampArg(t!, "TO_STRING"), toText(p!)))],
  utcnow: [0, 0, (_a, now) => now],
  extract: [2, 2, ([p, t]) => (isAbsent(t!) ? null : extract(p as DatePart, timestampArg(t!, "EXTRACT")))],
  date_add: [3, 3, ([p, n, t]) => {
    if (isAbsent(n!) || isAbsent(t!)) return null;
    const k = toNumeric(n!);
    if (k === undefined) throw new SelectError("IncorrectSqlFunctionArgumentType", `DATE_ADD needs a number, not ${typeName(n!)}`);
    return dateAdd(p as DatePart, Number(k), timestampArg(t!, "DATE_ADD"));
  }],
  date_diff: [3, 3, ([p, a, b]) => (isAbsent(a!) || isAbsent(b!) ? null : dateDiff(p as DatePart, timestampArg(a!, "DATE_DIFF"), timestampArg(b!, "DATE_DIFF")))],
  abs: [1, 1, ([v]) => {
    if (isAbsent(v!)) return null;
    const n = numeric(v!, "ABS");
    return n < 0 ? -n : n;
  }],
  // Ceph RGW's cast functions
  int: [1, 1, ([v]) => castInt(v!)],
  float: [1, 1, ([v]) => castFloat(v!)],
  string: [1, 1, ([v]) => castString(v!)],
};

/** Aggregate function names. */
export const AGGREGATES = new Set(["count", "sum", "avg", "min", "max"]);

export { MISSING };
