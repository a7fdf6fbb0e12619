/** Invariant checks of the scheduler state, run after every transition when `validate` is on. */
import { TaskStatus, type TaskState } from "./model.ts";
import type { SchedulerState } from "./state.ts";

export class InvariantError extends Error {
  override name = "InvariantError";
}

function fail(ts: TaskState, what: string): never {
  throw new InvariantError(`scheduler invariant broken for ${ts.key} (${ts.state}): ${what}`);
}

export function validateTask(s: SchedulerState, ts: TaskState): void {
  if (ts.state === TaskStatus.forgotten) {
    if (s.tasks.get(ts.key) === ts) fail(ts, "forgotten task still in the task table");
    return;
  }
  if (s.tasks.get(ts.key) !== ts) fail(ts, "live task missing from the task table");
  if (ts.state !== TaskStatus.processing && ts.processingOn !== null) fail(ts, "processingOn set outside processing");
  if (ts.state !== TaskStatus.memory && ts.whoHas.size > 0) fail(ts, "replicas recorded outside memory");
  if (ts.state !== TaskStatus.queued && s.queued.has(ts)) fail(ts, "in the queue but not queued");
  switch (ts.state) {
    case TaskStatus.processing: {
      const ws = ts.processingOn;
      if (!ws) fail(ts, "processing without a worker");
      if (!ws.processing.has(ts)) fail(ts, "worker does not list the task as processing");
      if (s.workers.get(ws.address) !== ws) fail(ts, "processing on a removed worker");
      for (const d of ts.dependencies) if (d.state !== TaskStatus.memory) fail(ts, `dependency ${d.key} is ${d.state}`);
      break;
    }
    case TaskStatus.memory:
      if (ts.whoHas.size === 0) fail(ts, "in memory nowhere");
      for (const ws of ts.whoHas) {
        if (!ws.hasWhat.has(ts)) fail(ts, `worker ${ws.address} does not list the key`);
        if (s.workers.get(ws.address) !== ws) fail(ts, "held by a removed worker");
      }
      break;
    case TaskStatus.waiting:
      for (const d of ts.waitingOn) {
        if (!ts.dependencies.has(d)) fail(ts, `waits on non-dependency ${d.key}`);
        if (d.state === TaskStatus.memory) fail(ts, `waits on ${d.key}, which is in memory`);
      }
      for (const d of ts.dependencies) if (d.state !== TaskStatus.memory && !ts.waitingOn.has(d)) fail(ts, `not waiting on ${d.key} (${d.state})`);
      break;
    case TaskStatus.queued:
      if (!s.queued.has(ts)) fail(ts, "queued but not in the queue");
      break;
    case TaskStatus.noWorker:
      if (!s.unrunnable.has(ts)) fail(ts, "no-worker but not in the unrunnable set");
      break;
    case TaskStatus.erred:
      if (!ts.exception) fail(ts, "erred without an exception");
      break;
    default:
      break;
  }
  for (const d of ts.dependencies) if (d.state !== TaskStatus.forgotten && !d.dependents.has(ts)) fail(ts, `dependency ${d.key} does not list it as dependent`);
}

export function validateState(s: SchedulerState, only?: Iterable<TaskState>): void {
  if (only) {
    for (const ts of only) validateTask(s, ts);
    return;
  }
  for (const ts of s.tasks.values()) validateTask(s, ts);
  for (const ws of s.workers.values()) {
    for (const ts of ws.processing) if (ts.processingOn !== ws) fail(ts, `listed as processing on ${ws.address}`);
    for (const ts of ws.hasWhat) if (!ts.whoHas.has(ws)) fail(ts, `listed as held by ${ws.address}`);
  }
}
