/**
 * Bag: a lazy, partitioned collection of JavaScript values (dask.bag, Spark
 * RDDs). Transformations build a plan; actions (`collect`, `count`, `take`,
 * `topk`, `reduce`, `fold`, `toTextFiles`...) compute it on a client (the one
 * given, else the last connected one) or, with no client, in this process.
 *
 * Functions given to transformations follow the engine's rules: an exported
 * function of a module, or a self-contained inline function; a closure is
 * refused at the call with an error that says how to fix it.
 *
 * @example
 * ```ts
 * import { Client, readText } from "shoal";
 * const client = await Client.connect();
 * const top = await readText("books/*.txt")
 *   .flatMap((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
 *   .frequencies()
 *   .topk(10, (kv) => kv[1]);
 * await client.close();
 * ```
 *
 * @module
 */
import { delayed, type Delayed } from "../graph/delayed.ts";
import { splitBlocks, type CompressionOption } from "../storage/blocks.ts";
import { newOutputJob, writeCommitted, type OutputPlan } from "../storage/commit.ts";
import type { StorageOptions } from "../storage/types.ts";
import { BagArgumentError } from "./errors.ts";
import { computeAll, type ComputeOptions } from "./execute.ts";
import { hashKey } from "./hash.ts";
import { bagAggregate, bagPartition, compareValues, type Aggregation, type Op, type PartResult, type PluckKey, type Source } from "./partition.ts";
import { bagJoin, bagMerge, bagSplit, concatParts, pickShard, slicePart, type KeySpec, type ShuffleSpec } from "./shuffle.ts";
import { shipUser } from "./user-fn.ts";

/** Options of shuffling operations. */
export interface ShuffleOptions {
  /** Output partitions (default: as many as the input has). */
  npartitions?: number;
}

/** Options of {@link Bag.fromSequence}. */
export interface FromSequenceOptions {
  /** Number of partitions (default: up to 100, about equal). */
  npartitions?: number;
  /** Items per partition (instead of `npartitions`). */
  partitionSize?: number;
}

/** Options of {@link readText} and {@link readJsonLines}. */
export interface ReadTextOptions {
  /** Bytes per partition (default 64 MiB); `null` for one partition per file. Compressed files are never split. */
  blocksize?: number | null;
  /** Compression; default `"infer"` from the extension (`.gz`). */
  compression?: CompressionOption;
  /** Storage options (S3 endpoint, HTTP headers) for the URLs. */
  storage?: Omit<StorageOptions, "signal">;
}

/** Options of {@link Bag.toTextFiles} and {@link Bag.toJsonLines}. */
export interface WriteOptions extends ComputeOptions {
  /** Storage options for the output URLs. */
  storage?: Omit<StorageOptions, "signal">;
}

type Lazy<T> = () => Promise<T>;

function once<T>(f: () => Promise<T>): Lazy<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= f());
}

function checkCount(name: string, n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new BagArgumentError(`${name} must be a positive integer, got ${n}`);
}

const partitionTask = (code: readonly string[]) => delayed(bagPartition, { name: "bag-partition", code });
const aggregateTask = (code: readonly string[]) => delayed(bagAggregate, { name: "bag-aggregate", code });

/** A lazy partitioned collection; see the module overview. */
export class Bag<T = unknown> {
  /** Phantom field carrying the item type. */
  declare readonly __item?: T;

  /** @internal use {@link Bag.fromSequence}, {@link readText}, {@link readJsonLines}. */
  constructor(
    private readonly sources: Lazy<Source[]>,
    private readonly ops: readonly Op[] = [],
    private readonly code: readonly string[] = [],
  ) {}

