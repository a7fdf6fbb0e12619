/**
 * Every message that crosses a process boundary, defined once. Messages are
 * plain objects with an `op`; binary user data travels as {@link Payload}s.
 */
import type { Payload } from "./serialize.ts";

/** A failure that crossed a process boundary, rebuilt on the other side. */
export interface ErrorRecord {
  name: string;
  message: string;
  stack: string;
  /** Class-specific fields (task key, worker, file, line ...). */
  data?: Record<string, unknown>;
  cause?: ErrorRecord;
}

/** A task as the client submits it. `spec` is null for scattered data. */
export interface TaskMsg {
  key: string;
  spec: Payload;
  deps: string[];
  /** Client-side order within the submission (lower runs first). */
  order: number;
  /** Failures from dead workers tolerated before the task errs (default from scheduler config). */
  allowedFailures?: number;
  /** User-exception retries (default 0). */
  retries?: number;
  /** Content hashes of the code bundles the task needs. */
  code?: string[];
}

export interface DepLocation {
  who: string[];
  nbytes: number;
}

export const Op = {
  // handshake (any peer -> scheduler)
  registerClient: "register-client",
  registerWorker: "register-worker",
  registered: "registered",
  refused: "refused",
  // client -> scheduler
  updateGraph: "update-graph",
  releaseKeys: "release-keys",
  cancelKeys: "cancel-keys",
  gather: "gather",
  scatter: "scatter",
  identity: "identity",
  putCode: "put-code",
  getCode: "get-code",
  closeClient: "close-client",
  // scheduler -> client
  keyInMemory: "key-in-memory",
  keyErred: "key-erred",
  keyCancelled: "key-cancelled",
  // worker -> scheduler
  taskStarted: "task-started",
  taskFinished: "task-finished",
  taskErred: "task-erred",
  missingData: "missing-data",
  addKeys: "add-keys",
  heartbeat: "heartbeat",
  unregister: "unregister",
  // scheduler -> worker
  computeTask: "compute-task",
  freeKeys: "free-keys",
  putData: "put-data",
  closeWorker: "close-worker",
  // peer data plane
  getData: "get-data",
  // generic replies
  reply: "reply",
} as const;
export type OpName = (typeof Op)[keyof typeof Op];

export interface RegisterWorkerMsg {
  op: typeof Op.registerWorker;
  name: string;
  address: string;
  nthreads: number;
  memoryLimit: number;
  pid: number;
  host: string;
  version: string;
  token?: string;
  /** Keys already held (a worker rejoining after a network split). */
  keys: string[];
}

export interface ComputeTaskMsg {
  op: typeof Op.computeTask;
  key: string;
  spec: Payload;
  deps: Record<string, DepLocation>;
  priority: number[];
  runId: number;
  code?: string[];
}

export interface TaskFinishedMsg {
  op: typeof Op.taskFinished;
  key: string;
  runId: number;
  nbytes: number;
  type: string;
  start: number;
  stop: number;
  /** Small results ride along so that clients can be answered without a worker round trip. */
  inline?: Payload;
}

export interface TaskErredMsg {
  op: typeof Op.taskErred;
  key: string;
  runId: number;
  error: ErrorRecord;
  start: number;
  stop: number;
}

/** Results up to this size (bytes, estimated) ride in control messages. */
export const INLINE_RESULT_BYTES = 64 * 1024;
