/**
 * The worker as a synchronous state machine with no I/O. The worker server
 * feeds it scheduler messages and completion events and carries out the
 * instructions it returns: execute a task on a thread, fetch data from a
 * peer, send a message to the scheduler, drop stored data.
 *
 * Task states on a worker:
 * - waiting: assigned, some dependencies not here yet
 * - fetch / flight / missing: a dependency to get from a peer (flight = a
 *   transfer is running; missing = no peer is known to have it)
 * - ready: every input is here; waits for a free thread, by priority
 * - executing: running on a thread
 * - memory: result stored here
 * - error: the task threw (reported to the scheduler)
 * - cancelled: freed while executing; its result will be discarded
 */
import { Op, type ComputeTaskMsg, type ErrorRecord } from "../protocol/messages.ts";
import type { Payload } from "../protocol/serialize.ts";
import { comparePriority } from "../protocol/keys.ts";

export const WorkerTaskStatus = {
  waiting: "waiting",
  fetch: "fetch",
  flight: "flight",
  missing: "missing",
  ready: "ready",
  executing: "executing",
  memory: "memory",
  error: "error",
  cancelled: "cancelled",
} as const;
export type WorkerTaskStatus = (typeof WorkerTaskStatus)[keyof typeof WorkerTaskStatus];

export class WorkerTask {
  state: WorkerTaskStatus = WorkerTaskStatus.waiting;
  spec: Payload | null = null;
  priority: number[] = [0, 0];
  runId = 0;
  /** Assigned by the scheduler (as opposed to a dependency fetched for one). */
  assigned = false;
  readonly deps = new Set<WorkerTask>();
  readonly dependents = new Set<WorkerTask>();
  readonly waitingFor = new Set<WorkerTask>();
  readonly whoHas = new Set<string>();
  nbytes = 0;
  constructor(readonly key: string) {}
}

export type Instruction =
  | { type: "execute"; key: string; spec: Payload; runId: number }
  | { type: "gather"; peer: string; keys: string[] }
  | { type: "send"; msg: { op: string; [k: string]: unknown } }
  | { type: "delete"; key: string };

export interface WorkerStateConfig {
  nthreads: number;
  /** Concurrent transfers from peers. */
  maxConcurrentGathers: number;
  /** Bytes fetched from one peer in one request (batching). */
  gatherBatchBytes: number;
  validate: boolean;
}

export class WorkerStateMachine {
  readonly tasks = new Map<string, WorkerTask>();
  private readonly ready: WorkerTask[] = [];
  readonly executing = new Set<WorkerTask>();
  private readonly inFlightPeers = new Set<string>();
  /** Dependencies in state fetch (may hold stale members; checked when used). */
  private readonly toFetch = new Set<WorkerTask>();
  private out: Instruction[] = [];
  paused = false;
  readonly config: WorkerStateConfig;
  /** Bytes of results stored here, as the state machine knows them. */
  managedBytes = 0;

  constructor(config: Partial<WorkerStateConfig> & { nthreads: number }) {
    this.config = { maxConcurrentGathers: 10, gatherBatchBytes: 50e6, validate: false, ...config };
  }

