/**
 * How many workers the scheduler's work asks for: Dask's
 * `Scheduler.adaptive_target`, read-only over {@link SchedulerState} (no I/O,
 * no mutation), so it can be unit-tested on a state fed events.
 *
 * - **CPU.** Expected seconds of work = the occupancy of every worker (the
 *   expected durations of the tasks they process) + the tasks waiting for a
 *   slot (`queued`) or for any worker at all (`no-worker`), each at its
 *   group's mean duration (`unknownTaskDuration`, 0.5 s, until one of the
 *   group finished; the first 100 are summed and scaled to the count, as Dask
 *   does). Threads wanted = ceil(seconds / targetDuration), at most one per
 *   ready or processing task (a few long tasks do not ask for many cores).
 * - **Memory.** Results past 60 % of the workers' memory limits ask for
 *   twice the current workers.
 * - Workers = ceil(max(threads, memory) / threads per worker). (Dask counts
 *   the CPU target in workers; Shoal divides threads by the threads of one
 *   worker, so a cluster of 4-thread workers does not start four times too
 *   many.)
 * - **Below the current count**, the target is the current count minus the
 *   workers that could close now ({@link workersToClose}): idle ones.
 *
 * @module
 */
import { TaskStatus, type TaskState, type WorkerState } from "./model.ts";
import type { SchedulerState } from "./state.ts";

export interface AdaptiveTargetOptions {
  /** Seconds of work one worker thread should have queued (Dask `target_duration`, default 5). */
  targetDuration?: number;
  /** Threads of one new worker (default: that of the current workers, else 1). */
  threadsPerWorker?: number;
}

/** Why the target is what it is (shown by the dashboard and logs). */
export interface AdaptiveTarget {
  /** Workers wanted. */
  target: number;
  /** Expected seconds of work, processing and waiting. */
  seconds: number;
  /** Tasks ready (queued or with no worker) and processing. */
  tasks: number;
  /** The memory rule's ask (0 when results fit). */
  memory: number;
}

const SAMPLE = 100;

function duration(ts: TaskState, unknown: number): number {
  return ts.group.avgDuration() ?? unknown;
}

/** The target worker count for the scheduler's present work (see the module comment). */
export function adaptiveTarget(s: SchedulerState, opts: AdaptiveTargetOptions = {}): AdaptiveTarget {
  const targetDuration = opts.targetDuration ?? 5;
  const unknown = s.config.unknownTaskDuration;
  const live = [...s.workers.values()].filter((w) => w.status !== "closing");
  let occupancy = 0;
  let processing = 0;
  let threads = 0;
  let limit = 0;
  let held = 0;
  for (const ws of live) {
    occupancy += ws.occupancy;
    processing += ws.processing.size;
    threads += ws.nthreads;
    limit += ws.memoryLimit;
    held += ws.nbytes;
  }
  const ready = s.queued.size + s.unrunnable.size;
  let sampled = 0;
  let waiting = 0;
  const sample = (ts: TaskState): boolean => {
    waiting += duration(ts, unknown);
    return ++sampled < SAMPLE;
  };
  for (const ts of s.unrunnable) if (!sample(ts)) break;
  if (sampled < SAMPLE) for (const ts of s.queued.values()) if (ts.state === TaskStatus.queued && !sample(ts)) break;
  if (ready > sampled && sampled > 0) waiting *= ready / sampled;
  const seconds = occupancy + waiting;
  const tasks = ready + processing;
  let cpu = Math.ceil(seconds / targetDuration);
  if (tasks < cpu) cpu = tasks;
  const memory = limit > 0 && held > 0.6 * limit ? 2 * live.length : 0;
  const perWorker = opts.threadsPerWorker ?? (live.length > 0 ? Math.max(1, Math.round(threads / live.length)) : 1);
  const wanted = Math.max(Math.ceil(cpu / perWorker), memory);
  if (wanted >= live.length) return { target: wanted, seconds, tasks, memory };
  return { target: live.length - workersToClose(s, live.length - wanted).length, seconds, tasks, memory };
}

/**
 * Up to `n` workers that could close now: running, nothing processing; those
 * holding the fewest bytes first (their results are the cheapest to move).
 * Dask's `workers_to_close` without its grouping by host.
 */
export function workersToClose(s: SchedulerState, n: number): WorkerState[] {
  if (n <= 0) return [];
  const idle = [...s.workers.values()].filter((w) => w.status !== "closing" && w.processing.size === 0);
  idle.sort((a, b) => a.nbytes - b.nbytes || a.address.localeCompare(b.address));
  return idle.slice(0, n);
}
