/**
 * Multipart uploads on disk:
 *
 *     .shoal-s3/uploads/<uploadId>/upload.json        the upload (bucket, key, metadata, ACL)
 *     .shoal-s3/uploads/<uploadId>/<n>.json           part n (ETag, size, data file)
 *     .shoal-s3/uploads/<uploadId>/<n>.<r>.data       part n's bytes
 *
 * Parts are committed like objects (fsynced temp file, rename, then the
 * metadata rename). Completing concatenates the named parts into a temp file
 * that the object store then commits.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Acl } from "./acl.ts";
import { S3Error } from "./errors.ts";
import { compareKeys } from "./keys.ts";
import { KeyedMutex, type Store, isNotFound, writeFileAtomic } from "./store.ts";

/** Largest part number. */
export const MAX_PART_NUMBER = 10000;

/** An upload in progress. */
export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  /** Epoch ms. */
  initiated: number;
  /** Canonical id of the initiator (undefined for anonymous). */
  initiator: string | undefined;
  contentType: string;
  headers: Record<string, string>;
  userMeta: Record<string, string>;
  acl: Acl;
}

/** One uploaded part. */
export interface PartInfo {
  partNumber: number;
  /** Hex MD5 (no quotes). */
  etag: string;
  size: number;
  lastModified: number;
  data: string;
}

/** An upload with its parts. */
export interface Upload {
  info: UploadInfo;
  parts: Map<number, PartInfo>;
}

/** A part as named in CompleteMultipartUpload. */
export interface RequestedPart {
  partNumber: number;
  etag: string;
}

/** The assembled object, ready to commit. */
export interface AssembledObject {
  tempFile: string;
  size: number;
  etag: string;
  partSizes: number[];
}

/** Strips quotes from an ETag. */
export function unquoteEtag(e: string): string {
  return e.trim().replace(/^"(.*)"$/, "$1");
}

/** Storage of multipart uploads. */
export class MultipartStore {
  private readonly uploads = new Map<string, Upload>();
  private readonly locks = new KeyedMutex();
  private readonly completed = new Map<string, { bucket: string; key: string; etag: string }>();

  private constructor(private readonly store: Store) {}

  /** Loads uploads left by a previous run; drops those whose bucket is gone. */
  static async open(store: Store): Promise<MultipartStore> {
    const m = new MultipartStore(store);
    for (const id of await readdir(store.uploadsDir)) {
      const u = await m.load(id);
      if (u && store.bucket(u.info.bucket)) m.uploads.set(id, u);
      else await rm(join(store.uploadsDir, id), { recursive: true, force: true });
    }
    return m;
  }

  private async load(id: string): Promise<Upload | undefined> {
    const dir = join(this.store.uploadsDir, id);
    try {
      const info = JSON.parse(await readFile(join(dir, "upload.json"), "utf8")) as UploadInfo;
      const parts = new Map<number, PartInfo>();
      const names = await readdir(dir);
      for (const n of names) {
        if (!/^\d+\.json$/.test(n)) continue;
        const p = JSON.parse(await readFile(join(dir, n), "utf8")) as PartInfo;
        if (names.includes(p.data)) parts.set(p.partNumber, p);
      }
      const used = new Set([...parts.values()].map((p) => p.data));
      for (const n of names) if (n.endsWith(".data") && !used.has(n)) await unlink(join(dir, n)).catch(() => undefined);
      return { info, parts };
    } catch {
      return undefined;
    }
  }

  private dir(uploadId: string): string {
    return join(this.store.uploadsDir, uploadId);
  }

  /** Starts an upload. */
  async create(info: Omit<UploadInfo, "uploadId">): Promise<UploadInfo> {
    const uploadId = `${Date.now().toString(36)}${randomBytes(12).toString("hex")}`;
    const full: UploadInfo = { ...info, uploadId };
    await mkdir(this.dir(uploadId), { recursive: true });
    await writeFileAtomic(this.store.tmpDir, join(this.dir(uploadId), "upload.json"), JSON.stringify(full));
    this.uploads.set(uploadId, { info: full, parts: new Map() });
    return full;
  }

  /** The upload with this id for this bucket and key, or NoSuchUpload. */
  get(uploadId: string, bucket: string, key: string): Upload {
    const u = this.uploads.get(uploadId);
    if (u === undefined || u.info.bucket !== bucket || u.info.key !== key) {
      throw new S3Error("NoSuchUpload", undefined, { extra: { UploadId: uploadId } });
    }
    return u;
  }

  /** Uploads in a bucket, sorted by key then initiation time. */
  list(bucket: string): UploadInfo[] {
    return [...this.uploads.values()]
      .map((u) => u.info)
      .filter((i) => i.bucket === bucket)
      .sort((a, b) => compareKeys(a.key, b.key) || a.initiated - b.initiated || (a.uploadId < b.uploadId ? -1 : 1));
  }