  drain(): Instruction[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  // ------------------------------------------------------------------ events

  computeTask(m: ComputeTaskMsg): void {
    let ts = this.tasks.get(m.key);
    if (ts && (ts.state === WorkerTaskStatus.memory || ts.state === WorkerTaskStatus.executing)) {
      if (ts.state === WorkerTaskStatus.memory) {
        // already have it (e.g. fetched as a dependency): report at once
        ts.assigned = true;
        ts.runId = m.runId;
        this.out.push({ type: "send", msg: { op: Op.taskFinished, key: ts.key, runId: m.runId, nbytes: ts.nbytes, type: "", start: 0, stop: 0 } });
        return;
      }
      if (ts.state === WorkerTaskStatus.executing) {
        ts.runId = m.runId;
        ts.assigned = true;
        return;
      }
    }
    if (ts && ts.state === WorkerTaskStatus.cancelled) {
      // resumed: the running execution will produce the result for the new run
      ts.state = WorkerTaskStatus.executing;
      ts.runId = m.runId;
      ts.assigned = true;
      return;
    }
    if (!ts) {
      ts = new WorkerTask(m.key);
      this.tasks.set(m.key, ts);
    }
    ts.assigned = true;
    ts.spec = m.spec;
    ts.priority = m.priority;
    ts.runId = m.runId;
    ts.waitingFor.clear();
    for (const [dk, loc] of Object.entries(m.deps)) {
      let d = this.tasks.get(dk);
      if (!d) {
        d = new WorkerTask(dk);
        d.state = WorkerTaskStatus.fetch;
        d.priority = m.priority;
        this.tasks.set(dk, d);
      }
      for (const w of loc.who) d.whoHas.add(w);
      if (d.state === WorkerTaskStatus.fetch) this.toFetch.add(d);
      if (loc.nbytes > 0 && d.state !== WorkerTaskStatus.memory) d.nbytes = loc.nbytes;
      ts.deps.add(d);
      d.dependents.add(ts);
      if (d.state !== WorkerTaskStatus.memory) {
        ts.waitingFor.add(d);
        if (d.state === WorkerTaskStatus.missing && d.whoHas.size > 0) {
          d.state = WorkerTaskStatus.fetch;
          this.toFetch.add(d);
        }
      }
    }
    if (ts.waitingFor.size === 0) this.makeReady(ts);
    else ts.state = WorkerTaskStatus.waiting;
    this.ensureCommunicating();
    this.ensureComputing();
  }

  freeKeys(keys: string[]): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts) continue;
      ts.assigned = false;
      this.releaseIfUnneeded(ts);
    }
    this.ensureComputing();
  }

  /**
   * Values stored here were lost (the executor thread holding them died):
   * forget them and tell the scheduler, which has them recomputed where
   * they are still wanted. A task here that was about to use one fails.
   */
  lostData(keys: readonly string[], self: string): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts || ts.state !== WorkerTaskStatus.memory) continue;
      ts.assigned = false;
      this.forget(ts);
      this.out.push({ type: "send", msg: { op: Op.missingData, key: k, errant: self } });
    }
    this.ensureComputing();
  }

  /** Scattered data arrives. */
  putData(key: string, nbytes: number): void {
    let ts = this.tasks.get(key);
    if (!ts) {
      ts = new WorkerTask(key);
      this.tasks.set(key, ts);
    }
    ts.assigned = true;
    this.toMemory(ts, nbytes);
  }

  executeSuccess(key: string, runId: number, r: { nbytes: number; type: string; start: number; stop: number; inline?: Payload }): void {
    const ts = this.tasks.get(key);
    if (!ts) {
      this.out.push({ type: "delete", key });
      return;
    }
    this.executing.delete(ts);
    if (ts.state === WorkerTaskStatus.cancelled) {
      ts.state = WorkerTaskStatus.memory;
      ts.nbytes = r.nbytes;
      this.managedBytes += r.nbytes;
      this.releaseIfUnneeded(ts);
      this.ensureComputing();
      return;
    }
    this.toMemory(ts, r.nbytes);
    const msg: { op: string; [k: string]: unknown } = { op: Op.taskFinished, key, runId: ts.runId, nbytes: r.nbytes, type: r.type, start: r.start, stop: r.stop };
    if (r.inline) msg["inline"] = r.inline;
    void runId;
    this.out.push({ type: "send", msg });
    this.ensureComputing();
  }

  executeFailure(key: string, error: ErrorRecord, start: number, stop: number): void {
    const ts = this.tasks.get(key);
    if (!ts) return;
    this.executing.delete(ts);
    if (ts.state === WorkerTaskStatus.cancelled) {
      this.forget(ts);
    } else {
      ts.state = WorkerTaskStatus.error;
      this.out.push({ type: "send", msg: { op: Op.taskErred, key, runId: ts.runId, error, start, stop } });
      this.releaseDeps(ts);
    }
    this.ensureComputing();
  }

  /** A transfer from `peer` ended: `got` arrived (key → nbytes), `missing` keys the peer did not have. */
  gatherSuccess(peer: string, got: Record<string, number>, missing: string[]): void {
    this.inFlightPeers.delete(peer);
    for (const [k, nbytes] of Object.entries(got)) {
      const ts = this.tasks.get(k);
      if (!ts || ts.state !== WorkerTaskStatus.flight) {
        if (!ts || ts.state !== WorkerTaskStatus.memory) this.out.push({ type: "delete", key: k });
        continue;
      }
      this.toMemory(ts, nbytes);
      if (ts.dependents.size === 0 && !ts.assigned) this.releaseIfUnneeded(ts);
    }
    for (const k of missing) {
      const ts = this.tasks.get(k);
      if (!ts) continue;
      ts.whoHas.delete(peer);
      this.out.push({ type: "send", msg: { op: Op.missingData, key: k, errant: peer } });
      if (ts.state === WorkerTaskStatus.flight) this.afterFailedFetch(ts);
    }
    this.ensureCommunicating();
    this.ensureComputing();
  }

  /** A transfer from `peer` failed (connection error): that peer is presumed gone. */
  gatherFailure(peer: string, keys: string[]): void {
    this.inFlightPeers.delete(peer);
    for (const ts of this.tasks.values()) {
      if (ts.whoHas.delete(peer) && keys.includes(ts.key)) {
        this.out.push({ type: "send", msg: { op: Op.missingData, key: ts.key, errant: peer } });
      }
    }
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (ts && ts.state === WorkerTaskStatus.flight) this.afterFailedFetch(ts);
    }
    this.ensureCommunicating();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.ensureComputing();
  }

  // ----------------------------------------------------------------- helpers

  private afterFailedFetch(ts: WorkerTask): void {
    ts.state = ts.whoHas.size > 0 ? WorkerTaskStatus.fetch : WorkerTaskStatus.missing;
    if (ts.state === WorkerTaskStatus.fetch) this.toFetch.add(ts);
  }

  private makeReady(ts: WorkerTask): void {
    ts.state = WorkerTaskStatus.ready;
    heapPush(this.ready, ts);
  }

  private toMemory(ts: WorkerTask, nbytes: number): void {
    ts.state = WorkerTaskStatus.memory;
    ts.nbytes = nbytes;
    this.managedBytes += nbytes;
    this.releaseDeps(ts);
    for (const dep of ts.dependents) {
      if (dep.state === WorkerTaskStatus.waiting && dep.waitingFor.delete(ts) && dep.waitingFor.size === 0) {
        this.makeReady(dep);
      }
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
    if (ts.assigned) return;
    for (const dep of ts.dependents) {
      if (dep.state !== WorkerTaskStatus.memory && dep.state !== WorkerTaskStatus.error) return;
    }
    switch (ts.state) {
      case WorkerTaskStatus.executing:
        ts.state = WorkerTaskStatus.cancelled;
        return;
      case WorkerTaskStatus.cancelled:
        return;
      case WorkerTaskStatus.flight:
        // the transfer result will be dropped on arrival
        this.forget(ts);
        return;
      default:
        this.forget(ts);
    }
  }

  private forget(ts: WorkerTask): void {
    if (ts.state === WorkerTaskStatus.memory || ts.state === WorkerTaskStatus.cancelled) {
      this.managedBytes -= ts.nbytes;
      this.out.push({ type: "delete", key: ts.key });
    }
    if (ts.state === WorkerTaskStatus.ready) heapRemove(this.ready, ts);
    this.tasks.delete(ts.key);
    for (const d of ts.deps) {
      d.dependents.delete(ts);
      this.releaseIfUnneeded(d);
    }
    ts.deps.clear();
    ts.waitingFor.clear();
    ts.state = WorkerTaskStatus.cancelled;
  }

  private ensureComputing(): void {
    if (this.paused) return;
    while (this.executing.size < this.config.nthreads && this.ready.length > 0) {
      const ts = heapPop(this.ready)!;
      if (ts.state !== WorkerTaskStatus.ready || this.tasks.get(ts.key) !== ts) continue;
      ts.state = WorkerTaskStatus.executing;
      this.executing.add(ts);
      this.out.push({ type: "execute", key: ts.key, spec: ts.spec!, runId: ts.runId });
    }
  }

  private ensureCommunicating(): void {
    if (this.inFlightPeers.size >= this.config.maxConcurrentGathers) return;
    const byPeer = new Map<string, { keys: string[]; bytes: number }>();
    if (this.toFetch.size === 0) return;
    const toFetch: WorkerTask[] = [];
    for (const t of this.toFetch) {
      if (t.state === WorkerTaskStatus.fetch && this.tasks.get(t.key) === t) toFetch.push(t);
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
      ts.state = WorkerTaskStatus.flight;
      this.toFetch.delete(ts);
    }
    for (const [peer, b] of byPeer) {
      this.inFlightPeers.add(peer);
      this.out.push({ type: "gather", peer, keys: b.keys });
    }
  }
}

// A small binary heap over the ready list, ordered by priority.
function heapPush(h: WorkerTask[], t: WorkerTask): void {
  h.push(t);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (comparePriority(h[i]!.priority, h[p]!.priority) >= 0) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function heapPop(h: WorkerTask[]): WorkerTask | undefined {
  if (h.length === 0) return undefined;
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && comparePriority(h[l]!.priority, h[m]!.priority) < 0) m = l;
      if (r < h.length && comparePriority(h[r]!.priority, h[m]!.priority) < 0) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}

function heapRemove(h: WorkerTask[], t: WorkerTask): void {
  const i = h.indexOf(t);
  if (i < 0) return;
  h.splice(i, 1);
  // re-heapify (rare path: a ready task was freed)
  const items = h.splice(0);
  for (const x of items) heapPush(h, x);
}
