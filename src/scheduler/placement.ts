/**
 * Where a task runs: the scheduler's placement rules, as functions of the
 * scheduler's state (no I/O, no state of their own), and the configuration
 * they read.
 *
 * - A task with inputs goes to a worker holding them, balanced by
 *   occupancy: `occupancy / threads + missing bytes / bandwidth`.
 * - Root-ish tasks (a group larger than twice the cluster's threads that
 *   depends on fewer than 5 tasks holding at most {@link ROOTISH_MAX_DEP_BYTES})
 *   are withheld: a worker gets {@link slotsFor} of them at a time, the rest
 *   wait in the scheduler's `queued` heap (Dask's queuing).
 */
import type { TaskState, WorkerState } from "./model.ts";
import type { WorkerHeap } from "./heap.ts";

export interface SchedulerConfig {
  /** Deaths of a worker while executing a task before it errs (Dask: allowed-failures). */
  allowedFailures: number;
  /** Root tasks sent to a worker per thread (Dask: worker-saturation). `Infinity` disables queuing. */
  workerSaturation: number;
  /** Seconds assumed for a task group never seen before. */
  unknownTaskDuration: number;
  /** Bytes per second assumed between workers, for placement. */
  bandwidth: number;
  /** Round-trip seconds that queued short tasks must cover (keeps threads busy). */
  pipelineLatency: number;
  /** Upper bound of queued-task slots per thread from pipelining. */
  maxPipelinePerThread: number;
  /** Check invariants after every transition (tests; `SHOAL_VALIDATE=1`). See `validate.ts` for what is checked. */
  validate: boolean;
  /** Transitions kept in the scheduler's log for `story(keys)` (Dask: transition-log-length); 0 keeps none. */
  transitionLogSize: number;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  allowedFailures: 3,
  workerSaturation: 1.1,
  unknownTaskDuration: 0.5,
  bandwidth: 100e6,
  pipelineLatency: 0.002,
  maxPipelinePerThread: 64,
  validate: false,
  transitionLogSize: 100_000,
};

/**
 * A task whose inputs hold more than this is placed by data locality, never
 * queued as root-ish: moving its inputs costs more than waiting for a
 * thread where they are (1 MiB takes ~10 ms at the assumed bandwidth).
 */
export const ROOTISH_MAX_DEP_BYTES = 1 << 20;

/** Whether `ts` is queued as root-ish rather than placed by its inputs. */
export function isRootish(ts: TaskState, totalThreads: number, config: SchedulerConfig): boolean {
  if (!Number.isFinite(config.workerSaturation)) return false;
  if (ts.dependencies.size >= 5) return false;
  if (!(ts.group.size > 2 * Math.max(1, totalThreads) && ts.group.depKeys.size < 5)) return false;
  // Dask's rule also queues the many small tasks that pick pieces out of a few large results
  // (the buckets of a shuffle split); those belong where their input is, not on any free thread
  let depBytes = 0;
  for (const d of ts.dependencies) depBytes += Math.max(0, d.nbytes);
  return depBytes <= ROOTISH_MAX_DEP_BYTES;
}

/** How many tasks a worker may hold at once when tasks are queued (`head`: the next queued task). */
export function slotsFor(ws: WorkerState, head: TaskState | null, config: SchedulerConfig): number {
  const base = Math.max(Math.ceil(config.workerSaturation * ws.nthreads), 1);
  const avg = head?.group.avgDuration();
  if (avg == null || avg >= config.pipelineLatency) return base;
  const pipelined = Math.ceil((ws.nthreads * config.pipelineLatency) / Math.max(avg, 1e-6));
  return Math.max(base, Math.min(pipelined, ws.nthreads * config.maxPipelinePerThread));
}

/**
 * The worker for `ts`, or null (no worker; or, for a root-ish task, no free
 * slot). `pool` holds the running workers, least loaded first.
 *
 * - Root-ish: the least loaded running worker, if it has a free slot (slots
 *   grow with threads, so when the least loaded one is full the others
 *   are too, up to rounding; a task queued by that rounding runs at the
 *   next finished task). O(1).
 * - No inputs: the least loaded running worker. O(1).
 * - Inputs: among the running workers holding any input, the one with the
 *   least `occupancy / threads + missing bytes / bandwidth` (ties: fewer
 *   bytes held). O(inputs × replicas); when every holder is paused, the
 *   least loaded running worker.
 */
export function decideWorker(ts: TaskState, pool: WorkerHeap, totalThreads: number,
  head: TaskState | null, config: SchedulerConfig): WorkerState | null {
  const least = pool.peek() ?? null;
  if (least === null) return null;
  if (isRootish(ts, totalThreads, config)) {
    return least.processing.size < slotsFor(least, head, config) ? least : null;
  }
  if (ts.dependencies.size === 0) return least;
  let best: WorkerState | null = null;
  let bestCost = Infinity;
  let bestBytes = Infinity;
  for (const d of ts.dependencies) {
    for (const ws of d.whoHas) {
      if (ws.status !== "running" || ws === best) continue;
      let missing = 0;
      for (const dd of ts.dependencies) if (!dd.whoHas.has(ws)) missing += Math.max(0, dd.nbytes);
      const cost = ws.occupancy / ws.nthreads + missing / config.bandwidth;
      if (cost < bestCost || (cost === bestCost && ws.nbytes < bestBytes)) {
        best = ws;
        bestCost = cost;
        bestBytes = ws.nbytes;
      }
    }
  }
  return best ?? least;
}
