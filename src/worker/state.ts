/**
 * The worker as a synchronous state machine with no I/O, in the shape of
 * dask/distributed's `worker_state_machine.py`: one entry,
 * {@link WorkerStateMachine.handle}, takes a typed {@link WorkerEvent} and
 * returns the {@link Instruction}s for the server to carry out (execute a
 * task on a thread, fetch from a peer, ask the scheduler where keys are,
 * send a message, drop stored data). Every state change goes through
 * `transition`, which checks the edge against {@link EDGES}, records it in a
 * bounded transition log (with the stimulus that caused it; see `story`),
 * and, under validation, checks the invariants of the task it touched.
 *
 * Task states on a worker:
 * - released: a record just made, about to move on
 * - waiting: assigned, some dependencies not here yet
 * - fetch / flight / missing: a dependency to get from a peer (flight = a
 *   transfer is running; missing = no reachable peer is known to have it)
 * - ready: every input is here; waits for a free thread, by priority
 * - executing: running on a thread
 * - memory: result stored here
 * - error: the task threw (reported to the scheduler)
 * - cancelled: freed while executing or in flight; what arrives is dropped
 * - resumed: cancelled while in flight, then assigned here again: the
 *   transfer goes on and its data is used; if it fails, the task is computed
 * - forgotten: removed (only in the log)
 *
 * Transfer failures are not data loss: when a peer cannot be reached, the
 * keys are fetched from another holder; when none is left, the worker asks
 * the scheduler where they are (`who-has`, after a backoff) instead of
 * reporting them missing. Only a peer's own answer that it lacks a key is
 * reported (`missing-data`).
 */
import { Op, type ComputeTaskMsg, type ErrorRecord } from "../protocol/messages.ts";
import type { Payload } from "../protocol/serialize.ts";
import { comparePriority } from "../protocol/keys.ts";
import { Heap } from "../utils/heap.ts";

export const WorkerTaskStatus = {
  released: "released",
  waiting: "waiting",
  fetch: "fetch",
  flight: "flight",
  missing: "missing",
  ready: "ready",
  executing: "executing",
  memory: "memory",
  error: "error",
  cancelled: "cancelled",
  resumed: "resumed",
  forgotten: "forgotten",
} as const;
export type WorkerTaskStatus = (typeof WorkerTaskStatus)[keyof typeof WorkerTaskStatus];

const S = WorkerTaskStatus;

/** The allowed transitions; anything else is an {@link InvalidTransition}. */
export const EDGES: Readonly<Record<WorkerTaskStatus, readonly WorkerTaskStatus[]>> = {
  released: [S.waiting, S.ready, S.fetch, S.missing, S.memory, S.forgotten],
  waiting: [S.ready, S.forgotten],
  fetch: [S.flight, S.missing, S.waiting, S.ready, S.forgotten],
  flight: [S.memory, S.fetch, S.missing, S.waiting, S.ready, S.cancelled],
  missing: [S.fetch, S.waiting, S.ready, S.forgotten],
  ready: [S.executing, S.waiting, S.forgotten],
  executing: [S.memory, S.error, S.cancelled],
  memory: [S.forgotten],
  error: [S.forgotten],
  cancelled: [S.executing, S.resumed, S.forgotten],
  resumed: [S.memory, S.waiting, S.ready, S.cancelled],
  forgotten: [],
};

export class WorkerTask {
  state: WorkerTaskStatus = S.released;
  /** For cancelled/resumed: what the task was doing when it was cancelled. */
  previous: typeof S.executing | typeof S.flight | null = null;
  spec: Payload | null = null;
  priority: number[] = [0, 0];
  runId = 0;
  /** Assigned by the scheduler (as opposed to a dependency fetched for one). */
  assigned = false;
  readonly deps = new Set<WorkerTask>();
  readonly dependents = new Set<WorkerTask>();
  readonly waitingFor = new Set<WorkerTask>();
  readonly whoHas = new Set<string>();
  /** Peer of the transfer in flight. */
  flightPeer: string | null = null;
  /** Failed transfers in a row (backoff of who-has questions). */
  fetchFailures = 0;
  nbytes = 0;
  constructor(readonly key: string) {}
}

