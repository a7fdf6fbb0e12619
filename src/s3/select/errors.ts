/**
 * Errors of S3 Select: one class, {@link SelectError}, carrying the error
 * code S3 Select uses (`ParseUnexpectedToken`, `CastFailed`, …) and, for
 * errors in the SQL text, the position (1-based line and column).
 *
 * A SelectError raised before the response starts becomes an HTTP 400 S3
 * error document (the codes are registered in `../errors.ts`); one raised
 * while records stream becomes an `error` event of the event stream.
 */

/** Every code this module raises, with its HTTP status (all client errors). */
export const SELECT_ERROR_STATUS = {
  // request document
  MissingRequiredParameter: 400,
  InvalidExpressionType: 400,
  InvalidCompressionFormat: 400,
  InvalidFileHeaderInfo: 400,
  InvalidJsonType: 400,
  InvalidQuoteFields: 400,
  InvalidRequestParameter: 400,
  InvalidScanRange: 400,
  InvalidTextEncoding: 400,
  ObjectSerializationConflict: 400,
  UnsupportedScanRangeInput: 400,
  // SQL text
  ParseUnexpectedToken: 400,
  ParseExpectedExpression: 400,
  ParseExpectedKeyword: 400,
  ParseUnsupportedSyntax: 400,
  ParseUnknownOperator: 400,
  ParseInvalidTypeParam: 400,
  ParseUnexpectedEndOfInput: 400,
  InvalidDataSource: 400,
  UnsupportedFunction: 400,
  IncorrectSqlFunctionArgumentType: 400,
  EvaluatorInvalidArguments: 400,
  UnsupportedSqlOperation: 400,
  InvalidTableAlias: 400,
  AmbiguousFieldName: 400,
  CyclicAliasReference: 400,
  // while records stream
  CastFailed: 400,
  InvalidCast: 400,
  EvaluatorBindingDoesNotExist: 400,
  InvalidColumnIndex: 400,
  DivisionByZero: 400,
  OverMaxRecordSize: 400,
  CSVParsingError: 400,
  JSONParsingError: 400,
  TruncatedInput: 400,
  InvalidDataType: 400,
  UnsupportedParquetType: 400,
  ParquetParsingError: 400,
} as const;

/** A code of {@link SELECT_ERROR_STATUS}. */
export type SelectErrorCode = keyof typeof SELECT_ERROR_STATUS;

/** Where in the SQL text an error is (1-based). */
export interface SqlPosition {
  offset: number;
  line: number;
  column: number;
}

/** Line and column of an offset in `text`. */
export function positionOf(text: string, offset: number): SqlPosition {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return { offset, line, column: col };
}

/**
 * An S3 Select failure with a stable code.
 *
 * @example
 * throw new SelectError("CastFailed", "cannot cast 'abc' to INT");
 */
export class SelectError extends Error {
  override readonly name = "SelectError";
  readonly code: SelectErrorCode;
  readonly position: SqlPosition | undefined;

  constructor(code: SelectErrorCode, message: string, options: { position?: SqlPosition; cause?: unknown } = {}) {
    super(options.position ? `${message} at line ${options.position.line}, column ${options.position.column}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.position = options.position;
  }
}
