/**
 * Reads the SelectObjectContentRequest XML document into typed settings,
 * with S3's defaults and S3's error codes for values it does not accept.
 */
import type { Query } from "./ast.ts";
import { SelectError } from "./errors.ts";
import { parseQuery } from "./parser.ts";
import { child, childText, type XmlElement } from "../xml.ts";

/** CSV input settings (`InputSerialization/CSV`). */
export interface CsvInput {
  fileHeaderInfo: "USE" | "IGNORE" | "NONE";
  recordDelimiter: string;
  fieldDelimiter: string;
  /** "" when quoting is off. */
  quoteCharacter: string;
  quoteEscapeCharacter: string;
  /** "" when no comment character is set. */
  comments: string;
  allowQuotedRecordDelimiter: boolean;
}

/** Input format and compression. */
export type InputFormat = { kind: "csv"; csv: CsvInput } | { kind: "json"; type: "DOCUMENT" | "LINES" } | { kind: "parquet" };

/** Output settings (`OutputSerialization`). */
export type OutputFormat =
  | { kind: "csv"; recordDelimiter: string; fieldDelimiter: string; quoteCharacter: string; quoteEscapeCharacter: string; quoteFields: "ALWAYS" | "ASNEEDED" }
  | { kind: "json"; recordDelimiter: string };

/** A parsed and validated request. */
export interface SelectRequest {
  expression: string;
  query: Query;
  input: InputFormat;
  compression: "NONE" | "GZIP" | "BZIP2";
  output: OutputFormat;
  progress: boolean;
  /** `ScanRange` (End inclusive); either may be absent. */
  scanRange: { start: number | undefined; end: number | undefined } | undefined;
}

function bad(code: ConstructorParameters<typeof SelectError>[0], message: string): never {
  throw new SelectError(code, message);
}

function enumText<T extends string>(el: XmlElement, name: string, allowed: readonly T[], dflt: T, code: ConstructorParameters<typeof SelectError>[0]): T {
  const raw = childText(el, name);
  if (raw === undefined) return dflt;
  const v = raw.trim().toUpperCase();
  if (v === "") return dflt;
  if (!(allowed as readonly string[]).includes(v)) bad(code, `${name} must be one of ${allowed.join(", ")}, not '${raw.trim()}'`);
  return v as T;
}

function chars(el: XmlElement, name: string, dflt: string, max: number): string {
  const v = childText(el, name);
  if (v === undefined) return dflt;
  if ([...v].length > max) bad("InvalidRequestParameter", `${name} must be at most ${max} character(s), not '${v}'`);
  return v;
}

function bool(el: XmlElement, name: string): boolean {
  const v = childText(el, name)?.trim().toLowerCase();
  if (v === undefined || v === "" || v === "false") return false;
  if (v === "true") return true;
  return bad("InvalidRequestParameter", `${name} must be true or false, not '${v}'`);
}

function readInput(doc: XmlElement): { input: InputFormat; compression: SelectRequest["compression"] } {
  const inEl = child(doc, "InputSerialization");
  if (inEl === undefined) bad("MissingRequiredParameter", "InputSerialization is required");
  const compression = enumText(inEl, "CompressionType", ["NONE", "GZIP", "BZIP2"] as const, "NONE", "InvalidCompressionFormat");
  const formats = inEl.children.filter((c) => c.name === "CSV" || c.name === "JSON" || c.name === "Parquet");
  if (formats.length !== 1) bad("ObjectSerializationConflict", "InputSerialization must have exactly one of CSV, JSON and Parquet");
  const f = formats[0]!;
  if (f.name === "CSV") {
    const csv: CsvInput = {
      fileHeaderInfo: enumText(f, "FileHeaderInfo", ["USE", "IGNORE", "NONE"] as const, "NONE", "InvalidFileHeaderInfo"),
      recordDelimiter: chars(f, "RecordDelimiter", "\n", 2),
      fieldDelimiter: chars(f, "FieldDelimiter", ",", 1),
      quoteCharacter: chars(f, "QuoteCharacter", '"', 1),
      quoteEscapeCharacter: chars(f, "QuoteEscapeCharacter", '"', 1),
      comments: chars(f, "Comments", "#", 1),
      allowQuotedRecordDelimiter: bool(f, "AllowQuotedRecordDelimiter"),
    };
    if (csv.recordDelimiter === "") csv.recordDelimiter = "\n";
    if (csv.fieldDelimiter === "") csv.fieldDelimiter = ",";
    if (csv.fieldDelimiter === csv.recordDelimiter) bad("InvalidRequestParameter", "FieldDelimiter and RecordDelimiter must differ");
    return { input: { kind: "csv", csv }, compression };
  }
  if (f.name === "JSON") {
    const type = enumText(f, "Type", ["DOCUMENT", "LINES"] as const, "DOCUMENT", "InvalidJsonType");
    return { input: { kind: "json", type }, compression };
  }
  if (compression !== "NONE") bad("InvalidCompressionFormat", "Parquet input takes CompressionType NONE (its pages carry their own compression)");
  return { input: { kind: "parquet" }, compression };
}

