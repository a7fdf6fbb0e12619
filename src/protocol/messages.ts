/**
 * Every message that crosses a process boundary, defined once. Messages are
 * plain objects with an `op`; binary user data travels as {@link Payload}s.
 */
import { arr, bool, int, lazy, num, obj, opt, rec, str, tuple, payload, unknownValue, validate, type Infer, type Schema } from "./schema.ts";

/** A failure that crossed a process boundary, rebuilt on the other side. */
export interface ErrorRecord {
  name: string;
  message: string;
  stack: string;
  /** Class-specific fields (task key, worker, file, line ...). */
  data?: Record<string, unknown>;
  cause?: ErrorRecord;
}

// ------------------------------------------------------------- the schemas

const errorRecordSchema: Schema<ErrorRecord> = obj({
  name: str,
  message: str,
  stack: str,
  data: opt(rec(unknownValue)),
  cause: opt(lazy(() => errorRecordSchema)),
});
export { errorRecordSchema };

const keys = arr(str);

const taskSchema = obj({
  key: str,
  spec: payload,
  deps: keys,
  order: num,
  allowedFailures: opt(int),
  retries: opt(int),
  code: opt(keys),
});

const depLocationSchema = obj({ who: keys, nbytes: num });

/**
 * The version of the message protocol (not of the package): peers whose
 * versions differ refuse each other in the handshake, naming both.
 */
export const PROTOCOL_VERSION = 2;

/** Every message, by op: its fields and, through {@link Msg}, its type. */
export const Messages = {
  // handshake (any peer -> scheduler), after the connection handshake of comm/handshake.ts
  "register-worker": obj({
    name: str,
    address: str,
    nthreads: int,
    memoryLimit: num,
    pid: int,
    host: str,
    version: str,
    /** Random per worker process: a registration for a live worker's address with another instance is refused. */
    instance: str,
    /** Keys already held (a worker rejoining after a network split). */
    keys,
  }),
  "register-client": obj({ id: opt(str), version: opt(str) }),
  // client -> scheduler
  /**
   * Tasks and the keys the client wants. A large graph comes in parts with
   * the same `graph` id, `more: true` on all but the last; a part's deps are
   * in it or in earlier parts.
   */
  "update-graph": obj({ tasks: arr(taskSchema), keys, graph: opt(str), more: opt(bool), progress: opt(str) }),
  "release-keys": obj({ keys }),
  "cancel-keys": obj({ keys }),
  gather: obj({ keys }),
  scatter: obj({ data: rec(payload), broadcast: opt(bool) }),
  /** The cluster description; `resetLoopStats` restarts the event-loop stall counts after this reply. */
  identity: obj({ resetLoopStats: opt(bool) }),
  "put-code": obj({ hash: str, code: payload }),
  "get-code": obj({ hash: str }),
  "close-client": obj({}),
  /** The transitions the scheduler logged for these keys (Dask's `story`); reply `{ story: StoryEntry[] }`. */
  story: obj({ keys }),
  /**
   * A progress watch (see scheduler/progress.ts): counts by task group of the
   * tasks sent with `update-graph.progress` = `watch`, plus `add`ed keys;
   * `close` drops it. Reply `{ groups: [group, done, erred, total][], pending }`.
   */
  progress: obj({ watch: str, add: opt(keys), close: opt(bool) }),
  // scheduler -> client
  "key-in-memory": obj({ key: str, type: opt(str), nbytes: opt(num), inline: opt(payload) }),
  "key-erred": obj({ key: str, error: errorRecordSchema, blame: opt(str) }),
  "key-cancelled": obj({ key: str }),
  // worker -> scheduler
  "task-started": obj({ key: str, runId: int }),
  "task-finished": obj({
    key: str,
    runId: int,
    nbytes: num,
    type: str,
    start: num,
    stop: num,
    /** Small results ride along so that clients can be answered without a worker round trip. */
    inline: opt(payload),
    /** The worker's stimulus that produced this message (its transition log names it too). */
    stimulusId: opt(str),
  }),
  "task-erred": obj({ key: str, runId: int, error: errorRecordSchema, start: num, stop: num, stimulusId: opt(str) }),
  "missing-data": obj({ key: str, errant: str }),
  "add-keys": obj({ keys }),
  /** Where these keys are now (a worker whose transfer failed asks before it gives up); reply `{ whoHas: { key: addresses } }`. */
  "who-has": obj({ keys }),
  heartbeat: obj({ metrics: rec(num), transfers: opt(arr(tuple(num, num, num, str))) }),
  unregister: obj({}),
  // scheduler -> worker
  "compute-task": obj({ key: str, spec: payload, deps: rec(depLocationSchema), priority: arr(num), runId: int, code: opt(keys), stimulusId: opt(str) }),
  "free-keys": obj({ keys }),
  "put-data": obj({ key: str, value: payload, nbytes: num }),
  "close-worker": obj({ reason: opt(str) }),
  // peer data plane (worker or client -> a worker's data port)
  "get-data": obj({ keys }),
  // a peer's refusal of what we sent, just before it closes the connection
  "protocol-error": obj({ message: str }),
} as const;

