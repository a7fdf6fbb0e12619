/**
 * The distributed DataFrame: a lazy, partitioned table. Operations build a
 * task graph (with `delayed`); actions (`collect`, `compute`, `head`,
 * `persist`, writers, `LazyScalar.compute`) run it on a cluster through a
 * {@link Client} (the one passed, else the default set with
 * `setDefaultClient`).
 *
 * @example
 * ```ts
 * import { Client, readCsv, col, compute, setDefaultClient } from "shoal";
 * const client = await Client.connect();
 * setDefaultClient(client);
 * const q = await readCsv("data/questions*.csv", { naValues: ["NA"] });
 * const byOwner = q.filter(col("OwnerUserId").notNull())
 *   .groupBy("OwnerUserId").agg({ NumQuestions: ["Id", "count"], AverageScore: ["Score", "mean"] });
 * console.log(await byOwner.nlargest(5, "NumQuestions", { tieBreak: ["OwnerUserId"] }).collect());
 * const [mean, std] = await compute([q.mean("Score"), q.std("Score")]);
 * ```
 *
 * @module
 */
import type { Client } from "../client/client.ts";
import { wait } from "../client/client.ts";
import type { Future } from "../client/future.ts";
import { delayed, type Delayed } from "../graph/delayed.ts";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError } from "./errors.ts";
import { col, toNode, type ColumnOrExpr, type Expr } from "./frame-expr.ts";
import { compute, LazyScalar, materializeAll, reductionTree, resolveClient } from "./frame-compute.ts";
import { concatFrames, emptyFrame, planMeta, planTextNotes, type Op, type PartitionPlan } from "./frame-plan.ts";
import { explainTextColumn } from "./text-notes.ts";
import {
  concatIpc, finalizeFrame, groupByBucket, groupBySplit, materialize, materializeBytes, partitionRanges, pickBucket, shuffleSplit,
  topGroupsCandidates, topGroupsCounts, topGroupsFinal, topGroupsHead, topGroupsPartial, topGroupsThreshold,
  type ReductionSpec, type WriteFormat,
} from "./frame-tasks.ts";
import { writeFrame, type FrameWriteOptions } from "./frame-write.ts";
import { groupByAgg, type AggSpec, type GroupByOptions } from "./groupby.ts";
import { mergePartitions, type MergeHow, type MergeOptions } from "./join.ts";
import { fromIpc } from "./ipc.ts";
import { SORT_SAMPLE_ROWS, sortBoundaries, sortSample, sortSplit } from "./sort.ts";
import { alignByRanges, rangesAfter, type FrameRanges } from "./ranges.ts";
import { valueCountsOf, type DescribeStats, type NullCountsPartial } from "./reductions.ts";
import { schemaOf, widenType, type ColumnType, type Schema } from "./schema.ts";
import { COUNT, COUNTING_AGGS } from "./top-groups.ts";

/** Options of {@link DataFrame.merge}. */
export interface FrameMergeOptions {
  /** Key column(s), present on both sides. */
  on: string | readonly string[];
  /** inner (default), left, outer, anti. */
  how?: MergeHow;
  /** Suffixes of overlapping non-key columns (default `["_x", "_y"]`). */
  suffixes?: readonly [string, string];
  /** Missing keys match missing keys (default true, as pandas). */
  nullsEqual?: boolean;
  /**
   * Broadcast a small side to every partition of the other instead of hash
   * shuffling both: `"right"` (or `true`), `"left"` (inner joins only), or
   * `false`. Default: broadcast the right side when it has one partition.
   */
  broadcast?: boolean | "left" | "right";
  /** Buckets of the hash shuffle (default: the larger partition count). */
  npartitions?: number;
}

/** Options of {@link DataFrame.groupBy}. */
export interface FrameGroupByOptions extends GroupByOptions {
  /** Output partitions (hash buckets of the group keys; default: the input's partition count). */
  splitOut?: number;
}

/** Options of the writers. */
export type { FrameWriteOptions } from "./frame-write.ts";

/** Options of {@link DataFrame.nlargest}. */
export interface TopOptions {
  /** Columns that break ties, ascending (default none). */
  tieBreak?: readonly string[];
}

