/**
 * What the dashboard knows about a scheduler, and the snapshots it serves.
 *
 * Attaching registers ONE task listener (a ring-buffer append) and one
 * transfer listener on the {@link SchedulerServer}. Everything else is
 * computed off the hot path: a fold over new ring entries (on a 500 ms timer
 * and before every request) keeps per-group totals and duration histograms;
 * snapshots read worker and group objects the scheduler already maintains
 * (O(workers + groups), never O(tasks)).
 */
import type { SchedulerServer } from "../scheduler/server.ts";
import { StreamKind, StreamRing, type StreamEntry } from "./ring.ts";

/** Upper bounds (seconds) of the task-duration histogram buckets; `+Inf` is implied. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60] as const;

/** Most task-stream entries one page request or push returns (Dask: task-stream-length 1000). */
export const PAGE_STREAM_LIMIT = 1000;

/** Task groups kept in the progress table. */
const MAX_GROUPS = 100;

/** Per-group totals since the dashboard started. */
export interface GroupStats {
  name: string;
  /** Runs that finished (memory). */
  done: number;
  /** Tasks in erred state (last seen). */
  erred: number;
  /** Runs that failed on a worker (including retried ones). */
  failedRuns: number;
  durationSum: number;
  durationCount: number;
  /** Counts per {@link DURATION_BUCKETS} bucket (not cumulative), plus one for +Inf. */
  buckets: number[];
  /** Waiting, queued, no-worker or processing right now. */
  pending: number;
  processing: number;
  /** Sequence of the latest activity, for eviction and ordering. */
  lastSeen: number;
}

/** One row of the workers table. */
export interface WorkerRow {
  address: string;
  name: string;
  host: string;
  pid: number;
  nthreads: number;
  memoryLimit: number;
  /** Process resident memory (bytes). */
  rss: number;
  /** Bytes of stored results, as the worker counts them. */
  managed: number;
  heap: number;
  /** Bytes spilled to disk (0 when the worker does not spill). */
  spilled: number;
  /** Bytes of results the scheduler knows this worker holds. */
  nbytes: number;
  stored: number;
  processing: number;
  executing: number;
  cpu: number;
  transferBytes: number;
  status: string;
  /** Colour class of its memory bar. */
  memoryState: "normal" | "spilling" | "paused";
  lastSeenAgo: number;
}

/** One row of the progress table. */
export interface ProgressRow {
  group: string;
  done: number;
  erred: number;
  processing: number;
  pending: number;
  total: number;
}

/** The body of `/json/status.json` and of each live update. */
export interface StatusSnapshot {
  time: number;
  scheduler: { id: string; address: string; uptime: number; workers: number; threads: number };
  workers: WorkerRow[];
  progress: ProgressRow[];
  counts: Record<string, number>;
  stream: { head: number; entries: StreamEntry[] };
  errors: { key: string; group: string; worker: string; time: number }[];
}

export interface DashboardModelOptions {
  /** Entries the task-stream ring holds (default 65536). */
  streamCapacity?: number;
  /** Milliseconds between folds of new ring entries into totals (default 500). */
  foldIntervalMs?: number;
}

/** Live view of one scheduler for the dashboard; see the module comment. */
export class DashboardModel {
  readonly ring: StreamRing;
  readonly groups = new Map<string, GroupStats>();
  /** Most recent failed runs (newest last), capped. */
  readonly errors: { key: string; group: string; worker: string; time: number }[] = [];
  /** Ring entries overwritten before they could be folded. */
  lost = 0;
  private folded = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly onTask: Parameters<SchedulerServer["state"]["taskListeners"]["push"]>[0];
  private readonly onTransfer: Parameters<SchedulerServer["transferListeners"]["push"]>[0];

  constructor(readonly scheduler: SchedulerServer, opts: DashboardModelOptions = {}) {
    const ring = (this.ring = new StreamRing(opts.streamCapacity ?? 65536));
    this.onTask = (ev) => ring.push(ev.key, ev.worker, ev.group, ev.start, ev.stop, ev.status === "erred" ? StreamKind.erred : StreamKind.memory, 0);
    this.onTransfer = (worker, transfers) => {
      for (const t of transfers) ring.push(t[3], worker, "transfer", t[0], t[1], StreamKind.transfer, t[2]);
    };
    scheduler.state.taskListeners.push(this.onTask);
    scheduler.transferListeners.push(this.onTransfer);
    this.timer = setInterval(() => this.fold(), opts.foldIntervalMs ?? 500);
    this.timer.unref();
  }

