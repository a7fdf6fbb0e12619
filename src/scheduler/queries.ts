/** Read-only queries on the scheduler state (answers to clients and workers). */
import type { ErrorRecord } from "../protocol/messages.ts";
import type { Payload } from "../protocol/serialize.ts";
import { TaskStatus } from "./model.ts";
import type { SchedulerState } from "./state.ts";

export interface Locations {
  inline: Record<string, Payload>;
  whoHas: Record<string, string[]>;
  erred: Record<string, ErrorRecord>;
  missing: string[];
}

/** Answers a client's gather: inline values, locations, or errors. */
export function locateKeys(state: SchedulerState, keys: string[]): Locations {
  const inline: Record<string, Payload> = {};
  const whoHas: Record<string, string[]> = {};
  const erred: Record<string, ErrorRecord> = {};
  const missing: string[] = [];
  for (const k of keys) {
    const ts = state.tasks.get(k);
    if (!ts) missing.push(k);
    else if (ts.state === TaskStatus.memory) {
      if (ts.inline) inline[k] = ts.inline;
      else whoHas[k] = [...ts.whoHas].map((w) => w.address);
    } else if (ts.state === TaskStatus.erred) erred[k] = ts.exception ?? { name: "Error", message: "failed", stack: "" };
    else missing.push(k);
  }
  return { inline, whoHas, erred, missing };
}

/**
 * Answers a worker's `who-has`: the workers holding each key, `[]` for a
 * key that is not in memory (unknown, released, being computed).
 */
export function whoHasKeys(state: SchedulerState, keys: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const k of keys) {
    const ts = state.tasks.get(k);
    const who: string[] = [];
    if (ts && ts.state === TaskStatus.memory) for (const w of ts.whoHas) who.push(w.address);
    out[k] = who;
  }
  return out;
}