  /**
   * A Bag of the given items, split into partitions.
   *
   * @example
   * ```ts
   * const b = Bag.fromSequence([1, 2, 3, 4], { npartitions: 2 });
   * ```
   */
  static fromSequence<T>(items: Iterable<T>, opts: FromSequenceOptions = {}): Bag<T> {
    checkCount("options.npartitions", opts.npartitions);
    checkCount("options.partitionSize", opts.partitionSize);
    const all = [...items];
    const size = opts.partitionSize ?? Math.max(1, Math.ceil(all.length / (opts.npartitions ?? Math.min(100, Math.max(1, all.length)))));
    const sources: Source[] = [];
    for (let off = 0, part = 0; off < all.length || part === 0; off += size, part++) {
      sources.push({ k: "seq", items: all.slice(off, off + size), offset: off, part });
      if (all.length === 0) break;
    }
    return new Bag<T>(async () => sources);
  }

  /**
   * A Bag whose partitions are the results of Delayed values (each an array).
   *
   * @example
   * ```ts
   * const b = Bag.fromDelayed([delayed(load)("a"), delayed(load)("b")]);
   * ```
   */
  static fromDelayed<T>(parts: readonly Delayed<T[]>[]): Bag<T> {
    const sources: Source[] = parts.map((d, part) => ({ k: "dep", data: d, part }));
    return new Bag<T>(async () => sources);
  }

  /** @internal appends an element-wise operation. */
  _with<U>(op: Op, code: readonly string[] = []): Bag<U> {
    const merged = code.length === 0 ? this.code : [...new Set([...this.code, ...code])];
    return new Bag<U>(this.sources, [...this.ops, op], merged);
  }

  private withFn<U>(t: "map" | "filter" | "flatMap" | "mapPartitions", fn: (...a: never[]) => unknown): Bag<U> {
    const s = shipUser(fn);
    return this._with<U>({ t, f: s.ref }, s.code);
  }

  // ------------------------------------------------------------ element-wise

  /** Applies `fn` to every item. @example `bag.map((x) => x * 2)` */
  map<U>(fn: (item: T) => U): Bag<U> {
    return this.withFn<U>("map", fn);
  }

  /** Keeps the items for which `fn` is truthy. @example `bag.filter((x) => x % 2 === 0)` */
  filter(fn: (item: T) => unknown): Bag<T> {
    return this.withFn<T>("filter", fn);
  }

  /** Maps every item to zero or more items. @example `lines.flatMap((l) => l.split(" "))` */
  flatMap<U>(fn: (item: T) => Iterable<U>): Bag<U> {
    return this.withFn<U>("flatMap", fn);
  }

  /**
   * Selects a property (or index) of every item; with a list, a tuple of them.
   * Missing keys throw unless a default is given.
   *
   * @example
   * ```ts
   * reviews.pluck("reviewText", "");
   * ```
   */
  pluck<K extends keyof T>(key: K, ...dflt: [] | [T[K]]): Bag<T[K]>;
  pluck<U = unknown>(key: PluckKey, ...dflt: [] | [unknown]): Bag<U>;
  pluck(key: PluckKey, ...dflt: [] | [unknown]): Bag<unknown> {
    return this._with({ t: "pluck", key: Array.isArray(key) ? [...key] : key, hasDefault: dflt.length > 0, ...(dflt.length > 0 ? { dflt: dflt[0] } : {}) });
  }

  /** Applies `fn` to the whole array of each partition (may be async). @example `bag.mapPartitions((xs) => [xs.length])` */
  mapPartitions<U>(fn: (items: T[]) => Iterable<U> | Promise<Iterable<U>>): Bag<U> {
    return this.withFn<U>("mapPartitions", fn);
  }