/** What a group-by result was computed from (see {@link DataFrame.nlargest} and top-groups.ts). */
interface GroupedFrom { parent: DataFrame; keys: string[]; spec: AggSpec; opts: GroupByOptions }

/** Up to this many groups, `nlargest` by a count of a group-by on a persisted frame uses the threshold plan of top-groups.ts. */
const TOP_GROUPS_MAX = 10_000;

const plain = (x: unknown): number => (x === null || x === undefined ? NaN : typeof x === "bigint" ? Number(x) : Number(x));

/** A lazy, partitioned table. Create one with `readCsv`, `readJsonLines`, `readParquet` or `fromFrame`. */
export class DataFrame {
  /**
   * @internal
   * `ranges`: per-partition ranges of numeric columns when known (persisted
   * frames and row-wise operations on them; see `ranges.ts`).
   */
  constructor(readonly plans: readonly PartitionPlan[], readonly schema: Schema, readonly ranges: FrameRanges | null = null,
    private readonly grouped: GroupedFrom | null = null) {}

  /** Column names. */
  get columns(): string[] { return Object.keys(this.schema); }
  /** Number of partitions. */
  get npartitions(): number { return this.plans.length; }

  private withOp(op: Op): DataFrame {
    const plans = this.plans.map((p) => ({ source: p.source, ops: [...p.ops, op] }));
    let meta: Frame;
    try {
      meta = planMeta({ source: { kind: "empty", schema: this.schema }, ops: [op] });
    } catch (err) {
      throw explainTextColumn(err, undefined, planTextNotes(this.plans)); // a numeric op on a column readCsv's sample found text
    }
    return new DataFrame(plans, schemaOf(meta), rangesAfter(this.ranges, op));
  }

  private need(cols: readonly string[], what: string): void {
    for (const c of cols) if (!(c in this.schema)) throw new DataFrameArgumentError(`${what}: no column '${c}' (columns: ${this.columns.join(", ")})`);
  }

  // ---------------------------------------------------------------- row-wise (lazy, fused)

  /** Rows where `predicate` is true (missing counts as false). */
  filter(predicate: Expr): DataFrame { return this.withOp({ op: "filter", pred: predicate.node }); }
  /** Add or replace columns (each expression's output name). */
  withColumns(...exprs: Expr[]): DataFrame { return this.withOp({ op: "with", exprs: exprs.map((e) => e.node) }); }
  /** Alias of {@link withColumns} (pandas `assign`). */
  assign(exprs: Record<string, Expr>): DataFrame { return this.withColumns(...Object.entries(exprs).map(([n, e]) => e.alias(n))); }
  /** Keep (or compute) these columns, in this order. */
  select(...cols: ColumnOrExpr[]): DataFrame { return this.withOp({ op: "select", exprs: cols.map(toNode) }); }
  /** Drop columns. */
  drop(...cols: string[]): DataFrame { this.need(cols, "drop"); return this.withOp({ op: "drop", columns: cols }); }
  /** Rename columns (`{ old: "new" }`). */
  rename(mapping: Record<string, string>): DataFrame { this.need(Object.keys(mapping), "rename"); return this.withOp({ op: "rename", mapping }); }
  /** Drop rows with a missing value in `subset` (default: any column). */
  dropNulls(subset?: readonly string[]): DataFrame { if (subset) this.need(subset, "dropNulls"); return this.withOp({ op: "dropNulls", subset: subset ? [...subset] : null }); }

  // ---------------------------------------------------------------- reductions (lazy scalars)

