/**
 * On-disk storage for the S3 server.
 *
 * Layout under the root directory:
 *
 *     .shoal-s3/tmp/                      temporary files (emptied at start)
 *     .shoal-s3/uploads/<uploadId>/       multipart uploads (see multipart.ts)
 *     <bucket>/bucket.json                bucket metadata (owner, ACL, policy)
 *     <bucket>/objects/<hh>/<h>.json      object metadata, h = sha256(key)
 *     <bucket>/objects/<hh>/<h>.<r>.data  object bytes, r random per write
 *
 * Keys are never used as paths (only their SHA-256), so no key can reach
 * outside its bucket. Bucket names cannot start with `.`, so `.shoal-s3`
 * never collides with a bucket. A write goes to a temp file, is fsynced and
 * renamed to a fresh `.data` name; the metadata file (written the same way)
 * is the commit point, after which the previous data file is removed. Data
 * files that no metadata names (a crash between the two renames) are
 * deleted at start-up. Every bucket's keys are held in memory, sorted in
 * UTF-8 binary order, for listing.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, readdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Acl } from "./acl.ts";
import { S3Error } from "./errors.ts";
import { compareKeys } from "./keys.ts";

/** Object metadata kept beside the data and in memory. */
export interface ObjectMeta {
  key: string;
  size: number;
  /** ETag without quotes: hex MD5, or `hex-N` for multipart objects. */
  etag: string;
  /** Last-modified time, epoch ms. */
  lastModified: number;
  contentType: string;
  /** Other stored representation headers (content-encoding, cache-control, ...). */
  headers: Record<string, string>;
  /** User metadata, names lower-case without the `x-amz-meta-` prefix. */
  userMeta: Record<string, string>;
  acl: Acl;
  /** Part sizes, for objects made by multipart upload. */
  parts?: number[];
  /** Checksums the client sent (e.g. `crc32` → base64). */
  checksums?: Record<string, string>;
  /** Data file name inside the key's directory. */
  data: string;
}

/** Bucket Object Ownership settings. */
export type ObjectOwnership = "BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter";

/** Bucket metadata. */
export interface BucketMeta {
  name: string;
  /** Creation time, epoch ms. */
  created: number;
  acl: Acl;
  /** Object Ownership setting (ObjectWriter when absent). */
  ownership?: ObjectOwnership;
  /** Bucket policy JSON text, when set. */
  policy?: string;
  region: string;
}

/** In-memory index of one bucket: metadata by key and keys in sorted order. */
export class BucketIndex {
  readonly byKey = new Map<string, ObjectMeta>();
  keys: string[] = [];

  /** First index whose key is >= `k` (or > when `strict`). */
  lowerBound(k: string, strict = false): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareKeys(this.keys[mid] as string, k);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  set(meta: ObjectMeta): void {
    if (!this.byKey.has(meta.key)) this.keys.splice(this.lowerBound(meta.key), 0, meta.key);
    this.byKey.set(meta.key, meta);
  }

