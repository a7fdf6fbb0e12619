/**
 * The worker process's I/O shell around {@link WorkerStateMachine}: the
 * connection to the scheduler, the data server peers fetch from, the thread
 * pool that runs tasks, the data store and the heartbeat.
 */
import os from "node:os";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { Comm, connect, dataIdleTimeoutMs, HandshakeError, listen, type Listener, type Message, type TlsOptions } from "../comm/index.ts";
import { formatAddress, parseAddress } from "../comm/address.ts";
import { Accepts, INLINE_RESULT_BYTES, Op, type ComputeTaskMsg } from "../protocol/messages.ts";
import { payloadBytes, type Payload } from "../protocol/serialize.ts";
import { asPayload } from "../protocol/wire.ts";
import { VERSION } from "../version.ts";
import { CodeCache } from "./code-cache.ts";
import { DEFAULT_THREAD_CACHE_BYTES, Executor, type DepPayload } from "./executor.ts";
import { DataStore, Resident } from "./store.ts";
import { DataServer, DEFAULT_DATA_PLANE_LIMITS, PeerPool, type DataPlaneLimits } from "./data-plane.ts";
import { WorkerStateMachine, type Instruction, type WorkerEvent } from "./state.ts";
import { DEFAULT_MEMORY_THRESHOLDS, MemoryManager, type MemoryThresholds } from "./memory.ts";
import { log } from "../utils/log.ts";
import { keyPrefix } from "../protocol/keys.ts";

/** A task running longer than this is reported as executing (for fair blame on worker death). */
const STARTED_NOTICE_MS = 5;

export interface WorkerOptions {
  scheduler: string;
  name?: string;
  nthreads?: number;
  /** Bytes; 0 = no limit. */
  memoryLimit?: number;
  /** Host to listen on for peers; default: the local address used to reach the scheduler. */
  host?: string;
  port?: number;
  localDirectory?: string;
  token?: string;
  /** Seconds to keep trying to reach a lost scheduler before exiting. */
  deathTimeout?: number;
  validate?: boolean;
  /** Extra environment for executor threads (they inherit the process environment). */
  threadEnv?: Record<string, string>;
  /**
   * Bytes of decoded values each executor thread keeps (counted as their
   * serialized size). Default: 256 MiB, or memoryLimit / 8 / nthreads when
   * that is smaller (decoded values, e.g. frames of lz4-compressed Arrow IPC,
   * can be several times their serialized size, and the store holds the
   * serialized copy too). 0 disables the cache.
   */
  threadCacheBytes?: number;
  /** Memory thresholds as fractions of memoryLimit (Dask's defaults). */
  memory?: Partial<MemoryThresholds>;
  /** Certificate, key and CA for tls:// (scheduler connection, peers, the data server). */
  tls?: TlsOptions;
  /** Bounds of the data port (reply size, concurrent transfers); see data-plane.ts. */
  dataPlane?: Partial<DataPlaneLimits>;
  /** Called when process memory passes the terminate fraction (the worker process exits; its nanny restarts it). */
  onTerminate?: (reason: string) => void;
}

export { DEFAULT_MEMORY_THRESHOLDS, type MemoryThresholds } from "./memory.ts";

