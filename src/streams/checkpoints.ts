/**
 * Consumer checkpoints (the Kinesis Client Library's idea, without leases):
 * per consumer name, stream and shard, the sequence number of the last
 * processed record, or `SHARD_END` once a closed shard has been read to its
 * end. {@link FileCheckpointStore} keeps them in one JSON file replaced
 * atomically (write, fsync, rename).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** Marks a shard read to its end. */
export const SHARD_END = "SHARD_END";

/** Where checkpoints live. */
export interface CheckpointStore {
  /** Checkpoints of one consumer on one stream: shard id → sequence number or {@link SHARD_END}. */
  load(consumer: string, stream: string): Promise<Record<string, string>>;
  /** Records one shard's checkpoint durably. */
  save(consumer: string, stream: string, shardId: string, value: string): Promise<void>;
}

type Doc = Record<string, Record<string, Record<string, string>>>;

/**
 * Checkpoints in a JSON file.
 *
 * @example
 * const cp = new FileCheckpointStore("./state/checkpoints.json");
 * for await (const b of read(url, { stream: "events", checkpoints: cp, consumer: "wordcount" })) { ... }
 */
export class FileCheckpointStore implements CheckpointStore {
  private doc: Doc | undefined;
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly path: string) {}

  private read(): Doc {
    if (this.doc === undefined) {
      try {
        this.doc = JSON.parse(readFileSync(this.path, "utf8")) as Doc;
      } catch {
        this.doc = {};
      }
    }
    return this.doc;
  }

  load(consumer: string, stream: string): Promise<Record<string, string>> {
    return Promise.resolve({ ...(this.read()[consumer]?.[stream] ?? {}) });
  }

  save(consumer: string, stream: string, shardId: string, value: string): Promise<void> {
    const doc = this.read();
    const c = (doc[consumer] ??= {});
    (c[stream] ??= {})[shardId] = value;
    const text = JSON.stringify(doc);
    this.chain = this.chain.then(() => {
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp`;
      const fd = openSync(tmp, "w");
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    });
    return this.chain;
  }
}

/** Checkpoints in memory (for one process's lifetime). */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly m = new Map<string, Record<string, string>>();
  load(consumer: string, stream: string): Promise<Record<string, string>> {
    return Promise.resolve({ ...(this.m.get(`${consumer}\n${stream}`) ?? {}) });
  }
  save(consumer: string, stream: string, shardId: string, value: string): Promise<void> {
    const k = `${consumer}\n${stream}`;
    const r = this.m.get(k) ?? {};
    r[shardId] = value;
    this.m.set(k, r);
    return Promise.resolve();
  }
}
