/**
 * The worker process's I/O shell around {@link WorkerStateMachine}: the
 * connection to the scheduler, the data server peers fetch from, the thread
 * pool that runs tasks, the data store and the heartbeat.
 */
import os from "node:os";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { Comm, connect, listen, type Listener, type Message } from "../comm/index.ts";
import { formatAddress, parseAddress } from "../comm/address.ts";
import { INLINE_RESULT_BYTES, Op, type ComputeTaskMsg } from "../protocol/messages.ts";
import type { Payload } from "../protocol/serialize.ts";
import { asPayload } from "../protocol/wire.ts";
import { VERSION } from "../version.ts";
import { CodeCache } from "./code-cache.ts";
import { Executor } from "./executor.ts";
import { WorkerStateMachine, type Instruction } from "./state.ts";
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
  /** Environment for executor threads (e.g. POLARS_MAX_THREADS). */
  threadEnv?: Record<string, string>;
}

export class WorkerServer {
  readonly nthreads: number;
  readonly name: string;
  private sm: WorkerStateMachine;
  private readonly store = new Map<string, Payload>();
  private scheduler: Comm | null = null;
  private listener: Listener | null = null;
  private executor: Executor | null = null;
  private code: CodeCache | null = null;
  private readonly peers = new Map<string, Promise<Comm>>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatInterval = 0.5;
  private closing = false;
  private ownDir: string | null = null;
  private generation = 0;
  private readonly seenGroups = new Set<string>();
  address = "";
  /** Resolves when the worker has stopped for good. */
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;

  constructor(readonly opts: WorkerOptions) {
    this.nthreads = opts.nthreads ?? Math.max(1, os.availableParallelism());
    this.name = opts.name ?? `${os.hostname()}-${process.pid}`;
    this.sm = new WorkerStateMachine({ nthreads: this.nthreads, validate: opts.validate ?? false });
    this.finished = new Promise((r) => (this.resolveFinished = r));
  }

  async start(): Promise<void> {
    const dir = this.opts.localDirectory ?? (this.ownDir = mkdtempSync(join(os.tmpdir(), "shoal-worker-")));
    this.code = new CodeCache(join(dir, "code"));
    this.executor = new Executor(this.nthreads, this.code.dir, this.opts.threadEnv ?? {});
    const comm = await connect(this.opts.scheduler);
    const host = this.opts.host ?? hostOfLocal(comm.localAddress);
    const scheme = parseAddress(this.opts.scheduler).scheme;
    this.listener = await listen(scheme === "inproc" ? "inproc://auto" : formatAddress(scheme, host, this.opts.port ?? 0), (c) => this.serveData(c));
    this.address = this.listener.address;
    await this.register(comm);
  }

