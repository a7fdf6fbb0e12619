/**
 * Progress watches: a client asks the scheduler to count, by task group,
 * how many of the tasks it submitted under a watch id have finished or
 * failed. The client tags the graphs a computation sends with the id (the
 * `progress` field of `update-graph`), so intermediate tasks count too — a
 * DataFrame group-by, a Bag fold, an MRJob step — which the futures a user
 * holds do not show. Counting is incremental (task events), and a poll is
 * O(groups) plus the keys still pending whose state moved without an event
 * (erred as a dependent of a failure, forgotten after a cancel).
 */
import { keyPrefix } from "../protocol/keys.ts";
import type { SchedulerState, TaskEvent } from "./state.ts";

interface GroupCount {
  done: number;
  erred: number;
  total: number;
}

export class ProgressWatch {
  /** Keys not yet finished or failed, with their group. */
  private readonly pending = new Map<string, string>();
  private readonly groups = new Map<string, GroupCount>();

  constructor(private readonly state: SchedulerState) {}

  private group(name: string): GroupCount {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { done: 0, erred: 0, total: 0 }));
    return g;
  }

  /** Adds keys; one already finished counts as done, one unknown (finished and forgotten) too. */
  add(keys: Iterable<string>): void {
    for (const key of keys) {
      if (this.pending.has(key)) continue;
      const ts = this.state.tasks.get(key);
      const name = ts ? ts.group.name : keyPrefix(key);
      const g = this.group(name);
      g.total++;
      if (!ts || ts.state === "memory") g.done++;
      else if (ts.state === "erred") g.erred++;
      else this.pending.set(key, name);
    }
  }

  /** A task event of the scheduler (finished or failed). */
  onTask(ev: TaskEvent): void {
    const name = this.pending.get(ev.key);
    if (name === undefined) return;
    this.pending.delete(ev.key);
    const g = this.group(name);
    if (ev.status === "erred") g.erred++;
    else g.done++;
  }

  /** Counts now: `[group, done, erred, total]` per group, and how many keys are still pending. */
  snapshot(): { groups: [string, number, number, number][]; pending: number } {
    for (const [key, name] of this.pending) {
      const ts = this.state.tasks.get(key);
      if (ts && ts.state !== "erred" && ts.state !== "memory") continue;
      // moved without a task event: erred as a dependent of a failure, or
      // forgotten (cancelled, released) before it ran
      this.pending.delete(key);
      const g = this.group(name);
      if (ts?.state === "memory") g.done++;
      else g.erred++;
    }
    return { groups: [...this.groups].map(([n, g]) => [n, g.done, g.erred, g.total]), pending: this.pending.size };
  }
}

/** The watches of all clients: `client id / watch id` → watch; one task listener for all. */
export class ProgressWatches {
  private readonly watches = new Map<string, ProgressWatch>();
  private readonly listener = (ev: TaskEvent): void => {
    for (const w of this.watches.values()) w.onTask(ev);
  };
  private listening = false;

  constructor(private readonly state: SchedulerState) {}

  get(client: string, id: string): ProgressWatch {
    const k = `${client}/${id}`;
    let w = this.watches.get(k);
    if (!w) {
      this.watches.set(k, (w = new ProgressWatch(this.state)));
      if (!this.listening) {
        this.state.taskListeners.push(this.listener);
        this.listening = true;
      }
    }
    return w;
  }

  close(client: string, id?: string): void {
    if (id !== undefined) this.watches.delete(`${client}/${id}`);
    else for (const k of [...this.watches.keys()]) if (k.startsWith(`${client}/`)) this.watches.delete(k);
    if (this.watches.size === 0 && this.listening) {
      const i = this.state.taskListeners.indexOf(this.listener);
      if (i >= 0) this.state.taskListeners.splice(i, 1);
      this.listening = false;
    }
  }
}
