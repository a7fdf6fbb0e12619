/**
 * Invariant checks of the scheduler state, run when `config.validate` is on
 * (`SHOAL_VALIDATE=1`; the test runner sets it):
 *
 * - after every transition, the task that moved ({@link validateTask});
 * - after every stimulus (an incoming message's recommendation loop, the
 *   queue refill, a replica added or dropped), every task it touched and
 *   their dependencies and dependents.
 *
 * What holds for a task:
 * - it is in the task table exactly while it is not forgotten;
 * - `processingOn` is set only in `processing`, replicas (`whoHas`) exist
 *   only in `memory`, it is in the queue exactly while `queued` and in the
 *   unrunnable set while `no-worker`;
 * - `processing`: its worker is registered and lists it, and every
 *   dependency is in memory;
 * - `memory`: at least one replica, each on a registered worker that lists it;
 * - `waiting`: it waits exactly on its dependencies that are not in memory;
 * - `erred`: it carries an exception;
 * - each dependency lists it as a dependent.
 *
 * And for the whole state ({@link validateState} without a task list): the
 * workers' lists match the tasks', and the worker pool holds exactly the
 * running workers with the least loaded on top.
 *
 * A failure throws {@link InvariantError}: a bug in the scheduler, never
 * the user's; the server crashes loudly on it under validation.
 */
import { ShoalError } from "../utils/errors.ts";
import { TaskStatus, type TaskState, type WorkerState } from "./model.ts";
import type { SchedulerState } from "./state.ts";

/**
 * A scheduler invariant does not hold: a bug in Shoal's scheduler. Not
 * retriable; carries the task key, the stimulus being handled and the
 * task's recent transitions (its story).
 */
export class InvariantError extends ShoalError {
  override name = "InvariantError";
  override readonly code = "scheduler-invariant";
  override readonly retriable = false;
  constructor(
    message: string,
    /** The task whose invariant broke (null for a worker-level check). */
    readonly key: string | null = null,
    /** The stimulus being handled when it broke. */
    readonly stimulusId: string = "",
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? {} : { cause: opts.cause });
  }
}

function fail(s: SchedulerState, ts: TaskState, what: string): never {
  const story = s.story([ts.key]).slice(-8);
  throw new InvariantError(
    `scheduler invariant broken for ${ts.key} (${ts.state}) while handling ${s.stimulusId || "no stimulus"}: ${what}; ` +
      `its last transitions: ${JSON.stringify(story)}. This is a bug in Shoal's scheduler; please report it with this message.`,
    ts.key,
    s.stimulusId,
  );
}

export function validateTask(s: SchedulerState, ts: TaskState): void {
  if (ts.state === TaskStatus.forgotten) {
    if (s.tasks.get(ts.key) === ts) fail(s, ts, "forgotten task still in the task table");
    return;
  }
  if (s.tasks.get(ts.key) !== ts) fail(s, ts, "live task missing from the task table");
  if (ts.state !== TaskStatus.processing && ts.processingOn !== null) fail(s, ts, "processingOn set outside processing");
  if (ts.state !== TaskStatus.memory && ts.whoHas.size > 0) fail(s, ts, "replicas recorded outside memory");
  if (ts.state !== TaskStatus.queued && s.queued.has(ts)) fail(s, ts, "in the queue but not queued");
  if (ts.state !== TaskStatus.noWorker && s.unrunnable.has(ts)) fail(s, ts, "in the unrunnable set but not no-worker");
  switch (ts.state) {
    case TaskStatus.processing: {
      const ws = ts.processingOn;
      if (!ws) fail(s, ts, "processing without a worker");
      if (!ws.processing.has(ts)) fail(s, ts, "worker does not list the task as processing");
      if (s.workers.get(ws.address) !== ws) fail(s, ts, "processing on a removed worker");
      for (const d of ts.dependencies) if (d.state !== TaskStatus.memory) fail(s, ts, `dependency ${d.key} is ${d.state}`);
      break;
    }
    case TaskStatus.memory:
      if (ts.whoHas.size === 0) fail(s, ts, "in memory nowhere");
      for (const ws of ts.whoHas) {
        if (!ws.hasWhat.has(ts)) fail(s, ts, `worker ${ws.address} does not list the key`);
        if (s.workers.get(ws.address) !== ws) fail(s, ts, "held by a removed worker");
      }
      break;
    case TaskStatus.waiting:
      for (const d of ts.waitingOn) {
        if (!ts.dependencies.has(d)) fail(s, ts, `waits on non-dependency ${d.key}`);
        if (d.state === TaskStatus.memory) fail(s, ts, `waits on ${d.key}, which is in memory`);
      }
      for (const d of ts.dependencies) if (d.state !== TaskStatus.memory && !ts.waitingOn.has(d)) fail(s, ts, `not waiting on ${d.key} (${d.state})`);
      break;
    case TaskStatus.queued:
      if (!s.queued.has(ts)) fail(s, ts, "queued but not in the queue");
      break;
    case TaskStatus.noWorker:
      if (!s.unrunnable.has(ts)) fail(s, ts, "no-worker but not in the unrunnable set");
      break;
    case TaskStatus.erred:
      if (!ts.exception) fail(s, ts, "erred without an exception");
      break;
    default:
      break;
  }
  for (const d of ts.dependencies) if (d.state !== TaskStatus.forgotten && !d.dependents.has(ts)) fail(s, ts, `dependency ${d.key} does not list it as dependent`);
}

/** Checks `only` (and nothing else), or, without it, every task and every worker's lists. */
export function validateState(s: SchedulerState, only?: Iterable<TaskState>): void {
  if (only) {
    for (const ts of only) validateTask(s, ts);
    return;
  }
  for (const ts of s.tasks.values()) validateTask(s, ts);
  let running = 0;
  for (const ws of s.workers.values()) {
    if ((ws.status === "running") !== s.pool.has(ws)) failWorker(s, ws, ws.status === "running" ? "running but not in the worker pool" : `${ws.status} but in the worker pool`);
    if (ws.status === "running") running++;
    for (const ts of ws.processing) if (ts.processingOn !== ws) fail(s, ts, `listed as processing on ${ws.address}`);
    for (const ts of ws.hasWhat) if (!ts.whoHas.has(ws)) fail(s, ts, `listed as held by ${ws.address}`);
  }
  if (running !== s.pool.size) throw new InvariantError(`scheduler invariant broken: the worker pool holds ${s.pool.size} workers, ${running} are running`, null, s.stimulusId);
  const least = s.pool.peek();
  for (const ws of s.pool.values()) {
    if (least !== undefined && ws.processing.size / ws.nthreads < least.processing.size / least.nthreads) failWorker(s, ws, "less loaded than the top of the worker pool");
  }
}

function failWorker(s: SchedulerState, ws: WorkerState, what: string): never {
  throw new InvariantError(`scheduler invariant broken for worker ${ws.address} while handling ${s.stimulusId || "no stimulus"}: ${what}. This is a bug in Shoal's scheduler; please report it with this message.`, null, s.stimulusId);
}
