/**
 * Worker side of Bag: partition sources, the fused per-item pipeline of
 * element-wise operations, and the per-partition actions. Everything here is
 * an exported function of Shoal's own module, so tasks name it as a builtin;
 * user callbacks arrive as {@link UserFn} references.
 *
 * A chain such as `readText(...).map(f).filter(g).pluck("x")` becomes one task
 * per partition that streams each line through `f`, `g` and the pluck without
 * building intermediate arrays.
 *
 * @module
 */
import { readBlock, type CompressionOption } from "../storage/blocks.ts";
import type { StorageOptions } from "../storage/types.ts";
import { write } from "../storage/ops.ts";
import { attemptUrl } from "../storage/commit.ts";
import { gzipSync } from "node:zlib";
import { BagTaskError } from "./errors.ts";
import { jsonLinesError, type JsonLineFailure } from "./json-lines.ts";
import { hashString, mix } from "./hash.ts";
import { resolveUser, type UserFn } from "./user-fn.ts";
import { preview } from "../utils/preview.ts";

/** Where a partition's items come from. */
export type Source =
  | { k: "seq"; items: unknown[]; offset: number; part: number }
  | { k: "text"; url: string; start: number; end: number; compression: CompressionOption; storage?: StorageOptions; part: number }
  /** The result of another task (a Delayed at graph-building time). */
  | { k: "dep"; data: unknown; part: number };

/** A path into an item for `pluck`: one property/index or a list of them. */
export type PluckKey = string | number | readonly (string | number)[];

/** One element-wise operation of a partition pipeline. */
export type Op =
  | { t: "map"; f: UserFn }
  | { t: "filter"; f: UserFn }
  | { t: "flatMap"; f: UserFn }
  | { t: "pluck"; key: PluckKey; hasDefault: boolean; dflt?: unknown }
  | { t: "json" }
  | { t: "sample"; fraction: number; seed: number }
  | { t: "mapPartitions"; f: UserFn };

/** Receives each item of a partition with its position id (see `sample`). */
export type Sink = (item: unknown, pos: number) => void;

const TWO32 = 4294967296;

function fnName(ref: UserFn): string {
  return ref.name || "anonymous";
}

function wrapUserError(err: unknown, op: string, ref: UserFn, part: number): BagTaskError {
  if (err instanceof BagTaskError) return err;
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new BagTaskError(`${op} function '${fnName(ref)}' failed on partition ${part}: ${msg}`, op, part, { cause: err });
}

function pluckOne(x: unknown, key: string | number, op: { hasDefault: boolean; dflt?: unknown }, part: number): unknown {
  if (x !== null && typeof x === "object") {
    if (x instanceof Map) {
      if (x.has(key)) return x.get(key);
    } else if (key in (x as object)) {
      return (x as Record<string | number, unknown>)[key];
    }
  }
  if (op.hasDefault) return op.dflt;
  throw new BagTaskError(`pluck: key ${JSON.stringify(key)} is missing from an item of partition ${part} (${preview(x)}); pass a default: pluck(key, default)`, "pluck", part);
}

