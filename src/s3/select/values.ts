/**
 * The value model of the S3 Select evaluator.
 *
 * | SQL type | JS representation |
 * |---|---|
 * | MISSING | the {@link MISSING} symbol (a path or column that is absent) |
 * | NULL | `null` |
 * | BOOL | `boolean` |
 * | INT | `bigint` (exact; `7 / 2` is `3`) |
 * | FLOAT / DECIMAL | `number` |
 * | STRING | `string` (every CSV field, until CAST) |
 * | TIMESTAMP | {@link Timestamp} |
 * | struct / list (JSON) | plain objects and arrays, as `JSON.parse` made them |
 */
import { SelectError } from "./errors.ts";
import { Timestamp } from "./timestamp.ts";

/** The absent value (a JSON key that is not there, a CSV column past the end). */
export const MISSING: unique symbol = Symbol("MISSING");

/** Any value the evaluator handles. */
export type Value = typeof MISSING | null | boolean | bigint | number | string | Timestamp | Record<string, unknown> | unknown[];

/** NULL or MISSING. */
export function isAbsent(v: Value): v is null | typeof MISSING {
  return v === null || v === MISSING;
}

/** The SQL type name of a value, for error messages. */
export function typeName(v: Value): string {
  if (v === MISSING) return "MISSING";
  if (v === null) return "NULL";
  switch (typeof v) {
    case "boolean":
      return "BOOL";
    case "bigint":
      return "INT";
    case "number":
      return "FLOAT";
    case "string":
      return "STRING";
    default:
      if (v instanceof Timestamp) return "TIMESTAMP";
      return Array.isArray(v) ? "LIST" : "STRUCT";
  }
}

const INT_RE = /^\s*[+-]?\d+\s*$/;
const NUM_RE = /^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)\s*$/;

/** A JSON value as the evaluator sees it: integral numbers become INT. */
export function fromJson(v: unknown): Value {
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (v === undefined) return MISSING;
  return v as Value;
}

/** A string that spells a number as INT or FLOAT, else undefined. */
/** Digits with an optional sign, short enough to be exact as a double: the common CSV case, without a regex. */
function plainInt(s: string): bigint | undefined {
  const n = s.length;
  if (n === 0 || n > 15) return undefined;
  let i = 0;
  const c0 = s.charCodeAt(0);
  if (c0 === 45 || c0 === 43) {
    if (n === 1) return undefined;
    i = 1;
  }
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return BigInt(Number(s));
}

export function parseNumber(s: string): bigint | number | undefined {
  const fast = plainInt(s);
  if (fast !== undefined) return fast;
  if (INT_RE.test(s)) return BigInt(s.trim());
  if (NUM_RE.test(s)) return Number(s);
  return undefined;
}

/** Numeric view of a value for arithmetic and comparison (strings that spell numbers count). */
export function toNumeric(v: Value): bigint | number | undefined {
  if (typeof v === "bigint" || typeof v === "number") return v;
  if (typeof v === "string") return parseNumber(v);
  if (typeof v === "boolean") return v ? 1n : 0n;
  return undefined;
}

/** CAST(v AS INT). */
export function castInt(v: Value): Value {
  if (isAbsent(v)) return v;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new SelectError("CastFailed", `cannot cast ${v} to INT`);
    return BigInt(Math.trunc(v));
  }
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string") {
    const n = parseNumber(v);
    if (n === undefined) throw new SelectError("CastFailed", `cannot cast '${v.length > 40 ? `${v.slice(0, 40)}…` : v}' to INT`);
    return typeof n === "bigint" ? n : castInt(n);
  }
  throw new SelectError("InvalidCast", `cannot cast ${typeName(v)} to INT`);
}

/** CAST(v AS FLOAT). */
export function castFloat(v: Value): Value {
  if (isAbsent(v)) return v;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const n = parseNumber(v);
    if (n === undefined) throw new SelectError("CastFailed", `cannot cast '${v.length > 40 ? `${v.slice(0, 40)}…` : v}' to FLOAT`);
    return Number(n);
  }
  throw new SelectError("InvalidCast", `cannot cast ${typeName(v)} to FLOAT`);
}

