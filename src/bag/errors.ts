/**
 * Errors of Bag collections. Each class sets `name` and accepts `{ cause }`.
 *
 * @module
 */

/** A Bag was used with invalid arguments (bad fraction, npartitions, missing key...). */
export class BagArgumentError extends Error {
  override readonly name = "BagArgumentError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A user function given to a Bag failed on a worker; names the operation and partition. */
export class BagTaskError extends Error {
  override readonly name: string = "BagTaskError";
  constructor(
    message: string,
    /** The operation that failed (`map`, `filter`, ...). */
    readonly op: string,
    /** Index of the partition being processed. */
    readonly partition: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Structured fields of a {@link JsonLinesParseError}. */
export interface JsonLinesParseErrorInfo {
  /** File path or URL. */
  file: string;
  /** 1-based line in the file. */
  line: number;
  /** 1-based line inside the partition's block. */
  lineInBlock: number;
  /** Byte offset in the file where the bad line starts. */
  byteOffset: number;
  /** 1-based character position in the line where the parser stopped (when it can be told). */
  column?: number | undefined;
  /** The parser's message, e.g. `Expected ',' or '}' after property value in JSON at position 7`. */
  detail: string;
  /** The bad line (truncated to 200 characters). */
  snippet: string;
}

/**
 * A line of a JSON-lines file (`readJsonLines`) that is not JSON: the
 * message names file, line and column, the parser's message and the line,
 * as {@link CsvParseError} does for CSV (`code: "bad-json"`; a
 * {@link BagTaskError} of op `json`). Not retriable: the file must be fixed.
 */
export class JsonLinesParseError extends BagTaskError {
  override readonly name = "JsonLinesParseError";
  readonly code = "bad-json";
  readonly retriable = false;
  readonly info: JsonLinesParseErrorInfo;
  constructor(info: JsonLinesParseErrorInfo, partition: number, options?: { cause?: unknown }) {
    const col = info.column !== undefined ? `, column ${info.column}` : "";
    super(`invalid JSON at ${info.file}:${info.line}${col}: ${info.detail}\n  line: ${info.snippet}\n  ` +
      "fix the line: each line of a JSON-lines file holds one complete JSON value (blank lines are skipped)", "json", partition, options);
    this.info = info;
  }
  get file(): string { return this.info.file; }
  get line(): number { return this.info.line; }
  get column(): number | undefined { return this.info.column; }
}
