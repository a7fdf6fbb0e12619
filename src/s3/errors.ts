/**
 * S3 error model: one typed error class carrying the S3 error code, the HTTP
 * status and the resource, rendered as an S3 XML error document.
 */

import { SELECT_ERROR_STATUS } from "./select/errors.ts";

/** HTTP status for every S3 error code the server emits. */
export const S3_ERROR_STATUS = {
  /** SelectObjectContent's request and SQL errors (src/s3/select/errors.ts). */
  ...SELECT_ERROR_STATUS,
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  BadRequest: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidLocationConstraint: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidPolicyDocument: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidStorageClass: 400,
  KeyTooLongError: 400,
  MalformedACLError: 400,
  MalformedPOSTRequest: 400,
  MalformedPolicy: 400,
  MalformedXML: 400,
  MaxMessageLengthExceeded: 400,
  MetadataTooLarge: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  MissingSecurityHeader: 400,
  NoSuchBucket: 404,
  NoSuchBucketPolicy: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NoSuchVersion: 404,
  NotImplemented: 501,
  NotModified: 304,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
  InvalidTag: 400,
  UnexpectedContent: 400,
  AccessControlListNotSupported: 400,
  InvalidBucketAclWithObjectOwnership: 400,
  OwnershipControlsNotFoundError: 404,
  UnresolvableGrantByEmailAddress: 400,
} as const;

/** An S3 error code known to the server. */
export type S3ErrorCode = keyof typeof S3_ERROR_STATUS;

const DEFAULT_MESSAGES: Partial<Record<S3ErrorCode, string>> = {
  AccessDenied: "Access Denied",
  BucketAlreadyExists: "The requested bucket name is not available.",
  BucketAlreadyOwnedByYou: "Your previous request to create the named bucket succeeded and you already own it.",
  BucketNotEmpty: "The bucket you tried to delete is not empty",
  EntityTooSmall: "Your proposed upload is smaller than the minimum allowed object size.",
  InvalidAccessKeyId: "The AWS Access Key Id you provided does not exist in our records.",
  InvalidBucketName: "The specified bucket is not valid.",
  InvalidPart: "One or more of the specified parts could not be found or the ETag did not match.",
  InvalidPartOrder: "The list of parts was not in ascending order.",
  InvalidRange: "The requested range is not satisfiable",
  MalformedXML: "The XML you provided was not well-formed or did not validate against our published schema.",
  MaxMessageLengthExceeded: "Your request was too big.",
  MethodNotAllowed: "The specified method is not allowed against this resource.",
  NoSuchBucket: "The specified bucket does not exist",
  NoSuchBucketPolicy: "The bucket policy does not exist",
  NoSuchKey: "The specified key does not exist.",
  NoSuchUpload: "The specified multipart upload does not exist.",
  NotImplemented: "A header or query you provided implies functionality that is not implemented.",
  PreconditionFailed: "At least one of the pre-conditions you specified did not hold",
  SignatureDoesNotMatch:
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  InternalError: "We encountered an internal error. Please try again.",
  XAmzContentSHA256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  BadDigest: "The Content-MD5 you specified did not match what we received.",
  InvalidDigest: "The Content-MD5 you specified is not valid.",
  RequestTimeTooSkewed: "The difference between the request time and the server's time is too large.",
  MissingContentLength: "You must provide the Content-Length HTTP header.",
  IncompleteBody: "You did not provide the number of bytes specified by the Content-Length HTTP header.",
};

/** Options for {@link S3Error}. */
export interface S3ErrorOptions {
  /** The bucket or key the error is about (rendered as `<Resource>`). */
  resource?: string;
  /** Extra elements added to the error document (e.g. `BucketName`, `Key`). */
  extra?: Record<string, string>;
  /** Extra response headers. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error returned to an S3 client as an XML error document.
 *
 * @example
 * throw new S3Error("NoSuchKey", undefined, { resource: "/bucket/key" });
 */
export class S3Error extends Error {
  override readonly name = "S3Error";
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly resource: string | undefined;
  readonly extra: Record<string, string>;
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, message?: string, options: S3ErrorOptions = {}) {
    super(message ?? DEFAULT_MESSAGES[code] ?? code, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = S3_ERROR_STATUS[code];
    this.resource = options.resource;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

/** Shorthand for `new S3Error(...)`, handy in expressions. */
export function s3err(code: S3ErrorCode, message?: string, options?: S3ErrorOptions): S3Error {
  return new S3Error(code, message, options);
}
