/**
 * Shoal Streams: a durable Kinesis-compatible stream server and a consumer
 * API for processing streams.
 *
 * @example
 * import { startStreamsServer } from "shoal/streams";
 * const srv = await startStreamsServer({ root: "./data", port: 4567 });
 * // any Kinesis client: endpoint srv.url, region us-east-1
 * await srv.close();
 */
export { type StreamsRequestLog, type StreamsServer, type StreamsServerOptions, startStreamsServer } from "./server.ts";
export { KinesisError, type KinesisErrorType, StreamsClientError } from "./errors.ts";
export { AWS_LIMITS, type Limits } from "./limits.ts";
export type { FsyncPolicy } from "./segment.ts";
export { MAX_HASH_KEY, partitionKeyHash } from "./hash.ts";
export { type Batch, type ReadOptions, type StartPosition, type StreamRecord, read } from "./consumer.ts";
export { type CheckpointStore, FileCheckpointStore, MemoryCheckpointStore, SHARD_END } from "./checkpoints.ts";
export { type Credentials, KinesisHttpClient } from "./client.ts";
export { type StreamToBagOptions, type Window, parseDuration, streamToBag } from "./micro-batch.ts";
