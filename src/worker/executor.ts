/**
 * A pool of worker threads that run task functions, so that user code never
 * blocks the worker's event loop (heartbeats, data serving). One task per
 * thread at a time. A thread that dies (process.exit in user code, a native
 * crash of the thread) fails its task and is replaced.
 */
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { Payload } from "../protocol/serialize.ts";
import type { ErrorRecord } from "../protocol/messages.ts";
import type { ThreadResult, ThreadTask } from "./thread.ts";

export type ExecResult =
  | { ok: true; result: Payload; nbytes: number; type: string; start: number; stop: number }
  | { ok: false; error: ErrorRecord; start: number; stop: number };

interface Slot {
  worker: Worker;
  busy: { id: number; key: string; resolve(r: ExecResult): void } | null;
}

const THREAD_URL = new URL(import.meta.url.endsWith(".ts") ? "./thread.ts" : "./thread.js", import.meta.url);

function spawnThread(codeDir: string, env: Record<string, string>): Worker {
  const opts = { workerData: { codeDir }, env: { ...process.env, ...env, SHOAL_IN_TASK: "1" } };
  if (THREAD_URL.href.endsWith(".ts")) {
    // Running from TypeScript sources (tests, development): load through tsx.
    const api = import.meta.resolve("tsx/esm/api");
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(THREAD_URL.href)}); })`;
    return new Worker(code, { ...opts, eval: true });
  }
  return new Worker(fileURLToPath(THREAD_URL), opts);
}

export class Executor {
  private readonly slots: Slot[] = [];
  private readonly queue: { task: Omit<ThreadTask, "id">; resolve(r: ExecResult): void }[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly nthreads: number, private readonly codeDir: string, private readonly env: Record<string, string> = {}) {
    for (let i = 0; i < nthreads; i++) this.slots.push(this.makeSlot());
  }

  private makeSlot(): Slot {
    const slot: Slot = { worker: spawnThread(this.codeDir, this.env), busy: null };
    slot.worker.unref();
    slot.worker.on("message", (r: ThreadResult) => {
      const b = slot.busy;
      if (!b || b.id !== r.id) return;
      slot.busy = null;
      b.resolve(r.ok ? { ok: true, result: r.result, nbytes: r.nbytes, type: r.type, start: r.start, stop: r.stop } : { ok: false, error: r.error, start: r.start, stop: r.stop });
      this.pump();
    });
    const onDeath = (err: Error | null): void => {
      const b = slot.busy;
      slot.busy = null;
      const idx = this.slots.indexOf(slot);
      if (idx >= 0 && !this.closed) this.slots[idx] = this.makeSlot();
      if (b) {
        const now = Date.now() / 1000;
        b.resolve({
          ok: false,
          error: { name: "ThreadDiedError", message: `the thread running ${b.key} died${err ? `: ${err.message}` : " (process.exit or a crash in the task)"}`, stack: err?.stack ?? "" },
          start: now,
          stop: now,
        });
      }
      this.pump();
    };
    slot.worker.on("error", (err) => onDeath(err));
    slot.worker.on("exit", () => onDeath(null));
    return slot;
  }

  run(key: string, spec: Payload, deps: [string, Payload][]): Promise<ExecResult> {
    return new Promise((resolve) => {
      this.queue.push({ task: { key, spec, deps }, resolve });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = { id, key: job.task.key, resolve: job.resolve };
      const t: ThreadTask = { id, ...job.task };
      slot.worker.postMessage(t);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
