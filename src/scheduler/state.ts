/**
 * The scheduler as a synchronous state machine with no I/O: events in,
 * messages out. The server feeds it (`addWorker`, `updateGraph`,
 * `taskFinished`, ...) and sends whatever `drain()` returns.
 *
 * Task states: released, waiting, queued, no-worker, processing, memory,
 * erred, forgotten. Each edge is one method (`releasedToWaiting`, ...);
 * an edge returns nothing but may *recommend* further transitions, which
 * `transitions()` runs until none are left (Dask's design). With
 * `validate: true` invariants are checked after every transition and
 * after every stimulus (see `validate.ts`).
 *
 * Every public event method is one *stimulus*: it gets a stimulus id derived
 * from the incoming message (a worker's own id for `task-finished` and
 * `task-erred` when it sends one), and every state change it causes is
 * logged with that id in a bounded ring ({@link SchedulerConfig.transitionLogSize});
 * {@link SchedulerState.story} reads it (Dask's `story`). Observers
 * ({@link SchedulerState.taskListeners}) are called after the stimulus's
 * transitions, never inside them, each in its own try/catch.
 */
import { Op, type ErrorRecord, type TaskMsg, type TaskFinishedMsg, type TaskErredMsg } from "../protocol/messages.ts";
import type { Payload } from "../protocol/serialize.ts";
import { asPayload } from "../protocol/wire.ts";
import { TaskHeap, WorkerHeap } from "./heap.ts";
import { EngineErrorName } from "../utils/errors.ts";
import { log } from "../utils/log.ts";
import { ClientState, TaskGroup, setAdd, TaskState, TaskStatus, TransitionLog, WorkerState, keyPrefix, type TransitionLogEntry } from "./model.ts";
import { DEFAULT_SCHEDULER_CONFIG, decideWorker, isRootish, slotsFor, type SchedulerConfig } from "./placement.ts";
import { validateState, validateTask } from "./validate.ts";

export { DEFAULT_SCHEDULER_CONFIG, ROOTISH_MAX_DEP_BYTES, type SchedulerConfig } from "./placement.ts";
export type { TransitionLogEntry } from "./model.ts";

export type Outgoing =
  | { to: "worker"; address: string; msg: { op: string; [k: string]: unknown } }
  | { to: "client"; id: string; msg: { op: string; [k: string]: unknown } };

export interface WorkerInfo {
  address: string;
  name: string;
  nthreads: number;
  memoryLimit: number;
  host: string;
  pid: number;
  keys: string[];
}

type Recs = Map<TaskState, TaskStatus>;

/** Tasks one stimulus forgets before the rest of the cascade goes to background slices. */
const FORGET_PER_STIMULUS = 10_000;

/** What observers of finished and erred tasks are told (the dashboard's task stream, metrics). */
export interface TaskEvent {
  key: string;
  worker: string;
  start: number;
  stop: number;
  status: "memory" | "erred";
  group: string;
}

/** The tasks of a graph arriving in parts, held until its last part (see `updateGraph`). */
interface GraphHold {
  id: string;
  clientId: string;
  generation: number;
  tasks: TaskState[];
  /** Tasks before this index have been let go. */
  next: number;
}

/** A replica being scattered: the `memory` edge of the scatter stimulus reads it. */
interface Scattered {
  ts: TaskState;
  ws: WorkerState;
  nbytes: number;
  inline: Payload | null;
}

export class SchedulerState {
  readonly tasks = new Map<string, TaskState>();
  readonly groups = new Map<string, TaskGroup>();
  readonly workers = new Map<string, WorkerState>();
  readonly clients = new Map<string, ClientState>();
  readonly queued = new TaskHeap();
  /** The running workers, least loaded first (placement reads the top). */
  readonly pool = new WorkerHeap();
  readonly unrunnable = new Set<TaskState>();
  readonly config: SchedulerConfig;
  private out: Outgoing[] = [];
  private generation = 0;
  private runCounter = 0;
  totalThreads = 0;
  /** The stimulus being handled (or handled last): derived from the incoming message. */
  stimulusId = "";
  private stimulusCount = 0;
  /**
   * Observers (dashboard, metrics): called for every finished or erred
   * task, after the transitions of the stimulus that reported it. A
   * listener that throws is logged and never affects the state.
   */
  readonly taskListeners: ((ev: TaskEvent) => void)[] = [];
  private events: TaskEvent[] = [];
  /** Count of transitions by finish state, for metrics. */
  readonly transitionCounts: Record<string, number> = {};
  /** The last {@link SchedulerConfig.transitionLogSize} transitions. */
  readonly transitionLog: TransitionLog;
  private scattered: Scattered | null = null;
  /** Graphs still arriving in parts, by client and graph id. */
  private readonly holds = new Map<string, GraphHold>();
  /** Graphs whose last part arrived: their held tasks are let go by {@link releaseHolds}. */
  private readonly closedHolds: GraphHold[] = [];
  /** Released tasks nobody needs, left by a long forgetting cascade for {@link releaseHolds}. */
  private forgetLater: TaskState[] = [];
  /** Tasks forgotten in the current stimulus. */
  private forgottenNow = 0;