  /**
   * A reproducible Bernoulli sample: each item is kept with probability
   * `fraction`, decided by a hash of `seed` and the item's position in its
   * source (file and byte offset for `readText`, index for `fromSequence`,
   * and the index within a flatMap's output), so the same seed gives the
   * same sample whatever the blocksize, partitioning or number of workers.
   * After a shuffle or `mapPartitions` positions are per partition.
   *
   * @example
   * ```ts
   * readJsonLines("reviews.json").sample(0.1, { seed: 42 });
   * ```
   */
  sample(fraction: number, opts: { seed?: number } = {}): Bag<T> {
    if (!(fraction >= 0 && fraction <= 1)) throw new BagArgumentError(`fraction must be between 0 and 1, got ${fraction}`);
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (!Number.isInteger(seed)) throw new BagArgumentError(`options.seed must be an integer, got ${seed}`);
    return this._with({ t: "sample", fraction, seed: seed >>> 0 });
  }

  // ------------------------------------------------------------ partitions

  /** The number of partitions. @example `await bag.npartitions()` */
  async npartitions(): Promise<number> {
    return (await this.sources()).length;
  }

  /** One Delayed per partition (its items as an array). @example `const parts = await bag.toDelayed()` */
  async toDelayed(): Promise<Delayed<T[]>[]> {
    const srcs = await this.sources();
    return srcs.map((s) => (this.ops.length === 0 && s.k === "dep" ? (s.data as Delayed<T[]>) : (partitionTask(this.code)(s, this.ops) as Delayed<T[]>)));
  }

  /**
   * Changes the number of partitions without a shuffle: neighbouring
   * partitions are concatenated, or each split into nearly equal pieces.
   *
   * @example
   * ```ts
   * bag.repartition(4);
   * ```
   */
  repartition(npartitions: number): Bag<T> {
    checkCount("npartitions", npartitions);
    return new Bag<T>(
      once(async () => {
        const parts = await this.toDelayed();
        const m = parts.length;
        const n = npartitions;
        const out: Source[] = [];
        if (n <= m) {
          for (let j = 0; j < n; j++) {
            const group = parts.slice(Math.floor((j * m) / n), Math.floor(((j + 1) * m) / n));
            out.push({ k: "dep", data: group.length === 1 ? group[0] : delayed(concatParts, { name: "bag-concat" })(group as Delayed<unknown[]>[]), part: j });
          }
        } else {
          for (let i = 0; i < m; i++) {
            const pieces = Math.floor(((i + 1) * n) / m) - Math.floor((i * n) / m);
            for (let p = 0; p < pieces; p++) out.push({ k: "dep", data: delayed(slicePart, { name: "bag-slice" })(parts[i]! as Delayed<unknown[]>, p, pieces), part: out.length });
          }
        }
        return out;
      }),
    );
  }

  // ------------------------------------------------------------ shuffles

  private shuffle<U>(spec: ShuffleSpec, code: readonly string[], opts: ShuffleOptions): Bag<U> {
    checkCount("options.npartitions", opts.npartitions);
    const allCode = [...new Set([...this.code, ...code])];
    return new Bag<U>(
      once(async () => {
        const srcs = await this.sources();
        const n = opts.npartitions ?? srcs.length;
        const splits = srcs.map((s) => delayed(bagSplit, { name: "bag-split", code: allCode })(s, this.ops, spec, n));
        const out: Source[] = [];
        for (let j = 0; j < n; j++) {
          const shards = splits.map((sp) => delayed(pickShard, { name: "bag-shard" })(sp, j));
          out.push({ k: "dep", data: delayed(bagMerge, { name: "bag-merge", code }) (shards, spec), part: j });
        }
        return out;
      }),
    );
  }

  private keySpec(key: ((item: T) => unknown) | string | number | undefined): { spec: KeySpec; code: string[] } {
    if (key === undefined) return { spec: { k: "self" }, code: [] };
    if (typeof key === "string" || typeof key === "number") return { spec: { k: "prop", name: key }, code: [] };
    const s = shipUser(key);
    return { spec: { k: "fn", f: s.ref }, code: s.code };
  }

  /**
   * Groups items by `key` (a function or a property name): `[key, items[]]`.
   *
   * @example
   * ```ts
   * people.groupBy((p) => p.city);
   * ```
   */
  groupBy<K>(key: ((item: T) => K) | string | number, opts: ShuffleOptions = {}): Bag<[K, T[]]> {
    const k = this.keySpec(key);
    return this.shuffle({ k: "group", key: k.spec }, k.code, opts);
  }

