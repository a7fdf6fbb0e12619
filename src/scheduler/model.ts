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

/**
 * The set every task and worker field starts as: shared and empty, so that
 * a task costs no set until it needs one (most tasks never have waiters or
 * several holders). Replace it before adding: {@link setAdd}. Writing to it
 * is a bug and throws.
 */
class NoneSet<T> extends Set<T> {
  override add(): this {
    throw new Error("internal error: add() on the shared empty set (use setAdd)");
  }
}
const NONE = new NoneSet<never>();

/** `new Set()` allocated lazily: the shared empty set until the first member. */
export function emptySet<T>(): Set<T> {
  return NONE as unknown as Set<T>;
}

/** Adds `v` to `owner[field]`, replacing the shared empty set by a real one first. */
export function setAdd<O extends object, K extends keyof O>(owner: O, field: K, v: O[K] extends Set<infer V> ? V : never): void {
  let set = owner[field] as Set<unknown>;
  if (set === NONE) {
    set = new Set();
    owner[field] = set as O[K];
  }
  set.add(v);
}

/**
 * One task. Kept small (the scheduler holds one per key of every graph, a
 * million at a time): relation sets start as the shared empty set
 * ({@link emptySet}), the priority is two numbers, and no closure is kept.
 */
export class TaskState {
  state: TaskStatus = TaskStatus.released;
  /** Recipe; null for data scattered by a client (cannot be recomputed). */
  spec: Payload | null;
  dependencies: Set<TaskState> = emptySet();
  dependents: Set<TaskState> = emptySet();
  /** Dependencies not yet in memory (only while waiting). */
  waitingOn: Set<TaskState> = emptySet();
  /** Dependents that still need this task's result. */
  waiters: Set<TaskState> = emptySet();
  whoWants: Set<ClientState> = emptySet();
  whoHas: Set<WorkerState> = emptySet();
  processingOn: WorkerState | null = null;
  /** Priority, compared as the pair (generation, order): the graph's submission number, then the client's order within it. */
  generation = 0;
  order = 0;
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
  /** Held by a graph still arriving in parts: needed until its last part (see `SchedulerState.updateGraph`). */
  held = false;

  constructor(
    readonly key: string,
    spec: Payload | null,
    readonly group: TaskGroup,
    allowedFailures: number,
  ) {
    this.spec = spec;
    this.allowedFailures = allowedFailures;
  }

  /** The priority as the wire and the worker see it: `[generation, order]`. */
  get priority(): number[] {
    return [this.generation, this.order];
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
  /** Position in the scheduler's heap of running workers by load (-1: not in it). */
  heapIndex = -1;

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

/**
 * One logged transition: key, start state, finish state, the stimulus that
 * caused it (derived from the incoming message), and the scheduler's clock
 * (seconds) when it happened.
 */
export type TransitionLogEntry = [key: string, start: TaskStatus, finish: TaskStatus, stimulusId: string, time: number];

/**
 * The last `capacity` transitions, in a ring of parallel arrays (no
 * allocation per entry, so logging every transition costs a few stores).
 * A capacity of 0 keeps nothing.
 */
export class TransitionLog {
  private readonly keys: string[];
  private readonly starts: TaskStatus[];
  private readonly finishes: TaskStatus[];
  private readonly stimuli: string[];
  private readonly times: Float64Array;
  private next = 0;
  /** Transitions logged since the start (including those overwritten). */
  total = 0;

  constructor(readonly capacity: number) {
    this.keys = new Array<string>(capacity);
    this.starts = new Array<TaskStatus>(capacity);
    this.finishes = new Array<TaskStatus>(capacity);
    this.stimuli = new Array<string>(capacity);
    this.times = new Float64Array(capacity);
  }

  /** Entries held now (at most `capacity`). */
  get size(): number {
    return Math.min(this.total, this.capacity);
  }

  push(key: string, start: TaskStatus, finish: TaskStatus, stimulusId: string, time: number): void {
    if (this.capacity === 0) return;
    const i = this.next;
    this.keys[i] = key;
    this.starts[i] = start;
    this.finishes[i] = finish;
    this.stimuli[i] = stimulusId;
    this.times[i] = time;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    this.total++;
  }

  /** The held entries whose key is in `keys` (all when omitted), oldest first. */
  entries(keys?: ReadonlySet<string>): TransitionLogEntry[] {
    const n = this.size;
    const first = this.total > this.capacity ? this.next : 0;
    const out: TransitionLogEntry[] = [];
    for (let j = 0; j < n; j++) {
      let i = first + j;
      if (i >= this.capacity) i -= this.capacity;
      const key = this.keys[i]!;
      if (keys !== undefined && !keys.has(key)) continue;
      out.push([key, this.starts[i]!, this.finishes[i]!, this.stimuli[i]!, this.times[i]!]);
    }
    return out;
  }
}
