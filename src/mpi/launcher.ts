/**
 * Runs an SPMD job: one worker thread per rank in this process, sharing the
 * rings of {@link createJobMemory}. The job's exit code is the first non-zero
 * rank's; when a rank fails, exits non-zero or calls abort(), every other rank
 * is stopped and the error names the rank. A deadlock (every live rank asleep
 * in an MPI call, nothing moving, for `deadlockTimeoutMs`) ends the job with
 * what each rank was waiting for.
 */
import os from "node:os";
import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { createJobMemory, ctrlSlot, readDescription, State } from "./transport.ts";

export interface MpirunOptions {
  np: number;
  program: string;
  args?: string[];
  tagOutput?: boolean;
  /** 0 disables detection. Default 60 s. */
  deadlockTimeoutMs?: number;
  /** Microseconds a waiting rank spins before it sleeps (default 50 when ranks ≤ cores, else 2). */
  spinUs?: number;
  /** Where the launcher's own messages go (default stderr). */
  log?: (line: string) => void;
}

const RANK_URL = new URL(import.meta.url.endsWith(".ts") ? "./rank-thread.ts" : "./rank-thread.js", import.meta.url);

function spawnRank(data: unknown, rank: number): Worker {
  // Always through tsx: the user's program may be TypeScript.
  const api = import.meta.resolve("tsx/esm/api");
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(RANK_URL.href)}); })`;
  return new Worker(code, { eval: true, workerData: data, env: { ...process.env, SHOAL_MPI_RANK: String(rank) }, stdout: false, stderr: false });
}

/** Runs the job to its end; resolves with the exit code (never rejects for a rank's failure). */
export async function mpirun(opts: MpirunOptions): Promise<number> {
  const np = opts.np;
  if (!Number.isInteger(np) || np < 1) throw new RangeError(`-n must be a positive integer, got ${np}`);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const mem = createJobMemory(np);
  const ctrl = new Int32Array(mem.ctrl);
  const spinUs = opts.spinUs ?? (np <= os.availableParallelism() ? 50 : 2);
  const program = resolve(opts.program);
  const workers: Worker[] = [];
  const exited: (number | null)[] = new Array(np).fill(null);
  let firstError: { code: number; message: string } | null = null;
  let finished = 0;
  let done!: () => void;
  const allDone = new Promise<void>((r) => (done = r));

  const stopAll = (code: number, message: string): void => {
    if (firstError !== null) return;
    firstError = { code, message };
    log(message);
    Atomics.store(ctrl, 0, 1);
    for (let r = 0; r < np; r++) {
      Atomics.add(ctrl, ctrlSlot(r), 1);
      Atomics.notify(ctrl, ctrlSlot(r));
    }
    for (let r = 0; r < np; r++) if (exited[r] === null) void workers[r]!.terminate();
  };

  for (let r = 0; r < np; r++) {
    const w = spawnRank({ rank: r, mem, spinUs, program, args: opts.args ?? [], tagOutput: opts.tagOutput ?? false }, r);
    workers.push(w);
    w.on("message", (m: { type: string; rank: number; code: number }) => {
      if (m.type === "abort") stopAll(m.code === 0 ? 1 : m.code, `shoal mpirun: MPI_ABORT was invoked on rank ${m.rank} in communicator COMM_WORLD with errorcode ${m.code}; stopping the other ranks`);
    });
    w.on("error", (err) => {
      const e = err as Error;
      if (e.name === "MpiAbortedError" && firstError !== null) return;
      stopAll(1, `shoal mpirun: rank ${r} failed: ${e.stack ?? e.message}\nshoal mpirun: stopping the other ranks`);
    });
    w.on("exit", (code) => {
      exited[r] = code;
      Atomics.store(ctrl, ctrlSlot(r) + 2, State.done);
      if (code !== 0 && firstError === null) stopAll(code, `shoal mpirun: rank ${r} exited with code ${code}; stopping the other ranks`);
      if (++finished === np) done();
    });
  }

  const timeout = opts.deadlockTimeoutMs ?? 60_000;
  const timer = timeout > 0 ? watchDeadlock(mem, ctrl, np, timeout, stopAll) : null;
  await allDone;
  if (timer) clearInterval(timer);
  return firstError === null ? 0 : (firstError as { code: number }).code;
}

function watchDeadlock(mem: ReturnType<typeof createJobMemory>, ctrl: Int32Array, np: number, timeoutMs: number, stop: (code: number, msg: string) => void): NodeJS.Timeout {
  let since = 0;
  let epochs = "";
  const t = setInterval(() => {
    let live = 0;
    let blocked = 0;
    const ep: number[] = [];
    for (let r = 0; r < np; r++) {
      const s = Atomics.load(ctrl, ctrlSlot(r) + 2);
      ep.push(Atomics.load(ctrl, ctrlSlot(r) + 3));
      if (s === State.done) continue;
      live++;
      if (s === State.blocked) blocked++;
    }
    const key = ep.join(",");
    if (live === 0 || blocked < live || key !== epochs) {
      since = blocked === live && live > 0 ? Date.now() : 0;
      epochs = key;
      return;
    }
    if (since === 0) since = Date.now();
    if (Date.now() - since >= timeoutMs) {
      const lines: string[] = [];
      for (let r = 0; r < np; r++) {
        const s = Atomics.load(ctrl, ctrlSlot(r) + 2);
        lines.push(`  rank ${r}: ${s === State.done ? "finished" : `blocked in ${readDescription(mem, r)}`}`);
      }
      stop(124, `shoal mpirun: deadlock: every running rank has waited for ${(timeoutMs / 1000).toFixed(1)} s with no message moving (--deadlock-timeout)\n${lines.join("\n")}`);
    }
  }, Math.min(200, Math.max(20, timeoutMs / 10)));
  t.unref();
  return t;
}
