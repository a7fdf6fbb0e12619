/**
 * Streams on disk: one folder per stream under `ROOT/streams/NAME/` with
 * `stream.json` (shards, hash ranges, lineage, retention, tags; replaced
 * atomically) and one {@link ShardLog} per shard under `shards/INDEX/`.
 * Everything that changes the shard layout (create, split, merge) is done
 * synchronously and persisted before any record is routed by it, so a crash
 * never leaves records in a shard the metadata does not know.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { KinesisError } from "./errors.ts";
import { type HashRange, evenRanges } from "./hash.ts";
import { type FsyncPolicy, ShardLog, type StoredRecord } from "./segment.ts";
import { formatSequence, shardIdOf } from "./sequence.ts";

/** Persisted description of one shard. */
export interface ShardMeta {
  index: number;
  parent?: number;
  adjacentParent?: number;
  /** Decimal hash key range (inclusive). */
  start: string;
  end: string;
  /** Counter of the first possible record (its StartingSequenceNumber). */
  startCounter: number;
  createdAt: number;
  /** Set when the shard is closed by a split or merge: the largest counter it may hold. */
  endCounter?: number;
  closedAt?: number;
}

/** Persisted description of a stream. */
export interface StreamMeta {
  name: string;
  createdAt: number;
  mode: "PROVISIONED" | "ON_DEMAND";
  retentionHours: number;
  tags: Record<string, string>;
  shards: ShardMeta[];
  nextShardIndex: number;
}

/** Options shared by every stream of a store. */
export interface StoreOptions {
  root: string;
  fsync: FsyncPolicy;
  segmentBytes: number;
  clock: () => number;
}

export const ACCOUNT = "000000000000";

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(join(path, ".."), "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** One open stream: its metadata, shard logs and record counter. */
export class Stream {
  readonly logs = new Map<number, ShardLog>();
  /** Appends in flight per shard (a closed shard is finished only when this is 0). */
  readonly inflight = new Map<number, number>();
  nextCounter = 0;
  lastTime = 0;
  constructor(
    readonly dir: string,
    public meta: StreamMeta,
    private readonly opts: StoreOptions,
  ) {}

  /** Opens every shard log and recovers the counter. */
  load(): void {
    let max = -1;
    for (const s of this.meta.shards) {
      const log = this.openLog(s.index);
      max = Math.max(max, log.lastCounter, s.startCounter - 1, s.endCounter ?? -1);
      this.lastTime = Math.max(this.lastTime, log.lastTime ?? 0);
    }
    this.nextCounter = max + 1;
  }

  private openLog(index: number): ShardLog {
    let log = this.logs.get(index);
    if (log === undefined) {
      log = ShardLog.open(join(this.dir, "shards", String(index)), { fsync: this.opts.fsync, segmentBytes: this.opts.segmentBytes });
      this.logs.set(index, log);
    }
    return log;
  }

  /** Writes stream.json (and forgets the routing table, which the layout may have changed). */
  persist(): void {
    this.routes = undefined;
    writeAtomic(join(this.dir, "stream.json"), JSON.stringify(this.meta));
  }

  get name(): string {
    return this.meta.name;
  }

  get arn(): string {
    return `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/${this.meta.name}`;
  }

  /** Shards not closed, in hash order. */
  openShards(): ShardMeta[] {
    return this.meta.shards.filter((s) => s.endCounter === undefined).sort((a, b) => (BigInt(a.start) < BigInt(b.start) ? -1 : 1));
  }

  shard(index: number): ShardMeta | undefined {
    return this.meta.shards.find((s) => s.index === index);
  }

  log(index: number): ShardLog {
    return this.openLog(index);
  }

  private routes: Array<{ start: bigint; end: bigint; shard: ShardMeta }> | undefined;

  /** The open shard whose range holds `hash` (binary search over the open ranges, rebuilt after a layout change). */
  route(hash: bigint): ShardMeta {
    const routes = (this.routes ??= this.openShards().map((s) => ({ start: BigInt(s.start), end: BigInt(s.end), shard: s })));
    let lo = 0;
    let hi = routes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = routes[mid] as { start: bigint; end: bigint; shard: ShardMeta };
      if (hash < r.start) hi = mid - 1;
      else if (hash > r.end) lo = mid + 1;
      else return r.shard;
    }
    throw new KinesisError("InternalFailure", `no open shard holds hash key ${hash}`);
  }

  /** The sequence number string of a counter in a shard. */
  seq(counter: number, shardIndex: number, time: number): string {
    return formatSequence(counter, shardIndex, time);
  }

  /** Arrival time for the next record: the clock, never going backwards. */
  now(): number {
    const t = Math.max(this.opts.clock(), this.lastTime);
    this.lastTime = t;
    return t;
  }

  /** Assigns counters and appends records grouped by shard; resolves when all are durable. */
  async append(shardIndex: number, records: Array<{ partitionKey: string; data: Buffer }>): Promise<StoredRecord[]> {
    const time = this.now();
    const stored = records.map((r) => ({ counter: this.nextCounter++, time, partitionKey: r.partitionKey, data: r.data }));
    this.inflight.set(shardIndex, (this.inflight.get(shardIndex) ?? 0) + 1);
    try {
      await this.openLog(shardIndex).append(stored);
    } finally {
      this.inflight.set(shardIndex, (this.inflight.get(shardIndex) ?? 1) - 1);
    }
    return stored;
  }

  private newShard(range: HashRange, parent?: number, adjacentParent?: number): ShardMeta {
    const s: ShardMeta = {
      index: this.meta.nextShardIndex++,
      start: range.start.toString(),
      end: range.end.toString(),
      startCounter: this.nextCounter,
      createdAt: this.opts.clock(),
    };
    if (parent !== undefined) s.parent = parent;
    if (adjacentParent !== undefined) s.adjacentParent = adjacentParent;
    this.meta.shards.push(s);
    return s;
  }

  private close(s: ShardMeta): void {
    s.endCounter = this.nextCounter - 1;
    s.closedAt = this.opts.clock();
  }

  /** SplitShard: closes `s` and opens two children split at `at` (the first hash key of the upper child). */
  split(s: ShardMeta, at: bigint): [ShardMeta, ShardMeta] {
    this.close(s);
    this.nextCounter++;
    const lo = this.newShard({ start: BigInt(s.start), end: at - 1n }, s.index);
    const hi = this.newShard({ start: at, end: BigInt(s.end) }, s.index);
    this.persist();
    this.openLog(lo.index);
    this.openLog(hi.index);
    return [lo, hi];
  }

  /** MergeShards: closes two adjacent shards and opens their union. */
  merge(a: ShardMeta, b: ShardMeta): ShardMeta {
    const [lo, hi] = BigInt(a.start) < BigInt(b.start) ? [a, b] : [b, a];
    this.close(a);
    this.close(b);
    this.nextCounter++;
    const c = this.newShard({ start: BigInt(lo.start), end: BigInt(hi.end) }, a.index, b.index);
    this.persist();
    this.openLog(c.index);
    return c;
  }

  /** UpdateShardCount (UNIFORM_SCALING): closes every open shard and opens `n` even children, each pointing at the old shard(s) it overlaps. */
  reshard(n: number): void {
    const old = this.openShards();
    for (const s of old) this.close(s);
    this.nextCounter++;
    for (const r of evenRanges(n)) {
      const over = old.filter((s) => BigInt(s.start) <= r.end && r.start <= BigInt(s.end));
      const c = this.newShard(r, over[0]?.index, over[1]?.index);
      this.openLog(c.index);
    }
    this.persist();
  }

  /** Drops records (and closed shards) older than the retention period. */
  async trim(): Promise<void> {
    const cutoff = this.opts.clock() - this.meta.retentionHours * 3600_000;
    let changed = false;
    for (const s of [...this.meta.shards]) {
      const log = this.openLog(s.index);
      await log.trimBefore(cutoff);
      if (s.closedAt !== undefined && s.closedAt < cutoff && log.length === 0) {
        await log.close();
        this.logs.delete(s.index);
        rmSync(join(this.dir, "shards", String(s.index)), { recursive: true, force: true });
        this.meta.shards = this.meta.shards.filter((x) => x !== s);
        changed = true;
      }
    }
    if (changed) this.persist();
  }

  async closeLogs(): Promise<void> {
    await Promise.all([...this.logs.values()].map((l) => l.close()));
  }
}

