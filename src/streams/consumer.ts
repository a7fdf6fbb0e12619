/**
 * The consumer API: `for await (const batch of read(url, { stream, from }))`
 * reads every shard of a stream with one reader per shard, starts a child
 * shard only after its parent(s) have been read to the end (so records of
 * one partition key arrive in order across splits and merges), and
 * checkpoints each batch once the loop asks for the next one, so a restarted
 * consumer resumes after the last batch it processed (at-least-once: a batch
 * that was yielded but not finished is delivered again).
 */
import { type CheckpointStore, FileCheckpointStore, MemoryCheckpointStore, SHARD_END } from "./checkpoints.ts";
import { type Credentials, KinesisHttpClient } from "./client.ts";
import { StreamsClientError } from "./errors.ts";

/** Where a consumer without a checkpoint starts. */
export type StartPosition = "TRIM_HORIZON" | "LATEST" | { sequence: string } | { timestamp: Date | number };

/** One record as the consumer sees it. */
export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Buffer;
  arrival: Date;
}

/** Records of one shard from one GetRecords call. */
export interface Batch {
  shardId: string;
  records: StreamRecord[];
  millisBehindLatest: number;
  /** Checkpoints this batch now (it is otherwise checkpointed when the loop asks for the next batch). */
  checkpoint(): Promise<void>;
}

/** Options of {@link read}. */
export interface ReadOptions {
  /** Stream name (default: the URL's path, `http://host:port/NAME`). */
  stream?: string;
  /** Start of shards without a checkpoint (default TRIM_HORIZON). */
  from?: StartPosition;
  /** Checkpoint store, or a JSON file path for a {@link FileCheckpointStore} (default: in memory). */
  checkpoints?: CheckpointStore | string;
  /** Consumer (application) name keying the checkpoints (default "default"). */
  consumer?: string;
  credentials?: Credentials;
  region?: string;
  /** GetRecords Limit (default 10000). */
  limit?: number;
  /** Pause of a shard reader after an empty GetRecords (default 200 ms, AWS's 5 calls/s). */
  pollMs?: number;
  /** End the iteration once every shard has been read to its tip. */
  untilCaughtUp?: boolean;
  signal?: AbortSignal;
}

interface ShardInfo {
  ShardId: string;
  ParentShardId?: string;
  AdjacentParentShardId?: string;
  SequenceNumberRange: { StartingSequenceNumber: string; EndingSequenceNumber?: string };
}

interface WireRecord {
  SequenceNumber: string;
  PartitionKey: string;
  Data: string;
  ApproximateArrivalTimestamp: number;
}

interface Item {
  batch?: Batch;
  error?: unknown;
  release?: () => void;
}

/**
 * Reads a stream as batches.
 *
 * @example
 * for await (const batch of read("http://127.0.0.1:4567", { stream: "events", from: "TRIM_HORIZON", checkpoints: "./cp.json" })) {
 *   for (const r of batch.records) console.log(r.partitionKey, r.data.toString());
 * }
 */