  /** Removes the listeners and stops the timer. */
  detach(): void {
    clearInterval(this.timer);
    remove(this.scheduler.state.taskListeners, this.onTask);
    remove(this.scheduler.transferListeners, this.onTransfer);
  }

  /** Folds ring entries not yet counted into the per-group totals. */
  fold(): void {
    const ring = this.ring;
    if (ring.head - this.folded > ring.capacity) {
      this.lost += ring.head - this.folded - ring.capacity;
      this.folded = ring.tail;
    }
    let seq = this.folded;
    ring.scan(this.folded, (key, worker, group, start, stop, kind) => {
      seq++;
      if (kind === StreamKind.transfer) return;
      const g = this.group(group, seq);
      if (kind === StreamKind.erred) {
        g.failedRuns++;
        this.errors.push({ key, group, worker, time: stop });
        if (this.errors.length > 100) this.errors.shift();
        return;
      }
      g.done++;
      const d = Math.max(0, stop - start);
      g.durationSum += d;
      g.durationCount++;
      let b = 0;
      while (b < DURATION_BUCKETS.length && d > DURATION_BUCKETS[b]!) b++;
      g.buckets[b]!++;
    });
    this.folded = ring.head;
    this.refreshLive();
  }

  private group(name: string, seq: number): GroupStats {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, done: 0, erred: 0, failedRuns: 0, durationSum: 0, durationCount: 0, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), pending: 0, processing: 0, lastSeen: seq };
      this.groups.set(name, g);
      if (this.groups.size > MAX_GROUPS) this.evictGroup();
    }
    g.lastSeen = seq;
    return g;
  }

  private evictGroup(): void {
    let victim: GroupStats | null = null;
    for (const g of this.groups.values()) {
      if (g.pending > 0) continue;
      if (victim === null || g.lastSeen < victim.lastSeen) victim = g;
    }
    if (victim) this.groups.delete(victim.name);
  }

  /** Updates pending/processing/erred of groups from the scheduler's live group counters. */
  private refreshLive(): void {
    for (const g of this.groups.values()) {
      g.pending = 0;
      g.processing = 0;
    }
    for (const tg of this.scheduler.state.groups.values()) {
      const c = tg.counts;
      const processing = c["processing"] ?? 0;
      const pending = processing + (c["waiting"] ?? 0) + (c["queued"] ?? 0) + (c["no-worker"] ?? 0);
      const erred = c["erred"] ?? 0;
      if (pending === 0 && erred === 0 && !this.groups.has(tg.name)) continue;
      const g = this.group(tg.name, this.groups.get(tg.name)?.lastSeen ?? this.ring.head);
      if (pending > 0) g.lastSeen = this.ring.head;
      g.pending = pending;
      g.processing = processing;
      g.erred = erred;
    }
  }

  /** Rows of the progress table, in order of first appearance. */
  progress(): ProgressRow[] {
    const rows: ProgressRow[] = [];
    for (const g of this.groups.values()) {
      rows.push({ group: g.name, done: g.done, erred: g.erred, processing: g.processing, pending: g.pending, total: g.done + g.erred + g.pending });
    }
    return rows;
  }

  /** Rows of the workers table, sorted by name. */
  workers(): WorkerRow[] {
    const now = Date.now() / 1000;
    const rows: WorkerRow[] = [];
    for (const w of this.scheduler.state.workers.values()) {
      const m = w.metrics;
      const rss = m["rss"] ?? 0;
      const spilled = m["spilled"] ?? 0;
      const paused = w.status === "paused" || (m["paused"] ?? 0) > 0;
      const spilling = spilled > 0 || (w.memoryLimit > 0 && rss > 0.7 * w.memoryLimit);
      rows.push({
        address: w.address,
        name: w.name,
        host: w.host,
        pid: w.pid,
        nthreads: w.nthreads,
        memoryLimit: w.memoryLimit,
        rss,
        managed: m["managed"] ?? w.nbytes,
        heap: m["heap"] ?? 0,
        spilled,
        nbytes: w.nbytes,
        stored: w.hasWhat.size,
        processing: w.processing.size,
        executing: m["executing"] ?? 0,
        cpu: m["cpu"] ?? 0,
        transferBytes: m["transferBytes"] ?? 0,
        status: w.status,
        memoryState: paused ? "paused" : spilling ? "spilling" : "normal",
        lastSeenAgo: Math.max(0, now - w.lastSeen),
      });
    }
    return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Tasks by state, summed from the scheduler's per-group counters (O(groups)). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const tg of this.scheduler.state.groups.values()) {
      for (const [s, n] of Object.entries(tg.counts)) if (s !== "forgotten" && n > 0) out[s] = (out[s] ?? 0) + n;
    }
    return out;
  }

  /** The whole status page's data; `since` = first task-stream sequence wanted. */
  status(since = 0): StatusSnapshot {
    this.fold();
    const s = this.scheduler;
    let threads = 0;
    for (const w of s.state.workers.values()) threads += w.nthreads;
    return {
      time: Date.now() / 1000,
      scheduler: { id: s.id, address: safeAddress(s), uptime: (Date.now() - s.startedAt) / 1000, workers: s.state.workers.size, threads },
      workers: this.workers(),
      progress: this.progress(),
      counts: this.counts(),
      stream: { head: this.ring.head, entries: this.ring.since(since, PAGE_STREAM_LIMIT) },
      errors: this.errors.slice(-20),
    };
  }

  /** Detail of one worker, or null when unknown. */
  worker(address: string): Record<string, unknown> | null {
    const w = this.scheduler.state.workers.get(address);
    if (!w) return null;
    const row = this.workers().find((r) => r.address === address)!;
    const processing = take(w.processing, 200, (t) => ({ key: t.key, group: t.group.name, executing: t.executing }));
    const stored = take(w.hasWhat, 200, (t) => ({ key: t.key, nbytes: t.nbytes, type: t.type }));
    return { ...row, metrics: { ...w.metrics }, processingTasks: processing, storedTasks: stored, stream: this.ring.since(0, PAGE_STREAM_LIMIT, (x) => x === address) };
  }

  /** Detail of one task (state, dependencies, error and stack), or null when never seen. */
  task(key: string): Record<string, unknown> | null {
    const ts = this.scheduler.state.tasks.get(key);
    const history: StreamEntry[] = [];
    this.ring.scan(0, (k, worker, group, start, stop, kind) => {
      if (k === key && kind !== StreamKind.transfer) history.push({ seq: 0, key: k, worker, group, start, stop, kind: kind === StreamKind.erred ? "erred" : "memory" });
    });
    if (!ts) return history.length > 0 ? { key, state: "forgotten", group: history[0]!.group, history } : null;
    const ex = ts.exception;
    return {
      key,
      state: ts.state,
      group: ts.group.name,
      priority: ts.priority,
      nbytes: ts.nbytes,
      type: ts.type,
      worker: ts.processingOn?.address ?? null,
      whoHas: [...ts.whoHas].map((w) => w.address),
      dependencies: take(ts.dependencies, 100, (d) => ({ key: d.key, state: d.state })),
      dependents: take(ts.dependents, 100, (d) => ({ key: d.key, state: d.state })),
      suspicious: ts.suspicious,
      retries: ts.retries,
      error: ex ? { name: ex.name, message: ex.message, stack: ex.stack, data: ex.data ?? null } : null,
      blame: ts.exceptionBlame && ts.exceptionBlame !== ts ? ts.exceptionBlame.key : null,
      history,
    };
  }
}

function take<T, R>(items: Iterable<T>, max: number, fn: (x: T) => R): R[] {
  const out: R[] = [];
  for (const x of items) {
    if (out.length >= max) break;
    out.push(fn(x));
  }
  return out;
}

function remove<T>(arr: T[], x: T): void {
  const i = arr.indexOf(x);
  if (i >= 0) arr.splice(i, 1);
}

function safeAddress(s: SchedulerServer): string {
  try {
    return s.address;
  } catch {
    return "";
  }
}
