/**
 * Micro-batches of a stream into the engine: {@link streamToBag} groups the
 * records of {@link read} into tumbling windows of arrival time (the
 * server's ApproximateArrivalTimestamp) and yields one {@link Bag} per
 * window, so any Bag pipeline (`frequencies`, `foldby`, …) runs per window on
 * the in-process engine or a cluster. A window is emitted once the local
 * clock is `lateness` past its end (default: one window length), or at the
 * end of the stream with `untilCaughtUp`. Because windows are assigned by
 * the record's arrival time, not by when a batch happened to be read, the
 * per-window results equal the same aggregation over the whole recorded
 * stream afterwards.
 */
import { Bag } from "../bag/index.ts";
import { type ReadOptions, type StreamRecord, read } from "./consumer.ts";

/** One window of records. */
export interface Window {
  /** Window start and end (ms since the epoch, end exclusive). */
  start: number;
  end: number;
  records: StreamRecord[];
  /** The window's records as a Bag. */
  bag: Bag<StreamRecord>;
}

/** Options of {@link streamToBag}. */
export interface StreamToBagOptions extends ReadOptions {
  /** Window length: ms, or "500ms" / "1s" / "1m" (default 1 s). */
  every?: number | string;
  /** How long after a window's end to wait for its stragglers (default: one window). */
  lateness?: number;
  /** Partitions of each window's Bag (default 1). */
  npartitions?: number;
}

/** Parses "250ms", "1s", "2m" or a number of ms. */
export function parseDuration(v: number | string): number {
  if (typeof v === "number") return v;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new TypeError(`options.every must be a duration such as "1s" or "250ms" (got ${JSON.stringify(v)})`);
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3600_000 } as const)[(m[2] ?? "ms") as "ms" | "s" | "m" | "h"];
}

/**
 * Tumbling windows of a stream as Bags.
 *
 * @example
 * for await (const w of streamToBag(url, { stream: "text", every: "1s" })) {
 *   const counts = await w.bag.flatMap((r) => r.data.toString().match(/\w+/g) ?? []).frequencies().compute();
 *   console.log(new Date(w.start).toISOString(), counts);
 * }
 */
export async function* streamToBag(url: string, opts: StreamToBagOptions = {}): AsyncGenerator<Window, void, undefined> {
  const every = parseDuration(opts.every ?? 1000);
  if (!(every > 0)) throw new TypeError("options.every must be positive");
  const lateness = opts.lateness ?? every;
  const open = new Map<number, StreamRecord[]>();
  const make = (start: number): Window => {
    const records = (open.get(start) ?? []).sort((a, b) => a.arrival.getTime() - b.arrival.getTime() || (a.sequenceNumber < b.sequenceNumber ? -1 : 1));
    open.delete(start);
    return { start, end: start + every, records, bag: Bag.fromSequence(records, { npartitions: opts.npartitions ?? 1 }) };
  };
  const ready = function* (now: number): Generator<Window> {
    for (const start of [...open.keys()].sort((a, b) => a - b)) if (start + every + lateness <= now) yield make(start);
  };
  for await (const batch of read(url, { ...opts, pollMs: Math.min(opts.pollMs ?? 200, every) })) {
    for (const r of batch.records) {
      const start = Math.floor(r.arrival.getTime() / every) * every;
      let list = open.get(start);
      if (list === undefined) open.set(start, (list = []));
      list.push(r);
    }
    yield* ready(Date.now());
  }
  for (const start of [...open.keys()].sort((a, b) => a - b)) yield make(start);
}