export async function* read(url: string, opts: ReadOptions = {}): AsyncGenerator<Batch, void, undefined> {
  const u = new URL(url);
  const stream = opts.stream ?? decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, ""));
  if (stream === "") throw new TypeError("read(): options.stream (or a URL path naming the stream) is required");
  const endpoint = `${u.protocol}//${u.host}`;
  const client = new KinesisHttpClient(endpoint, opts.credentials, opts.region);
  const store: CheckpointStore = typeof opts.checkpoints === "string" ? new FileCheckpointStore(opts.checkpoints) : (opts.checkpoints ?? new MemoryCheckpointStore());
  const consumer = opts.consumer ?? "default";
  const from = opts.from ?? "TRIM_HORIZON";
  const pollMs = opts.pollMs ?? 200;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  stop.signal.addEventListener("abort", () => wake?.(), { once: true });
  opts.signal?.addEventListener("abort", onAbort);

  const cps = await store.load(consumer, stream);
  const shards = new Map<string, ShardInfo>();
  const finished = new Set<string>(Object.entries(cps).filter(([, v]) => v === SHARD_END).map(([k]) => k));
  const running = new Set<string>();
  const idle = new Set<string>();
  const queue: Item[] = [];
  let wake: (() => void) | undefined;
  const push = (item: Item): void => {
    queue.push(item);
    wake?.();
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise((r) => {
      const onStop = (): void => {
        clearTimeout(timer);
        r();
      };
      const timer = setTimeout(() => {
        stop.signal.removeEventListener("abort", onStop);
        r();
      }, ms);
      stop.signal.addEventListener("abort", onStop, { once: true });
    });

  async function refresh(): Promise<void> {
    let token: string | undefined;
    do {
      const res: { Shards: ShardInfo[]; NextToken?: string } = await client.call("ListShards", token ? { NextToken: token } : { StreamName: stream });
      for (const s of res.Shards) shards.set(s.ShardId, s);
      token = res.NextToken;
    } while (token !== undefined);
  }

  const parentsOf = (s: ShardInfo): string[] => [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => p !== undefined && shards.has(p));

  async function startPosition(s: ShardInfo): Promise<Record<string, unknown>> {
    const cp = cps[s.ShardId];
    if (cp !== undefined && cp !== SHARD_END) return { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: cp };
    if (parentsOf(s).length > 0 && typeof from !== "object") return { ShardIteratorType: "TRIM_HORIZON" };
    if (from === "LATEST") return { ShardIteratorType: "LATEST" };
    if (typeof from === "object" && "timestamp" in from) return { ShardIteratorType: "AT_TIMESTAMP", Timestamp: Number(from.timestamp) / 1000 };
    return { ShardIteratorType: "TRIM_HORIZON" };
  }

  const minSeq = typeof from === "object" && "sequence" in from && Object.keys(cps).length === 0 ? BigInt(from.sequence) : undefined;

  function checkDone(): void {
    if (!opts.untilCaughtUp) return;
    if (queue.length === 0 && [...running].every((id) => idle.has(id)) && eligible().length === 0) push({});
  }

  function eligible(): ShardInfo[] {
    return [...shards.values()].filter((s) => !finished.has(s.ShardId) && !running.has(s.ShardId) && parentsOf(s).every((p) => finished.has(p)));
  }

  function startEligible(): void {
    for (const s of eligible()) {
      running.add(s.ShardId);
      void readShard(s).catch((error: unknown) => push({ error }));
    }
  }

  async function readShard(s: ShardInfo): Promise<void> {
    const id = s.ShardId;
    let last: string | undefined = cps[id] !== SHARD_END ? cps[id] : undefined;
    const iterator = async (): Promise<string> => {
      const pos = last !== undefined ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: last } : await startPosition(s);
      return (await client.call<{ ShardIterator: string }>("GetShardIterator", { StreamName: stream, ShardId: id, ...pos })).ShardIterator;
    };
    let it: string | undefined = await iterator();
    while (!stop.signal.aborted && it !== undefined) {
      let res: { Records: WireRecord[]; NextShardIterator?: string; MillisBehindLatest?: number };
      try {
        res = await client.call("GetRecords", { ShardIterator: it, ...(opts.limit ? { Limit: opts.limit } : {}) });
      } catch (e) {
        if (stop.signal.aborted) return;
        if (e instanceof StreamsClientError && e.code === "ExpiredIteratorException") {
          it = await iterator();
          continue;
        }
        if (e instanceof StreamsClientError && e.retriable) {
          await sleep(pollMs);
          continue;
        }
        throw e;
      }
      let recs = res.Records;
      if (minSeq !== undefined) recs = recs.filter((r) => BigInt(r.SequenceNumber) >= minSeq);
      if (recs.length > 0) {
        idle.delete(id);
        const records = recs.map((r) => ({ shardId: id, sequenceNumber: r.SequenceNumber, partitionKey: r.PartitionKey, data: Buffer.from(r.Data, "base64"), arrival: new Date(r.ApproximateArrivalTimestamp * 1000) }));
        const seq = (records[records.length - 1] as StreamRecord).sequenceNumber;
        let saved = false;
        const checkpoint = async (): Promise<void> => {
          if (saved) return;
          saved = true;
          await store.save(consumer, stream, id, seq);
        };
        await new Promise<void>((release) => push({ batch: { shardId: id, records, millisBehindLatest: res.MillisBehindLatest ?? 0, checkpoint }, release }));
        if (stop.signal.aborted) return;
        last = seq;
      } else if (res.Records.length > 0) {
        last = (res.Records[res.Records.length - 1] as WireRecord).SequenceNumber;
      }
      it = res.NextShardIterator;
      if (it === undefined) break;
      if (res.Records.length === 0) {
        if ((res.MillisBehindLatest ?? 0) === 0) idle.add(id);
        checkDone();
        await sleep(pollMs);
      }
    }
    if (stop.signal.aborted) return;
    await store.save(consumer, stream, id, SHARD_END);
    finished.add(id);
    running.delete(id);
    idle.delete(id);
    await refresh();
    startEligible();
    checkDone();
  }

  try {
    await refresh();
    if (from === "LATEST" && Object.keys(cps).length === 0) {
      for (const s of shards.values()) if (s.SequenceNumberRange.EndingSequenceNumber !== undefined) finished.add(s.ShardId);
    }
    startEligible();
    checkDone();
    for (;;) {
      while (queue.length === 0 && !stop.signal.aborted) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      if (stop.signal.aborted) return;
      const item = queue.shift() as Item;
      if (item.error !== undefined) throw item.error;
      if (item.batch === undefined) return;
      yield item.batch;
      await item.batch.checkpoint();
      item.release?.();
    }
  } finally {
    stop.abort();
    wake?.();
    for (const q of queue) q.release?.();
    opts.signal?.removeEventListener("abort", onAbort);
    client.close();
  }
}
