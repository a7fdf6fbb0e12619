/**
 * Wire format. A packet is a list of frames, each prefixed by its length:
 *
 *     u32 nframes | u32 length × nframes | frame 0 | frame 1 | ...
 *
 * (little-endian). Frame 0 is the msgpack encoding of an array of messages
 * (plain objects); every {@link Payload} inside a message is written as a
 * small extension that holds the payload's header and the indices of its
 * binary frames, which follow as frames 1..n without being re-encoded.
 */
import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";
import type { Payload } from "./serialize.ts";

const EXT_PAYLOAD = 16;
const MAX_FRAME_BYTES = 0xffff_ffff;
const MAX_FRAMES = 1 << 20;

interface Ctx {
  frames: Uint8Array[];
}

class PayloadBox implements Payload {
  constructor(readonly header: Uint8Array, readonly frames: readonly Uint8Array[]) {}
}

/** Marks a plain `{header, frames}` object as a payload for the wire encoder. */
export function asPayload(p: Payload): Payload {
  return p instanceof PayloadBox ? p : new PayloadBox(p.header, p.frames);
}

export function isPayload(v: unknown): v is Payload {
  return v instanceof PayloadBox;
}

const codec = new ExtensionCodec<Ctx>();
codec.register({
  type: EXT_PAYLOAD,
  encode: (v, ctx) => {
    if (!(v instanceof PayloadBox)) return null;
    const first = ctx.frames.length;
    for (const f of v.frames) ctx.frames.push(f);
    const out = new Uint8Array(8 + v.header.byteLength);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, first, true);
    dv.setUint32(4, v.frames.length, true);
    out.set(v.header, 8);
    return out;
  },
  decode: (data, _t, ctx) => {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const first = dv.getUint32(0, true);
    const n = dv.getUint32(4, true);
    const frames = ctx.frames.slice(first, first + n);
    if (frames.length !== n) throw new RangeError("payload references frames past the end of the packet");
    return new PayloadBox(data.subarray(8), frames);
  },
});

const ectx: Ctx = { frames: [] };
const encoder = new Encoder<Ctx>({ extensionCodec: codec, context: ectx, ignoreUndefined: true });
const dctx: Ctx = { frames: [] };
const decoder = new Decoder<Ctx>({ extensionCodec: codec, context: dctx });

/** Encodes messages into the list of buffers of one packet (ready for writev). */
export function encodePacket(messages: readonly unknown[]): Uint8Array[] {
  ectx.frames = [];
  let body: Uint8Array;
  let frames: Uint8Array[];
  try {
    body = encoder.encode(messages);
    frames = ectx.frames;
  } finally {
    ectx.frames = [];
  }
  const n = 1 + frames.length;
  if (n > MAX_FRAMES) throw new RangeError(`too many frames in one packet (${n})`);
  const head = Buffer.allocUnsafe(4 + 4 * n);
  head.writeUInt32LE(n, 0);
  head.writeUInt32LE(body.byteLength, 4);
  for (let i = 0; i < frames.length; i++) {
    const len = frames[i]!.byteLength;
    if (len > MAX_FRAME_BYTES) throw new RangeError(`frame of ${len} bytes exceeds the 4 GiB frame limit`);
    head.writeUInt32LE(len, 8 + 4 * i);
  }
  return [head, body, ...frames];
}

/** Decodes the frames of one packet into its messages. */
export function decodePacket(frames: readonly Uint8Array[]): unknown[] {
  const body = frames[0];
  if (body === undefined) throw new RangeError("empty packet");
  dctx.frames = frames.slice(1) as Uint8Array[];
  try {
    const msgs = decoder.decode(body);
    if (!Array.isArray(msgs)) throw new TypeError("packet body is not a message list");
    return msgs;
  } finally {
    dctx.frames = [];
  }
}

/** Bytes and frames one packet may have (the reader refuses bigger ones before buffering them). */
export interface PacketLimits {
  maxPacketBytes: number;
  maxFrames: number;
}

/** Limits before a peer has authenticated: one small frame (the handshake). */
export const HANDSHAKE_LIMITS: PacketLimits = { maxPacketBytes: 64 * 1024, maxFrames: 1 };
/** Default limits after the handshake (see `SHOAL_COMM_MAX_PACKET_BYTES`). */
export const DEFAULT_PACKET_LIMITS: PacketLimits = { maxPacketBytes: 4 * 1024 ** 3, maxFrames: MAX_FRAMES };

/**
 * Incremental packet reader: feed socket chunks, get whole packets (lists of
 * frames). A frame that lies within one chunk is returned as a view of it.
 * A header announcing more frames or bytes than the limits allow is refused
 * as soon as its first 4 or 4 + 4n bytes arrive, before the body is buffered.
 */
export class PacketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private lengths: number[] | null = null;
  private need = 4;

  constructor(private limits: PacketLimits = DEFAULT_PACKET_LIMITS) {}

  setLimits(limits: PacketLimits): void {
    this.limits = limits;
  }

  /** Bytes held for a packet not yet complete. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and returns every packet now complete. */
  push(chunk: Buffer): Uint8Array[][] {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    const out: Uint8Array[][] = [];
    for (;;) {
      if (this.buffered < this.need) return out;
      if (this.lengths === null) {
        const n = this.peekU32();
        if (n === 0 || n > this.limits.maxFrames) throw new RangeError(`corrupt packet header: ${n} frames (at most ${this.limits.maxFrames} allowed here)`);
        if (this.buffered < 4 + 4 * n) {
          this.need = 4 + 4 * n;
          return out;
        }
        const h = this.take(4 + 4 * n);
        const lengths: number[] = [];
        let total = 0;
        for (let i = 0; i < n; i++) {
          const len = h.readUInt32LE(4 + 4 * i);
          lengths.push(len);
          total += len;
        }
        if (total > this.limits.maxPacketBytes) throw new RangeError(`packet of ${total} bytes exceeds the limit of ${this.limits.maxPacketBytes} bytes`);
        this.lengths = lengths;
        this.need = total;
        continue;
      }
      const frames = this.lengths.map((len) => this.take(len));
      this.lengths = null;
      this.need = 4;
      out.push(frames);
    }
  }

  /** The first 4 buffered bytes as a u32, copying only those 4 when they span chunks. */
  private peekU32(): number {
    const first = this.chunks[0]!;
    if (first.byteLength >= 4) return first.readUInt32LE(0);
    const b = Buffer.allocUnsafe(4);
    let off = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.byteLength, 4 - off);
      c.copy(b, off, 0, k);
      off += k;
      if (off === 4) break;
    }
    return b.readUInt32LE(0);
  }
  private take(n: number): Buffer {
    this.buffered -= n;
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.byteLength > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.byteLength === n) {
      this.chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.byteLength, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.byteLength) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