  /** On a Bag of `[key, value]` pairs: `[key, values[]]` (Spark's groupByKey). @example `pairs.groupByKey()` */
  groupByKey<K, V>(this: Bag<readonly [K, V]>, opts: ShuffleOptions = {}): Bag<[K, V[]]> {
    return (this as Bag<unknown>).shuffle({ k: "group", key: { k: "pair" } }, [], opts);
  }

  /**
   * On a Bag of `[key, value]` pairs: values of each key combined with
   * `binop` (map-side first, then across partitions), as in Spark.
   *
   * @example
   * ```ts
   * words.map((w) => [w, 1] as [string, number]).reduceByKey((a, b) => a + b);
   * ```
   */
  reduceByKey<K, V>(this: Bag<readonly [K, V]>, binop: (a: V, b: V) => V, opts: ShuffleOptions = {}): Bag<[K, V]> {
    const s = shipUser(binop);
    return (this as Bag<unknown>).shuffle({ k: "fold", key: { k: "pair" }, binop: s.ref, hasInitial: false, combine: s.ref, hasCombineInitial: false }, s.code, opts);
  }

  /**
   * Folds the items of each key (dask's foldby): per partition
   * `acc = binop(acc, item)` from `initial`, then accumulators of a key are
   * merged with `combine` (default `binop`) from `combineInitial`.
   *
   * @example
   * ```ts
   * sales.foldBy("region", (acc, s) => acc + s.amount, { initial: 0, combine: (a, b) => a + b });
   * ```
   */
  foldBy<K, A>(
    key: ((item: T) => K) | string | number,
    binop: (acc: A, item: T) => A,
    opts: ShuffleOptions & { initial?: A; combine?: (a: A, b: A) => A; combineInitial?: A } = {},
  ): Bag<[K, A]> {
    const k = this.keySpec(key);
    const b = shipUser(binop);
    const c = opts.combine ? shipUser(opts.combine) : b;
    const spec: ShuffleSpec = {
      k: "fold",
      key: k.spec,
      binop: b.ref,
      hasInitial: "initial" in opts,
      initial: opts.initial,
      combine: c.ref,
      hasCombineInitial: "combineInitial" in opts,
      combineInitial: opts.combineInitial,
    };
    return this.shuffle(spec, [...k.code, ...b.code, ...c.code], opts);
  }

  /** `[item, count]` for every distinct item (counted map-side first). @example `words.frequencies()` */
  frequencies(opts: ShuffleOptions = {}): Bag<[T, number]> {
    return this.shuffle({ k: "count", key: { k: "self" } }, [], opts);
  }

  /** The distinct items (or the first item of each distinct `key`). @example `bag.distinct()` */
  distinct(key?: (item: T) => unknown, opts: ShuffleOptions = {}): Bag<T> {
    const k = this.keySpec(key);
    return this.shuffle({ k: "distinct", key: k.spec }, k.code, opts);
  }

  /**
   * Inner join of two Bags of `[key, value]` pairs: `[key, [left, right]]`.
   *
   * @example
   * ```ts
   * users.join(orders); // [[id, [user, order]], ...]
   * ```
   */
  join<K, V, W>(this: Bag<readonly [K, V]>, other: Bag<readonly [K, W]>, opts: ShuffleOptions = {}): Bag<[K, [V, W]]> {
    checkCount("options.npartitions", opts.npartitions);
    const left = this as unknown as Bag<unknown>;
    const right = other as unknown as Bag<unknown>;
    const spec: ShuffleSpec = { k: "join", key: { k: "pair" } };
    return new Bag(
      once(async () => {
        const [ls, rs] = await Promise.all([left.sources(), right.sources()]);
        const n = opts.npartitions ?? Math.max(ls.length, rs.length);
        const split = (b: Bag<unknown>, srcs: Source[]) => srcs.map((s) => delayed(bagSplit, { name: "bag-split", code: b.code })(s, b.ops, spec, n));
        const lsp = split(left, ls);
        const rsp = split(right, rs);
        const out: Source[] = [];
        for (let j = 0; j < n; j++) {
          const pick = (sp: Delayed<unknown>[]) => sp.map((d) => delayed(pickShard, { name: "bag-shard" })(d as never, j));
          out.push({ k: "dep", data: delayed(bagJoin, { name: "bag-join" })(pick(lsp), pick(rsp)), part: j });
        }
        return out;
      }),
    );
  }

