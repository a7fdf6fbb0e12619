/**
 * Kinesis errors: {@link KinesisError} carries the AWS error type (the wire
 * `__type`, e.g. `ResourceNotFoundException`), the HTTP status and whether a
 * retry can help. The server writes it as `{"__type": ..., "message": ...}`.
 */
import { ShoalError } from "../utils/errors.ts";

/** The AWS error types this server returns, with their HTTP status and retriability. */
export const KINESIS_ERRORS = {
  ResourceNotFoundException: { status: 400, retriable: false },
  ResourceInUseException: { status: 400, retriable: false },
  InvalidArgumentException: { status: 400, retriable: false },
  ExpiredIteratorException: { status: 400, retriable: false },
  ExpiredNextTokenException: { status: 400, retriable: false },
  LimitExceededException: { status: 400, retriable: true },
  ProvisionedThroughputExceededException: { status: 400, retriable: true },
  ValidationException: { status: 400, retriable: false },
  SerializationException: { status: 400, retriable: false },
  UnknownOperationException: { status: 400, retriable: false },
  AccessDeniedException: { status: 400, retriable: false },
  MissingAuthenticationTokenException: { status: 400, retriable: false },
  UnrecognizedClientException: { status: 400, retriable: false },
  InvalidSignatureException: { status: 400, retriable: false },
  IncompleteSignatureException: { status: 400, retriable: false },
  InternalFailure: { status: 500, retriable: true },
} as const;

/** One of {@link KINESIS_ERRORS}' keys. */
export type KinesisErrorType = keyof typeof KINESIS_ERRORS;

/**
 * An error in a Kinesis request, as the client sees it.
 *
 * @example
 * throw new KinesisError("ResourceNotFoundException", `Stream ${name} under account 000000000000 not found.`);
 */
export class KinesisError extends ShoalError {
  override name = "KinesisError";
  /** Stable code: `streams-` and the AWS type in kebab-case is not used; the AWS type itself is stable. */
  override readonly code: KinesisErrorType;
  override readonly retriable: boolean;
  /** HTTP status the server answers with. */
  readonly status: number;
  constructor(type: KinesisErrorType, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.code = type;
    this.status = KINESIS_ERRORS[type].status;
    this.retriable = KINESIS_ERRORS[type].retriable;
  }
}

/** Error raised by the consumer API (`streams.read`) for a failed request, keeping the server's type. */
export class StreamsClientError extends ShoalError {
  override name = "StreamsClientError";
  override readonly code: string;
  override readonly retriable: boolean;
  /** HTTP status of the failed response (0 if the request never got one). */
  readonly status: number;
  constructor(type: string, message: string, status: number, opts: { cause?: unknown } = {}) {
    super(`${type}: ${message}`, opts.cause === undefined ? {} : { cause: opts.cause });
    this.code = type;
    this.status = status;
    this.retriable = status === 0 || status >= 500 || type === "ProvisionedThroughputExceededException" || type === "LimitExceededException";
  }
}