  delete(key: string): void {
    if (!this.byKey.delete(key)) return;
    const i = this.lowerBound(key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }
}

/** A loaded bucket. */
export interface Bucket {
  meta: BucketMeta;
  index: BucketIndex;
}

/** Serializes async work per key (a chain of promises per key). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Hex SHA-256 of a key: its file name. */
export function keyHash(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Writes a file durably: temp file, fsync, rename. */
export async function writeFileAtomic(tmpDir: string, dest: string, data: string | Buffer): Promise<void> {
  const tmp = join(tmpDir, `w-${randomBytes(8).toString("hex")}`);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, dest);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** The storage engine: buckets, objects and temp files under one root. */
export class Store {
  readonly tmpDir: string;
  readonly uploadsDir: string;
  private readonly buckets = new Map<string, Bucket>();
  private readonly locks = new KeyedMutex();

  private constructor(readonly root: string) {
    this.tmpDir = join(root, ".shoal-s3", "tmp");
    this.uploadsDir = join(root, ".shoal-s3", "uploads");
  }

  /** Opens (creating if needed) a store and loads every bucket's index. */
  static async open(root: string): Promise<Store> {
    const s = new Store(root);
    await rm(s.tmpDir, { recursive: true, force: true });
    await mkdir(s.tmpDir, { recursive: true });
    await mkdir(s.uploadsDir, { recursive: true });
    for (const name of await readdir(root)) {
      if (name.startsWith(".")) continue;
      const b = await s.loadBucket(name);
      if (b) s.buckets.set(name, b);
    }
    return s;
  }

  private async loadBucket(name: string): Promise<Bucket | undefined> {
    let meta: BucketMeta;
    try {
      meta = JSON.parse(await readFile(join(this.root, name, "bucket.json"), "utf8")) as BucketMeta;
    } catch {
      return undefined;
    }
    const index = new BucketIndex();
    const objDir = join(this.root, name, "objects");
    const fan = await readdir(objDir).catch(() => [] as string[]);
    const all: ObjectMeta[] = [];
    for (const d of fan) await this.loadFanDir(join(objDir, d), all);
    all.sort((a, b) => compareKeys(a.key, b.key));
    for (const m of all) index.byKey.set(m.key, m);
    index.keys = all.map((m) => m.key);
    return { meta, index };
  }

  private async loadFanDir(dir: string, out: ObjectMeta[]): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    const referenced = new Set<string>();
    for (const n of names) {
      if (!n.endsWith(".json")) continue;
      try {
        const m = JSON.parse(await readFile(join(dir, n), "utf8")) as ObjectMeta;
        if (names.includes(m.data)) {
          out.push(m);
          referenced.add(m.data);
        }
      } catch {
        // A torn metadata file cannot exist (atomic rename); ignore strays.
      }
    }
    for (const n of names) {
      if (n.endsWith(".data") && !referenced.has(n)) await unlink(join(dir, n)).catch(() => undefined);
    }
  }

  /** A fresh temp-file path inside the root (same filesystem, so rename works). */
  tempPath(tag = "t"): string {
    return join(this.tmpDir, `${tag}-${randomBytes(12).toString("hex")}`);
  }

  /** All buckets, sorted by name. */
  listBuckets(): BucketMeta[] {
    return [...this.buckets.values()].map((b) => b.meta).sort((a, b) => compareKeys(a.name, b.name));
  }

  /** A bucket, or undefined. */
  bucket(name: string): Bucket | undefined {
    return this.buckets.get(name);
  }

  /** A bucket, or NoSuchBucket. */
  requireBucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (b === undefined) throw new S3Error("NoSuchBucket", undefined, { resource: `/${name}`, extra: { BucketName: name } });
    return b;
  }

