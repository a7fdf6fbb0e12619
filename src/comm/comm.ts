/**
 * A Comm is one bidirectional message connection. Messages sent in the same
 * tick are batched into one packet (flushed on `setImmediate`), which is what
 * keeps per-task overhead low when thousands of small messages flow.
 * Request/reply is layered on top with `reqId`.
 *
 * The edges of a Comm are guarded:
 * - incoming packets are bounded (a small handshake frame until the peer has
 *   authenticated, see `handshake.ts`; {@link CommLimits} after);
 * - every incoming message is checked against the schema of its op and the
 *   set of ops this connection accepts (`protocol/messages.ts`): a message
 *   that does not fit is answered with a `protocol-error` naming op and field,
 *   logged, and the connection is closed; a handler that throws closes only
 *   its own connection;
 * - outgoing bytes honour the socket's high-water mark for those who wait on
 *   {@link Comm.flush} (bulk data), and a peer that lets more than
 *   `maxQueuedBytes` pile up unread is disconnected (control messages cannot
 *   wait, and memory must stay bounded).
 */
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { decodePacket, encodePacket, HANDSHAKE_LIMITS, PacketReader, type PacketLimits } from "../protocol/wire.ts";
import { checkMessage, type OpSet } from "../protocol/messages.ts";
import { log } from "../utils/log.ts";
import { CommClosedError, ProtocolError, RequestTimeoutError } from "./errors.ts";

export type Message = { op: string; [k: string]: unknown };

/** Bounds of one connection after its handshake. */
export interface CommLimits extends PacketLimits {
  /** Unsent bytes a peer may leave unread before it is disconnected as too slow. */
  maxQueuedBytes: number;
  /** Close the connection after this long with no traffic and no request in flight (0 = never). */
  idleTimeoutMs: number;
}

interface Pending {
  resolve(msg: Message): void;
  reject(err: Error): void;
}

/** Messages that arrive before a handler is set are kept, up to this many. */
const MAX_EARLY_MESSAGES = 10_000;
/**
 * Bytes of received packets a connection handles per turn of the event
 * loop before it stops reading until the next turn (a packet is always
 * handled whole; a large one only ends the turn after it).
 */
export const TURN_BYTES = turnBytesFromEnv();

function turnBytesFromEnv(): number {
  const v = process.env["SHOAL_COMM_TURN_BYTES"];
  if (v === undefined || v === "") return 256 * 1024;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : Infinity; // 0 (or junk) turns the budget off
}

/** Weight of messages per packet (see {@link Comm.send}): ~10k small messages, or a 10k-task part of a graph. */
export const PACKET_WEIGHT = 10_000;

/** A message made when its packet is written (see {@link Comm.sendLazy}); null sends nothing. */
export type LazyMessage = () => Message | null;

export class Comm {
  /** Messages waiting for the next packet (or the functions that make them), and their weights. */
  private queue: (Message | LazyMessage)[] = [];
  private weights: number[] = [];
  private queueHead = 0;
  private scheduled = false;
  private closed = false;
  private readonly reader = new PacketReader(HANDSHAKE_LIMITS);
  private nextReq = 1;
  private readonly pending = new Map<number, Pending>();
  private messageHandler: ((msg: Message) => void) | null = null;
  private early: Message[] = [];
  private readonly closeHandlers: ((err: Error | null) => void)[] = [];
  /** Ops accepted from the peer; null = not checked (only inside the handshake). */
  private accepts: OpSet | null = null;
  private maxQueuedBytes = Number.POSITIVE_INFINITY;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  private drainWaiters: (() => void)[] = [];
  private readPaused = false;
  /** Bytes written and read, for metrics. */
  bytesOut = 0;
  bytesIn = 0;
  /** What this connection is, for log lines ("scheduler", "data port", ...). */
  role = "comm";
  /** Set by {@link unref}: the socket holds the event loop only while a request waits for its reply. */
  private weak = false;

