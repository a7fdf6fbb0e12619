// Hostile peers for the engine's network edges: raw sockets that speak as
// much of the protocol as a case needs, and a seeded generator of bad input.
// Used by test/engine/wire-edges.test.ts (a few hundred cases) and
// bench/fuzz.ts (as many as asked, against real processes).
import net from "node:net";
import { createHmac, randomBytes } from "node:crypto";
import { decodePacket, encodePacket, PacketReader, asPayload } from "../../src/protocol/wire.ts";
import { Messages, PROTOCOL_VERSION, type OpName } from "../../src/protocol/messages.ts";
import { parseAddress } from "../../src/comm/address.ts";
import { VERSION } from "../../src/version.ts";

export { rng } from "./rng.ts";
import { rng } from "./rng.ts";

export function packet(msgs: unknown[]): Buffer {
  return Buffer.concat(encodePacket(msgs));
}

/** A raw TCP connection that records what comes back and when it closes. */
export class RawPeer {
  readonly sock: net.Socket;
  private readonly reader = new PacketReader({ maxPacketBytes: 1 << 30, maxFrames: 1 << 20 });
  readonly received: unknown[] = [];
  bytesIn = 0;
  closed = false;
  readonly closedAt: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(address: string) {
    const a = parseAddress(address);
    this.sock = net.connect({ host: a.host, port: a.port });
    this.sock.on("error", () => undefined);
    this.closedAt = new Promise((r) => this.sock.once("close", () => { this.closed = true; this.wake(); r(); }));
    this.sock.on("data", (c: Buffer) => {
      this.bytesIn += c.byteLength;
      try {
        for (const frames of this.reader.push(c)) this.received.push(...decodePacket(frames));
      } catch {
        /* the peer may cut a packet short when it closes */
      }
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.sock.readyState === "open") resolve();
      this.sock.once("connect", () => resolve());
      this.sock.once("error", reject);
    });
  }

  write(b: Buffer | Uint8Array): void {
    if (!this.sock.destroyed) this.sock.write(b);
  }

  /** Waits for a message that satisfies `pred` (or for the close: then undefined). */
  async next(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.received.find((x) => typeof x === "object" && x !== null && pred(x as Record<string, unknown>));
      if (m) return m as Record<string, unknown>;
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error("timed out waiting for a message");
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50).unref();
      });
    }
  }

  /** Runs the client half of the connection handshake (with the token's proof when given). */
  async handshake(token?: string, protocol = PROTOCOL_VERSION): Promise<Record<string, unknown> | undefined> {
    const hello = await this.next((m) => m["op"] === "hello");
    if (!hello) return undefined;
    const nonce = randomBytes(18).toString("base64");
    const mac = token === undefined ? undefined : createHmac("sha256", token).update(`shoal-auth\0${String(hello["nonce"])}\0${nonce}`).digest("base64");
    this.write(packet([{ op: "auth", protocol, version: VERSION, nonce, ...(mac ? { mac } : {}) }]));
    return this.next((m) => m["op"] === "welcome" || m["op"] === "refused");
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** A valid-looking message of each op, to mutate. */
export function sampleMessages(): Record<OpName, Record<string, unknown>> {
  const p = asPayload({ header: new Uint8Array([1, 2, 3]), frames: [] });
  const err = { name: "Error", message: "x", stack: "" };
  return {
    "register-worker": { name: "w", address: "tcp://127.0.0.1:1", nthreads: 1, memoryLimit: 0, pid: 1, host: "h", version: VERSION, instance: "i", keys: [] },
    "register-client": { id: "c", version: VERSION },
    "update-graph": { tasks: [{ key: "k", spec: p, deps: [], order: 0 }], keys: ["k"] },
    "release-keys": { keys: ["k"] },
    "cancel-keys": { keys: ["k"] },
    gather: { keys: ["k"] },
    scatter: { data: { k: p }, broadcast: false },
    identity: {},
    "put-code": { hash: "h", code: p },
    "get-code": { hash: "h" },
    "close-client": {},
    story: { keys: ["k"] },
    progress: { watch: "w" },
    "who-has": { keys: ["k"] },
    "key-in-memory": { key: "k", type: "t", nbytes: 1 },
    "key-erred": { key: "k", error: err },
    "key-cancelled": { key: "k" },
    "task-started": { key: "k", runId: 1 },
    "task-finished": { key: "k", runId: 1, nbytes: 1, type: "t", start: 0, stop: 0 },
    "task-erred": { key: "k", runId: 1, error: err, start: 0, stop: 0 },
    "missing-data": { key: "k", errant: "tcp://127.0.0.1:1" },
    "add-keys": { keys: ["k"] },
    heartbeat: { metrics: { cpu: 1 } },
    unregister: {},
    "compute-task": { key: "k", spec: p, deps: {}, priority: [0], runId: 1 },
    "free-keys": { keys: ["k"] },
    "put-data": { key: "k", value: p, nbytes: 3 },
    "close-worker": {},
    "get-data": { keys: ["k"] },
    "protocol-error": { message: "m" },
  };
}

const WRONG: unknown[] = [null, 5, -1.5, "s", "", true, [], [1, "a"], {}, { a: 1 }, [[[]]], 2 ** 60, Number.NaN];

/** One hostile input, as bytes to write after the handshake (or instead of it). */
export function hostileBytes(r: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const samples = sampleMessages();
  const ops = Object.keys(Messages) as OpName[];
  const kind = Math.floor(r() * 7);
  switch (kind) {
    case 0: // random bytes
      return randomBuf(r, 1 + Math.floor(r() * 200));
    case 1: { // a valid packet, truncated
      const b = packet([{ op: pick(ops), ...samples[pick(ops)] }]);
      return b.subarray(0, Math.floor(r() * b.length));
    }
    case 2: { // a valid packet with random bytes flipped
      const b = Buffer.from(packet([{ op: pick(ops), ...samples[pick(ops)] }]));
      for (let i = 0; i < 1 + r() * 4; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      return b;
    }
    case 3: { // hostile length prefixes
      const h = Buffer.alloc(12);
      h.writeUInt32LE(pick([0, 1, 2, 0xffff_ffff, 1 << 20, 1 + Math.floor(r() * 1000)]), 0);
      h.writeUInt32LE(pick([0, 1, 0xffff_ffff, 768 * 2 ** 20, Math.floor(r() * 2 ** 32)]), 4);
      h.writeUInt32LE(Math.floor(r() * 2 ** 32), 8);
      return h;
    }
    case 4: { // a valid message of a random op with one field of the wrong type
      const op = pick(ops);
      const m: Record<string, unknown> = { op, ...samples[op] };
      const fields = Object.keys(m).filter((k) => k !== "op");
      if (fields.length > 0) m[pick(fields)] = pick(WRONG);
      return packet([m]);
    }
    case 5: // messages that are not objects, or have no op
      return packet([pick<unknown>([null, 1, "x", [], { op: 7 }, { op: "no-such-op" }, { noop: 1 }])]);
    default: { // a valid message of a random op, possibly not allowed on this link
      const op = pick(ops);
      return packet([{ op, ...samples[op], reqId: Math.floor(r() * 10) }]);
    }
  }
}

function randomBuf(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/**
 * Runs `n` hostile connections against `address`: each does the handshake
 * (with `token`, or not, or a wrong one, at random), optionally registers
 * as `register` says, writes hostile bytes and waits until the peer closes
 * or `settleMs` passes. Returns how the connections ended.
 */
export async function fuzzPort(address: string, opts: { seed: number; n: number; token?: string; register?: "worker" | "client" | "none"; settleMs?: number; concurrency?: number }): Promise<{ closedByPeer: number; stillOpen: number; refusals: number }> {
  const r = rng(opts.seed);
  let closedByPeer = 0;
  let stillOpen = 0;
  let refusals = 0;
  const one = async (i: number): Promise<void> => {
    const peer = new RawPeer(address);
    try {
      await peer.connected();
      const mode = r();
      if (mode < 0.15) {
        peer.write(hostileBytes(r)); // before the handshake
      } else {
        const token = mode < 0.25 ? "wrong-token" : opts.token;
        const answer = await peer.handshake(token);
        if (answer?.["op"] === "welcome") {
          if (opts.register === "worker") peer.write(packet([{ op: "register-worker", ...sampleMessages()["register-worker"], address: `tcp://127.0.0.1:${40000 + i}`, instance: `fuzz-${i}`, reqId: 1 }]));
          if (opts.register === "client") peer.write(packet([{ op: "register-client", id: `fuzz-${opts.seed}-${i}`, reqId: 1 }]));
          for (let k = 0; k < 1 + Math.floor(r() * 3); k++) peer.write(hostileBytes(r));
        }
      }
      await Promise.race([peer.closedAt, new Promise((res) => setTimeout(res, opts.settleMs ?? 300))]);
      if (peer.received.some((m) => typeof m === "object" && m !== null && ((m as { op?: string }).op === "protocol-error" || (m as { op?: string }).op === "refused"))) refusals++;
      if (peer.closed) closedByPeer++;
      else stillOpen++;
    } finally {
      peer.destroy();
    }
  };
  const conc = opts.concurrency ?? 8;
  for (let i = 0; i < opts.n; i += conc) {
    await Promise.all(Array.from({ length: Math.min(conc, opts.n - i) }, (_, j) => one(i + j)));
  }
  return { closedByPeer, stillOpen, refusals };
}