  private scalar<T>(spec: ReductionSpec, post?: (v: unknown) => T): LazyScalar<T> {
    if ("column" in spec) this.need([spec.column], spec.name);
    return new LazyScalar<T>(this, spec, post);
  }
  /** Number of rows. */
  len(): LazyScalar<number> { return this.scalar({ name: "len" }); }
  /** Non-missing values of a column. */
  count(column: string): LazyScalar<number> { return this.scalar({ name: "count", column }); }
  /** Sum (missing skipped; 0 for none; exact for integer columns). */
  sum(column: string): LazyScalar<number> { return this.scalar({ name: "sum", column }); }
  /** Mean (NaN for none). */
  mean(column: string): LazyScalar<number> { return this.scalar({ name: "mean", column }); }
  /** Sample variance (ddof 1 by default). */
  var(column: string, opts: { ddof?: number } = {}): LazyScalar<number> { return this.scalar({ name: "var", column, ddof: opts.ddof ?? 1 }); }
  /** Sample standard deviation (ddof 1 by default; correctly rounded for integer columns). */
  std(column: string, opts: { ddof?: number } = {}): LazyScalar<number> { return this.scalar({ name: "std", column, ddof: opts.ddof ?? 1 }); }
  /** Exact median. */
  median(column: string): LazyScalar<number> { return this.scalar({ name: "median", column }); }
  /** Exact quantile(s), linear interpolation (pandas default). */
  quantile(column: string, q: number): LazyScalar<number>;
  quantile(column: string, q: readonly number[]): LazyScalar<number[]>;
  quantile(column: string, q: number | readonly number[]): LazyScalar<number> | LazyScalar<number[]> {
    if (typeof q === "number") return this.scalar({ name: "quantile", column, qs: [q] }, (v) => (v as number[])[0]!);
    return this.scalar<number[]>({ name: "quantile", column, qs: [...q] });
  }
  /** Minimum (numbers as numbers, text as text; NaN/null for none). */
  min(column: string): LazyScalar<number | string | null> { return this.scalar({ name: "min", column }, minMaxValue); }
  /** Maximum. */
  max(column: string): LazyScalar<number | string | null> { return this.scalar({ name: "max", column }, minMaxValue); }
  /** Distinct non-missing values. */
  nunique(column: string): LazyScalar<number> { return this.scalar({ name: "nunique", column }); }
  /** Missing values per column (null, and NaN in float columns). */
  nullCount(): LazyScalar<Record<string, number>> { return this.scalar({ name: "nullCounts" }, (v) => (v as NullCountsPartial).nulls); }
  /** Percent of missing values per column (`df.isna().mean() * 100` in pandas). */
  missingPercent(): LazyScalar<Record<string, number>> {
    return this.scalar({ name: "nullCounts" }, (v) => {
      const p = v as NullCountsPartial;
      return Object.fromEntries(Object.entries(p.nulls).map(([c, n]) => [c, p.rows === 0 ? NaN : (n / p.rows) * 100]));
    });
  }
  /** pandas `describe()` of the numeric columns: count, mean, std, min, quartiles, max (exact). */
  describe(): LazyScalar<Record<string, DescribeStats>> { return this.scalar({ name: "describe" }); }

  // ---------------------------------------------------------------- frame-valued reductions

  private reducedFrame(spec: ReductionSpec, schema: Schema): DataFrame {
    const tree = reductionTree(this, [spec]);
    return new DataFrame([{ source: { kind: "ipc", data: delayed(finalizeFrame)(spec, 0, tree), schema }, ops: [] }], schema);
  }
  /** Value counts of a column: `[column, "count"]`, count descending then value ascending (missing dropped unless `dropna: false`). */
  valueCounts(column: string, opts: { n?: number; dropna?: boolean } = {}): DataFrame {
    this.need([column], "valueCounts");
    const schema = schemaOf(valueCountsOf(emptyFrame({ [column]: this.schema[column]! }), column));
    return this.reducedFrame({ name: "valueCounts", column, ...(opts.n !== undefined ? { n: opts.n } : {}), dropna: opts.dropna ?? true }, schema);
  }
  /** The `n` rows with the largest values of `by` (missing dropped; ties broken by `tieBreak` ascending). */
  nlargest(n: number, by: string | readonly string[], opts: TopOptions = {}): DataFrame { return this.top("nlargest", n, by, opts); }
  /** The `n` rows with the smallest values of `by`. */
  nsmallest(n: number, by: string | readonly string[], opts: TopOptions = {}): DataFrame { return this.top("nsmallest", n, by, opts); }
  private top(name: "nlargest" | "nsmallest", n: number, by: string | readonly string[], opts: TopOptions): DataFrame {
    const cols = typeof by === "string" ? [by] : [...by];
    this.need([...cols, ...(opts.tieBreak ?? [])], name);
    if (!Number.isInteger(n) || n < 0) throw new DataFrameArgumentError(`${name}: n must be a non-negative integer, got ${n}`);
    if (name === "nlargest") {
      const groups = this.topGroups(n, cols, opts.tieBreak ?? []);
      if (groups) return groups;
    }
    return this.reducedFrame({ name, n, by: cols, ...(opts.tieBreak ? { tieBreak: [...opts.tieBreak] } : {}) }, this.schema);
  }