  constructor(
    private readonly stream: Duplex,
    readonly localAddress: string,
    readonly peerAddress: string,
  ) {
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("error", (err) => this.shutdown(err));
    stream.on("close", () => this.shutdown(null));
    stream.on("end", () => this.shutdown(null));
    stream.on("drain", () => this.onDrain());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Raises the limits once the peer is authenticated, and sets which ops it
   * may send from now on (see `Accepts` in protocol/messages.ts).
   */
  open(limits: CommLimits, accepts: OpSet): void {
    this.reader.setLimits(limits);
    this.maxQueuedBytes = limits.maxQueuedBytes;
    this.accepts = accepts;
    // messages that came in before (pipelined after the handshake) are checked now
    for (const m of this.early) {
      const problem = checkMessage(m, accepts);
      if (problem !== null) {
        this.refuse(problem);
        return;
      }
    }
    if (limits.idleTimeoutMs > 0 && this.idleTimer === null) {
      const ms = limits.idleTimeoutMs;
      this.idleTimer = setInterval(() => {
        if (this.pending.size === 0 && this.stream.writableLength === 0 && Date.now() - this.lastActivity > ms) {
          this.close();
        }
      }, Math.max(50, Math.min(ms / 4, 10_000)));
      this.idleTimer.unref();
    }
  }

  /** Changes the ops accepted from the peer (e.g. once it has registered). */
  setAccepts(accepts: OpSet): void {
    this.accepts = accepts;
  }

  /** Sets the handler for messages that are not replies to our requests; messages that came earlier are delivered now. */
  onMessage(handler: ((msg: Message) => void) | null): void {
    this.messageHandler = handler;
    if (handler !== null && this.early.length > 0) {
      const early = this.early;
      this.early = [];
      for (const m of early) {
        if (this.closed) return;
        if (this.messageHandler === null) this.early.push(m);
        else this.deliver(m);
      }
    }
  }

  onClose(handler: (err: Error | null) => void): void {
    if (this.closed) queueMicrotask(() => handler(null));
    else this.closeHandlers.push(handler);
  }

  /**
   * Queues a message; the messages of this tick go out as one packet, up to
   * {@link PACKET_WEIGHT} in weight: the rest follow in the next packets,
   * one per turn of the event loop, so that neither this process (encoding)
   * nor the peer (decoding, handling) does a huge batch in one pass. A
   * message's weight is its cost in small-message units (a part of a graph
   * weighs its number of tasks). Order is kept.
   */
  send(msg: Message, weight = 1): void {
    this.enqueue(msg, weight);
  }

  private enqueue(msg: Message | LazyMessage, weight: number): void {
    if (this.closed) return;
    this.queue.push(msg);
    this.weights.push(weight);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.writeQueued);
    }
  }

  /**
   * Queues a message that `make` builds when its packet is written, in
   * order with everything else sent: a producer of a large stream of
   * messages (the parts of a million-task graph) pays for building each one
   * in the turn that sends it, not all at once in the caller's. `make`
   * returns null to send nothing; it must not throw (a throw closes the
   * connection, as an unencodable message does).
   */
  sendLazy(make: LazyMessage, weight = 1): void {
    this.enqueue(make, weight);
  }

  /**
   * Lets the process exit while this connection is open and idle: the
   * socket is unref'd, and ref'd again only while a request of ours waits
   * for its reply. Used for the links of an embedded cluster and of a
   * client, so a script that forgot `close()` ends when its work is done.
   */
  unref(): void {
    this.weak = true;
    this.updateRef();
  }

  private updateRef(): void {
    if (!this.weak) return;
    const s = this.stream as Partial<Pick<Socket, "ref" | "unref">>;
    if (this.pending.size > 0 && !this.closed) s.ref?.();
    else s.unref?.();
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
          this.updateRef();
          reject(new RequestTimeoutError(this.peerAddress, msg.op, timeoutMs));
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
      if (this.pending.size === 1) this.updateRef();
      this.send({ ...msg, reqId });
    });
  }

  /** Replies to a request message. */
  reply(req: Message, body: Record<string, unknown>): void {
    this.send({ op: "reply", reqId: req["reqId"], ...body });
  }

  /**
   * Resolves when what was sent so far has left for the socket and its
   * buffer is below the high-water mark: producers of bulk data await this
   * between chunks, so a peer that reads slowly slows them down instead of
   * filling memory. Resolves at once on a closed connection.
   */
  flush(): Promise<void> {
    while (this.scheduled && !this.closed) this.writeQueued();
    if (this.closed || !this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Bytes written to the socket and not yet sent. */
  get queuedBytes(): number {
    return this.stream.writableLength;
  }

  /** Stops reading from the peer (TCP backpressure on its sends) until {@link resumeReading}. */
  pauseReading(): void {
    if (this.readPaused || this.closed) return;
    this.readPaused = true;
    this.stream.pause();
  }

  resumeReading(): void {
    if (!this.readPaused || this.closed) return;
    this.readPaused = false;
    if (!this.yielding) this.stream.resume();
  }

  /** Bytes of packets handled in this turn of the event loop (see {@link TURN_BYTES}). */
  private turnBytes = 0;
  private yielding = false;

  /**
   * After a turn's worth of packets, stops reading until the next turn:
   * a socket with a backlog is otherwise read (up to 32 chunks per poll)
   * and handled in one pass, holding off timers (heartbeats, the
   * scheduler's tick) for as long as the backlog takes.
   */
  private countTurn(bytes: number): void {
    if (this.turnBytes === 0 && !this.yielding) setImmediate(this.endTurn);
    this.turnBytes += bytes;
    if (this.turnBytes >= TURN_BYTES && !this.yielding && !this.closed) {
      this.yielding = true;
      this.stream.pause();
    }
  }

  private readonly endTurn = (): void => {
    this.turnBytes = 0;
    if (!this.yielding) return;
    this.yielding = false;
    if (!this.readPaused && !this.closed) setTimeout(() => { if (!this.readPaused && !this.closed && !this.yielding) this.stream.resume(); }, 0);
  };

  private onDrain(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const r of w) r();
  }

  private clearQueue(): void {
    this.queue = [];
    this.weights = [];
    this.queueHead = 0;
  }

  private readonly writeQueued = (): void => {
    this.scheduled = false;
    if (this.closed || this.queueHead >= this.queue.length) return;
    const s = this.stream;
    if (s.writableLength > this.maxQueuedBytes) {
      this.abort(new ProtocolError(`${this.peerAddress} is not reading: ${s.writableLength} bytes are waiting to be sent (limit ${this.maxQueuedBytes}, SHOAL_COMM_MAX_QUEUED_BYTES); disconnecting it`));
      return;
    }
    // take messages up to the packet's weight (at least one)
    let end = this.queueHead;
    let weight = 0;
    do weight += this.weights[end++]!;
    while (end < this.queue.length && weight + this.weights[end]! <= PACKET_WEIGHT);
    const queued = this.queueHead === 0 && end === this.queue.length ? this.queue : this.queue.slice(this.queueHead, end);
    if (end === this.queue.length) {
      this.clearQueue();
    } else {
      this.queueHead = end;
      if (end > 4096 && end * 2 > this.queue.length) {
        this.queue = this.queue.slice(end);
        this.weights = this.weights.slice(end);
        this.queueHead = 0;
      }
      this.scheduled = true;
      setImmediate(this.writeQueued);
    }
    let bufs: Uint8Array[];
    try {
      let msgs = queued as Message[];
      for (let i = 0; i < queued.length; i++) {
        if (typeof queued[i] !== "function") continue;
        msgs = [];
        for (const m of queued) {
          const v = typeof m === "function" ? m() : m;
          if (v !== null) msgs.push(v);
        }
        break;
      }
      if (msgs.length === 0) return;
      bufs = encodePacket(msgs);
    } catch (err) {
      this.shutdown(new ProtocolError(`cannot encode message to ${this.peerAddress}`, { cause: err }));
      return;
    }
    this.lastActivity = Date.now();
    s.cork();
    for (const b of bufs) {
      this.bytesOut += b.byteLength;
      s.write(b);
    }
    s.uncork();
  };

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.byteLength;
    this.lastActivity = Date.now();
    let packets: Uint8Array[][];
    try {
      packets = this.reader.push(chunk);
    } catch (err) {
      this.refuse(`corrupt data: ${(err as Error).message}`);
      return;
    }
    for (const frames of packets) {
      let msgs: unknown[];
      try {
        msgs = decodePacket(frames);
      } catch (err) {
        this.refuse(`undecodable packet: ${(err as Error).message}`);
        return;
      }
      for (const m of msgs) {
        this.dispatch(m);
        if (this.closed) return;
      }
      let bytes = 0;
      for (const f of frames) bytes += f.byteLength;
      this.countTurn(bytes);
    }
  }

  private dispatch(raw: unknown): void {
    if (this.accepts !== null) {
      const problem = checkMessage(raw, this.accepts);
      if (problem !== null) {
        this.refuse(problem);
        return;
      }
    } else if (typeof raw !== "object" || raw === null || typeof (raw as Message).op !== "string") {
      this.refuse("a message must be an object with a string op");
      return;
    }
    const msg = raw as Message;
    if (msg.op === "reply") {
      const id = msg["reqId"];
      const p = typeof id === "number" ? this.pending.get(id) : undefined;
      if (p) {
        this.pending.delete(id as number);
        if (this.pending.size === 0) this.updateRef();
        p.resolve(msg);
      }
      return;
    }
    if (msg.op === "protocol-error") {
      const text = typeof msg["message"] === "string" ? msg["message"] : "no reason given";
      this.abort(new ProtocolError(`${this.peerAddress} refused a message from us and closed the connection: ${text}`));
      return;
    }
    if (this.messageHandler === null) {
      if (this.early.length >= MAX_EARLY_MESSAGES) this.refuse("too many messages before the connection was ready");
      else this.early.push(msg);
      return;
    }
    this.deliver(msg);
  }

  private deliver(msg: Message): void {
    try {
      this.messageHandler!(msg);
    } catch (err) {
      log(this.role, `error handling '${msg.op}' from ${this.peerAddress}; closing that connection: ${(err as Error).stack ?? String(err)}`);
      this.send({ op: "protocol-error", message: `internal error handling '${msg.op}': ${(err as Error).message}` });
      this.close();
    }
  }

  /**
   * Refuses the peer: logs why (rate-limited), tells the peer in a
   * `protocol-error` message, and closes the connection.
   */
  refuse(problem: string): void {
    if (this.closed) return;
    refusalLog(this.role, `refused ${this.peerAddress}: ${problem}`);
    this.clearQueue();
    this.maxQueuedBytes = Number.POSITIVE_INFINITY;
    this.send({ op: "protocol-error", message: problem.slice(0, 500) });
    this.writeQueued();
    this.stream.end();
    this.shutdown(new ProtocolError(problem));
  }

  /** Flushes queued messages and closes the connection. */
  close(): void {
    if (this.closed) return;
    this.writeQueued();
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
    this.clearQueue();
    this.early = [];
    if (this.idleTimer) clearInterval(this.idleTimer);
    const closedErr = err instanceof ProtocolError ? err : new CommClosedError(this.peerAddress, err ? { cause: err } : {});
    for (const p of this.pending.values()) p.reject(closedErr);
    this.pending.clear();
    this.onDrain();
    if (this.readPaused || this.yielding) this.stream.resume();
    if (!this.stream.destroyed) setTimeout(() => this.stream.destroy(), 1000).unref();
    for (const h of this.closeHandlers.splice(0)) h(err);
  }
}

/**
 * Refusal log lines: the first 20 of every 10 s of each kind, then a count
 * (a flood of bad peers must not flood the log, nor hide the other kinds).
 */
const refusals = new Map<string, { windowStart: number; logged: number; dropped: number }>();
export function refusalLog(role: string, line: string, kind = "message"): void {
  const now = Date.now();
  let r = refusals.get(kind);
  if (!r) refusals.set(kind, (r = { windowStart: now, logged: 0, dropped: 0 }));
  if (now - r.windowStart > 10_000) {
    if (r.dropped > 0) log(role, `... and ${r.dropped} more refusal(s) of this kind (${kind}) in the last 10 s`);
    r.windowStart = now;
    r.logged = 0;
    r.dropped = 0;
  }
  if (r.logged < 20) {
    r.logged++;
    log(role, line);
  } else r.dropped++;
}