  // ------------------------------------------------------------ actions

  private async aggregate(agg: Aggregation, code: readonly string[], opts: ComputeOptions): Promise<PartResult[]> {
    const srcs = await this.sources();
    const all = [...new Set([...this.code, ...code])];
    const tasks = srcs.map((s) => aggregateTask(all)(s, this.ops, agg));
    return computeAll<PartResult>(tasks, opts.client);
  }

  /** All items, in partition order. @example `await bag.collect()` */
  async collect(opts: ComputeOptions = {}): Promise<T[]> {
    const parts = await computeAll<T[]>(await this.toDelayed(), opts.client);
    return parts.length === 1 ? parts[0]! : parts.flat();
  }

  /** Same as {@link Bag.collect}. @example `await bag.compute()` */
  compute(opts: ComputeOptions = {}): Promise<T[]> {
    return this.collect(opts);
  }

  /** The number of items. @example `await bag.count()` */
  async count(opts: ComputeOptions = {}): Promise<number> {
    const parts = await this.aggregate({ k: "count" }, [], opts);
    return parts.reduce((a, p) => a + (p.value as number), 0);
  }

  /**
   * The first `n` items, computing as few partitions as possible (1, then 2, 4, ...).
   *
   * @example
   * ```ts
   * await readText("big.txt").take(5);
   * ```
   */
  async take(n: number, opts: ComputeOptions = {}): Promise<T[]> {
    if (!Number.isInteger(n) || n < 0) throw new BagArgumentError(`n must be a non-negative integer, got ${n}`);
    if (n === 0) return [];
    const srcs = await this.sources();
    const out: T[] = [];
    let i = 0;
    let batch = 1;
    while (i < srcs.length && out.length < n) {
      const chunk = srcs.slice(i, i + batch);
      const res = await computeAll<PartResult>(chunk.map((s) => aggregateTask(this.code)(s, this.ops, { k: "take", n })), opts.client);
      for (const r of res) out.push(...(r.value as T[]));
      i += batch;
      batch *= 2;
    }
    return out.slice(0, n);
  }

  /**
   * The `k` largest items (by `key`, default the items themselves), largest first.
   *
   * @example
   * ```ts
   * await counts.topk(10, (kv) => kv[1]);
   * ```
   */
  async topk(k: number, key?: (item: T) => unknown, opts: ComputeOptions & { smallest?: boolean } = {}): Promise<T[]> {
    if (!Number.isInteger(k) || k < 0) throw new BagArgumentError(`k must be a non-negative integer, got ${k}`);
    const s = key ? shipUser(key) : null;
    const largest = opts.smallest !== true;
    const parts = await this.aggregate({ k: "topk", n: k, largest, ...(s ? { key: s.ref } : {}) }, s?.code ?? [], opts);
    const items = parts.flatMap((p) => p.value as T[]).map((x) => [key ? key(x) : x, x] as const);
    items.sort((a, b) => (largest ? -1 : 1) * compareValues(a[0], b[0]));
    return items.slice(0, k).map((e) => e[1]);
  }

