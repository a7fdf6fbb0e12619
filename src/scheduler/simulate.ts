/**
 * A simulated cluster for the sans-I/O scheduler: `W` fake workers that
 * finish every task the moment it is assigned, driven through
 * {@link SchedulerState} with no sockets, no processes and no clock. What is
 * left is the scheduler's own cost per task: the scale benchmark
 * (`bench/engine/scale.ts --sim`) and the regression test
 * (`test/scheduler/scale.test.ts`) use it to measure transitions per second
 * and bytes per task at 1,000 workers and a million tasks.
 *
 * Internal: not exported from the package.
 */
import { Op, type TaskMsg } from "../protocol/messages.ts";
import { asPayload } from "../protocol/wire.ts";
import { SchedulerState, type SchedulerConfig } from "./state.ts";

const SPEC = asPayload({ header: new Uint8Array([0x90]), frames: [] });

export interface SimulatedRun {
  tasks: number;
  /** Transitions the scheduler made (every state change of every task). */
  transitions: number;
  seconds: number;
  transitionsPerSecond: number;
  /** The longest single call into the state machine (ms): a stall of a real scheduler. */
  longestCallMs: number;
  /** Which event that was. */
  longestCall: string;
}

/** A scheduler with `nworkers` fake workers of `nthreads` each and one client. */
export class SimulatedCluster {
  readonly state: SchedulerState;
  /** Assigned and not yet finished: [worker address, key, runId]. */
  private running: [string, string, number][] = [];
  private head = 0;
  longestCallMs = 0;
  /** What the longest call was. */
  longestCall = "";
  private graphs = 0;
  /** Keys the client was told are in memory (and has not released). */
  readonly inMemory = new Set<string>();

  constructor(readonly nworkers: number, readonly nthreads: number, config: Partial<SchedulerConfig> = {}) {
    let clock = 0;
    this.state = new SchedulerState(config, () => (clock += 1e-6));
    for (let i = 0; i < nworkers; i++) {
      this.call(() => this.state.addWorker({ address: `sim://w${i}`, name: `w${i}`, nthreads, memoryLimit: 0, host: "sim", pid: i, keys: [] }), "add-worker");
    }
  }

  /** Runs `fn` against the state, timing it, then routes what it sent. */
  private call(fn: () => void, what = "task-finished"): void {
    const t = performance.now();
    fn();
    const el = performance.now() - t;
    if (el > this.longestCallMs) {
      this.longestCallMs = el;
      this.longestCall = what;
    }
    for (const o of this.state.drain()) {
      if (o.to === "worker") {
        if (o.msg.op === Op.computeTask) this.running.push([o.address, o.msg["key"] as string, o.msg["runId"] as number]);
      } else if (o.msg.op === Op.keyInMemory) {
        this.inMemory.add(o.msg["key"] as string);
      }
    }
  }

  /**
   * Submits tasks (deps before dependents) in parts of at most `chunk` tasks,
   * as the client streams a large graph, finishing tasks between parts as a
   * real cluster would; then lets go of the graph's held tasks in slices.
   */
  submit(tasks: TaskMsg[], wanted: string[], chunk = tasks.length): void {
    const want = new Set(wanted);
    const graph = `g${++this.graphs}`;
    for (let i = 0; i < tasks.length; i += chunk) {
      const part = tasks.slice(i, i + chunk);
      const keys = part.filter((t) => want.has(t.key)).map((t) => t.key);
      const more = i + chunk < tasks.length;
      if (chunk >= tasks.length) this.call(() => this.state.updateGraph("sim-client", part, keys), "update-graph");
      else this.call(() => this.state.updateGraph("sim-client", part, keys, { graph, more }), "update-graph part");
      this.runToCompletion(more ? this.running.length - this.head : Infinity);
    }
    while (this.state.heldToRelease > 0) this.call(() => this.state.releaseHolds(), "release-holds");
  }

  /** Finishes assigned tasks, oldest first, until none is left to run (or `max` are finished). */
  runToCompletion(max = Infinity): void {
    for (let n = 0; n < max && this.head < this.running.length; n++) {
      const [address, key, runId] = this.running[this.head++]!;
      if (this.head > 65_536 && this.head * 2 > this.running.length) {
        this.running = this.running.slice(this.head);
        this.head = 0;
      }
      this.call(() => this.state.taskFinished(address, { op: Op.taskFinished, key, runId, nbytes: 8, type: "number", start: 0, stop: 0 }));
    }
  }

  /** The client releases keys it holds, in messages of at most `chunk` keys (as the client sends them). */
  release(keys: string[], chunk = keys.length): void {
    for (const k of keys) this.inMemory.delete(k);
    for (let i = 0; i < keys.length; i += chunk) {
      const part = keys.slice(i, i + chunk);
      this.call(() => this.state.clientReleasesKeys("sim-client", part), "release-keys");
    }
    while (this.state.heldToRelease > 0) this.call(() => this.state.releaseHolds(), "release-holds");
  }

  /** Transitions made so far. */
  get transitions(): number {
    let n = 0;
    for (const v of Object.values(this.state.transitionCounts)) n += v;
    return n;
  }
}

/** `n` independent tasks of one group (a `client.map`). */
export function mapGraph(n: number, name = "noop"): TaskMsg[] {
  const out: TaskMsg[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { key: `${name}-${i.toString(36)}`, spec: SPEC, deps: [], order: i };
  return out;
}

/** A binary tree reduction over `leaves` leaves (2·leaves − 1 tasks), deps before dependents; the root is last. */
export function treeGraph(leaves: number): TaskMsg[] {
  const out: TaskMsg[] = [];
  let level: string[] = [];
  for (let i = 0; i < leaves; i++) {
    const key = `leaf-${i.toString(36)}`;
    out.push({ key, spec: SPEC, deps: [], order: out.length });
    level.push(key);
  }
  let depth = 0;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      const key = `add-${depth}-${(i >> 1).toString(36)}`;
      out.push({ key, spec: SPEC, deps: [level[i]!, level[i + 1]!], order: out.length });
      next.push(key);
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
    depth++;
  }
  return out;
}

/** Submits `tasks`, runs them to completion, releases the results; returns what it cost. */
export function simulate(cluster: SimulatedCluster, tasks: TaskMsg[], wanted: string[], chunk?: number): SimulatedRun {
  const before = cluster.transitions;
  cluster.longestCallMs = 0;
  cluster.longestCall = "";
  const t = performance.now();
  cluster.submit(tasks, wanted, chunk);
  cluster.runToCompletion();
  cluster.release([...cluster.inMemory], chunk);
  const seconds = (performance.now() - t) / 1000;
  const transitions = cluster.transitions - before;
  return { tasks: tasks.length, transitions, seconds, transitionsPerSecond: transitions / seconds, longestCallMs: cluster.longestCallMs, longestCall: cluster.longestCall };
}