/** All streams under a root folder. */
export class StreamStore {
  readonly streams = new Map<string, Stream>();
  private readonly dir: string;

  constructor(readonly opts: StoreOptions) {
    this.dir = join(opts.root, "streams");
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(".")) {
        rmSync(join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      const metaPath = join(this.dir, name, "stream.json");
      if (!existsSync(metaPath)) {
        rmSync(join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      const s = new Stream(join(this.dir, name), JSON.parse(readFileSync(metaPath, "utf8")) as StreamMeta, opts);
      s.load();
      this.streams.set(name, s);
    }
  }

  /** The stream, or ResourceNotFoundException. */
  get(name: string): Stream {
    const s = this.streams.get(name);
    if (s === undefined) throw new KinesisError("ResourceNotFoundException", `Stream ${name} under account ${ACCOUNT} not found.`);
    return s;
  }

  create(name: string, shardCount: number, mode: "PROVISIONED" | "ON_DEMAND", tags: Record<string, string>): Stream {
    if (this.streams.has(name)) throw new KinesisError("ResourceInUseException", `Stream ${name} under account ${ACCOUNT} already exists.`);
    const dir = join(this.dir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "shards"), { recursive: true });
    const now = this.opts.clock();
    const meta: StreamMeta = { name, createdAt: now, mode, retentionHours: 24, tags, shards: [], nextShardIndex: 0 };
    evenRanges(shardCount).forEach((r, i) => {
      meta.shards.push({ index: i, start: r.start.toString(), end: r.end.toString(), startCounter: 0, createdAt: now });
    });
    meta.nextShardIndex = shardCount;
    const s = new Stream(dir, meta, this.opts);
    s.persist();
    s.load();
    this.streams.set(name, s);
    return s;
  }

  async delete(name: string): Promise<void> {
    const s = this.get(name);
    this.streams.delete(name);
    await s.closeLogs();
    const trash = join(this.dir, `.deleted-${name}-${Date.now()}`);
    renameSync(s.dir, trash);
    rmSync(trash, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.closeLogs()));
  }
}

export { shardIdOf };
