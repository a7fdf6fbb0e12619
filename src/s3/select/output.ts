/**
 * Output serialization of result rows: CSV (QuoteFields ASNEEDED/ALWAYS,
 * delimiters, quote and escape characters) and JSON (one object per row;
 * MISSING values leave their key out).
 */
import type { OutputFormat } from "./request.ts";
import { Timestamp } from "./timestamp.ts";
import { formatFloat, jsonReplacer, MISSING, toText, type Value } from "./values.ts";

/** Turns one row into its output text (delimiter included). */
export type RowWriter = (values: readonly Value[], names: readonly string[]) => string;

/** A writer for the request's OutputSerialization. */
export function rowWriter(out: OutputFormat): RowWriter {
  if (out.kind === "json") {
    const rd = out.recordDelimiter;
    return (values, names) => {
      let s = "{";
      let first = true;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v === MISSING) continue;
        if (!first) s += ",";
        first = false;
        s += `${JSON.stringify(names[i] ?? `_${i + 1}`)}:${jsonValue(v)}`;
      }
      return `${s}}${rd}`;
    };
  }
  const { fieldDelimiter: fd, recordDelimiter: rd, quoteCharacter: q, quoteEscapeCharacter: qe, quoteFields } = out;
  const always = quoteFields === "ALWAYS" && q !== "";
  const escQ = qe === "" ? q : qe;
  const needs = (t: string): boolean => t.includes(fd) || (q !== "" && t.includes(q)) || t.includes(rd) || t.includes("\n") || t.includes("\r");
  const quoteIt = (t: string): string => q + (q === "" ? t : t.split(q).join(escQ + q)) + q;
  return (values) => {
    let s = "";
    for (let i = 0; i < values.length; i++) {
      if (i > 0) s += fd;
      const t = toText(values[i]!);
      s += always || (q !== "" && needs(t)) ? quoteIt(t) : t;
    }
    return s + rd;
  };
}

function jsonValue(v: Value): string {
  if (v === null || v === MISSING) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "bigint":
    case "boolean":
      return String(v);
    case "number":
      return Number.isFinite(v) ? formatFloat(v) : "null";
    default:
      if (v instanceof Timestamp) return JSON.stringify(v.toString());
      return JSON.stringify(v, jsonReplacer) ?? "null";
  }
}
