/**
 * The scheduler process's I/O shell around {@link SchedulerState}: accepts
 * clients and workers, feeds their messages to the state machine, sends what
 * it produces, stores uploaded code, watches heartbeats.
 *
 * A handler that throws: under validation (`config.validate`,
 * `SHOAL_VALIDATE=1`) a broken invariant ({@link InvariantError}) stops the
 * scheduler loudly (logged, every connection closed, the error thrown
 * uncaught so that the process dies and a test fails); anything else is
 * logged, answered with `{ status: "error", message, error }` when the
 * message was a request, and that peer's connection is closed.
 */
import { randomUUID } from "node:crypto";
import { Comm, listen, type Listener, type ListenOptions, type Message } from "../comm/index.ts";
import { Accepts, Op, type Msg } from "../protocol/messages.ts";
import { payloadBytes, type Payload } from "../protocol/serialize.ts";
import { asPayload } from "../protocol/wire.ts";
import { VERSION } from "../version.ts";
import { errorToRecord } from "../utils/error-record.ts";
import { log } from "../utils/log.ts";
import { SchedulerState, type SchedulerConfig } from "./state.ts";
import { locateKeys, whoHasKeys } from "./queries.ts";
import { InvariantError } from "./validate.ts";
import { ProgressWatches } from "./progress.ts";

export interface SchedulerOptions {
  /** Listen address, e.g. `tcp://0.0.0.0:8786`, `tcp://127.0.0.1:0`, `inproc://auto`. */
  address?: string;
  /** Seconds without heartbeat before a worker is declared dead (Dask: worker-ttl). */
  workerTtl?: number;
  /** Cluster token; when set, clients and workers must present it. */
  token?: string;
  /** TLS and limits of the listener (the token and what it accepts are set by the scheduler). */
  listen?: Omit<ListenOptions, "accepts" | "token" | "name">;
  config?: Partial<SchedulerConfig>;
  /** Print join/leave log lines (default true). */
  logEvents?: boolean;
}

export const DEFAULT_WORKER_TTL = 30;
/** Period of the scheduler's event-loop tick (its responsiveness measure). */
export const TICK_MS = 20;
/** A stall longer than this is logged (Dask: `distributed.admin.tick.limit`, 3 s). */
const TICK_WARN_MS = Number(process.env["SHOAL_TICK_WARN_MS"] ?? 3000);

interface Peer {
  kind: "worker" | "client";
  id: string;
  comm: Comm;
}

export class SchedulerServer {
  readonly state: SchedulerState;
  readonly id = randomUUID();
  private listener: Listener | null = null;
  private readonly workerComms = new Map<string, Comm>();
  private readonly clientComms = new Map<string, Comm>();
  private readonly code = new Map<string, Payload>();
  /** Instance id of the worker process registered at each address. */
  private readonly instances = new Map<string, string>();
  private ttlTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The invariant violation that stopped this scheduler (validation only). */
  crashed: InvariantError | null = null;
  readonly startedAt = Date.now();
  /** Notified on worker join/leave (dashboard, LocalCluster). */
  readonly workerListeners: ((ev: "added" | "removed", address: string) => void)[] = [];
  /** Notified of worker-to-worker transfers reported in heartbeats: [start, stop, nbytes, from] (dashboard). */
  readonly transferListeners: ((worker: string, transfers: [number, number, number, string][]) => void)[] = [];
  /** Extra services attached to this scheduler, by name → URL (e.g. `dashboard`); shown in `identity()`. */
  readonly services: Record<string, string> = {};
  /** Progress watches of clients (`progress(() => df.collect())`): scheduler/progress.ts. */
  private readonly progressWatches: ProgressWatches;

  constructor(readonly opts: SchedulerOptions = {}) {
    const validate = opts.config?.validate ?? process.env["SHOAL_VALIDATE"] === "1";
    this.state = new SchedulerState({ ...opts.config, validate });
    this.progressWatches = new ProgressWatches(this.state);
  }

  get address(): string {
    if (!this.listener) throw new Error("scheduler not started");
    return this.listener.address;
  }

  get workerTtl(): number {
    return this.opts.workerTtl ?? DEFAULT_WORKER_TTL;
  }

