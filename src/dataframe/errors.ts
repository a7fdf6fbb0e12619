/**
 * Typed errors of the DataFrame partition engine. Every class sets `name`,
 * accepts `{ cause }` and carries structured fields, so a failure that crosses
 * a process boundary as a record can be rebuilt with the same meaning.
 *
 * @module
 */

/** What went wrong in a CSV row. */
export const CsvErrorKind = {
  FieldCount: "field-count",
  BadValue: "bad-value",
  BadQuote: "bad-quote",
  BadHeader: "bad-header",
  /** Bytes that are not UTF-8 (e.g. a Latin-1 file). */
  BadEncoding: "bad-encoding",
} as const;
/** One of {@link CsvErrorKind}. */
export type CsvErrorKind = (typeof CsvErrorKind)[keyof typeof CsvErrorKind];

/** Structured fields of a {@link CsvParseError}. */
export interface CsvParseErrorInfo {
  kind: CsvErrorKind;
  /** File path or URL the bytes came from. */
  file: string;
  /** 1-based physical line number in the whole file; undefined if not yet resolved (see {@link CsvParseError.withLine}). */
  line?: number | undefined;
  /** 1-based line number inside the parsed block. */
  lineInBlock: number;
  /** Absolute byte offset in the file of the start of the bad line. */
  byteOffset: number;
  /** 1-based column number, when one column is to blame. */
  column?: number | undefined;
  /** Column name, when known. */
  columnName?: string | undefined;
  /** 1-based character position in the line where the problem starts (the first extra field, the first bad byte). */
  position?: number | undefined;
  /** The bad line (truncated to 200 characters). */
  snippet: string;
  /** Human detail, e.g. `cannot parse "12x" as int64`. */
  detail: string;
  /** The value that does not fit its column (kind `bad-value`; quotes removed, at most 60 bytes). */
  value?: string | undefined;
}

/**
 * A malformed CSV row: wrong field count, a value that does not parse as the
 * column's type, or broken quoting. The message names file, line and column.
 * Not retriable: the input must be fixed (or the column typed as `utf8`).
 */
export class CsvParseError extends Error {
  override readonly name = "CsvParseError";
  readonly retriable = false;
  readonly info: CsvParseErrorInfo;
  constructor(info: CsvParseErrorInfo, options?: { cause?: unknown }) {
    super(CsvParseError.format(info), options);
    this.info = info;
  }
  get file(): string { return this.info.file; }
  get line(): number | undefined { return this.info.line; }
  get column(): number | undefined { return this.info.column; }
  get columnName(): string | undefined { return this.info.columnName; }
  get kind(): CsvErrorKind { return this.info.kind; }

  /** The same error with the file line resolved from the block's first line number (1-based). */
  withLine(blockStartLine: number): CsvParseError {
    return new CsvParseError({ ...this.info, line: blockStartLine + this.info.lineInBlock - 1 }, { cause: this.cause });
  }

  private static format(i: CsvParseErrorInfo): string {
    const where = i.line !== undefined ? `${i.file}:${i.line}` : `${i.file} (byte ${i.byteOffset}, line ${i.lineInBlock} of its block)`;
    const col = i.column !== undefined ? `, column ${i.column}${i.columnName !== undefined ? ` '${i.columnName}'` : ""}` : "";
    const pos = i.position !== undefined ? `, character ${i.position}` : "";
    return `malformed CSV row at ${where}${col}${pos}: ${i.detail}\n  row: ${i.snippet}\n  ${CsvParseError.hint(i.kind)}`;
  }

  /** What to do next, for this kind of problem only. */
  private static hint(kind: CsvErrorKind): string {
    switch (kind) {
      case CsvErrorKind.BadValue: return "fix the row, or declare the column as utf8 in options.dtypes to keep it as text";
      case CsvErrorKind.FieldCount: return "fix the row: a value that contains the delimiter must be quoted";
      case CsvErrorKind.BadQuote: return "fix the quoting: a quote inside a quoted value is written twice (\"\")";
      case CsvErrorKind.BadHeader: return "fix the header line: one unique name per column";
      case CsvErrorKind.BadEncoding: return "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)";
    }
  }
}

/** Invalid options or frames given to a kernel (a programming error, not bad data). */
export class DataFrameArgumentError extends Error {
  override readonly name = "DataFrameArgumentError";
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The engine (polars) failed in a way not described by a more precise error. */
export class EngineError extends Error {
  override readonly name = "EngineError";
  readonly retriable = false;
  readonly operation: string;
  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super(`${operation}: ${message}`, options);
    this.operation = operation;
  }
}

/**
 * Why a column was read as text although its values look numeric: the first
 * value in it that is not a number, and where it is (recorded by the CSV
 * reader; see {@link ExpressionTypeError}).
 */
export interface TextColumnNote {
  column: string;
  /** The value (quotes removed, at most 60 bytes). */
  value: string;
  /** File path or URL. */
  file: string;
  /** 1-based line in the file, when known. */
  line?: number | undefined;
  /** 1-based line inside the block that was read (the file line is resolved from it). */
  lineInBlock: number;
  /** Byte offset in the file where the block's data starts (to resolve `line`). */
  blockStart: number;
}

/** Structured fields of an {@link ExpressionTypeError}. */
export interface ExpressionTypeInfo {
  from?: string;
  to?: string;
  value?: unknown;
  row?: number;
  count?: number;
  /** The operation that needs another type (`sum`, `gt`, `groupBy.mean`, ...). */
  op?: string;
  /** Where a text column that looks numeric got its first non-number (read time; see readCsv). */
  readAsText?: TextColumnNote;
  /** Without a read-time note: how many of the partition's values of the column are numbers, of how many. */
  numbers?: { numeric: number; values: number; first: string; row: number };
}

/**
 * An expression applied to a column of the wrong type, or a cast that does
 * not fit a value: names the column (the expression's output name), the
 * types, and for a cast the first bad value and its row in the partition.
 * A numeric operation on a text column that looks numeric also says why the
 * column is text: the first value that is not a number, with file and line
 * when the CSV reader recorded them (`info.readAsText`).
 * Not retriable: the program or the data must change.
 */
export class ExpressionTypeError extends Error {
  override readonly name = "ExpressionTypeError";
  readonly code = "expression-type";
  readonly retriable = false;
  constructor(
    message: string,
    readonly column: string,
    readonly info: ExpressionTypeInfo = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The same error with a note on why the column is text appended to the message. */
  explained(note: string, extra: Pick<ExpressionTypeInfo, "readAsText" | "numbers">): ExpressionTypeError {
    return new ExpressionTypeError(`${this.message}\n  ${note}`, this.column, { ...this.info, ...extra }, this.cause === undefined ? {} : { cause: this.cause });
  }
}
