/**
 * Shoal's S3-compatible server.
 *
 * @example
 * import { startS3Server } from "shoal/s3";
 * const s3 = await startS3Server({ root: "./data", port: 0, users: [{ accessKey: "AK", secretKey: "SK" }] });
 * // point the AWS SDK at s3.url with forcePathStyle: true
 * await s3.close();
 */
export { type RequestLog, type S3Server, type S3ServerOptions, startS3Server } from "./server.ts";
export { S3Error, type S3ErrorCode } from "./errors.ts";
export { type S3User, type S3UserInput, parseUserSpec, parseUsersEnv, readUsersConfig } from "./users.ts";
export { SelectError, type SelectErrorCode } from "./select/errors.ts";
export { parseQuery as parseSelectQuery } from "./select/parser.ts";
export { decodeMessages as decodeEventStream, type DecodedMessage } from "./select/event-stream.ts";
