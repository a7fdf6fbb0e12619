/**
 * The streaming row evaluator: text in, output text out. It owns the
 * record reader for the input format, compiles the query once the schema
 * is known (after the CSV header line with FileHeaderInfo USE), filters,
 * projects or aggregates each record and stops at LIMIT. Sans-I/O: the
 * HTTP handler feeds it chunks and writes what it returns.
 */
import type { PathStep } from "./ast.ts";
import { type Compiled, compileQuery, type Schema } from "./compile.ts";
import { CsvReader, JsonDocumentReader, JsonLinesReader } from "./readers.ts";
import type { SelectRequest } from "./request.ts";
import { rowWriter, type RowWriter } from "./output.ts";
import { Timestamp } from "./timestamp.ts";
import { fromJson, MISSING, type Value } from "./values.ts";

/** What one call to {@link SelectEngine.feed} produced. */
export interface FeedResult {
  /** Output text (whole rows). */
  out: string;
  /** True once LIMIT is reached: stop reading. */
  done: boolean;
}

/**
 * Runs one query over one object's text.
 *
 * @example
 * const e = new SelectEngine(readSelectRequest(doc));
 * let text = e.feed("a,1\nb,2\n", false).out;
 * text += e.feed("", true).out;
 */
export class SelectEngine {
  private compiled: Compiled | undefined;
  private readonly writer: RowWriter;
  private readonly now = new Timestamp(Date.now());
  private readonly csv: CsvReader | undefined;
  private readonly json: JsonLinesReader | JsonDocumentReader | undefined;
  private headerPending: boolean;
  private header: string[] | undefined;
  private rows = 0;
  private started = false;
  private done = false;
  private out: string[] = [];
  private starNames: string[] = [];
  /** The current CSV record's text when it had no quotes or escapes. */
  private raw: string | undefined;
  /** `SELECT *` may copy a plain record as it is (CSV to CSV, same field delimiter, ASNEEDED). */
  private readonly rawStar: ((raw: string) => boolean) | undefined;
  private readonly rawEnd: string;

  constructor(private readonly req: SelectRequest) {
    this.writer = rowWriter(req.output);
    const input = req.input;
    if (input.kind === "csv") {
      this.csv = new CsvReader(input.csv);
      this.headerPending = input.csv.fileHeaderInfo !== "NONE";
    } else {
      // Parquet arrives as JSON LINES text (see parquet.ts).
      this.json = input.kind === "parquet" || input.type === "LINES" ? new JsonLinesReader() : new JsonDocumentReader();
      this.headerPending = false;
    }
    const o = req.output;
    this.rawEnd = o.kind === "csv" ? o.recordDelimiter : "";
    if (input.kind === "csv" && o.kind === "csv" && o.quoteFields === "ASNEEDED" && o.fieldDelimiter === input.csv.fieldDelimiter) {
      // A plain record has no input quote or escape characters and no input record delimiter; it still must not hold the output's.
      const q = o.quoteCharacter;
      const rd = o.recordDelimiter;
      this.rawStar = (raw) => raw.indexOf("\n") < 0 && raw.indexOf("\r") < 0 && (q === "" || raw.indexOf(q) < 0) && raw.indexOf(rd) < 0;
    }
    if (!this.headerPending) this.setCompiled(compileQuery(req.query, this.schema(), this.now));
  }

  private setCompiled(c: Compiled): void {
    this.compiled = c;
    if (this.csv) this.csv.fieldLimit = c.fieldsUsed;
  }

  /** Compiles the query against a schema without data, to report errors before any response is sent. */
  static check(req: SelectRequest): void {
    const csv = req.input.kind === "csv";
    const schema: Schema = csv ? { format: "csv", ...(req.input.kind === "csv" && req.input.csv.fileHeaderInfo === "USE" ? { lenient: true } : {}) } : { format: "json" };
    compileQuery(req.query, schema, new Timestamp(Date.now()));
  }

  private schema(): Schema {
    return this.req.input.kind === "csv" ? { format: "csv", ...(this.header ? { header: this.header } : {}) } : { format: "json" };
  }

  /** Sets the CSV header from a separately read first record (ScanRange not starting at 0). */
  setHeader(fields: string[] | undefined): void {
    if (!this.headerPending) return;
    this.headerPending = false;
    if (this.req.input.kind === "csv" && this.req.input.csv.fileHeaderInfo === "USE") this.header = fields ?? [];
    this.setCompiled(compileQuery(this.req.query, this.schema(), this.now));
  }