  async start(): Promise<this> {
    this.listener = await listen(this.opts.address ?? "tcp://127.0.0.1:8786", (c) => this.accept(c), {
      ...(this.opts.listen ?? {}),
      token: this.opts.token,
      name: "scheduler",
      accepts: Accepts.schedulerUnregistered,
    });
    const ttl = this.workerTtl;
    this.ttlTimer = setInterval(() => {
      if (this.crashed) return;
      let dead: string[] = [];
      try {
        dead = this.state.checkWorkerTtl(ttl);
      } catch (err) {
        if (err instanceof InvariantError && this.state.config.validate) return this.crash(err, "checking worker heartbeats");
        log("scheduler", `error checking worker heartbeats: ${(err as Error).stack ?? String(err)}`);
      }
      for (const a of dead) {
        this.logEvent(`worker ${a} removed: no heartbeat for more than ${ttl} s`);
        this.dropWorkerComm(a);
      }
      this.flush();
    }, Math.max(100, Math.min(1000, (ttl * 1000) / 4)));
    this.ttlTimer.unref();
    this.loop.last = performance.now();
    this.loop.since = Date.now();
    this.tickTimer = setInterval(() => this.onTick(), TICK_MS);
    this.tickTimer.unref();
    return this;
  }

  /** Event-loop responsiveness, from a {@link TICK_MS} timer: the longest gap past its period, and gaps over 100 ms. */
  private readonly loop = { last: 0, maxStallMs: 0, stallsOver100ms: 0, since: 0 };
  private tickTimer: NodeJS.Timeout | null = null;

  private onTick(): void {
    const now = performance.now();
    const stall = Math.max(0, now - this.loop.last - TICK_MS);
    this.loop.last = now;
    if (stall > this.loop.maxStallMs) this.loop.maxStallMs = stall;
    if (stall > 100) this.loop.stallsOver100ms++;
    // as Dask warns: nothing was answered meanwhile (heartbeats, clients, the dashboard)
    if (stall > TICK_WARN_MS) log("scheduler", `event loop unresponsive for ${(stall / 1000).toFixed(2)} s: heartbeats, clients and the dashboard were not answered meanwhile (a long synchronous pass in this process; an embedded scheduler can run on its own thread: schedulerThread / SHOAL_SCHEDULER_THREAD=1)`);
  }

  /**
   * The scheduler's event-loop stalls since it started or since the last
   * read with `reset` (as Dask's tick-duration metric resets when scraped):
   * the longest, and how many passed 100 ms.
   */
  loopStats(reset = false): { maxStallMs: number; stallsOver100ms: number; since: number } {
    this.onTick(); // a stall in progress up to now counts too
    const r = { maxStallMs: Math.round(this.loop.maxStallMs), stallsOver100ms: this.loop.stallsOver100ms, since: this.loop.since };
    if (reset) {
      this.loop.maxStallMs = 0;
      this.loop.stallsOver100ms = 0;
      this.loop.since = Date.now();
    }
    return r;
  }

  private logEvent(msg: string): void {
    if (this.opts.logEvents !== false) log("scheduler", msg);
  }

  private accept(comm: Comm): void {
    let peer: Peer | null = null;
    comm.onMessage((m) => {
      if (this.crashed) return;
      if (peer === null) {
        try {
          peer = this.handshake(comm, m);
        } catch (err) {
          this.handlerFailed(comm, comm.peerAddress, m, err);
          return;
        }
        if (peer === null) return;
        this.flush();
        return;
      }
      try {
        if (peer.kind === "worker") this.onWorkerMessage(peer, m);
        else this.onClientMessage(peer, m);
      } catch (err) {
        this.handlerFailed(comm, peer.id, m, err);
      }
      this.scheduleFlush();
    });
    comm.onClose(() => {
      const p = peer as Peer | null;
      if (!p || this.closed || this.crashed) return;
      try {
        if (p.kind === "worker") {
          if (this.workerComms.get(p.id) === comm) {
            this.workerComms.delete(p.id);
            this.instances.delete(p.id);
            if (this.state.removeWorker(p.id, { expected: false, reason: "connection closed" })) {
              this.logEvent(`worker left: ${p.id} (connection closed); ${this.state.workers.size} worker(s) remain`);
              this.notify(this.workerListeners, "worker", "removed", p.id);
            }
          }
        } else {
          this.clientComms.delete(p.id);
          this.progressWatches.close(p.id);
          this.state.removeClient(p.id);
        }
      } catch (err) {
        if (err instanceof InvariantError && this.state.config.validate) return this.crash(err, `removing ${p.kind} ${p.id}`);
        log("scheduler", `error removing ${p.kind} ${p.id}: ${(err as Error).stack ?? String(err)}`);
      }
      this.flush();
    });
  }

