/**
 * The data plane: a worker's data port, which peers and clients fetch
 * results from with `get-data`, and {@link fetchData}, the requesting side.
 *
 * Bounded by construction:
 * - a reply carries at most `replyBytes` of values (at least one value); the
 *   keys it leaves out are named in `later`, and the requester asks again;
 * - one connection's requests are served one after the other, and the next
 *   reply is built only once the previous one has drained to the socket, so
 *   a peer that stops reading stops the worker reading values for it (values
 *   spilled to disk are read for the reply and dropped after it, never
 *   brought back into memory);
 * - while more than a few requests of one connection wait, the worker stops
 *   reading from it (TCP backpressure);
 * - at most `maxConcurrent` replies are being built and sent at once across
 *   all connections (Dask: `distributed.worker.connections.incoming`).
 */
import { CommClosedError, connect, type Comm, type ConnectOptions, type Message } from "../comm/index.ts";
import { Op } from "../protocol/messages.ts";
import { asPayload, isPayload } from "../protocol/wire.ts";
import { Resident } from "./store.ts";
import { payloadBytes, type Payload } from "../protocol/serialize.ts";

export interface DataPlaneLimits {
  /** Bytes of values in one reply (default 64 MiB). */
  replyBytes: number;
  /** Replies built and sent at once, across all connections (default 10). */
  maxConcurrent: number;
  /** Requests of one connection queued before its reading pauses (default 4). */
  maxQueuedRequests: number;
}

export const DEFAULT_DATA_PLANE_LIMITS: DataPlaneLimits = { replyBytes: 64 * 1024 ** 2, maxConcurrent: 10, maxQueuedRequests: 4 };

/** Where the data server finds values: a payload, a value resident in an executor thread, or nothing. */
export interface ValueSource {
  read(key: string): Payload | Resident | undefined;
  /** Has a resident value's bytes written by its thread. */
  encode(key: string): Promise<Payload | undefined>;
}

/** A counting semaphore. */
class Slots {
  private busy = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly size: number) {}
  async take(): Promise<void> {
    if (this.busy < this.size) {
      this.busy++;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy--;
  }
}

export class DataServer {
  private readonly slots: Slots;
  /** Replies being built or sent now (for tests and metrics). */
  active = 0;

  constructor(private readonly source: ValueSource, readonly limits: DataPlaneLimits = DEFAULT_DATA_PLANE_LIMITS) {
    this.slots = new Slots(limits.maxConcurrent);
  }

  /** Serves one connection (authenticated by the listener's handshake; it accepts only `get-data`). */
  serve(comm: Comm): void {
    const queue: Message[] = [];
    let running = false;
    const pump = async (): Promise<void> => {
      running = true;
      while (queue.length > 0 && !comm.isClosed) {
        const m = queue.shift()!;
        if (queue.length < this.limits.maxQueuedRequests) comm.resumeReading();
        await this.slots.take();
        this.active++;
        try {
          await comm.flush();
          if (comm.isClosed) break;
          comm.reply(m, await this.reply((m as unknown as { keys: string[] }).keys));
          await comm.flush();
        } finally {
          this.active--;
          this.slots.give();
        }
      }
      running = false;
    };
    comm.onMessage((m) => {
      if (m.op !== Op.getData) return;
      queue.push(m);
      if (queue.length >= this.limits.maxQueuedRequests) comm.pauseReading();
      if (!running) void pump();
    });
  }

  private async reply(keys: string[]): Promise<{ data: Record<string, Payload>; missing: string[]; later?: string[] }> {
    const data: Record<string, Payload> = {};
    const missing: string[] = [];
    let bytes = 0;
    let i = 0;
    for (; i < keys.length; i++) {
      if (bytes >= this.limits.replyBytes) break;
      const k = keys[i]!;
      const v = this.source.read(k);
      // a value resident in an executor thread has its bytes written first
      const p = v instanceof Resident ? await this.source.encode(k).catch(() => undefined) : v;
      if (p) {
        data[k] = asPayload(p);
        bytes += payloadBytes(p);
      } else missing.push(k);
    }
    return i < keys.length ? { data, missing, later: keys.slice(i) } : { data, missing };
  }
}

export interface FetchedData {
  data: Map<string, Payload>;
  /** Keys the peer said it does not have. */
  missing: string[];
}

/**
 * Fetches values from a worker's data port, asking again for what a reply
 * left for later. A reply that is not the shape of a get-data reply is a
 * protocol error (the connection is refused and closed).
 */
export async function fetchData(comm: Comm, keys: readonly string[], timeoutMs: number): Promise<FetchedData> {
  const data = new Map<string, Payload>();
  const missing: string[] = [];
  let ask: readonly string[] = keys;
  while (ask.length > 0) {
    const r = await comm.request({ op: Op.getData, keys: [...ask] }, timeoutMs);
    const got = r["data"] ?? {};
    const miss = r["missing"] ?? [];
    const later = r["later"] ?? [];
    if (typeof got !== "object" || got === null || !Array.isArray(miss) || !Array.isArray(later) || later.length >= ask.length) {
      comm.refuse("get-data reply: expected { data: a map of payloads, missing: keys, later?: fewer keys than asked }");
      throw new Error(`${comm.peerAddress} sent a malformed get-data reply`);
    }
    for (const [k, p] of Object.entries(got as Record<string, unknown>)) {
      if (!isPayload(p)) {
        comm.refuse(`get-data reply: data.${k} must be binary data`);
        throw new Error(`${comm.peerAddress} sent a malformed get-data reply`);
      }
      data.set(k, p);
    }
    for (const k of miss) if (typeof k === "string") missing.push(k);
    ask = later.filter((k): k is string => typeof k === "string");
  }
  return { data, missing };
}

/**
 * Connections to other workers' data ports, one per peer, opened on first
 * use and dropped when they close. A cached connection that turns out closed
 * (the peer's idle timeout, a restart) is replaced by a fresh one once.
 */
export class PeerPool {
  private readonly peers = new Map<string, Promise<Comm>>();

  constructor(private readonly options: () => ConnectOptions, private readonly timeoutMs = 60_000) {}

  async fetch(peer: string, keys: readonly string[]): Promise<FetchedData> {
    const cached = this.peers.has(peer);
    try {
      return await fetchData(await this.get(peer), keys, this.timeoutMs);
    } catch (err) {
      this.peers.delete(peer);
      if (!cached || !(err instanceof CommClosedError) || err.code === "request-timeout") throw err;
      return await fetchData(await this.get(peer), keys, this.timeoutMs);
    }
  }

  private get(address: string): Promise<Comm> {
    let p = this.peers.get(address);
    if (!p) {
      const made = connect(address, { ...this.options(), timeoutMs: 5000 }).then((c) => {
        c.onClose(() => {
          if (this.peers.get(address) === made) this.peers.delete(address);
        });
        return c;
      });
      made.catch(() => {
        if (this.peers.get(address) === made) this.peers.delete(address);
      });
      this.peers.set(address, made);
      p = made;
    }
    return p;
  }

  close(): void {
    for (const p of this.peers.values()) p.then((c) => c.close(), () => undefined);
    this.peers.clear();
  }
}