  /** Commits a received temp file as part `n`, replacing an earlier one. */
  async putPart(u: Upload, n: number, tempFile: string, md5Hex: string, size: number): Promise<PartInfo> {
    const dir = this.dir(u.info.uploadId);
    const data = `${n}.${randomBytes(6).toString("hex")}.data`;
    try {
      await rename(tempFile, join(dir, data));
    } catch (e) {
      await unlink(tempFile).catch(() => undefined);
      if (isNotFound(e)) throw new S3Error("NoSuchUpload", undefined, { extra: { UploadId: u.info.uploadId } });
      throw e;
    }
    const part: PartInfo = { partNumber: n, etag: md5Hex, size, lastModified: Date.now(), data };
    return this.locks.run(`${u.info.uploadId}/${n}`, async () => {
      if (!this.uploads.has(u.info.uploadId)) throw new S3Error("NoSuchUpload", undefined, { extra: { UploadId: u.info.uploadId } });
      await writeFileAtomic(this.store.tmpDir, join(dir, `${n}.json`), JSON.stringify(part));
      const old = u.parts.get(n);
      u.parts.set(n, part);
      if (old !== undefined) await unlink(join(dir, old.data)).catch(() => undefined);
      return part;
    });
  }

  /** Validates the requested part list against the stored parts. */
  private checkParts(u: Upload, requested: readonly RequestedPart[], minPartSize: number): PartInfo[] {
    if (requested.length === 0) throw new S3Error("MalformedXML", "You must specify at least one part");
    // A part number repeated back to back names a re-sent part twice: the later entry wins.
    const deduped: RequestedPart[] = [];
    for (const r of requested) {
      if (deduped.length > 0 && deduped[deduped.length - 1]?.partNumber === r.partNumber) deduped.pop();
      deduped.push(r);
    }
    const chosen: PartInfo[] = [];
    let prev = 0;
    for (const r of deduped) {
      if (r.partNumber <= prev) throw new S3Error("InvalidPartOrder", undefined, { extra: { UploadId: u.info.uploadId } });
      prev = r.partNumber;
      const p = u.parts.get(r.partNumber);
      if (p === undefined || unquoteEtag(r.etag) !== p.etag) {
        throw new S3Error("InvalidPart", undefined, { extra: { UploadId: u.info.uploadId, PartNumber: String(r.partNumber), ETag: r.etag } });
      }
      chosen.push(p);
    }
    for (const p of chosen.slice(0, -1)) {
      if (p.size < minPartSize) {
        throw new S3Error("EntityTooSmall", undefined, {
          extra: { ProposedSize: String(p.size), MinSizeAllowed: String(minPartSize), PartNumber: String(p.partNumber), ETag: p.etag },
        });
      }
    }
    return chosen;
  }

  /** Concatenates the requested parts into a fsynced temp file and computes the multipart ETag. */
  async assemble(u: Upload, requested: readonly RequestedPart[], minPartSize: number): Promise<AssembledObject> {
    const parts = this.checkParts(u, requested, minPartSize);
    const tempFile = this.store.tempPath("mp");
    const out = await open(tempFile, "w");
    const md5s = createHash("md5");
    let size = 0;
    let ok = false;
    try {
      for (const p of parts) {
        md5s.update(Buffer.from(p.etag, "hex"));
        for await (const chunk of createReadStream(join(this.dir(u.info.uploadId), p.data), { highWaterMark: 1 << 20 })) {
          const b = chunk as Buffer;
          let off = 0;
          while (off < b.length) off += (await out.write(b, off, b.length - off)).bytesWritten;
          size += b.length;
        }
      }
      await out.sync();
      ok = true;
    } finally {
      await out.close();
      if (!ok) await unlink(tempFile).catch(() => undefined);
    }
    return { tempFile, size, etag: `${md5s.digest("hex")}-${parts.length}`, partSizes: parts.map((p) => p.size) };
  }

  /** Remembers a completed upload so that a repeated Complete returns the same result. */
  markCompleted(info: UploadInfo, etag: string): void {
    this.completed.set(info.uploadId, { bucket: info.bucket, key: info.key, etag });
    if (this.completed.size > 10000) {
      const first = this.completed.keys().next().value;
      if (first !== undefined) this.completed.delete(first);
    }
  }

  /** The ETag a recently completed upload produced, if this upload id was completed. */
  completedEtag(uploadId: string, bucket: string, key: string): string | undefined {
    const c = this.completed.get(uploadId);
    return c !== undefined && c.bucket === bucket && c.key === key ? c.etag : undefined;
  }

  /** Removes an upload and its parts (abort, or after completion). */
  async remove(uploadId: string): Promise<void> {
    this.uploads.delete(uploadId);
    await rm(this.dir(uploadId), { recursive: true, force: true });
  }

  /** Removes every upload in a bucket (when the bucket is deleted). */
  async removeBucket(bucket: string): Promise<void> {
    for (const i of this.list(bucket)) await this.remove(i.uploadId);
  }
}