  /**
   * A handler threw. Under validation a broken invariant stops the
   * scheduler ({@link crash}); anything else is logged, answered when the
   * message was a request, and the peer's connection is closed (what it
   * sent may have been half applied; it reconnects or fails, never waits).
   */
  private handlerFailed(comm: Comm, who: string, m: Message, err: unknown): void {
    if (err instanceof InvariantError && this.state.config.validate) {
      this.crash(err, `handling '${m.op}' from ${who}`);
      return;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    log("scheduler", `error handling '${m.op}' from ${who}; closing that connection: ${e.stack ?? e.message}`);
    if (m["reqId"] !== undefined) comm.reply(m, { status: "error", message: `the scheduler failed handling '${m.op}': ${e.message}`, error: errorToRecord(e) });
    this.flush();
    comm.close();
  }

  /**
   * Stops the scheduler on a broken invariant under validation: logs it,
   * closes every connection (peers see a dead scheduler, as after a crash,
   * instead of waiting forever), and throws the error uncaught, past the
   * connection's own catch, so that the process dies and a test fails.
   */
  private crash(err: InvariantError, during: string): void {
    if (this.crashed) return;
    this.crashed = err;
    log("scheduler", `FATAL: invariant violation ${during} (validation is on: the scheduler stops): ${err.stack ?? err.message}`);
    this.close().catch(() => undefined);
    process.nextTick(() => {
      throw err;
    });
  }

  /**
   * The first message of an authenticated connection says who it is (the
   * token was checked in the connection handshake, comm/handshake.ts).
   */
  private handshake(comm: Comm, m: Message): Peer | null {
    if (m.op === Op.registerWorker) {
      const r = m as Msg<"register-worker">;
      const address = r.address;
      const old = this.workerComms.get(address);
      const oldInstance = this.instances.get(address);
      if (old && old !== comm && !old.isClosed && oldInstance !== r.instance) {
        // Another process claims a live worker's address: keep the live one.
        // (A worker that restarted there is admitted once the old connection
        // closes or its heartbeats stop; it retries until then.)
        log("scheduler", `refused a registration for ${address} from ${comm.peerAddress}: a live worker is registered at that address`);
        comm.reply(m, { status: "refused", retriable: true, message: `a live worker is already registered at ${address}` });
        setTimeout(() => comm.close(), 50).unref();
        return null;
      }
      if (old && old !== comm) old.close();
      this.workerComms.set(address, comm);
      this.instances.set(address, r.instance);
      comm.setAccepts(Accepts.schedulerFromWorker);
      this.state.addWorker({ address, name: r.name, nthreads: r.nthreads, memoryLimit: r.memoryLimit, host: r.host, pid: r.pid, keys: r.keys });
      comm.reply(m, { status: "ok", heartbeatInterval: this.heartbeatInterval(), workerTtl: this.workerTtl, schedulerId: this.id, version: VERSION });
      this.logEvent(`worker joined: ${r.name} at ${address} (${r.nthreads} threads); ${this.state.workers.size} worker(s)`);
      this.notify(this.workerListeners, "worker", "added", address);
      return { kind: "worker", id: address, comm };
    }
    const r = m as Msg<"register-client">;
    const id = r.id ?? randomUUID();
    this.clientComms.set(id, comm);
    comm.setAccepts(Accepts.schedulerFromClient);
    this.state.addClient(id);
    comm.reply(m, { status: "ok", schedulerId: this.id, version: VERSION });
    return { kind: "client", id, comm };
  }

  /** Heartbeat period handed to workers: at most ~200 heartbeats per second in total. */
  private heartbeatInterval(): number {
    const n = this.state.workers.size + 1;
    const base = n <= 10 ? 0.5 : n < 50 ? 1 : n < 200 ? 2 : n / 200 + 1;
    return Math.min(base, Math.max(0.05, this.workerTtl / 5));
  }

  private onWorkerMessage(p: Peer, m: Message): void {
    const s = this.state;
    switch (m.op) {
      case Op.taskFinished: s.taskFinished(p.id, m as Msg<"task-finished">); break;
      case Op.taskErred: s.taskErred(p.id, m as Msg<"task-erred">); break;
      case Op.taskStarted: s.taskStarted(p.id, m["key"] as string, m["runId"] as number); break;
      case Op.heartbeat:
        s.heartbeat(p.id, m["metrics"] as Record<string, number>);
        if (m["transfers"] !== undefined) this.notify(this.transferListeners, "transfer", p.id, m["transfers"] as [number, number, number, string][]);
        // answered, so that a worker cut off from us notices and rejoins clean
        if (m["reqId"] !== undefined) p.comm.reply(m, {});
        break;
      case Op.missingData: s.missingData(m["key"] as string, m["errant"] as string, p.id); break;
      case Op.addKeys: s.addKeys(p.id, m["keys"] as string[]); break;
      case Op.whoHas: p.comm.reply(m, { whoHas: whoHasKeys(s, (m as Msg<"who-has">).keys) }); break;
      case Op.getCode: p.comm.reply(m, { code: this.code.get(m["hash"] as string) }); break;
      case Op.unregister:
        if (s.removeWorker(p.id, { expected: true, reason: "worker closed" })) {
          this.workerComms.delete(p.id);
          this.instances.delete(p.id);
          this.logEvent(`worker left: ${p.id} (closed); ${s.workers.size} worker(s) remain`);
          this.notify(this.workerListeners, "worker", "removed", p.id);
        }
        break;
      default: break;
    }
  }

  private onClientMessage(p: Peer, m: Message): void {
    const s = this.state;
    switch (m.op) {
      case Op.updateGraph: {
        const u = m as Msg<"update-graph">;
        s.updateGraph(p.id, u.tasks, u.keys, u.graph === undefined ? undefined : { graph: u.graph, more: u.more === true });
        if (u.progress !== undefined) this.progressWatches.get(p.id, u.progress).add(u.tasks.map((t) => t.key));
        if (u.more !== true && u.graph !== undefined) this.releaseHoldsSoon();
        break;
      }
      case Op.releaseKeys: s.clientReleasesKeys(p.id, m["keys"] as string[]); break;
      case Op.cancelKeys: s.cancelKeys(p.id, m["keys"] as string[]); break;
      case Op.putCode:
        this.code.set(m["hash"] as string, asPayload(m["code"] as Payload));
        p.comm.reply(m, { status: "ok" });
        break;
      case Op.gather: p.comm.reply(m, { ...locateKeys(s, m["keys"] as string[]) }); break;
      case Op.scatter: this.scatter(p, m); break;
      case Op.identity: p.comm.reply(m, { info: { ...this.identity(), loop: this.loopStats(m["resetLoopStats"] === true) } }); break;
      case Op.story: p.comm.reply(m, { story: s.story((m as Msg<"story">).keys) }); break;
      case Op.progress: {
        const q = m as Msg<"progress">;
        if (q.close === true) {
          this.progressWatches.close(p.id, q.watch);
          p.comm.reply(m, { groups: [], pending: 0 });
          break;
        }
        const w = this.progressWatches.get(p.id, q.watch);
        if (q.add) w.add(q.add);
        p.comm.reply(m, w.snapshot());
        break;
      }
      case Op.closeClient:
        this.clientComms.delete(p.id);
        this.progressWatches.close(p.id);
        s.removeClient(p.id);
        break;
      default: break;
    }
  }

  private scatter(p: Peer, m: Message): void {
    const data = m["data"] as Record<string, Payload>;
    const broadcast = m["broadcast"] === true;
    const workers = [...this.state.workers.values()].filter((w) => w.status === "running");
    if (workers.length === 0) {
      p.comm.reply(m, { status: "error", message: "no workers to scatter to" });
      return;
    }
    let i = 0;
    for (const [key, raw] of Object.entries(data)) {
      const payload = asPayload(raw);
      const nbytes = payloadBytes(payload);
      const targets = broadcast ? workers : [workers.slice().sort((a, b) => a.nbytes - b.nbytes)[0]!];
      for (const ws of targets) {
        this.workerComms.get(ws.address)?.send({ op: Op.putData, key, value: payload, nbytes });
        this.state.scatter(p.id, key, ws.address, nbytes, nbytes <= 64 * 1024 ? payload : null);
      }
      i++;
    }
    p.comm.reply(m, { status: "ok", count: i });
  }

  /** Calls each observer; one that throws is logged and never affects the scheduler. */
  private notify<A extends unknown[]>(listeners: readonly ((...args: A) => void)[], what: string, ...args: A): void {
    for (const l of listeners) {
      try {
        l(...args);
      } catch (err) {
        log("scheduler", `a ${what} listener threw; the scheduler carries on: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  /** Cluster description for clients and the dashboard. */
  identity(): Record<string, unknown> {
    const workers: Record<string, unknown> = {};
    for (const w of this.state.workers.values()) {
      workers[w.address] = { name: w.name, nthreads: w.nthreads, memoryLimit: w.memoryLimit, host: w.host, pid: w.pid, nbytes: w.nbytes, processing: w.processing.size, status: w.status, metrics: w.metrics };
    }
    return { id: this.id, address: this.listener?.address, version: VERSION, workers, tasks: this.state.tasks.size, services: { ...this.services } };
  }

  /** Bytes sent and received on the scheduler's own connections (open ones), for metrics. */
  commBytes(): { in: number; out: number } {
    let bytesIn = 0;
    let bytesOut = 0;
    for (const c of this.workerComms.values()) {
      bytesIn += c.bytesIn;
      bytesOut += c.bytesOut;
    }
    for (const c of this.clientComms.values()) {
      bytesIn += c.bytesIn;
      bytesOut += c.bytesOut;
    }
    return { in: bytesIn, out: bytesOut };
  }

  private releasing = false;
  /** Lets go of a finished multi-part graph's held tasks in slices, between I/O events. */
  private releaseHoldsSoon(): void {
    if (this.releasing) return;
    this.releasing = true;
    const step = (): void => {
      if (this.closed || this.crashed) return;
      let more = false;
      try {
        more = this.state.releaseHolds(10_000);
      } catch (err) {
        if (err instanceof InvariantError && this.state.config.validate) return this.crash(err, "releasing a graph's held tasks");
        log("scheduler", `error releasing held tasks: ${(err as Error).stack ?? String(err)}`);
      }
      this.flush();
      if (more) setImmediate(step);
      else this.releasing = false;
    };
    setImmediate(step);
  }

  private flushScheduled = false;
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Sends everything the state machine produced (and starts background slices it left: {@link releaseHoldsSoon}). */
  flush(): void {
    if (!this.releasing && this.state.heldToRelease > 0) this.releaseHoldsSoon();
    for (const o of this.state.drain()) {
      if (o.to === "worker") this.workerComms.get(o.address)?.send(o.msg);
      else this.clientComms.get(o.id)?.send(o.msg);
    }
  }

  private dropWorkerComm(address: string): void {
    const c = this.workerComms.get(address);
    this.workerComms.delete(address);
    c?.close();
    this.notify(this.workerListeners, "worker", "removed", address);
  }

  /** Sends one message to a registered worker (the elastic layer's retire path); false when it has no connection. */
  sendToWorker(address: string, msg: Message): boolean {
    const c = this.workerComms.get(address);
    if (!c || c.isClosed) return false;
    c.send(msg);
    return true;
  }

  /** Asks every worker to close (used by LocalCluster shutdown and `shoal scheduler` on SIGTERM). */
  closeWorkers(reason: string): void {
    for (const c of this.workerComms.values()) c.send({ op: Op.closeWorker, reason });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const c of [...this.workerComms.values(), ...this.clientComms.values()]) c.close();
    await this.listener?.close();
  }
}