export class WorkerServer {
  readonly nthreads: number;
  readonly name: string;
  private sm: WorkerStateMachine;
  private store!: DataStore;
  private memoryTimer: NodeJS.Timeout | null = null;
  private memoryManager: MemoryManager;
  private stimulusCounter = 0;
  /** Resident values are being written to be spilled (see spillTo). */
  private writingResidents = false;
  private readonly memory: MemoryThresholds;
  private scheduler: Comm | null = null;
  private listener: Listener | null = null;
  private executor: Executor | null = null;
  private code: CodeCache | null = null;
  private readonly peers = new PeerPool(() => this.connectOptions());
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatInterval = 0.5;
  private schedulerTtl = 30;
  private lastHeartbeatReply = Date.now();
  private closing = false;
  private ownDir: string | null = null;
  private generation = 0;
  private readonly seenGroups = new Set<string>();
  /** Peer transfers finished since the last heartbeat: [start, stop, nbytes, peer] (dashboard). */
  private transfers: [number, number, number, string][] = [];
  private transferBytes = 0;
  private lastCpu = { usage: process.cpuUsage(), time: performance.now() };
  address = "";
  /** Random per process: tells the scheduler a reconnect of this worker from another process claiming its address. */
  readonly instance = randomUUID();
  private dataServer: DataServer | null = null;
  /** Resolves when the worker has stopped for good. */
  readonly finished: Promise<void>;
  /**
   * Why the worker stopped on its own after losing the scheduler (the
   * death timeout passed, or the scheduler refused it for good); null when
   * it is running or was closed on request. The worker process exits
   * non-zero when this is set.
   */
  get gaveUp(): string | null {
    return this.gaveUpReason;
  }
  private gaveUpReason: string | null = null;
  private resolveFinished!: () => void;

  constructor(readonly opts: WorkerOptions) {
    this.nthreads = opts.nthreads ?? Math.max(1, os.availableParallelism());
    this.name = opts.name ?? `${os.hostname()}-${process.pid}`;
    this.sm = this.newStateMachine();
    this.finished = new Promise((r) => (this.resolveFinished = r));
    this.memory = { ...DEFAULT_MEMORY_THRESHOLDS, ...(opts.memory ?? {}) };
    this.memoryManager = this.newMemoryManager();
  }

  async start(): Promise<void> {
    const dir = this.opts.localDirectory ?? (this.ownDir = mkdtempSync(join(os.tmpdir(), "shoal-worker-")));
    this.code = new CodeCache(join(dir, "code"));
    this.store = new DataStore(join(dir, `spill-${process.pid}-${Date.now().toString(36)}`));
    if ((this.opts.memoryLimit ?? 0) > 0) {
      this.memoryTimer = setInterval(() => {
        if (!this.closing) this.memoryManager.check();
      }, this.memory.intervalMs);
      this.memoryTimer.unref();
    }
    const limit = this.opts.memoryLimit ?? 0;
    const cacheBytes = this.opts.threadCacheBytes ??
      (limit > 0 ? Math.min(DEFAULT_THREAD_CACHE_BYTES, Math.floor(limit / 8 / this.nthreads)) : DEFAULT_THREAD_CACHE_BYTES);
    this.executor = new Executor(this.nthreads, this.code.dir, this.opts.threadEnv ?? {}, cacheBytes);
    this.executor.onEncoded = (key, p) => {
      this.store.replaceResident(key, p);
    };
    this.executor.onLost = (keys) => {
      log("worker", `${this.name}: an executor thread died holding ${keys.length} stored value(s); they will be recomputed`);
      this.handle({ type: "lost-data", keys, self: this.address, stimulusId: this.stimulus("lost-data") });
    };
    const comm = await connect(this.opts.scheduler, this.schedulerConnectOptions(10_000));
    const host = this.opts.host ?? hostOfLocal(comm.localAddress);
    const scheme = parseAddress(this.opts.scheduler).scheme;
    this.dataServer = new DataServer(
      { read: (k) => this.store.read(k), encode: (k) => this.executor!.encode(k) },
      { ...DEFAULT_DATA_PLANE_LIMITS, ...(this.opts.dataPlane ?? {}) },
    );
    this.listener = await listen(
      scheme === "inproc" ? "inproc://auto" : formatAddress(scheme, host, this.opts.port ?? 0),
      (c) => this.dataServer!.serve(c),
      {
        ...(this.opts.tls ? { tls: this.opts.tls } : {}),
        token: this.opts.token,
        name: "worker data port",
        accepts: Accepts.dataPort,
        limits: { idleTimeoutMs: dataIdleTimeoutMs() },
      },
    );
    this.address = this.listener.address;
    // registered means ready: threads that are still loading (the preload of
    // `shoal`, ~0.3 s) would make the first tasks wait; never block for long
    await waitAtMost(this.executor.ready, THREADS_READY_WAIT_MS);
    // a registration refused for a retriable reason (another process still
    // holds this address at the scheduler) is tried again until deathTimeout
    const deadline = Date.now() + (this.opts.deathTimeout ?? 60) * 1000;
    for (let attempt = 0, c = comm; ; attempt++) {
      try {
        await this.register(c);
        return;
      } catch (err) {
        if (!(err instanceof RegistrationRefused && err.retriable) || Date.now() > deadline) throw err;
        await sleep(backoffMs(attempt));
        c = await connect(this.opts.scheduler, this.schedulerConnectOptions(10_000));
      }
    }
  }