export type WorkerEvent =
  | { type: "compute-task"; msg: ComputeTaskMsg; stimulusId: string }
  | { type: "free-keys"; keys: readonly string[]; stimulusId: string }
  | { type: "put-data"; key: string; nbytes: number; stimulusId: string }
  /** Values stored here were lost (the executor thread holding them died). */
  | { type: "lost-data"; keys: readonly string[]; self: string; stimulusId: string }
  | { type: "execute-success"; key: string; runId: number; nbytes: number; typeName: string; start: number; stop: number; inline?: Payload | undefined; stimulusId: string }
  | { type: "execute-failure"; key: string; runId: number; error: ErrorRecord; start: number; stop: number; stimulusId: string }
  /** A transfer from `peer` ended: `got` arrived (key → nbytes); `missing` are keys the peer said it does not have. */
  | { type: "gather-success"; peer: string; got: Readonly<Record<string, number>>; missing: readonly string[]; stimulusId: string }
  /** A transfer from `peer` failed before an answer (unreachable, connection lost): not evidence that the data is gone. */
  | { type: "gather-failure"; peer: string; keys: readonly string[]; stimulusId: string }
  /** The scheduler's answer to a who-has question. */
  | { type: "who-has"; whoHas: Readonly<Record<string, readonly string[]>>; stimulusId: string }
  | { type: "pause" | "unpause"; stimulusId: string };

export type Instruction =
  | { type: "execute"; key: string; spec: Payload; runId: number; stimulusId: string }
  | { type: "gather"; peer: string; keys: string[]; stimulusId: string }
  /** Ask the scheduler where `keys` are, after `delayMs`, and feed the answer back as a `who-has` event. */
  | { type: "who-has"; keys: string[]; delayMs: number; stimulusId: string }
  | { type: "send"; msg: { op: string; [k: string]: unknown } }
  | { type: "delete"; key: string };

export interface WorkerStateConfig {
  nthreads: number;
  /** Concurrent transfers from peers. */
  maxConcurrentGathers: number;
  /** Bytes fetched from one peer in one request (batching). */
  gatherBatchBytes: number;
  /** Check invariants after every transition (tests; SHOAL_VALIDATE=1). */
  validate: boolean;
  /** Transitions kept in the log for `story` (0 = none). */
  transitionLogSize: number;
}

/** One logged transition: key, from, to, stimulus id, time (seconds since the epoch, as the scheduler's log). */
export type TransitionLogEntry = [key: string, from: WorkerTaskStatus, to: WorkerTaskStatus, stimulusId: string, time: number];

/** A transition not in {@link EDGES}, or an invariant that does not hold: a bug in Shoal. */
export class InvalidTransition extends Error {
  override name = "InvalidTransition";
  readonly code = "worker-invalid-transition";
  readonly retriable = false;
  constructor(readonly key: string, readonly from: WorkerTaskStatus, readonly to: WorkerTaskStatus, readonly stimulusId: string, readonly story: TransitionLogEntry[]) {
    super(`worker task ${key}: invalid transition ${from} -> ${to} (stimulus ${stimulusId}); story: ${JSON.stringify(story.slice(-10))}`);
  }
}

export class WorkerInvariantError extends Error {
  override name = "WorkerInvariantError";
  readonly code = "worker-invariant";
  readonly retriable = false;
}