/** Builds the per-item chain of `ops` (no mapPartitions among them) ending in `sink`. */
async function chain(ops: readonly Op[], sink: Sink, part: number): Promise<Sink> {
  let next = sink;
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    const after = next;
    switch (op.t) {
      case "map": {
        const f = await resolveUser<(x: unknown) => unknown>(op.f);
        next = (x, p) => {
          let y: unknown;
          try {
            y = f(x);
          } catch (err) {
            throw wrapUserError(err, "map", op.f, part);
          }
          after(y, p);
        };
        break;
      }
      case "filter": {
        const f = await resolveUser<(x: unknown) => unknown>(op.f);
        next = (x, p) => {
          let keep: unknown;
          try {
            keep = f(x);
          } catch (err) {
            throw wrapUserError(err, "filter", op.f, part);
          }
          if (keep) after(x, p);
        };
        break;
      }
      case "flatMap": {
        const f = await resolveUser<(x: unknown) => Iterable<unknown>>(op.f);
        next = (x, p) => {
          let ys: Iterable<unknown>;
          try {
            ys = f(x);
          } catch (err) {
            throw wrapUserError(err, "flatMap", op.f, part);
          }
          if (Array.isArray(ys)) {
            for (let j = 0; j < ys.length; j++) after(ys[j], mix(p, j));
          } else {
            let j = 0;
            for (const y of ys) after(y, mix(p, j++));
          }
        };
        break;
      }
      case "pluck": {
        const keys = op.key;
        if (Array.isArray(keys)) next = (x, p) => after(keys.map((k) => pluckOne(x, k, op, part)), p);
        else next = (x, p) => after(pluckOne(x, keys as string | number, op, part), p);
        break;
      }
      case "json":
        next = (x, p) => {
          if (!/\S/.test(x as string)) return;
          let y: unknown;
          try {
            y = JSON.parse(x as string);
          } catch (err) {
            throw new BagTaskError(`readJsonLines: invalid JSON in partition ${part}: ${(err as Error).message} in ${preview(x)}`, "json", part, { cause: err });
          }
          after(y, p);
        };
        break;
      case "sample": {
        const { fraction, seed } = op;
        next = (x, p) => {
          if (mix(seed, p) / TWO32 < fraction) after(x, p);
        };
        break;
      }
      case "mapPartitions":
        throw new Error("internal: mapPartitions inside a per-item chain");
    }
  }
  return next;
}

function needsPositions(ops: readonly Op[]): boolean {
  return ops.some((o) => o.t === "sample");
}

/**
 * Streams the items of a source into `sink`, with position ids when `withPos`.
 * `json`: the lines of a text source are parsed as JSON here, where each
 * line's place is known (blank lines skipped; see {@link emitLines}).
 */
async function emitSource(src: Source, sink: Sink, withPos: boolean, json = false): Promise<void> {
  switch (src.k) {
    case "seq": {
      const items = src.items;
      for (let i = 0; i < items.length; i++) sink(items[i], withPos ? mix(0x5eed, src.offset + i) : 0);
      return;
    }
    case "dep": {
      const items = src.data as unknown[];
      if (!Array.isArray(items)) throw new Error(`internal: partition ${src.part} input is not an array`);
      for (let i = 0; i < items.length; i++) sink(items[i], withPos ? mix(mix(0xd0d0, src.part), i) : 0);
      return;
    }
    case "text":
      return emitLines(src, sink, withPos, json);
  }
}

/** The bytes of a text split's lines and their offset in the file (the line begun in the previous block skipped); null when the split holds no line start. */
async function readLineBytes(src: Extract<Source, { k: "text" }>): Promise<{ buf: Buffer; base: number } | null> {
  let buf = await readBlock(src.url, src.start, src.end, { ...(src.storage ?? {}), delimiter: "\n", skipFirstPartialLine: false, compression: src.compression });
  let base = src.start;
  if (src.start > 0) {
    // Skip the line that began in the previous block (as readBlock would), keeping exact offsets.
    const d = buf.indexOf(10);
    if (d < 0 || d >= src.end - src.start) return null;
    buf = buf.subarray(d + 1);
    base += d + 1;
  }
  return { buf, base };
}

/**
 * The text of a split's lines, decoded from UTF-8 (the line begun in the
 * previous block skipped, the last line read to its end): what `readText`
 * would emit, joined by `\n` (line ends may still carry `\r`).
 *
 * @example
 * ```ts
 * const text = await readTextSplit({ k: "text", url: "a.txt", start: 0, end: 1 << 26, compression: "infer", part: 0 });
 * ```
 */
export async function readTextSplit(src: Extract<Source, { k: "text" }>): Promise<string> {
  const r = await readLineBytes(src);
  return r ? r.buf.toString("utf8") : "";
}

/**
 * The lines of a text split into `sink`. With `json`, each non-blank line
 * goes in parsed; a line that is not JSON stops the split with a
 * JsonLinesParseError naming file, line and column.
 */