  /**
   * `groupBy(key).agg({..., n: [col, "count" | "size"]}).nlargest(k, "n", { tieBreak: [key] })`
   * of a frame held in memory (persisted): each partition's groups are counted once where it
   * lives, and only the groups that can still reach the top `k` are aggregated (the threshold
   * plan of top-groups.ts), instead of every row going through the group-by shuffle. Same rows
   * as the plain plan: the key breaks every tie, so the order is total. `null`: not this case.
   */
  private topGroups(n: number, by: readonly string[], tieBreak: readonly string[]): DataFrame | null {
    const g = this.grouped;
    if (!g || by.length !== 1 || g.keys.length !== 1 || !(g.opts.dropna ?? true)) return null;
    const key = g.keys[0]!;
    const out = g.spec[by[0]!];
    const type = g.parent.schema[key];
    if (!out || !COUNTING_AGGS.includes(out[1]) || !tieBreak.includes(key) || key === COUNT || (type !== "int64" && type !== "utf8")) return null;
    const m = g.parent.npartitions;
    if (m < 2 || n < 1 || n > TOP_GROUPS_MAX) return null;
    // every partition is read twice (counts, then the candidates' rows): only when that is cheap
    if (!g.parent.plans.every((p) => p.source.kind === "ipc")) return null;
    const [col, agg] = out as readonly [string, "count" | "size"];
    const counts = g.parent.plans.map((p) => delayed(topGroupsCounts)(p, key, col, agg));
    const tau = delayed(topGroupsThreshold)(counts.map((c) => delayed(topGroupsHead)(c, key, n)), key, n);
    const candidates = counts.map((c) => delayed(topGroupsCandidates)(c, key, tau, m));
    const partials = g.parent.plans.map((p) => delayed(topGroupsPartial)(p, tau, candidates, key, type, g.spec, g.opts));
    const data = delayed(topGroupsFinal)(partials, key, g.spec, g.opts, n, by[0]!, [...tieBreak]);
    return new DataFrame([{ source: { kind: "ipc", data, schema: this.schema }, ops: [] }], this.schema);
  }

  // ---------------------------------------------------------------- group-by, merge, sort

  /**
   * Group rows by key columns; `.agg({ out: [column, agg] })` gives one row
   * per group (missing keys dropped unless `dropna: false`). Partial
   * aggregates are hash-shuffled by key, so memory per task is bounded by the
   * bucket, not the whole result. Each output partition is sorted by the
   * keys; with `splitOut: 1` the whole result is (pandas `sort=True`).
   */
  groupBy(keys: string | readonly string[], opts: FrameGroupByOptions = {}): { agg(spec: AggSpec): DataFrame } {
    const k = typeof keys === "string" ? [keys] : [...keys];
    this.need(k, "groupBy");
    return { agg: (spec) => this.groupByAgg(k, spec, opts) };
  }

  private groupByAgg(keys: string[], spec: AggSpec, opts: FrameGroupByOptions): DataFrame {
    for (const [, [c]] of Object.entries(spec)) this.need([c], "groupBy.agg");
    const n = opts.splitOut ?? Math.max(1, this.npartitions);
    if (!Number.isInteger(n) || n < 1) throw new DataFrameArgumentError(`groupBy: options.splitOut must be a positive integer, got ${n}`);
    const gopts: GroupByOptions = { dropna: opts.dropna ?? true, sort: opts.sort ?? true };
    const keyTypes = Object.fromEntries(keys.map((c) => [c, this.schema[c]!]));
    const splits = this.plans.map((p) => delayed(groupBySplit)(p, keys, spec, gopts, n, keyTypes));
    let meta: Schema;
    try {
      meta = groupMeta(this.schema, keys, spec, gopts);
    } catch (err) {
      throw explainTextColumn(err, undefined, planTextNotes(this.plans));
    }
    const plans: PartitionPlan[] = [];
    for (let j = 0; j < n; j++) {
      const shards = splits.map((s) => (n === 1 ? delayed(pickBucket)(s, 0) : delayed(pickBucket)(s, j)));
      plans.push({ source: { kind: "ipc", data: delayed(groupByBucket)(shards, keys, spec, gopts), schema: meta }, ops: [] });
    }
    return new DataFrame(plans, meta, null, { parent: this, keys, spec, opts: gopts });
  }