export type OpName = keyof typeof Messages;
/** The message of one op, with its `op` field. */
export type Msg<K extends OpName> = { op: K } & Infer<(typeof Messages)[K]>;

/** Ops by name, for call sites: `Op.computeTask`. */
export const Op = {
  registerClient: "register-client",
  registerWorker: "register-worker",
  updateGraph: "update-graph",
  releaseKeys: "release-keys",
  cancelKeys: "cancel-keys",
  gather: "gather",
  scatter: "scatter",
  identity: "identity",
  putCode: "put-code",
  getCode: "get-code",
  closeClient: "close-client",
  story: "story",
  progress: "progress",
  whoHas: "who-has",
  keyInMemory: "key-in-memory",
  keyErred: "key-erred",
  keyCancelled: "key-cancelled",
  taskStarted: "task-started",
  taskFinished: "task-finished",
  taskErred: "task-erred",
  missingData: "missing-data",
  addKeys: "add-keys",
  heartbeat: "heartbeat",
  unregister: "unregister",
  computeTask: "compute-task",
  freeKeys: "free-keys",
  putData: "put-data",
  closeWorker: "close-worker",
  getData: "get-data",
  protocolError: "protocol-error",
  reply: "reply",
} as const satisfies Record<string, OpName | "reply">;

/** The ops one kind of peer may send to another; anything else is refused at the door. */
export type OpSet = ReadonlySet<string>;
const opSet = (...ops: OpName[]): OpSet => new Set<string>(ops);

export const Accepts = {
  /** A scheduler, from a connection before it registered. */
  schedulerUnregistered: opSet("register-worker", "register-client"),
  /** A scheduler, from a registered worker. */
  schedulerFromWorker: opSet("task-started", "task-finished", "task-erred", "missing-data", "add-keys", "who-has", "heartbeat", "unregister", "get-code"),
  /** A scheduler, from a registered client. */
  schedulerFromClient: opSet("update-graph", "release-keys", "cancel-keys", "gather", "scatter", "identity", "put-code", "close-client", "story", "progress"),
  /** A worker, from its scheduler. */
  workerFromScheduler: opSet("compute-task", "free-keys", "put-data", "close-worker"),
  /** A worker's data port, from peers and clients. */
  dataPort: opSet("get-data"),
  /** A client, from its scheduler. */
  clientFromScheduler: opSet("key-in-memory", "key-erred", "key-cancelled"),
  /** Connections that only send requests and read replies. */
  none: opSet(),
} as const;

/**
 * Checks an incoming message against its op's schema. Returns null when it
 * fits, else a sentence naming the op and the field.
 */
export function checkMessage(m: unknown, accepted: OpSet): string | null {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return `a message must be an object with an "op", got ${m === null ? "null" : Array.isArray(m) ? "an array" : typeof m}`;
  const op = (m as { op?: unknown }).op;
  if (typeof op !== "string") return `a message must have a string "op", got ${typeof op}`;
  if (op === "reply" || op === "protocol-error") return null; // checked by the requester (see Comm)
  if (!accepted.has(op)) return Object.hasOwn(Messages, op) ? `op '${op}' is not accepted on this connection` : `unknown op '${op.slice(0, 64)}'`;
  const e = validate(Messages[op as OpName], m);
  return e === null ? null : `${op}: ${e}`;
}

// --------------------------------------------------------- types of call sites

/** A task as the client submits it. `spec` is null for scattered data. */
export type TaskMsg = Infer<typeof taskSchema>;
export type DepLocation = Infer<typeof depLocationSchema>;
export type RegisterWorkerMsg = Msg<"register-worker">;
export type ComputeTaskMsg = Msg<"compute-task">;
export type TaskFinishedMsg = Msg<"task-finished">;
export type TaskErredMsg = Msg<"task-erred">;

/** Results up to this size (bytes, estimated) ride in control messages. */
export const INLINE_RESULT_BYTES = 64 * 1024;
