/**
 * Shoal: parallel and distributed computing for TypeScript.
 *
 * The public surface: the client and its futures, lazy task graphs, the
 * local cluster, and the servers (for embedding a scheduler or worker).
 */
export { Client, asCompleted, wait, type ClientOptions, type ClusterLike, type SubmitOptions, type ReturnWhen } from "./client/client.ts";
export { Future, type FutureStatus } from "./client/future.ts";
export { LocalCluster, type LocalClusterOptions } from "./client/local-cluster.ts";
export { TaskError, CancelledError, SchedulerLostError, TimeoutError } from "./client/errors.ts";
export { KilledWorkerError, LostDataError, MissingDependencyError, FetchError } from "./client/errors.ts";
export { ShoalError, isRetriable } from "./utils/errors.ts";
export { CommClosedError, RequestTimeoutError, ConnectError, HandshakeError, ProtocolError, AddressError, type HandshakeRefusal } from "./comm/errors.ts";
export { delayed, Delayed, type DelayedOptions } from "./graph/delayed.ts";
export { FunctionShippingError, CodeLoadError } from "./code/errors.ts";
export { SchedulerServer, type SchedulerOptions } from "./scheduler/server.ts";
export { WorkerServer, type WorkerOptions } from "./worker/server.ts";
export { isMain } from "./utils/is-main.ts";
export { registerClass, wireClass, type Wire, type ClassCodec } from "./protocol/serialize.ts";
export { VERSION } from "./version.ts";
// Dashboard and progress (imports the engine, never the reverse). Importing
// `shoal` has no side effects: a LocalCluster loads the dashboard when asked
// for one (`dashboard: true`, or an address).
export { startDashboard, Dashboard, type DashboardOptions, progress, type ProgressInput, type ProgressOptions, type ProgressSummary } from "./dashboard/index.ts";
export { DataFrame, type FrameMergeOptions, type FrameGroupByOptions, type FrameWriteOptions, type TopOptions } from "./dataframe/frame.ts";
export { readCsv, readJsonLines, readParquet, fromFrame, fromRecords, DEFAULT_BLOCKSIZE, type ReadCsvOptions, type ReadJsonLinesOptions } from "./dataframe/frame-read.ts";
export { compute, setDefaultClient, LazyScalar, type Computable, type Computed } from "./dataframe/frame-compute.ts";
export { col, lit, when, Expr, type ExprNode, type ColumnOrExpr } from "./dataframe/frame-expr.ts";
export { CsvParseError, DataFrameArgumentError, EngineError, ExpressionTypeError } from "./dataframe/errors.ts";
export type { ColumnType, Schema } from "./dataframe/schema.ts";
export type { Frame } from "./dataframe/engine.ts";
export { generateStacklite, type StackliteOptions, type StackliteResult } from "./datasets/stacklite.ts";
export type { AggSpec, AggName } from "./dataframe/groupby.ts";
// Bag: `readText` here; JSON lines as `Bag.readJsonLines` (the top-level `readJsonLines` is the DataFrame reader).
export { Bag, readText, defaultClient, BagArgumentError, BagTaskError, JsonLinesParseError, type ComputeOptions, type FromSequenceOptions, type ReadTextOptions, type ShuffleOptions } from "./bag/index.ts";
export { MRJob, MRStep, sumValues, maxValues, minValues, foldValues, JSONProtocol, JSONValueProtocol, RawProtocol, RawValueProtocol, runJob, runStreaming, JobDefinitionError, MapReduceTaskError, type Protocol, type JobResult, type RunJobOptions, type Counters } from "./mapreduce/index.ts";
// Elastic: multiprocessing-style pools and bounded-concurrency async maps (more in `shoal/elastic`).
export { pool, Pool, mapConcurrent, type PoolOptions, type PoolMapOptions, type MapConcurrentOptions } from "./elastic/index.ts";
