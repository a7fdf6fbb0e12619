/**
 * The adaptive loop (Dask `Adaptive`): every `interval` it reads the
 * scheduler's target ({@link adaptiveTarget}), clamps it to
 * `[minimum, maximum]`, and
 * - above the current count (launched workers still alive, registered or
 *   not): starts the difference through the launcher and forgets every
 *   scale-down recommendation;
 * - below it: asks which workers could close ({@link workersToClose}); a
 *   worker recommended `waitCount` consecutive times is retired (its sole
 *   results moved first, {@link retireWorkers}) and then stopped.
 *
 * A launched worker that died simply stops counting: the next tick starts a
 * replacement while the target asks for it. A submit to a cluster with no
 * workers leaves tasks in `no-worker`, which the target counts, so the
 * next tick starts one (scale from zero).
 *
 * @module
 */
import { adaptiveTarget, workersToClose } from "../scheduler/adaptive.ts";
import type { SchedulerServer } from "../scheduler/server.ts";
import { log } from "../utils/log.ts";
import { check } from "./errors.ts";
import type { Launcher, LaunchedWorker } from "./launcher.ts";
import { retireWorkers } from "./retire.ts";

export interface AdaptOptions {
  /** Fewest workers (default 0). */
  minimum?: number;
  /** Most workers (default Infinity). */
  maximum?: number;
  /** Seconds of queued work per worker thread the target aims at (default 5, Dask's `target_duration`). */
  targetDuration?: number;
  /** Consecutive scale-down recommendations before a worker is retired (default 3). */
  waitCount?: number;
  /** Seconds between decisions (default 1). */
  interval?: number;
  /** Threads of one launched worker (for the target; default: that of the registered workers). */
  threadsPerWorker?: number;
}

/** One decision, as {@link Adaptive.history} keeps it. */
export interface AdaptDecision {
  time: number;
  target: number;
  current: number;
  action: "up" | "down" | "same";
  workers?: string[];
}

export class Adaptive {
  readonly minimum: number;
  readonly maximum: number;
  readonly targetDuration: number;
  readonly waitCount: number;
  readonly interval: number;
  /** Last decisions (at most 1,000). */
  readonly history: AdaptDecision[] = [];
  /** The last target and count (the dashboard shows them). */
  last: { target: number; current: number } = { target: 0, current: 0 };
  private readonly closeCounts = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private stopped = false;
  private readonly listeners: (() => void)[] = [];

  constructor(readonly scheduler: SchedulerServer, readonly launcher: Launcher, private readonly opts: AdaptOptions = {}) {
    this.minimum = opts.minimum ?? 0;
    this.maximum = opts.maximum ?? Infinity;
    this.targetDuration = opts.targetDuration ?? 5;
    this.waitCount = opts.waitCount ?? 3;
    this.interval = opts.interval ?? 1;
    check(Number.isInteger(this.minimum) && this.minimum >= 0, "minimum", "a non-negative integer", this.minimum);
    check((Number.isInteger(this.maximum) || this.maximum === Infinity) && this.maximum >= this.minimum, "maximum", "an integer >= minimum, or Infinity", this.maximum);
    check(this.targetDuration > 0, "targetDuration", "a positive number of seconds", this.targetDuration);
    check(Number.isInteger(this.waitCount) && this.waitCount >= 1, "waitCount", "a positive integer", this.waitCount);
    check(this.interval > 0, "interval", "a positive number of seconds", this.interval);
  }

  /** Starts the periodic decisions (one at once). */
  start(): this {
    if (this.timer || this.stopped) return this;
    this.timer = setInterval(() => void this.step(), this.interval * 1000);
    this.timer.unref();
    void this.step();
    return this;
  }

  /** Stops deciding (workers stay as they are). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
  }

  /** Resolves after the next decision completes. */
  nextDecision(): Promise<void> {
    return new Promise((r) => this.listeners.push(r));
  }

  /** One decision now (skipped while the previous one is still moving data or starting workers). */
  step(): Promise<void> {
    if (this.busy) return this.busy;
    this.busy = this.decide()
      .catch((err: unknown) => log("adaptive", `decision failed; trying again next interval: ${(err as Error).stack ?? String(err)}`))
      .finally(() => {
        this.busy = null;
        for (const l of this.listeners.splice(0)) l();
      });
    return this.busy;
  }

  private record(d: AdaptDecision): void {
    this.history.push(d);
    if (this.history.length > 1000) this.history.splice(0, this.history.length - 1000);
    this.last = { target: d.target, current: d.current };
  }

  private async decide(): Promise<void> {
    if (this.stopped) return;
    const s = this.scheduler.state;
    const live = this.launcher.status();
    const current = live.length;
    const raw = adaptiveTarget(s, { targetDuration: this.targetDuration, ...(this.opts.threadsPerWorker !== undefined ? { threadsPerWorker: this.opts.threadsPerWorker } : {}) }).target;
    const target = Math.max(this.minimum, Math.min(this.maximum, raw));
    const time = Date.now();
    if (target > current) {
      this.closeCounts.clear();
      const started = await this.launcher.start(target - current);
      this.record({ time, target, current, action: "up", workers: started.map((w) => w.name) });
      return;
    }
    if (target === current) {
      this.closeCounts.clear();
      this.record({ time, target, current, action: "same" });
      return;
    }
    // scale down: only registered, idle, launched workers are candidates
    const byName = new Map<string, LaunchedWorker>(live.map((w) => [w.name, w]));
    const candidates = workersToClose(s, s.workers.size).filter((ws) => byName.has(ws.name)).slice(0, current - target);
    const names = new Set(candidates.map((ws) => ws.address));
    for (const k of [...this.closeCounts.keys()]) if (!names.has(k)) this.closeCounts.delete(k);
    const firm: string[] = [];
    for (const ws of candidates) {
      const c = (this.closeCounts.get(ws.address) ?? 0) + 1;
      this.closeCounts.set(ws.address, c);
      if (c >= this.waitCount) firm.push(ws.address);
    }
    if (firm.length === 0) {
      this.record({ time, target, current, action: "same" });
      return;
    }
    const nameOf = new Map(candidates.map((ws) => [ws.address, ws.name]));
    const r = await retireWorkers(this.scheduler, firm);
    for (const a of r.retired) this.closeCounts.delete(a);
    this.record({ time, target, current, action: "down", workers: r.retired.map((a) => nameOf.get(a) ?? a) });
    await Promise.all(r.retired.map((a) => byName.get(nameOf.get(a) ?? "")).filter((w): w is LaunchedWorker => w !== undefined).map((w) => this.launcher.stop(w)));
  }
}