async function emitLines(src: Extract<Source, { k: "text" }>, sink: Sink, withPos: boolean, json: boolean): Promise<void> {
  const r = await readLineBytes(src);
  if (!r) return;
  const { buf, base } = r;
  let failed: JsonLineFailure | null = null;
  let lineNo = 0;
  if (!withPos) {
    const text = buf.toString("utf8");
    let from = 0;
    const n = text.length;
    while (from < n) {
      let nl = text.indexOf("\n", from);
      if (nl < 0) nl = n;
      const end = nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      lineNo++;
      const line = text.slice(from, end);
      if (!json) sink(line, 0);
      else if (/\S/.test(line)) {
        let v: unknown;
        try { v = JSON.parse(line); } catch (err) {
          failed = { lineInBlock: lineNo, byteOffset: base + Buffer.byteLength(text.slice(0, from)), text: line, err };
          break;
        }
        sink(v, 0);
      }
      from = nl + 1;
    }
  } else {
    const urlHash = hashString(src.url);
    let from = 0;
    while (from < buf.length) {
      let nl = buf.indexOf(10, from);
      if (nl < 0) nl = buf.length;
      const end = nl > from && buf[nl - 1] === 13 ? nl - 1 : nl;
      const off = base + from;
      const pos = mix(mix(urlHash, Math.floor(off / TWO32)), off >>> 0);
      lineNo++;
      const line = buf.toString("utf8", from, end);
      if (!json) sink(line, pos);
      else if (/\S/.test(line)) {
        let v: unknown;
        try { v = JSON.parse(line); } catch (err) {
          failed = { lineInBlock: lineNo, byteOffset: off, text: line, err };
          break;
        }
        sink(v, pos);
      }
      from = nl + 1;
    }
  }
  if (failed) throw await jsonLinesError(src.url, base, src.storage, failed, src.part);
}

/**
 * Runs the pipeline of one partition, streaming its items into `sink`.
 * `mapPartitions` steps materialize the items before them.
 *
 * @example
 * ```ts
 * await runPipeline({ k: "seq", items: [1, 2], offset: 0, part: 0 }, [], (x) => out.push(x));
 * ```
 */
export async function runPipeline(src: Source, ops: readonly Op[], sink: Sink): Promise<void> {
  const withPos = needsPositions(ops);
  let current: Source = src;
  let rest = ops;
  for (;;) {
    // readJsonLines: the lines are parsed where they are split, which knows each line's place
    const json = current.k === "text" && rest[0]?.t === "json";
    if (json) rest = rest.slice(1);
    const cut = rest.findIndex((o) => o.t === "mapPartitions");
    if (cut < 0) {
      await emitSource(current, await chain(rest, sink, src.part), withPos, json);
      return;
    }
    const items: unknown[] = [];
    await emitSource(current, await chain(rest.slice(0, cut), (x) => items.push(x), src.part), withPos, json);
    const op = rest[cut] as Extract<Op, { t: "mapPartitions" }>;
    const f = await resolveUser<(xs: unknown[]) => Iterable<unknown> | Promise<Iterable<unknown>>>(op.f);
    let out: Iterable<unknown>;
    try {
      out = await f(items);
    } catch (err) {
      throw wrapUserError(err, "mapPartitions", op.f, src.part);
    }
    current = { k: "dep", data: Array.isArray(out) ? out : [...out], part: src.part };
    rest = rest.slice(cut + 1);
  }
}

/**
 * Task: the items of one partition, as an array.
 *
 * @example
 * ```ts
 * await bagPartition({ k: "seq", items: [1, 2], offset: 0, part: 0 }, []); // [1, 2]
 * ```
 */
export async function bagPartition(src: Source, ops: readonly Op[]): Promise<unknown[]> {
  if (ops.length === 0 && src.k === "seq") return src.items;
  const out: unknown[] = [];
  await runPipeline(src, ops, (x) => out.push(x));
  return out;
}

/** A per-partition aggregation, run where the partition is computed. */
export type Aggregation =
  | { k: "count" }
  | { k: "take"; n: number }
  | { k: "reduce"; f: UserFn }
  | { k: "fold"; f: UserFn; initial: unknown }
  | { k: "topk"; n: number; key?: UserFn; largest: boolean }
  | { k: "sum" }
  | { k: "minmax"; max: boolean }
  | { k: "write"; url: string; format: "text" | "json"; job: string; storage?: StorageOptions };

/** Result of a `reduce`-like aggregation of one partition; `empty` when it had no items. */
export interface PartResult {
  empty: boolean;
  value: unknown;
}