  /**
   * Join with another frame (pandas `merge` semantics; see docs/dataframe.md):
   * by hash shuffle of both sides into `npartitions` buckets, or by
   * broadcasting a small side to every partition of the other.
   */
  merge(right: DataFrame, opts: FrameMergeOptions): DataFrame {
    const keys = typeof opts.on === "string" ? [opts.on] : [...opts.on];
    this.need(keys, "merge (left)");
    right.need(keys, "merge (right)");
    const how = opts.how ?? "inner";
    const mopts = { on: keys, how, ...(opts.suffixes ? { suffixes: opts.suffixes } : {}), ...(opts.nullsEqual !== undefined ? { nullsEqual: opts.nullsEqual } : {}) };
    const meta = schemaOf(mergePartitions(emptyFrame(this.schema), emptyFrame(right.schema), mopts));
    const bc = opts.broadcast ?? (right.npartitions === 1 && how !== "outer" ? "right" : false);
    const side = bc === true ? "right" : bc;
    if (side === "right" && how !== "outer") {
      const small = broadcastSide(right);
      return new DataFrame(this.plans.map((p) => ({ source: { kind: "merge", left: p, right: small, opts: mopts }, ops: [] })), meta);
    }
    if (side === "left" && how === "inner") {
      const small = broadcastSide(this);
      return new DataFrame(right.plans.map((p) => ({ source: { kind: "merge", left: small, right: p, opts: mopts }, ops: [] })), meta);
    }
    if (side !== false) throw new DataFrameArgumentError(`merge: cannot broadcast the ${side} side of a${how === "outer" ? "n" : ""} ${how} join`);
    if (how !== "outer" && opts.npartitions === undefined) {
      for (const k of keys) {
        const aligned = this.rangeMerge(right, k, mopts, meta);
        if (aligned) return aligned;
      }
    }
    const n = opts.npartitions ?? Math.max(this.npartitions, right.npartitions, 1);
    const keyTypes = Object.fromEntries(keys.map((k) => [k, widenType(this.schema[k]!, right.schema[k]!)])) as Record<string, ColumnType>;
    const ls = this.plans.map((p) => delayed(shuffleSplit)(p, keys, n, keyTypes));
    const rs = right.plans.map((p) => delayed(shuffleSplit)(p, keys, n, keyTypes));
    const plans: PartitionPlan[] = [];
    for (let j = 0; j < n; j++) {
      const left: PartitionPlan = { source: { kind: "shards", parts: ls.map((s) => delayed(pickBucket)(s, j)), schema: this.schema }, ops: [] };
      const r: PartitionPlan = { source: { kind: "shards", parts: rs.map((s) => delayed(pickBucket)(s, j)), schema: right.schema }, ops: [] };
      plans.push({ source: { kind: "merge", left, right: r, opts: mopts }, ops: [] });
    }
    return new DataFrame(plans, meta);
  }