  constructor(config: Partial<SchedulerConfig> = {}, private readonly now: () => number = () => Date.now() / 1000) {
    this.config = { ...DEFAULT_SCHEDULER_CONFIG, ...config };
    const n = this.config.transitionLogSize;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`config.transitionLogSize must be a non-negative integer, got ${String(n)}`);
    this.transitionLog = new TransitionLog(n);
  }

  /**
   * The logged transitions of these keys, oldest first: `[key, start,
   * finish, stimulusId, time]` (Dask's `story`). Only the last
   * {@link SchedulerConfig.transitionLogSize} transitions are kept.
   */
  story(keys: Iterable<string>): TransitionLogEntry[] {
    return this.transitionLog.entries(new Set(keys));
  }

  /** Starts a stimulus: its id is `given` (a worker's) or `kind-N`. */
  private begin(kind: string, given?: string): void {
    this.stimulusId = given !== undefined && given !== "" ? given : `${kind}-${++this.stimulusCount}`;
    this.forgottenNow = 0;
  }

  /** Messages produced since the last call. */
  drain(): Outgoing[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  // ------------------------------------------------------------------ events

  addClient(id: string): void {
    if (!this.clients.has(id)) this.clients.set(id, new ClientState(id));
  }

  removeClient(id: string): void {
    const cs = this.clients.get(id);
    if (!cs) return;
    this.begin("remove-client");
    this.releaseWanted(cs, [...cs.wants]);
    this.dropHolds(id);
    this.clients.delete(id);
  }

  addWorker(info: WorkerInfo): void {
    if (this.workers.has(info.address)) this.removeWorker(info.address, { expected: true, reason: "re-registered" });
    this.begin("add-worker");
    const ws = new WorkerState(info.address, info.name, info.nthreads, info.memoryLimit, info.host, info.pid, this.now());
    this.workers.set(info.address, ws);
    this.pool.push(ws);
    this.totalThreads += ws.nthreads;
    // A worker that rejoins (network split healed) may still hold results; the
    // scheduler may have recomputed them elsewhere. Never accept a second
    // version of a key: the worker drops everything it reports.
    if (info.keys.length > 0) this.send(ws, { op: Op.freeKeys, keys: info.keys });
    const recs: Recs = new Map();
    for (const ts of this.unrunnable) recs.set(ts, TaskStatus.waiting);
    this.transitions(recs);
    this.fillSlots(ws);
  }

  removeWorker(address: string, opts: { expected: boolean; reason: string }): boolean {
    const ws = this.workers.get(address);
    if (!ws) return false;
    this.begin("remove-worker");
    this.workers.delete(address);
    this.pool.remove(ws);
    this.totalThreads -= ws.nthreads;
    const recs: Recs = new Map();
    for (const ts of [...ws.processing]) {
      if (ts.executing && !opts.expected) ts.suspicious += 1;
      this.removeFromProcessing(ts, ws);
      if (ts.suspicious > ts.allowedFailures) {
        ts.exception = {
          name: EngineErrorName.killedWorker,
          message:
            `task ${ts.key} was executing on ${ts.suspicious} workers that died (last: ${address}, ${opts.reason}); ` +
            `it is marked as failed. The task may be crashing its worker (out of memory, native crash, process.exit): ` +
            `check that worker's log, or raise allowedFailures if the deaths were unrelated.`,
          stack: "",
          data: { key: ts.key, worker: address, allowedFailures: ts.allowedFailures },
        };
        ts.exceptionBlame = ts;
        recs.set(ts, TaskStatus.erred);
      } else {
        recs.set(ts, TaskStatus.released);
      }
    }
    for (const ts of ws.hasWhat) {
      ts.whoHas.delete(ws);
      if (ts.whoHas.size === 0) {
        if (ts.spec === null) {
          ts.exception = {
            name: EngineErrorName.lostData,
            message: `scattered data ${ts.key} was held only by worker ${address}, which left (${opts.reason}); scattered data cannot be recomputed. Scatter it again, or use scatter(..., {broadcast: true}) to keep copies on several workers.`,
            stack: "",
            data: { key: ts.key, worker: address },
          };
          ts.exceptionBlame = ts;
          recs.set(ts, TaskStatus.erred);
        } else {
          recs.set(ts, TaskStatus.released);
        }
      }
    }
    ws.hasWhat.clear();
    this.transitions(recs);
    this.fillFromPool();
    return true;
  }

  /** Removes workers silent for longer than `ttlSeconds`; returns their addresses. */
  checkWorkerTtl(ttlSeconds: number): string[] {
    const now = this.now();
    const dead: string[] = [];
    for (const ws of this.workers.values()) if (now - ws.lastSeen > ttlSeconds) dead.push(ws.address);
    for (const a of dead) this.removeWorker(a, { expected: false, reason: `no heartbeat for more than ${ttlSeconds} s` });
    return dead;
  }

  heartbeat(address: string, metrics: Record<string, number>): void {
    const ws = this.workers.get(address);
    if (!ws) return;
    ws.lastSeen = this.now();
    ws.metrics = metrics;
    const status = metrics["paused"] ? "paused" : "running";
    if (status !== ws.status && ws.status !== "closing") {
      ws.status = status;
      if (status === "running") this.pool.push(ws);
      else this.pool.remove(ws);
      if (status === "running") {
        this.begin("worker-resumed");
        // tasks that found every worker paused can run now
        if (this.unrunnable.size > 0) {
          const recs: Recs = new Map();
          for (const ts of this.unrunnable) recs.set(ts, TaskStatus.processing);
          this.transitions(recs);
        }
        this.fillSlots(ws);
      }
    }
  }

  /**
   * A client submits tasks and names the keys it wants.
   *
   * A large graph arrives in parts (`part.more` on all but the last, deps
   * always in an earlier or the same part): each part is ingested and starts
   * running at once, so no single message or call handles the whole graph.
   * The tasks of a graph that is still arriving are *held* (needed, as if
   * wanted) until its last part, since their dependents may be in a part
   * yet to come; the last part closes the hold, and {@link releaseHolds}
   * lets go of the held tasks a bounded number at a time.
   */
  updateGraph(clientId: string, tasks: TaskMsg[], wanted: string[], part?: { graph: string; more: boolean }): void {
    this.begin("update-graph");
    this.addClient(clientId);
    const cs = this.clients.get(clientId)!;
    let hold: GraphHold | undefined;
    if (part !== undefined) {
      const id = `${clientId}\u0000${part.graph}`;
      hold = this.holds.get(id);
      if (hold === undefined) {
        hold = { id, clientId, generation: ++this.generation, tasks: [], next: 0 };
        this.holds.set(id, hold);
      }
      if (!part.more) {
        this.holds.delete(id);
        if (hold.tasks.length > 0) this.closedHolds.push(hold);
      }
    }
    const gen = hold?.generation ?? ++this.generation;
    const holding = part?.more === true ? hold! : undefined;
    const fresh: TaskState[] = [];
    for (const t of tasks) {
      let ts = this.tasks.get(t.key);
      if (ts === undefined) {
        ts = this.newTask(t.key, asPayload(t.spec), t.allowedFailures);
        ts.retries = t.retries ?? 0;
        ts.generation = gen;
        ts.order = t.order;
        if (t.code && t.code.length > 0) ts.code = t.code;
        if (holding !== undefined) {
          ts.held = true;
          holding.tasks.push(ts);
        }
        fresh.push(ts);
      } else if (ts.state === TaskStatus.released || ts.state === TaskStatus.erred) {
        // resubmission of a known key keeps its recipe but takes the new priority
        ts.generation = gen;
        ts.order = t.order;
      }
    }
    const recs: Recs = new Map();
    const byKey = new Map<string, TaskMsg>();
    for (const t of tasks) byKey.set(t.key, t);
    for (const ts of fresh) {
      const deps = byKey.get(ts.key)!.deps;
      if (deps.length === 0) continue;
      const missing: string[] = [];
      for (const d of deps) {
        const dts = this.tasks.get(d);
        if (dts === undefined) {
          missing.push(d);
          continue;
        }
        setAdd(ts, "dependencies", dts);
        setAdd(dts, "dependents", ts);
        if (ts.group.depKeys.size < 8) ts.group.depKeys.add(d);
      }
      if (missing.length > 0) {
        ts.exception = {
          name: EngineErrorName.missingDependency,
          message: `task ${ts.key} depends on ${missing.slice(0, 3).join(", ")}, which the scheduler does not know (released or never submitted)`,
          stack: "",
          data: { key: ts.key, missing },
        };
        ts.exceptionBlame = ts;
      }
    }
    for (const k of wanted) {
      const ts = this.tasks.get(k);
      if (!ts) continue;
      setAdd(ts, "whoWants", cs);
      cs.wants.add(ts);
      if (ts.state === TaskStatus.memory) this.notifyMemory(ts, cs);
      else if (ts.state === TaskStatus.erred) this.notifyErred(ts, cs);
      else if (ts.state === TaskStatus.released) recs.set(ts, TaskStatus.waiting);
    }
    for (const ts of fresh) recs.set(ts, ts.exception ? TaskStatus.erred : TaskStatus.waiting);
    this.transitions(recs);
  }

  /**
   * Lets go of at most `budget` tasks held by graphs whose last part has
   * arrived (those nobody needs any more are released); returns whether
   * held tasks remain. The server calls it between I/O events until it
   * returns false, so that closing a million-task graph is never one pass.
   */
  releaseHolds(budget = 10_000): boolean {
    if (this.closedHolds.length === 0 && this.forgetLater.length === 0) return false;
    this.begin("release-hold");
    const recs: Recs = new Map();
    let n = 0;
    while (n < budget && this.forgetLater.length > 0) {
      const ts = this.forgetLater.pop()!;
      if (ts.state === TaskStatus.released || ts.state === TaskStatus.erred) recs.set(ts, TaskStatus.forgotten);
      n++;
    }
    while (n < budget && this.closedHolds.length > 0) {
      const hold = this.closedHolds[0]!;
      const end = Math.min(hold.tasks.length, hold.next + budget - n);
      for (let i = hold.next; i < end; i++) {
        const ts = hold.tasks[i]!;
        ts.held = false;
        if (!this.needed(ts)) recs.set(ts, TaskStatus.forgotten);
      }
      n += end - hold.next;
      hold.next = end;
      if (end === hold.tasks.length) this.closedHolds.shift();
    }
    this.transitions(recs);
    return this.closedHolds.length > 0 || this.forgetLater.length > 0;
  }

  /** Tasks waiting for {@link releaseHolds}: held by graphs whose last part arrived, or left by a long forgetting cascade. */
  get heldToRelease(): number {
    let n = this.forgetLater.length;
    for (const h of this.closedHolds) n += h.tasks.length - h.next;
    return n;
  }

  /** A client that leaves gives up the graphs it was still sending (their held tasks are let go). */
  private dropHolds(clientId: string): void {
    for (const [id, hold] of this.holds) {
      if (hold.clientId !== clientId) continue;
      this.holds.delete(id);
      if (hold.tasks.length > 0) this.closedHolds.push(hold);
    }
    while (this.releaseHolds()) {
      // a leaving client's holds go at once: nothing else it sent will run
    }
  }

  /**
   * Client `scatter`: data now lives on `address` (the server sends it
   * there). A key the scheduler did not know becomes a task without a
   * recipe; a known key in any state but memory moves to memory through the
   * scatter edge (its run, if any, is void), so that dependents waiting for
   * it run; a key in memory gains a replica.
   */
  scatter(clientId: string, key: string, address: string, nbytes: number, inline: Payload | null): void {
    this.addClient(clientId);
    const cs = this.clients.get(clientId)!;
    const ws = this.workers.get(address);
    if (!ws) throw new Error(`scatter to unknown worker ${address}`);
    this.begin("scatter");
    let ts = this.tasks.get(key);
    if (ts === undefined) {
      ts = this.newTask(key, null, 0);
      ts.generation = ++this.generation;
      ts.order = 0;
    }
    setAdd(ts, "whoWants", cs);
    cs.wants.add(ts);
    if (ts.state === TaskStatus.memory) {
      if (!ts.whoHas.has(ws)) this.addReplica(ts, ws);
      if (this.config.validate) validateState(this, [ts]);
      return;
    }
    this.scattered = { ts, ws, nbytes, inline };
    try {
      this.transitions(new Map([[ts, TaskStatus.memory]]));
    } finally {
      this.scattered = null;
    }
  }

  clientReleasesKeys(clientId: string, keys: string[]): void {
    const cs = this.clients.get(clientId);
    if (!cs) return;
    this.begin("release-keys");
    this.releaseKeys(cs, keys);
  }

  /** Cancel: forget the keys for this client; tasks nobody else needs stop. */
  cancelKeys(clientId: string, keys: string[]): void {
    const cs = this.clients.get(clientId);
    if (!cs) return;
    this.begin("cancel-keys");
    for (const k of keys) this.send({ to: "client", id: clientId }, { op: Op.keyCancelled, key: k });
    this.releaseKeys(cs, keys);
  }

  private releaseKeys(cs: ClientState, keys: string[]): void {
    const tss: TaskState[] = [];
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (ts) tss.push(ts);
    }
    this.releaseWanted(cs, tss);
  }

  taskStarted(address: string, key: string, runId: number): void {
    const ts = this.tasks.get(key);
    if (ts && ts.runId === runId && ts.processingOn?.address === address) {
      ts.executing = true;
    }
  }

  taskFinished(address: string, m: TaskFinishedMsg): void {
    const ws = this.workers.get(address);
    const ts = this.tasks.get(m.key);
    if (!ws) return;
    this.begin("task-finished", m.stimulusId);
    if (!ts || ts.state !== TaskStatus.processing || ts.processingOn !== ws || ts.runId !== m.runId) {
      // Stale or duplicate result (cancelled, or recomputed elsewhere after a
      // split): never accept it; the worker drops its copy unless it is a
      // legitimate replica.
      if (!ts || !ts.whoHas.has(ws)) this.send(ws, { op: Op.freeKeys, keys: [m.key] });
      return;
    }
    const duration = Math.max(0, m.stop - m.start);
    ts.group.durationSum += duration;
    ts.group.durationCount += 1;
    ts.nbytes = m.nbytes;
    ts.type = m.type;
    ts.inline = m.inline ? asPayload(m.inline) : null;
    if (this.taskListeners.length > 0) this.events.push({ key: ts.key, worker: address, start: m.start, stop: m.stop, status: "memory", group: ts.group.name });
    const recs: Recs = new Map([[ts, TaskStatus.memory]]);
    this.transitions(recs);
    this.fillSlots(ws);
    this.emitEvents();
  }

  taskErred(address: string, m: TaskErredMsg): void {
    const ws = this.workers.get(address);
    const ts = this.tasks.get(m.key);
    if (!ws || !ts || ts.state !== TaskStatus.processing || ts.processingOn !== ws || ts.runId !== m.runId) return;
    this.begin("task-erred", m.stimulusId);
    if (this.taskListeners.length > 0) this.events.push({ key: ts.key, worker: address, start: m.start, stop: m.stop, status: "erred", group: ts.group.name });
    if (ts.retries > 0) {
      ts.retries -= 1;
      this.transitions(new Map([[ts, TaskStatus.released]]));
    } else {
      ts.exception = { ...m.error, data: { ...(m.error.data ?? {}), key: ts.key, worker: address } };
      ts.exceptionBlame = ts;
      this.transitions(new Map([[ts, TaskStatus.erred]]));
    }
    this.fillSlots(ws);
    this.emitEvents();
  }

  /** Delivers the events of this stimulus, now that its transitions are done; a listener that throws is logged and skipped. */
  private emitEvents(): void {
    if (this.events.length === 0) return;
    const evs = this.events;
    this.events = [];
    for (const ev of evs) {
      for (const l of this.taskListeners) {
        try {
          l(ev);
        } catch (err) {
          log("scheduler", `a task listener threw on ${ev.key} (${ev.status}); the scheduler carries on: ${(err as Error).stack ?? String(err)}`);
        }
      }
    }
  }

  /**
   * `errant` says it does not hold `key` (it answered `from`'s request, or
   * `from` is `errant` itself: it lost the value). Forgets that replica and
   * tells `errant` to free any copy it may still keep (unless it reported
   * the loss itself); when it was the last replica the key is released, so
   * it is recomputed where it is still wanted (scattered data errs with
   * `LostDataError`). Only a holder's own answer is definitive: a worker
   * that could not reach a holder asks `who-has` and tries elsewhere.
   */
  missingData(key: string, errant: string, from?: string): void {
    const ts = this.tasks.get(key);
    const ws = this.workers.get(errant);
    if (!ts || !ws || !ts.whoHas.has(ws)) return;
    this.begin("missing-data");
    this.removeReplica(ts, ws, from !== errant);
    if (ts.whoHas.size === 0 && ts.state === TaskStatus.memory) this.transitions(new Map([[ts, TaskStatus.released]]));
    else if (this.config.validate) validateState(this, [ts]);
  }

  /** A worker holds extra replicas (it fetched them as dependencies). */
  addKeys(address: string, keys: string[]): void {
    const ws = this.workers.get(address);
    if (!ws) return;
    this.begin("add-keys");
    const unwanted: string[] = [];
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (ts && ts.state === TaskStatus.memory) {
        if (!ts.whoHas.has(ws)) {
          this.addReplica(ts, ws);
          if (this.config.validate) validateTask(this, ts);
        }
      } else {
        unwanted.push(k);
      }
    }
    if (unwanted.length > 0) this.send(ws, { op: Op.freeKeys, keys: unwanted });
  }

  // ------------------------------------------------------------ transitions

  transitions(recs: Recs): void {
    const touched = this.config.validate ? new Set<TaskState>() : null;
    // Iterate the live map (entries added during the loop are visited too);
    // taking the first entry again and again would rescan deleted slots.
    while (recs.size > 0) {
      for (const [ts, finish] of recs) {
        recs.delete(ts);
        this.transition(ts, finish, recs);
        if (touched !== null) {
          touched.add(ts);
          validateTask(this, ts);
        }
      }
    }
    if (touched) {
      const all = new Set<TaskState>();
      for (const ts of touched) {
        all.add(ts);
        for (const d of ts.dependencies) all.add(d);
        for (const d of ts.dependents) all.add(d);
      }
      validateState(this, all);
    }
  }

  private transition(ts: TaskState, finish: TaskStatus, recs: Recs): void {
    const start = ts.state;
    if (start === finish || start === TaskStatus.forgotten) return;
    const S = TaskStatus;
    if (this.scattered !== null && this.scattered.ts === ts && finish === S.memory) {
      this.scatterToMemory(ts, this.scattered, recs);
      return;
    }
    switch (`${start}>${finish}`) {
      case "released>waiting": this.releasedToWaiting(ts, recs); break;
      case "released>forgotten": this.releasedToForgotten(ts, recs); break;
      case "released>erred": this.toErred(ts, recs); break;
      case "waiting>processing":
      case "no-worker>processing":
      case "queued>processing": this.toProcessing(ts, recs); break;
      case "waiting>released":
      case "queued>released":
      case "no-worker>released": this.waitingToReleased(ts, recs); break;
      case "waiting>erred":
      case "queued>erred":
      case "no-worker>erred": this.waitingToReleased(ts, recs, false); this.toErred(ts, recs); break;
      case "processing>memory": this.toMemory(ts, recs); break;
      case "processing>erred": this.processingToErred(ts, recs); break;
      case "processing>released": this.processingToReleased(ts, recs); break;
      case "memory>released": this.memoryToReleased(ts, recs); break;
      case "erred>released": this.erredToReleased(ts, recs); break;
      case "memory>forgotten":
      case "erred>forgotten":
        this.transition(ts, S.released, recs);
        if (ts.state === S.released) this.releasedToForgotten(ts, recs);
        break;
      case "waiting>forgotten":
      case "queued>forgotten":
      case "no-worker>forgotten":
      case "processing>forgotten":
        this.transition(ts, S.released, recs);
        if (ts.state === S.released) recs.set(ts, S.forgotten);
        break;
      case "memory>erred":
        // Only lost data errs from memory (scattered data whose holders all
        // left); a result that exists is never replaced by an error.
        if (ts.whoHas.size === 0) {
          ts.inline = null;
          this.toErred(ts, recs);
        }
        break;
      default:
        // Edges not listed go through released (Dask's fallback).
        if (start !== S.released && finish !== S.released) {
          this.transition(ts, S.released, recs);
          if (ts.state === S.released) this.transition(ts, finish, recs);
        }
    }
  }

  private setState(ts: TaskState, s: TaskStatus): void {
    const c = ts.group.counts;
    c[ts.state] = (c[ts.state] ?? 1) - 1;
    c[s] = (c[s] ?? 0) + 1;
    this.transitionCounts[s] = (this.transitionCounts[s] ?? 0) + 1;
    this.transitionLog.push(ts.key, ts.state, s, this.stimulusId, this.now());
    ts.state = s;
  }

  private needed(ts: TaskState): boolean {
    return ts.whoWants.size > 0 || ts.waiters.size > 0 || ts.held;
  }

  private releasedToWaiting(ts: TaskState, recs: Recs): void {
    if (!this.needed(ts)) {
      recs.set(ts, TaskStatus.forgotten);
      return;
    }
    if (ts.spec === null) {
      ts.exception ??= { name: EngineErrorName.lostData, message: `scattered data ${ts.key} was lost and cannot be recomputed`, stack: "", data: { key: ts.key } };
      ts.exceptionBlame = ts;
      this.toErred(ts, recs);
      return;
    }
    for (const dts of ts.dependencies) {
      if (dts.state === TaskStatus.erred) {
        ts.exception = dts.exception;
        ts.exceptionBlame = dts.exceptionBlame;
        this.toErred(ts, recs);
        return;
      }
    }
    this.setState(ts, TaskStatus.waiting);
    ts.waitingOn.clear();
    for (const dts of ts.dependencies) {
      setAdd(dts, "waiters", ts);
      if (dts.state !== TaskStatus.memory) {
        setAdd(ts, "waitingOn", dts);
        if (dts.state === TaskStatus.released) recs.set(dts, TaskStatus.waiting);
      }
    }
    if (ts.waitingOn.size === 0) recs.set(ts, TaskStatus.processing);
  }

  private toProcessing(ts: TaskState, recs: Recs): void {
    const from = ts.state;
    // recommended when its last input arrived, but an input was released since: it waits again
    if (from === TaskStatus.waiting && ts.waitingOn.size > 0) return;
    // Tasks already queued mean no worker has a free slot (a freed slot is
    // refilled from the queue at once): a new root-ish task queues behind
    // them by priority, without a placement decision.
    const ws = from !== TaskStatus.queued && this.queued.size > 0 && this.workers.size > 0 && this.isRootish(ts) ? null : this.decideWorker(ts);
    if (ws === null) {
      if (from === TaskStatus.queued || from === TaskStatus.noWorker) return;
      if (this.workers.size === 0 || this.isRootish(ts)) {
        if (this.workers.size === 0) {
          this.setState(ts, TaskStatus.noWorker);
          this.unrunnable.add(ts);
        } else {
          this.setState(ts, TaskStatus.queued);
          this.queued.push(ts);
        }
      } else {
        this.setState(ts, TaskStatus.noWorker);
        this.unrunnable.add(ts);
      }
      return;
    }
    if (from === TaskStatus.queued) this.queued.remove(ts);
    if (from === TaskStatus.noWorker) this.unrunnable.delete(ts);
    this.assign(ts, ws);
    void recs;
  }

  private assign(ts: TaskState, ws: WorkerState): void {
    this.setState(ts, TaskStatus.processing);
    ts.processingOn = ws;
    ts.executing = false;
    ts.runId = ++this.runCounter;
    ts.expectedDuration = ts.group.avgDuration() ?? this.config.unknownTaskDuration;
    ws.processing.add(ts);
    ws.occupancy += ts.expectedDuration;
    this.pool.update(ws);
    const deps: Record<string, { who: string[]; nbytes: number }> = {};
    for (const d of ts.dependencies) {
      const who: string[] = [];
      for (const w of d.whoHas) who.push(w.address);
      deps[d.key] = { who, nbytes: d.nbytes };
    }
    const msg: { op: string; [k: string]: unknown } = { op: Op.computeTask, key: ts.key, spec: ts.spec!, deps, priority: ts.priority, runId: ts.runId, stimulusId: this.stimulusId };
    if (ts.code) msg["code"] = ts.code;
    this.send(ws, msg);
  }

  private removeFromProcessing(ts: TaskState, ws: WorkerState): void {
    ws.processing.delete(ts);
    ws.occupancy = Math.max(0, ws.occupancy - ts.expectedDuration);
    this.pool.update(ws);
    ts.processingOn = null;
    ts.executing = false;
  }

  private toMemory(ts: TaskState, recs: Recs): void {
    const ws = ts.processingOn;
    if (ws) {
      this.removeFromProcessing(ts, ws);
      this.addReplica(ts, ws);
    }
    this.setState(ts, TaskStatus.memory);
    ts.group.nbytesSum += Math.max(0, ts.nbytes);
    for (const dep of ts.dependents) {
      if (dep.state === TaskStatus.waiting && dep.waitingOn.delete(ts) && dep.waitingOn.size === 0) {
        recs.set(dep, TaskStatus.processing);
      }
    }
    for (const d of ts.dependencies) {
      d.waiters.delete(ts);
      if (d.state === TaskStatus.memory && !this.needed(d)) recs.set(d, TaskStatus.released);
    }
    for (const cs of ts.whoWants) this.notifyMemory(ts, cs);
    if (!this.needed(ts)) recs.set(ts, TaskStatus.released);
  }

  /**
   * The scatter edge, from any state but memory: the state's own edge to
   * released cleans up (queue, worker, inputs, error; a computing worker
   * other than the scatter's target is told to drop its run), then the key
   * is in memory on the scattered replica and its dependents are told.
   */
  private scatterToMemory(ts: TaskState, sc: Scattered, recs: Recs): void {
    const S = TaskStatus;
    // Computing on the very worker the value goes to: its run is void, but a
    // free-keys there would drop the scattered value (put-data went first).
    if (ts.state === S.processing && ts.processingOn === sc.ws) this.removeFromProcessing(ts, sc.ws);
    if (ts.state !== S.released) {
      this.transition(ts, S.released, recs);
      recs.delete(ts); // what that edge recommended for the key itself is superseded by this edge
      if ((ts.state as TaskStatus) !== S.released) return;
    }
    ts.nbytes = sc.nbytes;
    ts.inline = sc.inline;
    this.setState(ts, S.memory);
    this.addReplica(ts, sc.ws);
    ts.group.nbytesSum += Math.max(0, ts.nbytes);
    for (const dep of ts.dependents) {
      if (dep.state === S.waiting && dep.waitingOn.delete(ts) && dep.waitingOn.size === 0) recs.set(dep, S.processing);
    }
    for (const cs of ts.whoWants) this.notifyMemory(ts, cs);
  }

  private addReplica(ts: TaskState, ws: WorkerState): void {
    setAdd(ts, "whoHas", ws);
    ws.hasWhat.add(ts);
    ws.nbytes += Math.max(0, ts.nbytes);
  }

  /** Drops one replica; `tell`: send its holder `free-keys`, so that it keeps no orphan copy. */
  private removeReplica(ts: TaskState, ws: WorkerState, tell: boolean): void {
    if (!ts.whoHas.delete(ws)) return;
    ws.hasWhat.delete(ts);
    ws.nbytes -= Math.max(0, ts.nbytes);
    if (tell && this.workers.get(ws.address) === ws) this.send(ws, { op: Op.freeKeys, keys: [ts.key] });
  }

  private processingToErred(ts: TaskState, recs: Recs): void {
    const ws = ts.processingOn;
    if (ws) this.removeFromProcessing(ts, ws);
    this.toErred(ts, recs);
  }

  private toErred(ts: TaskState, recs: Recs): void {
    if (ts.state === TaskStatus.queued) this.queued.remove(ts);
    this.unrunnable.delete(ts);
    this.setState(ts, TaskStatus.erred);
    for (const d of ts.dependencies) {
      d.waiters.delete(ts);
      if (d.state === TaskStatus.memory && !this.needed(d)) recs.set(d, TaskStatus.released);
    }
    for (const dep of ts.dependents) {
      if (dep.state !== TaskStatus.memory && dep.state !== TaskStatus.erred && dep.state !== TaskStatus.forgotten) {
        dep.exception = ts.exception;
        dep.exceptionBlame = ts.exceptionBlame;
        recs.set(dep, TaskStatus.erred);
      }
    }
    for (const cs of ts.whoWants) this.notifyErred(ts, cs);
  }

  private waitingToReleased(ts: TaskState, recs: Recs, recommend = true): void {
    if (ts.state === TaskStatus.queued) this.queued.remove(ts);
    this.unrunnable.delete(ts);
    for (const d of ts.dependencies) {
      d.waiters.delete(ts);
      if (d.state === TaskStatus.memory && !this.needed(d)) recs.set(d, TaskStatus.released);
    }
    ts.waitingOn.clear();
    this.setState(ts, TaskStatus.released);
    if (recommend) recs.set(ts, this.needed(ts) ? TaskStatus.waiting : TaskStatus.forgotten);
  }

  private processingToReleased(ts: TaskState, recs: Recs): void {
    const ws = ts.processingOn;
    if (ws) {
      this.removeFromProcessing(ts, ws);
      if (this.workers.get(ws.address) === ws) this.send(ws, { op: Op.freeKeys, keys: [ts.key] });
    }
    for (const d of ts.dependencies) {
      d.waiters.delete(ts);
      if (d.state === TaskStatus.memory && !this.needed(d)) recs.set(d, TaskStatus.released);
    }
    this.setState(ts, TaskStatus.released);
    recs.set(ts, this.needed(ts) ? TaskStatus.waiting : TaskStatus.forgotten);
  }

  private memoryToReleased(ts: TaskState, recs: Recs): void {
    for (const ws of ts.whoHas) {
      ws.hasWhat.delete(ts);
      ws.nbytes -= Math.max(0, ts.nbytes);
      this.send(ws, { op: Op.freeKeys, keys: [ts.key] });
    }
    ts.whoHas.clear();
    ts.inline = null;
    this.setState(ts, TaskStatus.released);
    // dependents that were relying on this result must wait for it again
    for (const dep of ts.dependents) {
      if (dep.state === TaskStatus.waiting) {
        setAdd(dep, "waitingOn", ts);
      } else if (dep.state === TaskStatus.processing || dep.state === TaskStatus.queued || dep.state === TaskStatus.noWorker) {
        recs.set(dep, TaskStatus.released);
      }
    }
    recs.set(ts, this.needed(ts) ? TaskStatus.waiting : TaskStatus.forgotten);
  }

  private erredToReleased(ts: TaskState, recs: Recs): void {
    ts.exception = null;
    ts.exceptionBlame = null;
    this.setState(ts, TaskStatus.released);
    for (const dep of ts.dependents) if (dep.state === TaskStatus.erred) recs.set(dep, TaskStatus.released);
    recs.set(ts, this.needed(ts) ? TaskStatus.waiting : TaskStatus.forgotten);
  }

  private releasedToForgotten(ts: TaskState, recs: Recs): void {
    // A task stays (released) while it is wanted or while any dependent may
    // still need it recomputed from lineage.
    if (this.needed(ts) || ts.dependents.size > 0) return;
    this.setState(ts, TaskStatus.forgotten);
    this.forgottenNow++;
    this.tasks.delete(ts.key);
    ts.group.size -= 1;
    for (const d of ts.dependencies) {
      d.dependents.delete(ts);
      d.waiters.delete(ts);
      if ((d.state === TaskStatus.released || d.state === TaskStatus.erred) && !this.needed(d) && d.dependents.size === 0) {
        // past a budget per stimulus the cascade goes on in background slices (releaseHolds):
        // forgetting a million-task tree is never one pass
        if (this.forgottenNow > FORGET_PER_STIMULUS) this.forgetLater.push(d);
        else recs.set(d, TaskStatus.forgotten);
      }
    }
    ts.dependencies.clear();
    if (ts.group.size === 0) this.groups.delete(ts.group.name);
  }

  private releaseWanted(cs: ClientState, tss: TaskState[]): void {
    const recs: Recs = new Map();
    for (const ts of tss) {
      if (!cs.wants.delete(ts)) continue;
      ts.whoWants.delete(cs);
      if (!this.needed(ts)) recs.set(ts, TaskStatus.forgotten);
    }
    this.transitions(recs);
  }

  // -------------------------------------------------------------- placement

  isRootish(ts: TaskState): boolean {
    return isRootish(ts, this.totalThreads, this.config);
  }

  /** How many tasks a worker may hold at once when tasks are queued. */
  slots(ws: WorkerState): number {
    return slotsFor(ws, this.queued.peek() ?? null, this.config);
  }

  private decideWorker(ts: TaskState): WorkerState | null {
    return decideWorker(ts, this.pool, this.totalThreads, this.queued.peek() ?? null, this.config);
  }

  /** Sends queued tasks to the least loaded workers while they have free slots (O(log W) per task). */
  private fillFromPool(): void {
    while (this.queued.size > 0) {
      const ws = this.pool.peek();
      if (ws === undefined) return;
      const before = ws.processing.size;
      if (before >= this.slots(ws)) return;
      this.fillSlots(ws);
      if (ws.processing.size === before) return;
    }
  }

  /** Sends queued tasks to `ws` while it has free slots. */
  private fillSlots(ws: WorkerState): void {
    if (ws.status !== "running" || this.queued.size === 0 || this.workers.get(ws.address) !== ws) return;
    const slots = this.slots(ws);
    while (ws.processing.size < slots) {
      const ts = this.queued.pop();
      if (!ts) break;
      this.unrunnable.delete(ts);
      this.assign(ts, ws);
      if (this.config.validate) validateState(this, [ts]);
    }
  }

  // ----------------------------------------------------------------- helpers

  private newTask(key: string, spec: Payload | null, allowedFailures: number | undefined): TaskState {
    const prefix = keyPrefix(key);
    let g = this.groups.get(prefix);
    if (!g) {
      g = new TaskGroup(prefix);
      this.groups.set(prefix, g);
    }
    g.size += 1;
    g.counts[TaskStatus.released] = (g.counts[TaskStatus.released] ?? 0) + 1;
    const ts = new TaskState(key, spec, g, allowedFailures ?? this.config.allowedFailures);
    this.tasks.set(key, ts);
    return ts;
  }

  private notifyMemory(ts: TaskState, cs: ClientState): void {
    const msg: { op: string; [k: string]: unknown } = { op: Op.keyInMemory, key: ts.key, type: ts.type, nbytes: ts.nbytes };
    if (ts.inline) msg["inline"] = ts.inline;
    this.send({ to: "client", id: cs.id }, msg);
  }

  private notifyErred(ts: TaskState, cs: ClientState): void {
    const err: ErrorRecord = ts.exception ?? { name: "Error", message: `task ${ts.key} failed`, stack: "" };
    this.send({ to: "client", id: cs.id }, { op: Op.keyErred, key: ts.key, error: err, blame: ts.exceptionBlame?.key ?? ts.key });
  }

  private send(target: WorkerState | { to: "client"; id: string }, msg: { op: string; [k: string]: unknown }): void {
    if (target instanceof WorkerState) this.out.push({ to: "worker", address: target.address, msg });
    else this.out.push({ to: "client", id: target.id, msg });
  }

  /** Counts of tasks by state (for metrics and tests). */
  stateCounts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const ts of this.tasks.values()) c[ts.state] = (c[ts.state] ?? 0) + 1;
    return c;
  }

}