function readOutput(doc: XmlElement): OutputFormat {
  const outEl = child(doc, "OutputSerialization");
  if (outEl === undefined) bad("MissingRequiredParameter", "OutputSerialization is required");
  const formats = outEl.children.filter((c) => c.name === "CSV" || c.name === "JSON");
  if (formats.length !== 1) bad("ObjectSerializationConflict", "OutputSerialization must have exactly one of CSV and JSON");
  const f = formats[0]!;
  if (f.name === "JSON") return { kind: "json", recordDelimiter: chars(f, "RecordDelimiter", "\n", 2) || "\n" };
  return {
    kind: "csv",
    recordDelimiter: chars(f, "RecordDelimiter", "\n", 2) || "\n",
    fieldDelimiter: chars(f, "FieldDelimiter", ",", 1) || ",",
    quoteCharacter: chars(f, "QuoteCharacter", '"', 1),
    quoteEscapeCharacter: chars(f, "QuoteEscapeCharacter", '"', 1),
    quoteFields: enumText(f, "QuoteFields", ["ALWAYS", "ASNEEDED"] as const, "ASNEEDED", "InvalidQuoteFields"),
  };
}

function readScanRange(doc: XmlElement): SelectRequest["scanRange"] {
  const el = child(doc, "ScanRange");
  if (el === undefined) return undefined;
  const num = (name: string): number | undefined => {
    const t = childText(el, name)?.trim();
    if (t === undefined || t === "") return undefined;
    if (!/^\d+$/.test(t)) bad("InvalidScanRange", `ScanRange ${name} must be a non-negative integer, not '${t}'`);
    return Number(t);
  };
  const start = num("Start");
  const end = num("End");
  if (start !== undefined && end !== undefined && start > end) bad("InvalidScanRange", `ScanRange Start (${start}) is after End (${end})`);
  return { start, end };
}

/**
 * Validates a parsed request document and parses its SQL.
 *
 * @throws SelectError with S3's codes (MissingRequiredParameter, InvalidExpressionType, Parse…)
 */
export function readSelectRequest(doc: XmlElement): SelectRequest {
  if (doc.name !== "SelectObjectContentRequest") bad("InvalidRequestParameter", `expected a SelectObjectContentRequest document, not <${doc.name}>`);
  const expression = childText(doc, "Expression");
  if (expression === undefined || expression.trim() === "") bad("MissingRequiredParameter", "Expression is required");
  const type = childText(doc, "ExpressionType")?.trim();
  if (type === undefined) bad("MissingRequiredParameter", "ExpressionType is required");
  if (type.toUpperCase() !== "SQL") bad("InvalidExpressionType", `ExpressionType must be SQL, not '${type}'`);
  const { input, compression } = readInput(doc);
  const output = readOutput(doc);
  const rp = child(doc, "RequestProgress");
  const progress = rp !== undefined && bool(rp, "Enabled");
  const scanRange = readScanRange(doc);
  if (scanRange !== undefined) {
    if (compression !== "NONE") bad("UnsupportedScanRangeInput", "ScanRange needs uncompressed input");
    if (input.kind === "json" && input.type === "DOCUMENT") bad("UnsupportedScanRangeInput", "ScanRange takes JSON LINES input, not DOCUMENT");
    if (input.kind === "csv" && input.csv.allowQuotedRecordDelimiter) bad("UnsupportedScanRangeInput", "ScanRange cannot be used with AllowQuotedRecordDelimiter");
    if (input.kind === "parquet") bad("UnsupportedScanRangeInput", "ScanRange is not supported for Parquet input by this server");
  }
  const query = parseQuery(expression);
  return { expression, query, input, compression, output, progress, scanRange };
}