  /** Feeds decoded text; `last` marks the end of the input. */
  feed(text: string, last: boolean): FeedResult {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark is not data
    }
    if (!this.done) {
      if (this.csv) this.csv.feed(text, last, (f, raw) => this.csvRecord(f, raw));
      else this.json!.feed(text, last, (d) => this.document(d));
    }
    if (last && !this.done) this.finish();
    const out = this.out.join("");
    this.out = [];
    return { out, done: this.done };
  }

  /** The CSV header line, if one was read. */
  get columns(): readonly string[] | undefined {
    return this.header;
  }

  private csvRecord(fields: string[], raw: string | undefined): boolean {
    if (this.headerPending) {
      this.setHeader(fields);
      return true;
    }
    this.raw = raw;
    return this.row(fields, fields);
  }

  private document(doc: unknown): boolean {
    for (const r of fromPath(doc, this.req.query.from.steps)) if (!this.row(r, undefined)) return false;
    return true;
  }

  private row(row: unknown, csvFields: string[] | undefined): boolean {
    const c = this.compiled!;
    if (c.limit !== undefined && this.rows >= c.limit && c.aggregate === undefined) {
      this.done = true;
      return false;
    }
    if (c.where !== undefined && c.where(row) !== true) return true;
    if (c.aggregate !== undefined) {
      c.aggregate.add(row);
      return true;
    }
    this.rows++;
    if (c.project === undefined) this.out.push(this.star(row, csvFields));
    else {
      const vals: Value[] = new Array(c.project.length);
      for (let i = 0; i < c.project.length; i++) vals[i] = c.project[i]!(row);
      this.out.push(this.writer(vals, c.names));
    }
    if (c.limit !== undefined && this.rows >= c.limit) {
      this.done = true;
      return false;
    }
    return true;
  }

  private star(row: unknown, csvFields: string[] | undefined): string {
    if (csvFields !== undefined) {
      const raw = this.raw;
      if (raw !== undefined && this.rawStar !== undefined && this.rawStar(raw)) return raw + this.rawEnd;
      if (this.starNames.length < csvFields.length) {
        for (let i = this.starNames.length; i < csvFields.length; i++) this.starNames.push(this.header?.[i] ?? `_${i + 1}`);
      }
      return this.writer(csvFields, this.starNames);
    }
    if (row !== null && typeof row === "object" && !Array.isArray(row)) {
      const o = row as Record<string, unknown>;
      const keys = Object.keys(o);
      return this.writer(keys.map((k) => fromJson(o[k])), keys);
    }
    return this.writer([fromJson(row)], ["_1"]);
  }

  private finish(): void {
    if (this.headerPending) this.setHeader(undefined);
    const c = this.compiled!;
    if (c.aggregate !== undefined && (c.limit === undefined || c.limit > 0)) this.out.push(this.writer(c.aggregate.finish(), c.names));
    this.done = true;
  }
}

/**
 * The rows of a JSON document under a FROM path: `[*]` iterates a list (or
 * keeps a non-list), `.name` and `[n]` step in; a list at the end of a
 * named path is iterated too, so `S3Object[*].root` yields root's elements.
 * Rows are produced one at a time (a 300,000-element list is not copied).
 */
export function* fromPath(doc: unknown, steps: readonly PathStep[], depth = 0): Generator<unknown> {
  if (depth === steps.length) {
    const last = steps[steps.length - 1];
    if (last !== undefined && last.kind !== "wildcard" && Array.isArray(doc)) yield* doc;
    else yield doc;
    return;
  }
  const s = steps[depth]!;
  if (s.kind === "wildcard") {
    if (Array.isArray(doc)) for (const v of doc) yield* fromPath(v, steps, depth + 1);
    else if (doc !== null && typeof doc === "object") {
      if (depth === 0) yield* fromPath(doc, steps, depth + 1); // S3Object[*] over a top-level object: the object
      else for (const v of Object.values(doc as object)) yield* fromPath(v, steps, depth + 1);
    }
    return;
  }
  if (s.kind === "index") {
    if (Array.isArray(doc) && doc[s.index] !== undefined) yield* fromPath(doc[s.index], steps, depth + 1);
    return;
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return;
  const o = doc as Record<string, unknown>;
  let hit: unknown = Object.hasOwn(o, s.name) ? o[s.name] : MISSING;
  if (hit === MISSING && !s.quoted) {
    const lower = s.name.toLowerCase();
    const k = Object.keys(o).find((key) => key.toLowerCase() === lower);
    hit = k === undefined ? MISSING : o[k];
  }
  if (hit !== MISSING) yield* fromPath(hit, steps, depth + 1);
}
