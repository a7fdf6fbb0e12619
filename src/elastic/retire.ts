/**
 * Retiring workers without losing results (Dask `retire_workers`): a worker
 * chosen to close first stops receiving tasks (status `closing`, out of the
 * placement pool), then every result it alone holds is copied to another
 * worker (the scheduler reads it from the retiring worker's data port, or
 * uses the copy it keeps of a small result, and hands it over with
 * `put-data`; the scheduler records the new holder at once), and only then
 * is the worker asked to close. Nothing it held is recomputed.
 *
 * A worker that holds sole copies and has no other worker to give them to
 * (scaling the last worker down while results are still wanted) is kept;
 * so is one that got work in the meantime. Where Dask moves the data
 * worker-to-worker (`acquire-replicas`), Shoal routes it through the
 * scheduler's process: simpler, and the control plane is the one place
 * that knows both ends; it costs one extra hop for the bytes.
 *
 * @module
 */
import { connect, type Comm } from "../comm/index.ts";
import { Op } from "../protocol/messages.ts";
import { payloadBytes, type Payload } from "../protocol/serialize.ts";
import { TaskStatus, type WorkerState } from "../scheduler/model.ts";
import type { SchedulerServer } from "../scheduler/server.ts";
import { fetchData } from "../worker/data-plane.ts";

export interface RetireResult {
  /** Workers asked to close. */
  retired: string[];
  /** Workers kept, with why. */
  kept: { address: string; reason: string }[];
  /** Results copied to other workers. */
  moved: number;
  /** Bytes copied. */
  bytes: number;
}

/** Workers retired so far, per scheduler (the bench and the tests read it). */
export const retireStats = new WeakMap<SchedulerServer, { retired: number; moved: number; bytes: number }>();

function markClosing(server: SchedulerServer, ws: WorkerState): void {
  ws.status = "closing";
  server.state.pool.remove(ws);
}

function unmark(server: SchedulerServer, ws: WorkerState): void {
  if (server.state.workers.get(ws.address) !== ws || ws.status !== "closing") return;
  ws.status = "running";
  server.state.pool.push(ws);
}

/**
 * Retires `addresses` (see the module comment). Resolves once each worker
 * was asked to close or kept; the workers' processes exit on their own.
 */
export async function retireWorkers(server: SchedulerServer, addresses: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RetireResult> {
  const s = server.state;
  const result: RetireResult = { retired: [], kept: [], moved: 0, bytes: 0 };
  const leaving: WorkerState[] = [];
  for (const a of addresses) {
    const ws = s.workers.get(a);
    if (!ws) continue;
    if (ws.processing.size > 0) {
      result.kept.push({ address: a, reason: "it is processing tasks" });
      continue;
    }
    markClosing(server, ws);
    leaving.push(ws);
  }
  for (const ws of leaving) {
    try {
      const r = await moveSoleResults(server, ws, opts.timeoutMs ?? 30_000);
      result.moved += r.moved;
      result.bytes += r.bytes;
      if (ws.processing.size > 0) throw new Error("it was given tasks while retiring");
      server.sendToWorker(ws.address, { op: Op.closeWorker, reason: "retired by adaptive scaling" });
      result.retired.push(ws.address);
    } catch (err) {
      unmark(server, ws);
      result.kept.push({ address: ws.address, reason: (err as Error).message });
    }
    server.flush();
  }
  const st = retireStats.get(server) ?? { retired: 0, moved: 0, bytes: 0 };
  st.retired += result.retired.length;
  st.moved += result.moved;
  st.bytes += result.bytes;
  retireStats.set(server, st);
  return result;
}

async function moveSoleResults(server: SchedulerServer, ws: WorkerState, timeoutMs: number): Promise<{ moved: number; bytes: number }> {
  const s = server.state;
  const sole = [...ws.hasWhat].filter((ts) => ts.state === TaskStatus.memory && ts.whoHas.size === 1);
  if (sole.length === 0) return { moved: 0, bytes: 0 };
  const recipients = [...s.workers.values()].filter((w) => w !== ws && w.status === "running");
  if (recipients.length === 0) throw new Error(`it alone holds ${sole.length} result(s) and no other running worker can take them`);
  const values = new Map<string, Payload>();
  const fetch: string[] = [];
  for (const ts of sole) {
    if (ts.inline !== null) values.set(ts.key, ts.inline);
    else fetch.push(ts.key);
  }
  if (fetch.length > 0) {
    const listen = server.opts.listen;
    const comm: Comm = await connect(ws.address, { timeoutMs: 10_000, token: server.opts.token, role: "scheduler", ...(listen?.tls ? { tls: listen.tls } : {}) });
    try {
      for (let i = 0; i < fetch.length; i += 64) {
        const got = await fetchData(comm, fetch.slice(i, i + 64), timeoutMs);
        if (got.missing.length > 0) throw new Error(`its data port no longer has ${got.missing.slice(0, 3).join(", ")}`);
        for (const [k, p] of got.data) values.set(k, p);
      }
    } finally {
      comm.close();
    }
  }
  // the least-filled recipient first, by bytes; spread evenly
  const load = new Map(recipients.map((w) => [w, w.nbytes]));
  const byTarget = new Map<WorkerState, string[]>();
  let moved = 0;
  let bytes = 0;
  for (const ts of sole) {
    const value = values.get(ts.key);
    // released or recomputed meanwhile: nothing to keep
    if (value === undefined || ts.state !== TaskStatus.memory || !ts.whoHas.has(ws)) continue;
    let best: WorkerState | null = null;
    for (const [w, b] of load) if (s.workers.get(w.address) === w && w.status === "running" && (best === null || b < load.get(best)!)) best = w;
    if (best === null) throw new Error("every recipient left while results were being moved");
    const nbytes = payloadBytes(value);
    if (!server.sendToWorker(best.address, { op: Op.putData, key: ts.key, value, nbytes })) throw new Error(`recipient ${best.address} has no connection`);
    load.set(best, load.get(best)! + nbytes);
    const list = byTarget.get(best) ?? [];
    list.push(ts.key);
    byTarget.set(best, list);
    moved++;
    bytes += nbytes;
  }
  // recorded at once: from here the scheduler counts the recipients as holders
  for (const [w, keys] of byTarget) s.addKeys(w.address, keys);
  server.flush();
  return { moved, bytes };
}
