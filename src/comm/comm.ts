/**
 * A Comm is one bidirectional message connection. Messages sent in the same
 * tick are batched into one packet (flushed on `setImmediate`), which is what
 * keeps per-task overhead low when thousands of small messages flow.
 * Request/reply is layered on top with `reqId`.
 */
import type { Duplex } from "node:stream";
import { decodePacket, encodePacket, PacketReader } from "../protocol/wire.ts";
import { CommClosedError, ProtocolError } from "./errors.ts";

export type Message = { op: string; [k: string]: unknown };

interface Pending {
  resolve(msg: Message): void;
  reject(err: Error): void;
}

export class Comm {
  private queue: unknown[] = [];
  private scheduled = false;
  private closed = false;
  private readonly reader = new PacketReader();
  private nextReq = 1;
  private readonly pending = new Map<number, Pending>();
  private messageHandler: ((msg: Message) => void) | null = null;
  private readonly closeHandlers: ((err: Error | null) => void)[] = [];
  /** Bytes written and read, for metrics. */
  bytesOut = 0;
  bytesIn = 0;

  constructor(
    private readonly stream: Duplex,
    readonly localAddress: string,
    readonly peerAddress: string,
  ) {
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("error", (err) => this.shutdown(err));
    stream.on("close", () => this.shutdown(null));
    stream.on("end", () => this.shutdown(null));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sets the handler for messages that are not replies to our requests. */
  onMessage(handler: (msg: Message) => void): void {
    this.messageHandler = handler;
  }

  onClose(handler: (err: Error | null) => void): void {
    if (this.closed) queueMicrotask(() => handler(null));
    else this.closeHandlers.push(handler);
  }

  /** Queues a message; all messages of this tick go out as one packet. */
  send(msg: Message): void {
    if (this.closed) return;
    this.queue.push(msg);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends a request and resolves with the peer's reply (a message with the same reqId). */
  request(msg: Message, timeoutMs = 0): Promise<Message> {
    if (this.closed) return Promise.reject(new CommClosedError(this.peerAddress));
    const reqId = this.nextReq++;
    return new Promise<Message>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.pending.delete(reqId);
          reject(new CommClosedError(this.peerAddress, { message: `no reply from ${this.peerAddress} within ${timeoutMs} ms` }));
        }, timeoutMs);
        timer.unref();
      }
      this.pending.set(reqId, {
        resolve: (m) => {
          if (timer) clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      });
      this.send({ ...msg, reqId });
    });
  }

  /** Replies to a request message. */
  reply(req: Message, body: Record<string, unknown>): void {
    this.send({ op: "reply", reqId: req["reqId"], ...body });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.queue.length === 0) return;
    const msgs = this.queue;
    this.queue = [];
    let bufs: Uint8Array[];
    try {
      bufs = encodePacket(msgs);
    } catch (err) {
      this.shutdown(new ProtocolError(`cannot encode message to ${this.peerAddress}`, { cause: err }));
      return;
    }
    const s = this.stream;
    s.cork();
    for (const b of bufs) {
      this.bytesOut += b.byteLength;
      s.write(b);
    }
    s.uncork();
  };

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.byteLength;
    let packets: Uint8Array[][];
    try {
      packets = this.reader.push(chunk);
    } catch (err) {
      this.abort(new ProtocolError(`corrupt data from ${this.peerAddress}`, { cause: err }));
      return;
    }
    for (const frames of packets) {
      let msgs: unknown[];
      try {
        msgs = decodePacket(frames);
      } catch (err) {
        this.abort(new ProtocolError(`undecodable packet from ${this.peerAddress}`, { cause: err }));
        return;
      }
      for (const m of msgs) this.dispatch(m as Message);
      if (this.closed) return;
    }
  }

  private dispatch(msg: Message): void {
    if (msg.op === "reply") {
      const id = msg["reqId"] as number;
      const p = this.pending.get(id);
      if (p) {
        this.pending.delete(id);
        p.resolve(msg);
      }
      return;
    }
    this.messageHandler?.(msg);
  }

  /** Flushes queued messages and closes the connection. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.stream.end();
    this.shutdown(null);
  }

  /** Closes immediately without flushing (corrupt peer). */
  abort(err: Error): void {
    this.stream.destroy();
    this.shutdown(err);
  }

  private shutdown(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    const closedErr = new CommClosedError(this.peerAddress, err ? { cause: err } : {});
    for (const p of this.pending.values()) p.reject(closedErr);
    this.pending.clear();
    if (!this.stream.destroyed) setTimeout(() => this.stream.destroy(), 1000).unref();
    for (const h of this.closeHandlers.splice(0)) h(err);
  }
}