export class WorkerStateMachine {
  readonly tasks = new Map<string, WorkerTask>();
  /** Ready tasks by priority; entries that left `ready` are skipped when popped. */
  private readonly ready = new Heap<WorkerTask>((a, b) => comparePriority(a.priority, b.priority));
  readonly executing = new Set<WorkerTask>();
  private readonly inFlightPeers = new Set<string>();
  /** Dependencies in state fetch (may hold stale members; checked when used). */
  private readonly toFetch = new Set<WorkerTask>();
  private out: Instruction[] = [];
  private stimulusId = "";
  private readonly touched = new Set<WorkerTask>();
  /** The transition log: a ring of parallel arrays (no allocation per entry). */
  private readonly logKey: string[] = [];
  private readonly logFrom: WorkerTaskStatus[] = [];
  private readonly logTo: WorkerTaskStatus[] = [];
  private readonly logStimulus: string[] = [];
  private logTime: Float64Array = new Float64Array(0);
  private logNext = 0;
  private logCount = 0;
  paused = false;
  readonly config: WorkerStateConfig;
  /** Bytes of results stored here, as the state machine knows them. */
  managedBytes = 0;
  /** Injected clock (seconds), for the log. */
  now: () => number = () => Date.now() / 1000;

  constructor(config: Partial<WorkerStateConfig> & { nthreads: number }) {
    this.config = { maxConcurrentGathers: 10, gatherBatchBytes: 50e6, validate: false, transitionLogSize: 50_000, ...config };
  }

  /** The one entry: an event in, the instructions it causes out. */
  handle(ev: WorkerEvent): Instruction[] {
    this.stimulusId = ev.stimulusId;
    switch (ev.type) {
      case "compute-task": this.computeTask(ev.msg); break;
      case "free-keys": this.freeKeys(ev.keys); break;
      case "put-data": this.putData(ev.key, ev.nbytes); break;
      case "lost-data": this.lostData(ev.keys, ev.self); break;
      case "execute-success": this.executeSuccess(ev); break;
      case "execute-failure": this.executeFailure(ev); break;
      case "gather-success": this.gatherSuccess(ev.peer, ev.got, ev.missing); break;
      case "gather-failure": this.gatherFailure(ev.peer, ev.keys); break;
      case "who-has": this.whoHasUpdate(ev.whoHas); break;
      case "pause": this.paused = true; break;
      case "unpause": this.paused = false; break;
    }
    this.ensureCommunicating();
    this.ensureComputing();
    if (this.config.validate) this.validateTouched();
    this.touched.clear();
    const o = this.out;
    this.out = [];
    return o;
  }

  /** The logged transitions of these keys, oldest first (Dask's `story`). */
  story(...keys: string[]): TransitionLogEntry[] {
    const want = new Set(keys);
    const n = this.logCount;
    const size = this.config.transitionLogSize;
    const first = n < size ? 0 : this.logNext;
    const out: TransitionLogEntry[] = [];
    for (let i = 0; i < n; i++) {
      const j = (first + i) % size;
      if (want.has(this.logKey[j]!)) out.push([this.logKey[j]!, this.logFrom[j]!, this.logTo[j]!, this.logStimulus[j]!, this.logTime[j]!]);
    }
    return out;
  }

  // ------------------------------------------------------------------ events

  private computeTask(m: ComputeTaskMsg): void {
    let ts = this.tasks.get(m.key);
    if (ts) {
      switch (ts.state) {
        case S.memory:
          // already here (e.g. fetched as a dependency): report at once
          ts.assigned = true;
          ts.runId = m.runId;
          this.out.push({ type: "send", msg: { op: Op.taskFinished, key: ts.key, runId: m.runId, nbytes: ts.nbytes, type: "", start: 0, stop: 0, stimulusId: this.stimulusId } });
          return;
        case S.executing:
          ts.runId = m.runId;
          ts.assigned = true;
          return;
        case S.cancelled:
          ts.assigned = true;
          ts.runId = m.runId;
          if (ts.previous === S.executing) {
            // the running execution produces the result for the new run
            this.transition(ts, S.executing);
            return;
          }
          // in flight: the transfer goes on; if it fails the task is computed here
          this.setup(ts, m);
          this.transition(ts, S.resumed);
          return;
        case S.flight:
        case S.resumed:
          this.setup(ts, m);
          return;
        case S.waiting:
        case S.ready: {
          // assigned again (a new run): new inputs may be needed, or all be here now
          this.setup(ts, m);
          if (ts.state === S.ready && ts.waitingFor.size > 0) this.transition(ts, S.waiting);
          else if (ts.state === S.waiting && ts.waitingFor.size === 0) {
            this.transition(ts, S.ready);
            this.ready.push(ts);
          }
          return;
        }
        case S.error:
          this.forget(ts);
          ts = undefined;
          break;
        default:
          break;
      }
    }
    if (!ts) {
      ts = new WorkerTask(m.key);
      this.tasks.set(m.key, ts);
    }
    this.setup(ts, m);
    this.toRunnable(ts);
  }

