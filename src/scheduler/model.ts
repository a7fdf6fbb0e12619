/**
 * The scheduler's data model: tasks, task groups, workers and clients.
 * Plain objects; all behaviour lives in {@link SchedulerState}.
 */
import type { ErrorRecord } from "../protocol/messages.ts";
import type { Payload } from "../protocol/serialize.ts";

export const TaskStatus = {
  released: "released",
  waiting: "waiting",
  queued: "queued",
  noWorker: "no-worker",
  processing: "processing",
  memory: "memory",
  erred: "erred",
  forgotten: "forgotten",
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export { keyPrefix } from "../protocol/keys.ts";

export class TaskGroup {
  /** Live tasks of this group (not forgotten). */
  size = 0;
  durationSum = 0;
  durationCount = 0;
  nbytesSum = 0;
  /** Distinct dependency keys of members, tracked up to a small cap (root-ish test). */
  readonly depKeys = new Set<string>();
  readonly counts: Record<string, number> = {};
  constructor(readonly name: string) {}

  avgDuration(): number | null {
    return this.durationCount > 0 ? this.durationSum / this.durationCount : null;
  }
}

export class TaskState {
  state: TaskStatus = TaskStatus.released;
  /** Recipe; null for data scattered by a client (cannot be recomputed). */
  spec: Payload | null;
  readonly dependencies = new Set<TaskState>();
  readonly dependents = new Set<TaskState>();
  /** Dependencies not yet in memory (only while waiting). */
  readonly waitingOn = new Set<TaskState>();
  /** Dependents that still need this task's result. */
  readonly waiters = new Set<TaskState>();
  readonly whoWants = new Set<ClientState>();
  readonly whoHas = new Set<WorkerState>();
  processingOn: WorkerState | null = null;
  priority: number[] = [0, 0];
  nbytes = -1;
  type = "";
  inline: Payload | null = null;
  /** Times this task was executing on a worker that died. */
  suspicious = 0;
  allowedFailures: number;
  retries = 0;
  exception: ErrorRecord | null = null;
  exceptionBlame: TaskState | null = null;
  /** Assignment counter; a result is accepted only from the current run. */
  runId = 0;
  /** The worker reported that it started executing the current run. */
  executing = false;
  expectedDuration = 0;
  /** Code bundles the task needs (content hashes). */
  code: string[] | undefined = undefined;
  /** Heap bookkeeping while queued. */
  heapIndex = -1;

  constructor(
    readonly key: string,
    spec: Payload | null,
    readonly group: TaskGroup,
    allowedFailures: number,
  ) {
    this.spec = spec;
    this.allowedFailures = allowedFailures;
  }
}

export class WorkerState {
  readonly processing = new Set<TaskState>();
  readonly hasWhat = new Set<TaskState>();
  /** Expected seconds of work assigned and not finished. */
  occupancy = 0;
  /** Bytes of results held. */
  nbytes = 0;
  status: "running" | "paused" | "closing" = "running";
  lastSeen: number;
  metrics: Record<string, number> = {};
  /** Tasks executing right now, as last reported. */
  executingCount = 0;

  constructor(
    readonly address: string,
    readonly name: string,
    readonly nthreads: number,
    readonly memoryLimit: number,
    readonly host: string,
    readonly pid: number,
    now: number,
  ) {
    this.lastSeen = now;
  }
}

export class ClientState {
  readonly wants = new Set<TaskState>();
  constructor(readonly id: string) {}
}
