/**
 * Turning lazy DataFrame results into values: the default client, lazy
 * scalars (reductions), and {@link compute}, which computes several results
 * in one graph so that they share work.
 *
 * Reductions over the same frame computed together share one pass over the
 * data: `compute([df.mean("Score"), df.std("Score"), df.median("Score")])`
 * runs one task per partition that reads the partition once and maps all
 * three reductions, then one combine tree and one finalize task.
 *
 * @module
 */
import { Client } from "../client/client.ts";
import { delayed, type Delayed } from "../graph/delayed.ts";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError } from "./errors.ts";
import { concatFrames, type PartitionPlan } from "./frame-plan.ts";
import { combinePartials, finalizeReductions, materialize, reducePartition, type ReductionSpec } from "./frame-tasks.ts";
import { deserializePartial, fromIpc } from "./ipc.ts";
import type { Schema } from "./schema.ts";

let current: Client | null = null;

/**
 * Set the client that DataFrame actions use when none is passed (`null` to
 * clear). Without one, actions use the most recently connected client that
 * is still open (`Client.current()`).
 *
 * @example
 * ```ts
 * const client = await Client.connect();
 * setDefaultClient(client);
 * const n = await df.len().compute();
 * ```
 */
export function setDefaultClient(client: Client | null): void {
  current = client;
}

/** The client given, else the default client, else the most recently connected one; throws a clear error when there is none. */
export function resolveClient(client?: Client | null): Client {
  const c = client ?? current ?? Client.current();
  if (!c) {
    throw new DataFrameArgumentError("no client: pass one to the action (e.g. df.collect(client)), or connect one first (await Client.connect())");
  }
  return c;
}

/** What a lazy frame exposes to the compute machinery. */
export interface PlannedFrame {
  /** One plan per partition. */
  readonly plans: readonly PartitionPlan[];
  /** Logical schema (columns in order). */
  readonly schema: Schema;
}

/**
 * A lazy scalar: a reduction of a frame, computed by {@link compute} or
 * `.compute(client?)`.
 */
export class LazyScalar<T> {
  /** @internal */
  constructor(readonly frame: PlannedFrame, readonly spec: ReductionSpec, readonly post: (v: unknown) => T = (v) => v as T) {}

  /** Compute this value (with the given or the default client). */
  async compute(client?: Client): Promise<T> {
    const [v] = await compute([this], client);
    return v as T;
  }

  /** A lazy value derived from this one (applied on the client after computing). */
  then_<U>(fn: (v: T) => U): LazyScalar<U> {
    return new LazyScalar<U>(this.frame, this.spec, (v) => fn(this.post(v)));
  }
}

/** Something {@link compute} accepts. */
export type Computable = LazyScalar<unknown> | PlannedFrame;
/** The computed value of a {@link Computable}. */
export type Computed<C> = C extends LazyScalar<infer T> ? T : Frame;

/** Fan-in of combine trees. */
export const COMBINE_FAN_IN = 8;

/** The combined partial of several reductions over a frame: map per partition, then a tree of combines. */
export function reductionTree(frame: PlannedFrame, specs: ReductionSpec[]): Delayed<Buffer> {
  const plans = frame.plans.length > 0 ? frame.plans : [{ source: { kind: "empty", schema: frame.schema }, ops: [] } as PartitionPlan];
  let level: Delayed<Buffer>[] = plans.map((p) => delayed(reducePartition)(p, specs));
  while (level.length > 1) {
    const next: Delayed<Buffer>[] = [];
    for (let i = 0; i < level.length; i += COMBINE_FAN_IN) next.push(delayed(combinePartials)(specs, level.slice(i, i + COMBINE_FAN_IN)));
    level = next;
  }
  return level[0]!;
}

/** Materialized partitions of a frame (Arrow IPC per partition). */
export function materializeAll(frame: PlannedFrame): Delayed<Buffer>[] {
  return frame.plans.map((p) => delayed(materialize)(p));
}

/**
 * Compute several lazy results in one graph (shared reads, shared shuffles).
 * Frames come back as local polars frames, scalars as values.
 *
 * @example
 * ```ts
 * const [mean, std, top] = await compute([q.mean("Score"), q.std("Score"), tags.valueCounts("Tag", { n: 5 })], client);
 * ```
 */
export async function compute<const C extends readonly Computable[]>(items: C, client?: Client): Promise<{ [K in keyof C]: Computed<C[K]> }> {
  const c = resolveClient(client);
  const groups = new Map<PlannedFrame, { specs: ReductionSpec[]; index: Map<string, number> }>();
  for (const it of items) {
    if (!(it instanceof LazyScalar)) continue;
    let g = groups.get(it.frame);
    if (!g) { g = { specs: [], index: new Map() }; groups.set(it.frame, g); }
    const k = JSON.stringify(it.spec);
    if (!g.index.has(k)) { g.index.set(k, g.specs.length); g.specs.push(it.spec); }
  }
  const roots: Delayed<unknown>[] = [];
  const groupRoot = new Map<PlannedFrame, number>();
  for (const [frame, g] of groups) {
    groupRoot.set(frame, roots.length);
    roots.push(delayed(finalizeReductions)(g.specs, reductionTree(frame, g.specs)));
  }
  const frameRoots: { start: number; count: number }[] = [];
  for (const it of items) {
    if (it instanceof LazyScalar) { frameRoots.push({ start: -1, count: 0 }); continue; }
    const parts = materializeAll(it);
    frameRoots.push({ start: roots.length, count: parts.length });
    roots.push(...parts);
  }
  const values = roots.length === 0 ? [] : ((await c.compute(...roots)) as unknown[]);
  const decoded = new Map<number, unknown[]>();
  const out = items.map((it, i) => {
    if (it instanceof LazyScalar) {
      const r = groupRoot.get(it.frame)!;
      let d = decoded.get(r);
      if (!d) { d = deserializePartial<unknown[]>(values[r] as Uint8Array); decoded.set(r, d); }
      return it.post(d[groups.get(it.frame)!.index.get(JSON.stringify(it.spec))!]);
    }
    const { start, count } = frameRoots[i]!;
    const frames = (values.slice(start, start + count) as Uint8Array[]).map((b) => fromIpc(b));
    const nonEmpty = frames.filter((f) => f.height > 0);
    return nonEmpty.length > 0 ? concatFrames(nonEmpty) : frames.length > 0 ? frames[0]! : concatFrames([], it.schema);
  });
  return out as { [K in keyof C]: Computed<C[K]> };
}