  /** Records what a compute-task says: spec, priority, run, dependencies and where they are. */
  private setup(ts: WorkerTask, m: ComputeTaskMsg): void {
    ts.assigned = true;
    ts.spec = m.spec;
    ts.priority = m.priority;
    ts.runId = m.runId;
    ts.waitingFor.clear();
    for (const [dk, loc] of Object.entries(m.deps)) {
      let d = this.tasks.get(dk);
      if (!d) {
        d = new WorkerTask(dk);
        d.priority = m.priority;
        this.tasks.set(dk, d);
      }
      for (const w of loc.who) d.whoHas.add(w);
      if (loc.nbytes > 0 && d.state !== S.memory) d.nbytes = loc.nbytes;
      ts.deps.add(d);
      d.dependents.add(ts);
      if (d.state === S.released) this.transition(d, d.whoHas.size > 0 ? S.fetch : S.missing);
      else if (d.state === S.missing && d.whoHas.size > 0) this.transition(d, S.fetch);
      if (d.state === S.fetch) this.toFetch.add(d);
      if (d.state !== S.memory) ts.waitingFor.add(d);
    }
  }

  /** An assigned task whose inputs are known: ready when all are here, else waiting. */
  private toRunnable(ts: WorkerTask): void {
    if (ts.waitingFor.size === 0) {
      this.transition(ts, S.ready);
      this.ready.push(ts);
    } else this.transition(ts, S.waiting);
  }

