/**
 * The AWS event-stream framing of a SelectObjectContent response.
 *
 * A message is: `total_length` u32 BE, `headers_length` u32 BE, the CRC32
 * of those 8 bytes, the headers, the payload, and the CRC32 of everything
 * before it. A header is `name_len` u8, the name, type 7 (string),
 * `value_len` u16 BE, the value. S3 Select sends `Records`, `Cont`,
 * `Progress`, `Stats` and `End` events, or an `error` message.
 */
import { crc32 } from "node:zlib";

function headerBytes(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    const n = Buffer.from(name, "utf8");
    const v = Buffer.from(value, "utf8");
    const h = Buffer.allocUnsafe(1 + n.length + 3);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(7, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    parts.push(h, v);
  }
  return Buffer.concat(parts);
}

/** Encodes one event-stream message. */
export function encodeMessage(headers: readonly (readonly [string, string])[], payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = headerBytes(headers);
  const total = 16 + h.length + payload.length;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(h.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  h.copy(out, 12);
  payload.copy(out, 12 + h.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

function event(type: string, contentType: string | undefined, payload?: Buffer): Buffer {
  const headers: [string, string][] = [[":event-type", type]];
  if (contentType !== undefined) headers.push([":content-type", contentType]);
  headers.push([":message-type", "event"]);
  return encodeMessage(headers, payload);
}

/** Byte counters reported by Progress and Stats. */
export interface ScanCounters {
  bytesScanned: number;
  bytesProcessed: number;
  bytesReturned: number;
}

function countersXml(root: string, c: ScanCounters): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><${root}><BytesScanned>${c.bytesScanned}</BytesScanned><BytesProcessed>${c.bytesProcessed}</BytesProcessed><BytesReturned>${c.bytesReturned}</BytesReturned></${root}>`,
    "utf8",
  );
}

/** A Records event carrying output rows (a row may continue in the next one). */
export function recordsEvent(payload: Buffer): Buffer {
  return event("Records", "application/octet-stream", payload);
}

/** A Cont (keep-alive) event. */
export function contEvent(): Buffer {
  return event("Cont", undefined);
}

/** A Progress event. */
export function progressEvent(c: ScanCounters): Buffer {
  return event("Progress", "text/xml", countersXml("Progress", c));
}

/** The Stats event, sent once before End. */
export function statsEvent(c: ScanCounters): Buffer {
  return event("Stats", "text/xml", countersXml("Stats", c));
}

/** The End event; clients treat a stream without it as incomplete. */
export function endEvent(): Buffer {
  return event("End", undefined);
}

/** An error message (`:message-type` error) for a failure after the response started. */
export function errorMessage(code: string, message: string): Buffer {
  return encodeMessage([
    [":error-code", code],
    [":error-message", message.length > 2000 ? `${message.slice(0, 2000)}…` : message],
    [":message-type", "error"],
  ]);
}

/** One decoded message (used by tests and tools that read a response). */
export interface DecodedMessage {
  headers: Record<string, string>;
  payload: Buffer;
}

/** Decodes a whole event stream, checking both CRCs of every message. */
export function decodeMessages(buf: Buffer): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 16) throw new Error(`truncated message at ${off}`);
    const total = buf.readUInt32BE(off);
    const hlen = buf.readUInt32BE(off + 4);
    if (off + total > buf.length) throw new Error(`truncated message at ${off}`);
    if (crc32(buf.subarray(off, off + 8)) !== buf.readUInt32BE(off + 8)) throw new Error(`bad prelude CRC at ${off}`);
    if (crc32(buf.subarray(off, off + total - 4)) !== buf.readUInt32BE(off + total - 4)) throw new Error(`bad message CRC at ${off}`);
    const headers: Record<string, string> = {};
    let p = off + 12;
    const hend = p + hlen;
    while (p < hend) {
      const nlen = buf.readUInt8(p);
      const name = buf.toString("utf8", p + 1, p + 1 + nlen);
      p += 1 + nlen;
      const type = buf.readUInt8(p);
      if (type !== 7) throw new Error(`header type ${type} not supported`);
      const vlen = buf.readUInt16BE(p + 1);
      headers[name] = buf.toString("utf8", p + 3, p + 3 + vlen);
      p += 3 + vlen;
    }
    out.push({ headers, payload: buf.subarray(hend, off + total - 4) });
    off += total;
  }
  return out;
}