  private async register(comm: Comm): Promise<void> {
    const reply = await comm.request({
      op: Op.registerWorker,
      name: this.name,
      address: this.address,
      nthreads: this.nthreads,
      memoryLimit: this.opts.memoryLimit ?? 0,
      pid: process.pid,
      host: os.hostname(),
      version: VERSION,
      keys: [...this.store.keys()],
      ...(this.opts.token ? { token: this.opts.token } : {}),
    });
    if (reply["status"] !== "ok") {
      comm.close();
      throw new Error(`scheduler ${this.opts.scheduler} refused this worker: ${String(reply["message"] ?? "no reason given")}`);
    }
    this.heartbeatInterval = (reply["heartbeatInterval"] as number | undefined) ?? 0.5;
    this.scheduler = comm;
    const gen = ++this.generation;
    comm.onMessage((m) => this.onSchedulerMessage(m));
    comm.onClose(() => {
      if (gen === this.generation) void this.onSchedulerLost();
    });
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatInterval * 1000);
    this.heartbeatTimer.unref();
  }

  private heartbeat(): void {
    const mem = process.memoryUsage();
    this.scheduler?.send({
      op: Op.heartbeat,
      metrics: {
        rss: mem.rss,
        heap: mem.heapUsed,
        managed: this.sm.managedBytes,
        executing: this.sm.executing.size,
        stored: this.store.size,
        paused: this.sm.paused ? 1 : 0,
        time: Date.now() / 1000,
      },
    });
  }

  private async onSchedulerLost(): Promise<void> {
    if (this.closing) return;
    this.scheduler = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    log("worker", `${this.name}: lost connection to scheduler ${this.opts.scheduler}; reconnecting`);
    // Anything computed for the old session may be recomputed elsewhere: start clean.
    this.resetState();
    const deadline = Date.now() + (this.opts.deathTimeout ?? 60) * 1000;
    while (!this.closing && Date.now() < deadline) {
      try {
        const comm = await connect(this.opts.scheduler, { timeoutMs: 2000 });
        await this.register(comm);
        log("worker", `${this.name}: reconnected to ${this.opts.scheduler}`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    if (!this.closing) {
      log("worker", `${this.name}: scheduler unreachable for ${this.opts.deathTimeout ?? 60} s; exiting`);
      await this.close();
    }
  }

  private resetState(): void {
    this.store.clear();
    this.sm = new WorkerStateMachine({ nthreads: this.nthreads, validate: this.opts.validate ?? false });
  }

  private onSchedulerMessage(m: Message): void {
    switch (m.op) {
      case Op.computeTask: {
        const msg = m as unknown as ComputeTaskMsg;
        const code = msg.code ?? [];
        const sm = this.sm;
        if (code.length > 0 && !code.every((h) => this.code!.has(h))) {
          this.code!.ensure(code, (h) => this.fetchCode(h)).then(
            () => {
              if (sm === this.sm) {
                sm.computeTask(msg);
                this.run();
              }
            },
            (err: Error) => {
              if (sm !== this.sm) return;
              this.scheduler?.send({ op: Op.taskErred, key: msg.key, runId: msg.runId, error: { name: "CodeLoadError", message: `worker ${this.name} could not fetch code for ${msg.key}: ${err.message}`, stack: err.stack ?? "" }, start: 0, stop: 0 });
            },
          );
          return;
        }
        sm.computeTask(msg);
        break;
      }
      case Op.freeKeys:
        this.sm.freeKeys(m["keys"] as string[]);
        break;
      case Op.putData: {
        const p = asPayload(m["value"] as Payload);
        this.store.set(m["key"] as string, p);
        this.sm.putData(m["key"] as string, m["nbytes"] as number);
        break;
      }
      case Op.closeWorker:
        log("worker", `${this.name}: scheduler asked to close (${String(m["reason"] ?? "")})`);
        void this.close();
        return;
      default:
        return;
    }
    this.run();
  }

  private async fetchCode(hash: string): Promise<Uint8Array> {
    if (!this.scheduler) throw new Error("no scheduler connection");
    const r = await this.scheduler.request({ op: Op.getCode, hash });
    const p = r["code"] as Payload | undefined;
    if (!p) throw new Error(`scheduler has no code bundle ${hash}`);
    return p.header;
  }

  /** Carries out the state machine's instructions. */
  private run(): void {
    const sm = this.sm;
    for (const ins of sm.drain()) this.perform(ins, sm);
  }

  private perform(ins: Instruction, sm: WorkerStateMachine): void {
    switch (ins.type) {
      case "send":
        this.scheduler?.send(ins.msg);
        return;
      case "delete":
        this.store.delete(ins.key);
        return;
      case "execute": {
        const deps: [string, Payload][] = [];
        const wt = sm.tasks.get(ins.key);
        if (wt) for (const d of wt.deps) {
          const p = this.store.get(d.key);
          if (p) deps.push([d.key, p]);
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
            this.store.set(ins.key, r.result);
            sm.executeSuccess(ins.key, ins.runId, {
              nbytes: r.nbytes,
              type: r.type,
              start: r.start,
              stop: r.stop,
              ...(r.nbytes <= INLINE_RESULT_BYTES ? { inline: r.result } : {}),
            });
          } else {
            sm.executeFailure(ins.key, { ...r.error, data: { ...(r.error.data ?? {}), worker: this.address } }, r.start, r.stop);
          }
          this.run();
        });
        return;
      }
      case "gather":
        void this.gather(ins.peer, ins.keys, sm);
        return;
    }
  }

  private async gather(peer: string, keys: string[], sm: WorkerStateMachine): Promise<void> {
    try {
      const comm = await this.peer(peer);
      const reply = await comm.request({ op: Op.getData, keys }, 60_000);
      if (sm !== this.sm) return;
      const data = (reply["data"] ?? {}) as Record<string, Payload>;
      const got: Record<string, number> = {};
      for (const [k, p] of Object.entries(data)) {
        const pp = asPayload(p);
        this.store.set(k, pp);
        got[k] = pp.header.byteLength + pp.frames.reduce((a, f) => a + f.byteLength, 0);
      }
      sm.gatherSuccess(peer, got, (reply["missing"] as string[] | undefined) ?? []);
    } catch {
      this.peers.delete(peer);
      if (sm !== this.sm) return;
      sm.gatherFailure(peer, keys);
    }
    this.run();
  }

  private peer(address: string): Promise<Comm> {
    let p = this.peers.get(address);
    if (!p) {
      p = connect(address, { timeoutMs: 5000 }).then((c) => {
        c.onClose(() => this.peers.delete(address));
        return c;
      });
      p.catch(() => this.peers.delete(address));
      this.peers.set(address, p);
    }
    return p;
  }

  /** Data server: peers and clients fetch results with get-data. */
  private serveData(comm: Comm): void {
    comm.onMessage((m) => {
      if (m.op !== Op.getData) return;
      const data: Record<string, Payload> = {};
      const missing: string[] = [];
      for (const k of m["keys"] as string[]) {
        const p = this.store.get(k);
        if (p) data[k] = asPayload(p);
        else missing.push(k);
      }
      comm.reply(m, { data, missing });
    });
  }

  async close(): Promise<void> {
    if (this.closing) return this.finished;
    this.closing = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.scheduler?.send({ op: Op.unregister });
    this.scheduler?.close();
    await this.listener?.close();
    for (const p of this.peers.values()) p.then((c) => c.close(), () => undefined);
    await this.executor?.close();
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
    this.resolveFinished();
  }
}

function hostOfLocal(local: string): string {
  try {
    const p = parseAddress(local);
    return p.host === "" || p.host === "?" ? "127.0.0.1" : p.host;
  } catch {
    return "127.0.0.1";
  }
}