  /**
   * Combines all items with `binop` (per partition, then across partitions).
   * Throws on an empty Bag.
   *
   * @example
   * ```ts
   * await nums.reduce((a, b) => a + b);
   * ```
   */
  async reduce(binop: (a: T, b: T) => T, opts: ComputeOptions = {}): Promise<T> {
    const s = shipUser(binop);
    const parts = (await this.aggregate({ k: "reduce", f: s.ref }, s.code, opts)).filter((p) => !p.empty);
    if (parts.length === 0) throw new BagArgumentError("reduce of an empty Bag with no initial value; use fold(binop, initial)");
    return parts.map((p) => p.value as T).reduce((a, b) => binop(a, b));
  }

  /**
   * Folds all items from `initial` with `binop` per partition, then merges the
   * partition results with `combine` (default `binop`).
   *
   * @example
   * ```ts
   * await words.fold((n, w) => n + w.length, 0, (a, b) => a + b);
   * ```
   */
  async fold<A>(binop: (acc: A, item: T) => A, initial: A, combine?: (a: A, b: A) => A, opts: ComputeOptions = {}): Promise<A> {
    const s = shipUser(binop);
    const parts = await this.aggregate({ k: "fold", f: s.ref, initial }, s.code, opts);
    const c = combine ?? (binop as unknown as (a: A, b: A) => A);
    return parts.map((p) => p.value as A).reduce((a, b) => c(a, b));
  }

  /** Sum of numeric items. @example `await nums.sum()` */
  async sum(opts: ComputeOptions = {}): Promise<number> {
    const parts = await this.aggregate({ k: "sum" }, [], opts);
    return parts.reduce((a, p) => a + (p.value as [number, number])[0], 0);
  }

  /** Mean of numeric items (NaN when empty). @example `await nums.mean()` */
  async mean(opts: ComputeOptions = {}): Promise<number> {
    const parts = await this.aggregate({ k: "sum" }, [], opts);
    const [s, n] = parts.reduce(([a, b], p) => [a + (p.value as number[])[0]!, b + (p.value as number[])[1]!], [0, 0]);
    return s / n;
  }

  /** Largest item (numbers or strings). @example `await nums.max()` */
  async max(opts: ComputeOptions = {}): Promise<T> {
    return this.extreme(true, opts);
  }

  /** Smallest item (numbers or strings). @example `await nums.min()` */
  async min(opts: ComputeOptions = {}): Promise<T> {
    return this.extreme(false, opts);
  }

  private async extreme(max: boolean, opts: ComputeOptions): Promise<T> {
    const parts = (await this.aggregate({ k: "minmax", max }, [], opts)).filter((p) => !p.empty);
    if (parts.length === 0) throw new BagArgumentError(`${max ? "max" : "min"} of an empty Bag`);
    return parts.map((p) => p.value as T).reduce((a, b) => ((max ? (b as number) > (a as number) : (b as number) < (a as number)) ? b : a));
  }

  /**
   * Writes one text file per partition (each item as `String(item)` plus a
   * newline). `path` is a directory (files `part-00000`..., then `_SUCCESS`)
   * or a pattern with `*` (replaced by the zero-padded partition number); a
   * `.gz` name is gzipped. Parts are written under `_temporary/` and moved to
   * their names only when every partition is written: a failed write leaves
   * no part and no `_SUCCESS` (docs/bag.md, "Writing"). Returns the URLs written.
   *
   * @example
   * ```ts
   * await lines.toTextFiles("out/*.txt.gz");
   * ```
   */
  async toTextFiles(path: string, opts: WriteOptions = {}): Promise<string[]> {
    return this.writeFiles(path, "text", opts);
  }

  /** Writes one JSON-lines file per partition; see {@link Bag.toTextFiles}. @example `await records.toJsonLines("out/")` */
  async toJsonLines(path: string, opts: WriteOptions = {}): Promise<string[]> {
    return this.writeFiles(path, "json", opts);
  }

