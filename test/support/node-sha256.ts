// SHA-256 / HMAC-SHA256 from node:crypto in the shape @smithy/signature-v4
// expects (`sha256:` option), for tests and benches that sign raw requests.
import { createHash, createHmac } from "node:crypto";

export type SourceData = string | ArrayBuffer | ArrayBufferView;

export function toBytes(d: SourceData): Buffer {
  if (typeof d === "string") return Buffer.from(d, "utf8");
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

export class Sha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(secret));
  }
  update(d: SourceData): void {
    this.h.update(toBytes(d));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}