  private freeKeys(keys: readonly string[]): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts) continue;
      ts.assigned = false;
      this.releaseIfUnneeded(ts);
    }
  }

  private lostData(keys: readonly string[], self: string): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts || ts.state !== S.memory) continue;
      ts.assigned = false;
      this.forget(ts, false);
      this.out.push({ type: "send", msg: { op: Op.missingData, key: k, errant: self } });
    }
  }

  private putData(key: string, nbytes: number): void {
    let ts = this.tasks.get(key);
    if (ts && ts.state === S.memory) {
      ts.assigned = true;
      return;
    }
    if (ts && (ts.state === S.executing || ts.state === S.cancelled || ts.state === S.flight || ts.state === S.resumed)) {
      // a value computed or fetched here anyway: keep the scattered one, drop what arrives
      this.forget(ts, false);
    }
    ts = this.tasks.get(key);
    if (!ts) {
      ts = new WorkerTask(key);
      this.tasks.set(key, ts);
    }
    ts.assigned = true;
    if (ts.state !== S.released) this.transitionVia(ts, S.released);
    this.toMemory(ts, nbytes);
  }

  private executeSuccess(ev: Extract<WorkerEvent, { type: "execute-success" }>): void {
    const ts = this.tasks.get(ev.key);
    if (!ts || !this.executing.has(ts)) {
      // not ours any more (forgotten, or replaced by scattered data)
      if (!ts || ts.state !== S.memory) this.out.push({ type: "delete", key: ev.key });
      return;
    }
    this.executing.delete(ts);
    if (ts.state === S.cancelled) {
      this.forget(ts, false);
      this.out.push({ type: "delete", key: ev.key });
      return;
    }
    this.toMemory(ts, ev.nbytes);
    const msg: { op: string; [k: string]: unknown } = { op: Op.taskFinished, key: ev.key, runId: ts.runId, nbytes: ev.nbytes, type: ev.typeName, start: ev.start, stop: ev.stop, stimulusId: this.stimulusId };
    if (ev.inline) msg["inline"] = ev.inline;
    this.out.push({ type: "send", msg });
  }

  private executeFailure(ev: Extract<WorkerEvent, { type: "execute-failure" }>): void {
    const ts = this.tasks.get(ev.key);
    if (!ts || !this.executing.has(ts)) return;
    this.executing.delete(ts);
    if (ts.state === S.cancelled) {
      this.forget(ts);
      return;
    }
    this.transition(ts, S.error);
    this.out.push({ type: "send", msg: { op: Op.taskErred, key: ev.key, runId: ts.runId, error: ev.error, start: ev.start, stop: ev.stop, stimulusId: this.stimulusId } });
    this.releaseDeps(ts);
  }

  private gatherSuccess(peer: string, got: Readonly<Record<string, number>>, missing: readonly string[]): void {
    this.inFlightPeers.delete(peer);
    for (const [k, nbytes] of Object.entries(got)) {
      const ts = this.tasks.get(k);
      if (!ts || ts.flightPeer !== peer || (ts.state !== S.flight && ts.state !== S.resumed && ts.state !== S.cancelled)) {
        if (!ts || ts.state !== S.memory) this.out.push({ type: "delete", key: k });
        continue;
      }
      ts.flightPeer = null;
      ts.fetchFailures = 0;
      if (ts.state === S.cancelled) {
        this.forget(ts, false);
        this.out.push({ type: "delete", key: k });
        continue;
      }
      const report = ts.state === S.resumed || ts.assigned;
      this.toMemory(ts, nbytes);
      if (report) this.out.push({ type: "send", msg: { op: Op.taskFinished, key: k, runId: ts.runId, nbytes, type: "", start: 0, stop: 0, stimulusId: this.stimulusId } });
      else if (ts.dependents.size === 0) this.releaseIfUnneeded(ts);
    }
    for (const k of missing) {
      const ts = this.tasks.get(k);
      if (!ts || ts.flightPeer !== peer) continue;
      // the holder itself says it lacks the key: that is definitive
      ts.whoHas.delete(peer);
      this.out.push({ type: "send", msg: { op: Op.missingData, key: k, errant: peer } });
      this.afterFailedFetch(ts);
    }
  }

  private gatherFailure(peer: string, keys: readonly string[]): void {
    this.inFlightPeers.delete(peer);
    const ask: string[] = [];
    let failures = 0;
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts || ts.flightPeer !== peer) continue;
      // unreachable is not missing: try the other holders; ask the scheduler when none is left
      ts.whoHas.delete(peer);
      ts.fetchFailures++;
      failures = Math.max(failures, ts.fetchFailures);
      this.afterFailedFetch(ts);
      if (this.tasks.get(k) === ts && ts.state === S.missing) ask.push(k);
    }
    if (ask.length > 0) {
      this.out.push({ type: "who-has", keys: ask, delayMs: Math.min(5000, 50 * 2 ** Math.min(failures, 7)), stimulusId: this.stimulusId });
    }
  }

  private whoHasUpdate(whoHas: Readonly<Record<string, readonly string[]>>): void {
    for (const [k, who] of Object.entries(whoHas)) {
      const ts = this.tasks.get(k);
      if (!ts) continue;
      for (const w of who) ts.whoHas.add(w);
      if (ts.state === S.missing && ts.whoHas.size > 0) {
        this.transition(ts, S.fetch);
        this.toFetch.add(ts);
      }
    }
  }

  // ----------------------------------------------------------------- helpers

  private transition(ts: WorkerTask, to: WorkerTaskStatus): void {
    const from = ts.state;
    if (!EDGES[from].includes(to)) throw new InvalidTransition(ts.key, from, to, this.stimulusId, this.story(ts.key));
    if (to === S.cancelled || to === S.resumed) {
      if (from === S.executing || from === S.flight) ts.previous = from;
    } else if (to !== S.forgotten) ts.previous = null;
    ts.state = to;
    const size = this.config.transitionLogSize;
    if (size > 0) {
      if (this.logTime.length === 0) this.logTime = new Float64Array(size);
      const j = this.logNext;
      this.logKey[j] = ts.key;
      this.logFrom[j] = from;
      this.logTo[j] = to;
      this.logStimulus[j] = this.stimulusId;
      this.logTime[j] = this.now();
      this.logNext = (j + 1) % size;
      if (this.logCount < size) this.logCount++;
    }
    if (this.config.validate) this.touched.add(ts);
  }

  /** Goes to `to` through `released` where a direct edge does not exist (a re-use of a record). */
  private transitionVia(ts: WorkerTask, to: WorkerTaskStatus): void {
    if (EDGES[ts.state].includes(to)) this.transition(ts, to);
    else ts.state = to; // only `released`, the state of a fresh record
  }

  /** A transfer of `ts` ended without its data: fetch elsewhere, compute it (resumed), or wait for locations. */
  private afterFailedFetch(ts: WorkerTask): void {
    ts.flightPeer = null;
    if (ts.state === S.cancelled) {
      this.forget(ts);
      return;
    }
    if (ts.state === S.resumed) {
      this.toRunnable(ts);
      return;
    }
    if (ts.whoHas.size > 0) {
      this.transition(ts, S.fetch);
      this.toFetch.add(ts);
    } else this.transition(ts, S.missing);
  }

  private toMemory(ts: WorkerTask, nbytes: number): void {
    this.transition(ts, S.memory);
    ts.nbytes = nbytes;
    this.managedBytes += nbytes;
    this.releaseDeps(ts);
    for (const dep of ts.dependents) {
      if (dep.state === S.waiting && dep.waitingFor.delete(ts) && dep.waitingFor.size === 0) {
        this.transition(dep, S.ready);
        this.ready.push(dep);
      } else dep.waitingFor.delete(ts);
    }
  }

  /** After a task ran (or failed), its inputs may no longer be needed here. */
  private releaseDeps(ts: WorkerTask): void {
    for (const d of ts.deps) {
      d.dependents.delete(ts);
      this.releaseIfUnneeded(d);
    }
    ts.deps.clear();
    ts.waitingFor.clear();
  }

  private releaseIfUnneeded(ts: WorkerTask): void {
    if (ts.assigned || this.tasks.get(ts.key) !== ts) return;
    for (const dep of ts.dependents) {
      if (dep.state !== S.memory && dep.state !== S.error) return;
    }
    switch (ts.state) {
      case S.executing:
      case S.flight:
      case S.resumed:
        this.transition(ts, S.cancelled);
        return;
      case S.cancelled:
        return;
      default:
        this.forget(ts);
    }
  }

  /** Removes a task (and drops its stored value when it had one, unless told not to). */
  private forget(ts: WorkerTask, dropValue = true): void {
    if (ts.state === S.memory) {
      this.managedBytes -= ts.nbytes;
      if (dropValue) this.out.push({ type: "delete", key: ts.key });
    }
    if (ts.state === S.executing || ts.state === S.cancelled) this.executing.delete(ts);
    if (ts.flightPeer !== null) ts.flightPeer = null;
    this.tasks.delete(ts.key);
    for (const d of ts.deps) {
      d.dependents.delete(ts);
      this.releaseIfUnneeded(d);
    }
    ts.deps.clear();
    ts.waitingFor.clear();
    if (EDGES[ts.state].includes(S.forgotten)) this.transition(ts, S.forgotten);
    else ts.state = S.forgotten; // executing/flight replaced by scattered data (put-data)
  }

  private ensureComputing(): void {
    if (this.paused) return;
    while (this.executing.size < this.config.nthreads && this.ready.size > 0) {
      const ts = this.ready.pop()!;
      if (ts.state !== S.ready || this.tasks.get(ts.key) !== ts) continue;
      this.transition(ts, S.executing);
      this.executing.add(ts);
      this.out.push({ type: "execute", key: ts.key, spec: ts.spec!, runId: ts.runId, stimulusId: this.stimulusId });
    }
  }

  private ensureCommunicating(): void {
    if (this.inFlightPeers.size >= this.config.maxConcurrentGathers || this.toFetch.size === 0) return;
    const byPeer = new Map<string, { keys: string[]; bytes: number }>();
    const toFetch: WorkerTask[] = [];
    for (const t of this.toFetch) {
      if (t.state === S.fetch && this.tasks.get(t.key) === t) toFetch.push(t);
      else this.toFetch.delete(t);
    }
    toFetch.sort((a, b) => comparePriority(a.priority, b.priority));
    for (const ts of toFetch) {
      const peers = [...ts.whoHas].filter((p) => !this.inFlightPeers.has(p));
      if (peers.length === 0) continue;
      // prefer a peer we are already batching from
      let peer = peers.find((p) => byPeer.has(p));
      if (peer === undefined) {
        if (this.inFlightPeers.size + byPeer.size >= this.config.maxConcurrentGathers) continue;
        peer = peers[Math.floor(Math.random() * peers.length)]!;
      }
      let batch = byPeer.get(peer);
      if (!batch) {
        batch = { keys: [], bytes: 0 };
        byPeer.set(peer, batch);
      }
      if (batch.keys.length > 0 && batch.bytes + ts.nbytes > this.config.gatherBatchBytes) continue;
      batch.keys.push(ts.key);
      batch.bytes += Math.max(0, ts.nbytes);
      this.transition(ts, S.flight);
      ts.flightPeer = peer;
      this.toFetch.delete(ts);
    }
    for (const [peer, b] of byPeer) {
      this.inFlightPeers.add(peer);
      this.out.push({ type: "gather", peer, keys: b.keys, stimulusId: this.stimulusId });
    }
  }

  // -------------------------------------------------------------- validation

  private validateTouched(): void {
    for (const ts of this.touched) this.validateTask(ts);
    let executing = 0;
    for (const ts of this.executing) {
      executing++;
      if (ts.state !== S.executing && !(ts.state === S.cancelled && ts.previous === S.executing)) this.fail(ts, `is in the executing set in state ${ts.state}`);
    }
    if (executing > this.config.nthreads) throw new WorkerInvariantError(`${executing} tasks executing on ${this.config.nthreads} threads`);
  }

  private validateTask(ts: WorkerTask): void {
    if (ts.state === S.forgotten) {
      if (this.tasks.get(ts.key) === ts) this.fail(ts, "is forgotten but still known");
      return;
    }
    if (this.tasks.get(ts.key) !== ts) this.fail(ts, `is ${ts.state} but not in the task table`);
    switch (ts.state) {
      case S.waiting:
        if (ts.waitingFor.size === 0) this.fail(ts, "is waiting on nothing");
        for (const d of ts.waitingFor) if (d.state === S.memory) this.fail(ts, `waits on ${d.key}, which is in memory`);
        if (!ts.assigned) this.fail(ts, "is waiting but not assigned");
        break;
      case S.ready:
        if (ts.waitingFor.size > 0) this.fail(ts, "is ready but waits on inputs");
        break;
      case S.executing:
        if (!this.executing.has(ts)) this.fail(ts, "is executing but not in the executing set");
        break;
      case S.flight:
      case S.resumed:
        if (ts.flightPeer === null || !this.inFlightPeers.has(ts.flightPeer)) this.fail(ts, `is ${ts.state} without a transfer in flight`);
        break;
      case S.cancelled:
        if (ts.previous === null) this.fail(ts, "is cancelled without knowing what it was doing");
        break;
      case S.fetch:
        if (ts.whoHas.size === 0) this.fail(ts, "is to be fetched from nobody");
        break;
      case S.memory:
        if (ts.nbytes < 0) this.fail(ts, "is in memory with a negative size");
        break;
      default:
        break;
    }
  }

  private fail(ts: WorkerTask, what: string): never {
    throw new WorkerInvariantError(`worker task ${ts.key} ${what} (stimulus ${this.stimulusId}); story: ${JSON.stringify(this.story(ts.key).slice(-10))}`);
  }
}