  /** Creates a bucket directory atomically (temp dir + rename). */
  async createBucket(meta: BucketMeta): Promise<void> {
    if (this.buckets.has(meta.name)) throw new Error(`bucket ${meta.name} exists`);
    const tmp = this.tempPath("b");
    await mkdir(join(tmp, "objects"), { recursive: true });
    await writeFileAtomic(this.tmpDir, join(tmp, "bucket.json"), JSON.stringify(meta));
    this.buckets.set(meta.name, { meta, index: new BucketIndex() });
    try {
      await rename(tmp, join(this.root, meta.name));
    } catch (e) {
      this.buckets.delete(meta.name);
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Rewrites a bucket's metadata. */
  async updateBucket(name: string, patch: (m: BucketMeta) => BucketMeta): Promise<void> {
    await this.locks.run(`\u0000bucket/${name}`, async () => {
      const b = this.requireBucket(name);
      const next = patch(b.meta);
      await writeFileAtomic(this.tmpDir, join(this.root, name, "bucket.json"), JSON.stringify(next));
      b.meta = next;
    });
  }

  /** Removes an empty bucket; BucketNotEmpty otherwise. */
  async deleteBucket(name: string): Promise<void> {
    const b = this.requireBucket(name);
    if (b.index.keys.length > 0) throw new S3Error("BucketNotEmpty", undefined, { extra: { BucketName: name } });
    this.buckets.delete(name);
    const tmp = this.tempPath("d");
    await rename(join(this.root, name), tmp);
    await rm(tmp, { recursive: true, force: true });
  }

  private keyDir(bucket: string, hash: string): string {
    return join(this.root, bucket, "objects", hash.slice(0, 2));
  }

  /** Absolute path of an object's data file. */
  dataPath(bucket: string, meta: ObjectMeta): string {
    return join(this.keyDir(bucket, keyHash(meta.key)), meta.data);
  }

  /** Current metadata of an object, or undefined. */
  head(bucket: string, key: string): ObjectMeta | undefined {
    return this.buckets.get(bucket)?.index.byKey.get(key);
  }

  /**
   * Commits a complete, fsynced temp file as the object's new data. The
   * metadata rename is the commit point; the previous version's data file
   * is removed afterwards.
   */
  async commitObject(bucket: string, meta: Omit<ObjectMeta, "data">, tempFile: string): Promise<ObjectMeta> {
    const hash = keyHash(meta.key);
    const dir = this.keyDir(bucket, hash);
    const dataName = `${hash}.${randomBytes(6).toString("hex")}.data`;
    try {
      this.requireBucket(bucket);
      await mkdir(dir, { recursive: true });
      await rename(tempFile, join(dir, dataName));
    } catch (e) {
      await unlink(tempFile).catch(() => undefined);
      if (isNotFound(e)) throw new S3Error("NoSuchBucket", undefined, { extra: { BucketName: bucket } });
      throw e;
    }
    const full: ObjectMeta = { ...meta, data: dataName };
    await this.writeMeta(bucket, full, hash, dir);
    return full;
  }

  private async writeMeta(bucket: string, full: ObjectMeta, hash: string, dir: string): Promise<void> {
    await this.locks.run(`${bucket}/${full.key}`, async () => {
      const b = this.requireBucket(bucket);
      try {
        await writeFileAtomic(this.tmpDir, join(dir, `${hash}.json`), JSON.stringify(full));
      } catch (e) {
        await unlink(join(dir, full.data)).catch(() => undefined);
        if (isNotFound(e)) throw new S3Error("NoSuchBucket", undefined, { extra: { BucketName: bucket } });
        throw e;
      }
      const old = b.index.byKey.get(full.key);
      b.index.set(full);
      if (old !== undefined && old.data !== full.data) await unlink(join(dir, old.data)).catch(() => undefined);
    });
  }

  /** Rewrites an object's metadata only (e.g. its ACL). */
  async updateObjectMeta(bucket: string, key: string, patch: (m: ObjectMeta) => ObjectMeta): Promise<ObjectMeta> {
    const hash = keyHash(key);
    const dir = this.keyDir(bucket, hash);
    return this.locks.run(`${bucket}/${key}`, async () => {
      const b = this.requireBucket(bucket);
      const cur = b.index.byKey.get(key);
      if (cur === undefined) throw new S3Error("NoSuchKey", undefined, { extra: { Key: key } });
      const next = patch(cur);
      await writeFileAtomic(this.tmpDir, join(dir, `${hash}.json`), JSON.stringify(next));
      b.index.set(next);
      return next;
    });
  }

  /** Deletes an object; a missing object is not an error (as in S3). */
  async deleteObject(bucket: string, key: string): Promise<void> {
    const hash = keyHash(key);
    const dir = this.keyDir(bucket, hash);
    await this.locks.run(`${bucket}/${key}`, async () => {
      const b = this.requireBucket(bucket);
      const cur = b.index.byKey.get(key);
      if (cur === undefined) return;
      await unlink(join(dir, `${hash}.json`)).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      b.index.delete(key);
      await unlink(join(dir, cur.data)).catch(() => undefined);
    });
  }
}