/** CAST(v AS BOOL). */
export function castBool(v: Value): Value {
  if (isAbsent(v) || typeof v === "boolean") return v;
  if (typeof v === "bigint") return v !== 0n;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") {
    const t = v.trim().toLowerCase();
    if (t === "true") return true;
    if (t === "false") return false;
    const n = parseNumber(t);
    if (n !== undefined) return Number(n) !== 0;
    throw new SelectError("CastFailed", `cannot cast '${v}' to BOOL`);
  }
  throw new SelectError("InvalidCast", `cannot cast ${typeName(v)} to BOOL`);
}

/** CAST(v AS STRING): the text form used in CSV output. */
export function castString(v: Value): Value {
  if (isAbsent(v)) return v;
  return toText(v);
}

/** Text of a value (CSV output, CAST AS STRING, string functions). */
export function toText(v: Value): string {
  if (v === MISSING || v === null) return "";
  switch (typeof v) {
    case "string":
      return v;
    case "bigint":
    case "boolean":
      return String(v);
    case "number":
      return formatFloat(v);
    default:
      if (v instanceof Timestamp) return v.toString();
      return JSON.stringify(v, jsonReplacer);
  }
}

/** FLOAT text: JavaScript's shortest round-trip form (`2.5`, `1e+21`). */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  return String(n);
}

/** `JSON.stringify` replacer for values that hold INTs or timestamps. */
export function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Timestamp) return v.toString();
  return v;
}

/** Three-valued truth of a WHERE result: only `true` keeps a row. */
export function isTrue(v: Value): boolean {
  return v === true;
}

/**
 * Compares two values: negative, zero or positive; undefined when they are
 * not comparable (NULL/MISSING, or a string that is not a number against a
 * number). Numbers compare across INT and FLOAT; a string compared with a
 * number is read as a number (CSV fields are strings).
 */
export function compare(a: Value, b: Value): number | undefined {
  if (isAbsent(a) || isAbsent(b)) return undefined;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === "string" && tb === "string") return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  if ((ta === "bigint" || ta === "number") && (tb === "bigint" || tb === "number")) return numCmp(a as bigint | number, b as bigint | number);
  if (a instanceof Timestamp && b instanceof Timestamp) return a.epochMs - b.epochMs;
  if (a instanceof Timestamp && tb === "string") {
    const t = Timestamp.parse(b as string);
    return t === undefined ? undefined : a.epochMs - t.epochMs;
  }
  if (b instanceof Timestamp && ta === "string") {
    const t = Timestamp.parse(a as string);
    return t === undefined ? undefined : t.epochMs - b.epochMs;
  }
  if (ta === "boolean" && tb === "boolean") return Number(a) - Number(b);
  const na = toNumeric(a);
  const nb = toNumeric(b);
  if (na === undefined || nb === undefined) {
    if (ta === "boolean" || tb === "boolean") {
      // 'true' = true: compare as text
      return toText(a) === toText(b) ? 0 : toText(a) < toText(b) ? -1 : 1;
    }
    return undefined;
  }
  return numCmp(na, nb);
}

function numCmp(a: bigint | number, b: bigint | number): number {
  // bigint and number compare exactly with < and > in JavaScript.
  return a < b ? -1 : a > b ? 1 : a == b ? 0 : NaN; // eslint-disable-line eqeqeq
}

/** SQL `=` (NULL when either side is NULL/MISSING or the sides are incomparable). */
export function equals(a: Value, b: Value): Value {
  if (isAbsent(a) || isAbsent(b)) return null;
  if (typeof a === "object" && !(a instanceof Timestamp)) return JSON.stringify(a, jsonReplacer) === JSON.stringify(b, jsonReplacer);
  const c = compare(a, b);
  return c === undefined ? false : c === 0;
}