  private async register(comm: Comm): Promise<void> {
    // The scheduler may send work in the same packet as its reply: listen first.
    const gen = ++this.generation;
    comm.onMessage((m) => {
      if (gen === this.generation) this.onSchedulerMessage(m);
    });
    this.scheduler = comm;
    const reply = await comm.request({
      op: Op.registerWorker,
      name: this.name,
      address: this.address,
      nthreads: this.nthreads,
      memoryLimit: this.opts.memoryLimit ?? 0,
      pid: process.pid,
      host: os.hostname(),
      version: VERSION,
      instance: this.instance,
      keys: [...this.store.keys()],
    });
    if (reply["status"] !== "ok") {
      this.scheduler = null;
      comm.close();
      throw new RegistrationRefused(`scheduler ${this.opts.scheduler} refused this worker: ${String(reply["message"] ?? "no reason given")}`, reply["retriable"] === true);
    }
    this.heartbeatInterval = (reply["heartbeatInterval"] as number | undefined) ?? 0.5;
    this.schedulerTtl = (reply["workerTtl"] as number | undefined) ?? 30;
    this.lastHeartbeatReply = Date.now();
    comm.onClose(() => {
      if (gen === this.generation) void this.onSchedulerLost();
    });
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatInterval * 1000);
    this.heartbeatTimer.unref();
  }

  private connectOptions(): { tls?: TlsOptions; token?: string | undefined; role: string } {
    return { ...(this.opts.tls ? { tls: this.opts.tls } : {}), token: this.opts.token, role: "worker" };
  }

  private schedulerConnectOptions(timeoutMs: number): Parameters<typeof connect>[1] {
    return { ...this.connectOptions(), timeoutMs, accepts: Accepts.workerFromScheduler };
  }

  private heartbeat(): void {
    const comm = this.scheduler;
    if (!comm) return;
    // A scheduler that stops answering (network cut without a reset) is
    // treated as lost after the TTL: reconnect and rejoin clean.
    if (Date.now() - this.lastHeartbeatReply > this.schedulerTtl * 1000) {
      log("worker", `${this.name}: no answer from the scheduler for ${this.schedulerTtl} s`);
      comm.abort(new Error("scheduler heartbeat timeout"));
      return;
    }
    const mem = process.memoryUsage();
    const usage = process.cpuUsage();
    const now = performance.now();
    const cpuMicros = usage.user - this.lastCpu.usage.user + usage.system - this.lastCpu.usage.system;
    const cpu = now > this.lastCpu.time ? (cpuMicros / 1000 / (now - this.lastCpu.time)) * 100 : 0;
    this.lastCpu = { usage, time: now };
    const transfers = this.transfers;
    this.transfers = [];
    void comm.request({
      op: Op.heartbeat,
      ...(transfers.length > 0 ? { transfers } : {}),
      metrics: {
        cpu,
        transferBytes: this.transferBytes,
        rss: mem.rss,
        heap: mem.heapUsed,
        managed: this.store.memoryBytes,
        spilled: this.store.spilledBytes,
        limit: this.opts.memoryLimit ?? 0,
        executing: this.sm.executing.size,
        stored: this.store.size,
        paused: this.sm.paused ? 1 : 0,
        time: Date.now() / 1000,
      },
    }).then(
      () => {
        this.lastHeartbeatReply = Date.now();
      },
      () => undefined,
    );
  }

  private async onSchedulerLost(): Promise<void> {
    if (this.closing) return;
    this.scheduler = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    log("worker", `${this.name}: lost connection to scheduler ${this.opts.scheduler}; reconnecting`);
    // Anything computed for the old session may be recomputed elsewhere: start clean.
    this.resetState();
    const deathTimeout = this.opts.deathTimeout ?? 60;
    const deadline = Date.now() + deathTimeout * 1000;
    let why = `scheduler ${this.opts.scheduler} unreachable for ${deathTimeout} s`;
    for (let attempt = 0; !this.closing && Date.now() < deadline; attempt++) {
      try {
        const comm = await connect(this.opts.scheduler, this.schedulerConnectOptions(2000));
        await this.register(comm);
        log("worker", `${this.name}: reconnected to ${this.opts.scheduler}`);
        return;
      } catch (err) {
        // a refused token or another protocol version will not change by waiting
        const retriable = err instanceof HandshakeError ? err.retriable : err instanceof RegistrationRefused ? err.retriable : true;
        if (!retriable) {
          why = (err as Error).message;
          break;
        }
        await sleep(Math.min(backoffMs(attempt), Math.max(0, deadline - Date.now())));
      }
    }
    if (!this.closing) {
      log("worker", `${this.name}: giving up on the scheduler: ${why}; exiting`);
      this.gaveUpReason = why;
      await this.close();
    }
  }

  private resetState(): void {
    this.store.clear();
    this.executor?.forgetAll();
    this.sm = this.newStateMachine();
  }

  private newStateMachine(): WorkerStateMachine {
    return new WorkerStateMachine({ nthreads: this.nthreads, validate: this.opts.validate ?? process.env["SHOAL_VALIDATE"] === "1" });
  }

  private newMemoryManager(): MemoryManager {
    return new MemoryManager(this.opts.memoryLimit ?? 0, this.memory, {
      now: () => performance.now(),
      rss: () => process.memoryUsage.rss(),
      managedBytes: () => this.store.memoryBytes,
      spillTo: (bytes) => this.spillTo(bytes),
      ...((globalThis as { gc?: () => void }).gc
        ? {
            collectGarbage: () => {
              // decoded values cached by executor threads (and their native frames) go too
              this.executor?.collectGarbage({ dropCaches: true });
              (globalThis as { gc?: () => void }).gc!();
            },
          }
        : {}),
      setPaused: (paused, why) => {
        log("worker", `${this.name}: ${paused ? "pausing" : "resuming"}: ${why}`);
        this.handle({ type: paused ? "pause" : "unpause", stimulusId: this.stimulus(paused ? "pause" : "unpause") });
        this.heartbeat();
      },
      terminate: (why) => {
        log("worker", `${this.name}: restarting: ${why}`);
        this.opts.onTerminate?.(why);
      },
    });
  }

  private stimulus(kind: string): string {
    return `${kind}-${++this.stimulusCounter}`;
  }

  /** Feeds one event to the state machine and carries out what it says. */
  private handle(ev: WorkerEvent, sm: WorkerStateMachine = this.sm): void {
    if (sm !== this.sm) return; // an event of a session that was reset
    let instructions: Instruction[];
    try {
      instructions = sm.handle(ev);
    } catch (err) {
      // A bug in the state machine (an invalid transition, a broken invariant).
      // Under validation it crashes loudly; otherwise the worker says so and
      // rejoins with a clean state (the scheduler recomputes what it held).
      log("worker", `${this.name}: state machine error on ${ev.type} (${ev.stimulusId}): ${(err as Error).stack ?? String(err)}`);
      if (sm.config.validate) {
        process.nextTick(() => {
          throw err;
        });
        return;
      }
      this.scheduler?.abort(err as Error);
      return;
    }
    for (const ins of instructions) this.perform(ins, sm);
  }

  private onSchedulerMessage(m: Message): void {
    switch (m.op) {
      case Op.computeTask: {
        const msg = m as unknown as ComputeTaskMsg;
        const code = msg.code ?? [];
        const sm = this.sm;
        const ev: WorkerEvent = { type: "compute-task", msg, stimulusId: msg.stimulusId ?? this.stimulus("compute-task") };
        if (code.length > 0 && !code.every((h) => this.code!.has(h))) {
          this.code!.ensure(code, (h) => this.fetchCode(h)).then(
            () => this.handle(ev, sm),
            (err: Error) => {
              if (sm !== this.sm) return;
              this.scheduler?.send({ op: Op.taskErred, key: msg.key, runId: msg.runId, error: { name: "CodeLoadError", message: `worker ${this.name} could not fetch code for ${msg.key}: ${err.message}`, stack: err.stack ?? "" }, start: 0, stop: 0 });
            },
          );
          return;
        }
        this.handle(ev);
        return;
      }
      case Op.freeKeys:
        this.handle({ type: "free-keys", keys: m["keys"] as string[], stimulusId: this.stimulus("free-keys") });
        return;
      case Op.putData: {
        const p = asPayload(m["value"] as Payload);
        this.store.set(m["key"] as string, p);
        this.handle({ type: "put-data", key: m["key"] as string, nbytes: m["nbytes"] as number, stimulusId: this.stimulus("put-data") });
        this.memoryManager.spillIfNeeded();
        return;
      }
      case Op.closeWorker:
        log("worker", `${this.name}: scheduler asked to close (${String(m["reason"] ?? "")})`);
        void this.close();
        return;
      default:
        return;
    }
  }

  private async fetchCode(hash: string): Promise<Uint8Array> {
    if (!this.scheduler) throw new Error("no scheduler connection");
    const r = await this.scheduler.request({ op: Op.getCode, hash });
    const p = r["code"] as Payload | undefined;
    if (!p) throw new Error(`scheduler has no code bundle ${hash}`);
    return p.header;
  }

  private perform(ins: Instruction, sm: WorkerStateMachine): void {
    switch (ins.type) {
      case "send":
        this.scheduler?.send(ins.msg);
        return;
      case "delete":
        this.store.delete(ins.key);
        this.executor?.forget([ins.key]);
        return;
      case "execute": {
        const deps: [string, DepPayload][] = [];
        const wt = sm.tasks.get(ins.key);
        if (wt) for (const d of wt.deps) {
          const p = this.store.get(d.key);
          if (p instanceof Resident) deps.push([d.key, null]); // held by an executor thread
          else if (p) deps.push([d.key, p]);
        }
        // Tell the scheduler the task is executing once it has run for a
        // moment: only executing tasks are blamed when a worker dies, and
        // announcing every sub-millisecond task would double the traffic.
        // The first task of each group is announced at once, so that a task
        // that kills its worker instantly is still blamed.
        const group = keyPrefix(ins.key);
        const notice = (): void => {
          if (sm === this.sm && sm.tasks.get(ins.key)?.state === "executing") {
            this.scheduler?.send({ op: Op.taskStarted, key: ins.key, runId: ins.runId });
          }
        };
        let started: NodeJS.Timeout | undefined;
        if (this.seenGroups.has(group)) started = setTimeout(notice, STARTED_NOTICE_MS);
        else {
          this.seenGroups.add(group);
          notice();
        }
        void this.executor!.run(ins.key, ins.spec, deps).then((r) => {
          clearTimeout(started);
          if (sm !== this.sm) return;
          if (r.ok) {
            this.store.set(ins.key, r.result ?? new Resident(r.nbytes));
            this.memoryManager.spillIfNeeded();
            this.handle({
              type: "execute-success",
              key: ins.key,
              runId: ins.runId,
              nbytes: r.nbytes,
              typeName: r.type,
              start: r.start,
              stop: r.stop,
              inline: r.result && r.nbytes <= INLINE_RESULT_BYTES ? asPayload(r.result) : undefined,
              stimulusId: this.stimulus("task-finished"),
            }, sm);
          } else {
            this.handle({
              type: "execute-failure",
              key: ins.key,
              runId: ins.runId,
              error: { ...r.error, data: { ...(r.error.data ?? {}), worker: this.address } },
              start: r.start,
              stop: r.stop,
              stimulusId: this.stimulus("task-erred"),
            }, sm);
          }
        });
        return;
      }
      case "gather":
        void this.gather(ins.peer, ins.keys, sm);
        return;
      case "who-has":
        setTimeout(() => void this.askWhoHas(ins.keys, sm), ins.delayMs).unref();
        return;
    }
  }

  private async gather(peer: string, keys: string[], sm: WorkerStateMachine): Promise<void> {
    try {
      const start = Date.now() / 1000;
      const got = await this.peers.fetch(peer, keys);
      if (sm !== this.sm) return;
      const sizes: Record<string, number> = {};
      let nbytes = 0;
      for (const [k, p] of got.data) {
        this.store.set(k, p);
        sizes[k] = payloadBytes(p);
        nbytes += sizes[k];
      }
      this.transferBytes += nbytes;
      if (this.transfers.length < 64) this.transfers.push([start, Date.now() / 1000, nbytes, peer]);
      this.handle({ type: "gather-success", peer, got: sizes, missing: got.missing, stimulusId: this.stimulus(`gather-${peer}`) }, sm);
    } catch {
      this.handle({ type: "gather-failure", peer, keys, stimulusId: this.stimulus(`gather-failed-${peer}`) }, sm);
    }
  }

  /** Asks the scheduler where keys are (after a failed transfer) and feeds the answer back. */
  private async askWhoHas(keys: string[], sm: WorkerStateMachine): Promise<void> {
    if (sm !== this.sm || !this.scheduler) return;
    try {
      const r = await this.scheduler.request({ op: Op.whoHas, keys }, 30_000);
      const whoHas = (r["whoHas"] ?? {}) as Record<string, string[]>;
      this.handle({ type: "who-has", whoHas, stimulusId: this.stimulus("who-has") }, sm);
    } catch {
      // the scheduler is gone: the session is reset when it reconnects
    }
  }

  /**
   * Spills least-recently-used values until managed memory is at most
   * `target`; resident values are written by their thread first (in the
   * background, one after the other), then spilled.
   */
  private spillTo(target: number): void {
    if (this.store.memoryBytes <= target) return;
    const keep = this.inUse();
    this.store.spillUntil(target, keep);
    if (this.store.memoryBytes <= target || this.writingResidents) return;
    const keys = this.store.residentsOver(target, keep);
    if (keys.length === 0) return;
    this.writingResidents = true;
    const store = this.store;
    void (async () => {
      for (const k of keys) {
        if (store !== this.store || this.closing) break;
        if (store.isResident(k)) await this.executor!.encode(k).catch(() => undefined);
        store.spillUntil(target, this.inUse());
        if (store.memoryBytes <= target) break;
      }
      this.writingResidents = false;
    })();
  }

  /** Inputs of executing tasks stay in memory. */
  private inUse(): Set<string> {
    const keep = new Set<string>();
    for (const t of this.sm.executing) for (const d of t.deps) keep.add(d.key);
    return keep;
  }

  async close(): Promise<void> {
    if (this.closing) return this.finished;
    this.closing = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    this.scheduler?.send({ op: Op.unregister });
    this.scheduler?.close();
    await this.listener?.close();
    this.peers.close();
    await this.executor?.close();
    this.store?.clear();
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
    this.resolveFinished();
  }
}

/** The scheduler refused the registration; `retriable` when trying again later can help. */
export class RegistrationRefused extends Error {
  override name = "RegistrationRefused";
  readonly code = "registration-refused";
  constructor(message: string, readonly retriable: boolean) {
    super(message);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Longest a starting worker waits for its executor threads to be ready before it registers anyway. */
const THREADS_READY_WAIT_MS = 10_000;

/** Waits for `p`, or `ms` at most. */
function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Exponential backoff with full jitter: 100 ms doubling to 5 s. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(5000, 100 * 2 ** attempt);
}

function hostOfLocal(local: string): string {
  try {
    const p = parseAddress(local);
    return p.host === "" || p.host === "?" ? "127.0.0.1" : p.host;
  } catch {
    return "127.0.0.1";
  }
}