  private async writeFiles(path: string, format: "text" | "json", opts: WriteOptions): Promise<string[]> {
    const srcs = await this.sources();
    const pattern = path.includes("*");
    const dir = `${path.replace(/\/+$/, "")}/`;
    const finals = srcs.map((_, i) => {
      const id = String(i).padStart(5, "0");
      return pattern ? path.replace("*", id) : `${dir}part-${id}`;
    });
    const plan: OutputPlan = { job: newOutputJob(), finals, marker: pattern ? null : dir, stale: /^part-\d+$/ };
    const storage = opts.storage ? { storage: opts.storage } : {};
    const tasks = srcs.map((s, i) => aggregateTask(this.code)(s, this.ops, { k: "write", url: finals[i]!, format, job: plan.job, ...storage }));
    await writeCommitted(plan, async () => {
      const res = await computeAll<PartResult>(tasks, opts.client);
      return res.map((r) => (r.value as { temp: string }).temp);
    }, storage);
    return finals;
  }

  /**
   * A DataFrame of the items (plain objects as rows), with as many partitions
   * as this Bag. The rows are gathered through this process, so this suits
   * results of moderate size (for big data read the files with the DataFrame
   * readers instead).
   *
   * @example
   * ```ts
   * const df = await records.toDataFrame();
   * ```
   */
  async toDataFrame(opts: ComputeOptions = {}): Promise<import("../dataframe/frame.ts").DataFrame> {
    const [rows, n] = await Promise.all([this.collect(opts), this.npartitions()]);
    const { fromRecords } = await import("../dataframe/frame-read.ts");
    return fromRecords(rows as Record<string, unknown>[], { npartitions: Math.max(1, Math.min(n, rows.length)) });
  }

  /** Same as the module function {@link readText}. @example `Bag.readText("logs/*.txt")` */
  static readText(paths: string | readonly string[], opts: ReadTextOptions = {}): Bag<string> {
    return readText(paths, opts);
  }

  /** Same as the module function {@link readJsonLines}. @example `Bag.readJsonLines("reviews.json.gz")` */
  static readJsonLines<T = unknown>(paths: string | readonly string[], opts: ReadTextOptions = {}): Bag<T> {
    return readJsonLines<T>(paths, opts);
  }
}

/**
 * A Bag of the lines of text files (a URL, glob, directory or list; local,
 * `s3://`, `http(s)://`, `memory://`), without their line terminators.
 * Files are split into blocks of `blocksize` bytes aligned to lines; `.gz`
 * files are decompressed, one partition each.
 *
 * @example
 * ```ts
 * const lines = readText("logs/*.txt.gz");
 * ```
 */
export function readText(paths: string | readonly string[], opts: ReadTextOptions = {}): Bag<string> {
  const blocksize = opts.blocksize === undefined ? 64 * 1024 * 1024 : opts.blocksize;
  if (blocksize !== null) checkCount("options.blocksize", blocksize);
  return new Bag<string>(
    once(async () => {
      const storage = opts.storage ?? {};
      const blocks = await splitBlocks(paths, blocksize ?? Number.MAX_SAFE_INTEGER, { ...storage, ...(opts.compression !== undefined ? { compression: opts.compression } : {}) });
      return blocks.map((b, part) => ({ k: "text" as const, url: b.url, start: b.start, end: b.end, compression: b.compression, ...(opts.storage ? { storage: opts.storage } : {}), part }));
    }),
  );
}

/**
 * A Bag of the JSON values of JSON-lines files (one value per non-empty line).
 *
 * @example
 * ```ts
 * const texts = readJsonLines("reviews.json.gz").pluck("reviewText");
 * ```
 */
export function readJsonLines<T = unknown>(paths: string | readonly string[], opts: ReadTextOptions = {}): Bag<T> {
  return readText(paths, opts)._with<T>({ t: "json" });
}

/** Distributes a key over `n` partitions the way Bag shuffles do. @example `partitionOf("word", 8)` */
export function partitionOf(key: unknown, n: number): number {
  return hashKey(key) % n;
}