/**
 * Task: aggregates one partition without materializing it (count, reduce,
 * fold, top-k, sum, min/max, take, write).
 *
 * @example
 * ```ts
 * await bagAggregate(src, ops, { k: "count" }); // { empty: false, value: 42 }
 * ```
 */
export async function bagAggregate(src: Source, ops: readonly Op[], agg: Aggregation): Promise<PartResult> {
  switch (agg.k) {
    case "count": {
      let n = 0;
      await runPipeline(src, ops, () => void n++);
      return { empty: n === 0, value: n };
    }
    case "take": {
      const out: unknown[] = [];
      try {
        await runPipeline(src, ops, (x) => {
          out.push(x);
          if (out.length >= agg.n) throw STOP;
        });
      } catch (err) {
        if (err !== STOP) throw err;
      }
      return { empty: out.length === 0, value: out };
    }
    case "reduce":
    case "fold": {
      const f = await resolveUser<(a: unknown, b: unknown) => unknown>(agg.f);
      let empty = true;
      let acc: unknown = agg.k === "fold" ? agg.initial : undefined;
      await runPipeline(src, ops, (x) => {
        if (empty && agg.k === "reduce") acc = x;
        else {
          try {
            acc = f(acc, x);
          } catch (err) {
            throw wrapUserError(err, agg.k, agg.f, src.part);
          }
        }
        empty = false;
      });
      return { empty: empty && agg.k === "reduce", value: acc };
    }
    case "sum": {
      let s = 0;
      let n = 0;
      await runPipeline(src, ops, (x) => {
        s += x as number;
        n++;
      });
      return { empty: n === 0, value: [s, n] };
    }
    case "minmax": {
      let best: unknown;
      let empty = true;
      await runPipeline(src, ops, (x) => {
        if (empty || (agg.max ? (x as number) > (best as number) : (x as number) < (best as number))) best = x;
        empty = false;
      });
      return { empty, value: best };
    }
    case "topk":
      return { empty: false, value: await topk(src, ops, agg) };
    case "write":
      return { empty: false, value: await writePartition(src, ops, agg) };
  }
}

const STOP = Symbol("stop");

async function topk(src: Source, ops: readonly Op[], agg: Extract<Aggregation, { k: "topk" }>): Promise<unknown[]> {
  const keyFn = agg.key ? await resolveUser<(x: unknown) => unknown>(agg.key) : null;
  const items: [unknown, unknown][] = [];
  const sign = agg.largest ? -1 : 1;
  const cmp = (a: [unknown, unknown], b: [unknown, unknown]): number => sign * compareValues(a[0], b[0]);
  await runPipeline(src, ops, (x) => {
    items.push([keyFn ? keyFn(x) : x, x]);
    if (items.length >= agg.n * 4 + 1024) {
      items.sort(cmp);
      items.length = agg.n;
    }
  });
  items.sort(cmp);
  return items.slice(0, agg.n).map((e) => e[1]);
}

/**
 * Orders values the way `topk` does: numbers numerically, strings by code
 * point, arrays element by element, mixed types by type name.
 *
 * @example
 * ```ts
 * compareValues([2, "a"], [10, "a"]); // < 0
 * ```
 */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  const ta = a === null ? "null" : typeof a;
  const tb = b === null ? "null" : typeof b;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Writes the partition as a fresh attempt under `_temporary/<job>/`; the client moves `temp` to `url` at commit (storage/commit.ts). */
async function writePartition(src: Source, ops: readonly Op[], agg: Extract<Aggregation, { k: "write" }>): Promise<{ url: string; temp: string; count: number }> {
  const parts: string[] = [];
  let count = 0;
  await runPipeline(src, ops, (x) => {
    count++;
    parts.push(agg.format === "json" ? JSON.stringify(x) : String(x));
  });
  const text = parts.length > 0 ? parts.join("\n") + "\n" : "";
  const data = /\.gz$/i.test(agg.url) ? gzipSync(Buffer.from(text)) : text;
  const temp = attemptUrl(agg.url, agg.job);
  await write(temp, data, agg.storage ?? {});
  return { url: agg.url, temp, count };
}