  /**
   * Merge without a shuffle: each partition of the driving side (the left,
   * or for inner joins the side with more rows) meets the partitions of the
   * other side whose key ranges overlap its own, trimmed to its range (see
   * `ranges.ts`). The result has the driving side's partitions.
   */
  private rangeMerge(right: DataFrame, key: string, mopts: MergeOptions, meta: Schema): DataFrame | null {
    const nullsEqual = mopts.nullsEqual ?? true;
    const rows = (d: DataFrame): number => d.ranges?.reduce((a, p) => a + p.rows, 0) ?? 0;
    const rightDrives = mopts.how === "inner" && rows(right) > rows(this);
    const [drive, other] = rightDrives ? [right, this as DataFrame] : [this as DataFrame, right];
    const pairs = alignByRanges(drive.ranges, other.ranges, key, { nullsEqual });
    if (!pairs) return null;
    // Each partner is cut to the driving partition's key range where it lives, as a task of its
    // own that also runs the partner's operations (typically a projection): only the rows and
    // columns the join can use travel to another worker. A partner wholly inside the range is
    // used as it is (one task per partner, shared when two driving partitions need it whole).
    const otherRanges = other.ranges!;
    const partnerFor = (j: number, b: [number, number] | null, keep: Expr | null): PartitionPlan => {
      const p = other.plans[j]!;
      const r = otherRanges[j]?.columns[key];
      const inside = !keep || (b !== null && r !== undefined && r.min !== null && r.max !== null && r.min >= b[0] && r.max <= b[1]);
      const ops: Op[] = inside ? p.ops : [...p.ops, { op: "filter", pred: keep!.node }];
      return ops.length === 0 && p.source.kind === "ipc" ? p : { source: { kind: "ipc", data: delayed(materialize)({ source: p.source, ops }), schema: other.schema }, ops: [] };
    };
    const plans = drive.plans.map((p, i): PartitionPlan => {
      const b = pairs.bounds[i] ?? null;
      let keep: Expr | null = null;
      if (b && Number.isFinite(b[0])) keep = col(key).gte(b[0]);
      if (b && Number.isFinite(b[1])) keep = keep ? keep.and(col(key).lte(b[1])) : col(key).lte(b[1]);
      if (keep && nullsEqual) keep = keep.or(col(key).isNull());
      const partners = pairs.partners[i]!.map((j) => partnerFor(j, b, keep));
      const trimmed: PartitionPlan = partners.length === 0
        ? { source: { kind: "empty", schema: other.schema }, ops: [] }
        : { source: { kind: "union", parts: partners, schema: other.schema }, ops: [] };
      const [l, r] = rightDrives ? [trimmed, p] : [p, trimmed];
      return { source: { kind: "merge", left: l, right: r, opts: mopts }, ops: [] };
    });
    // the driving side's own columns keep their ranges (its rows, some repeated, some gone)
    const otherCols = new Set(other.columns.filter((c) => c !== key));
    const ranges = drive.ranges!.map((pr) => ({ rows: pr.rows, columns: Object.fromEntries(Object.entries(pr.columns).filter(([c]) => c in meta && !otherCols.has(c))) }));
    return new DataFrame(plans, meta, ranges);
  }

  /** Alias of {@link merge}. */
  join(right: DataFrame, opts: FrameMergeOptions): DataFrame { return this.merge(right, opts); }

  /**
   * Sort by columns (missing values last). With several partitions: range
   * partitioning on the first key from a sample of every partition, then a
   * local sort per output partition (`npartitions`, default the input's;
   * see `sort.ts`); partitions are in order, so `collect` gives the sorted
   * frame. `npartitions: 1` gathers everything on one worker.
   */
  sort(by: string | readonly string[], opts: { descending?: boolean | readonly boolean[]; npartitions?: number } = {}): DataFrame {
    const cols = typeof by === "string" ? [by] : [...by];
    this.need(cols, "sort");
    const desc = (i: number): boolean => (Array.isArray(opts.descending) ? Boolean(opts.descending[i]) : Boolean(opts.descending));
    const keys = cols.map((c, i) => ({ column: c, descending: desc(i) }));
    const n = opts.npartitions ?? this.npartitions;
    if (!Number.isInteger(n) || n < 1) throw new DataFrameArgumentError(`sort: options.npartitions must be a positive integer, got ${n}`);
    if (n === 1 || this.npartitions === 0) {
      const parts = materializeAll(this);
      return new DataFrame([{ source: { kind: "shards", parts, schema: this.schema }, ops: [{ op: "sort", keys }] }], this.schema);
    }
    const first = cols[0]!;
    const samples = this.plans.map((p) => delayed(sortSample)(p, first, SORT_SAMPLE_ROWS));
    const bounds = delayed(sortBoundaries)(samples, n);
    const splits = this.plans.map((p) => delayed(sortSplit)(p, first, bounds, desc(0), n));
    const plans: PartitionPlan[] = [];
    for (let j = 0; j < n; j++) {
      plans.push({ source: { kind: "shards", parts: splits.map((s) => delayed(pickBucket)(s, j)), schema: this.schema }, ops: [{ op: "sort", keys }] });
    }
    return new DataFrame(plans, this.schema);
  }

  // ---------------------------------------------------------------- actions

  /** Compute the whole frame and bring it to this process as a polars frame. */
  async collect(client?: Client): Promise<Frame> {
    const [f] = await compute([this], client);
    return f as Frame;
  }
  /** Alias of {@link collect}. */
  compute(client?: Client): Promise<Frame> { return this.collect(client); }

  /** The first `n` rows (reads partitions in order until it has them). */
  async head(n = 5, client?: Client): Promise<Frame> {
    const c = resolveClient(client);
    const got: Frame[] = [];
    let have = 0;
    for (const p of this.plans) {
      const [buf] = await c.compute(delayed(materialize)({ source: p.source, ops: [...p.ops, { op: "head", n: n - have }] }));
      const f = fromIpc(buf);
      got.push(f);
      have += f.height;
      if (have >= n) break;
    }
    const nonEmpty = got.filter((f) => f.height > 0);
    return nonEmpty.length > 0 ? concatFrames(nonEmpty).head(n) : emptyFrame(this.schema);
  }

  /**
   * Compute every partition and keep it in worker memory; the returned frame
   * reads from there. Lost partitions (a dead worker) are recomputed from
   * their lineage. Resolves when all partitions are in memory.
   */
  async persist(client?: Client): Promise<DataFrame> {
    const c = resolveClient(client);
    const futures: Future<Buffer>[] = c.persist(materializeAll(this));
    await wait(futures);
    const bad = futures.find((f) => f.status === "error");
    if (bad) await bad.result();
    const plans: PartitionPlan[] = futures.map((f) => ({ source: { kind: "ipc", data: f, schema: this.schema }, ops: [] }));
    // key ranges of the persisted partitions (a few milliseconds each; they let merges skip the shuffle)
    const ranges = (await c.compute(...plans.map((p) => delayed(partitionRanges)(p)))) as FrameRanges;
    return new DataFrame(plans, this.schema, ranges);
  }

  /** The partitions as Delayed Arrow IPC bytes (for custom graphs). */
  toDelayed(): Delayed<Buffer>[] { return this.plans.map((p) => delayed(materializeBytes)(p)); }

  /**
   * Write CSV: one object per partition (`path` with `*`, or a folder that gets
   * `part-NNNNN.csv` and then `_SUCCESS`), or one object (`singleFile`). Parts
   * are written under `_temporary/` and moved to their names only when every
   * partition is written: a failed write leaves no part and no `_SUCCESS`
   * (docs/dataframe.md, "Writing"). Returns the URLs written.
   */
  toCsv(path: string, opts: FrameWriteOptions = {}, client?: Client): Promise<string[]> { return this.write(path, "csv", opts, client); }
  /** Write JSON lines (see {@link toCsv} for paths). */
  toJsonLines(path: string, opts: FrameWriteOptions = {}, client?: Client): Promise<string[]> { return this.write(path, "jsonl", opts, client); }
  /** Write Parquet (see {@link toCsv} for paths). */
  toParquet(path: string, opts: FrameWriteOptions = {}, client?: Client): Promise<string[]> { return this.write(path, "parquet", opts, client); }

  private write(path: string, format: WriteFormat, opts: FrameWriteOptions, client?: Client): Promise<string[]> {
    return writeFrame(this.plans, path, format, opts, resolveClient(client));
  }

  toString(): string {
    return `DataFrame(npartitions=${this.npartitions}, columns=[${Object.entries(this.schema).map(([c, t]) => `${c}: ${t}`).join(", ")}])`;
  }
}

function minMaxValue(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return plain(v);
}

/** A frame gathered into one partition (the broadcast side of a join). */
function broadcastSide(df: DataFrame): PartitionPlan {
  const parts = materializeAll(df);
  const data = parts.length === 1 ? parts[0]! : delayed(concatIpc)(parts);
  return { source: { kind: "ipc", data, schema: df.schema }, ops: [] };
}

function groupMeta(schema: Schema, keys: string[], spec: AggSpec, opts: GroupByOptions): Schema {
  return schemaOf(groupByAgg(emptyFrame(schema), keys, spec, opts));
}
