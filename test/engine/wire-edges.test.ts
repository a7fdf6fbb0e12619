// Tier 2: the network edges of a token-protected cluster on loopback (real
// sockets) under hostile input: forged and malformed packets, peers without
// the token, oversized and silent connections, and a seeded protocol fuzz.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { WorkerServer } from "../../src/worker/server.ts";
import { Client } from "../../src/client/client.ts";
import { connect, HandshakeError, listen, ProtocolError } from "../../src/comm/index.ts";
import { TURN_BYTES } from "../../src/comm/comm.ts";
import { Accepts, PROTOCOL_VERSION } from "../../src/protocol/messages.ts";
import { inc, makeBytes } from "../fixtures/tasks.ts";
import { fuzzPort, packet, RawPeer } from "../support/wire-fuzz.ts";
import { startHarness, until, type Harness } from "./harness.ts";

const TOKEN = "s3cret-token";

function tokenCluster(limits: Record<string, number> = {}): Promise<Harness> {
  return startHarness({ token: TOKEN, limits });
}

/** The cluster still computes, and fetches a result that lives on a worker. */
async function stillServes(client: Client): Promise<void> {
  assert.equal(await client.submit(inc, 41).result(), 42);
  const big = (await client.submit(makeBytes, 20_000).result()) as Float64Array;
  assert.equal(big.length, 20_000);
}

test("the 10-byte packet that killed the scheduler before authentication is refused; get-data with keys: 5 does not kill a worker", async () => {
  const c = await tokenCluster();
  try {
    // u32 nframes=1 | u32 len=2 | msgpack [nil]
    const p = new RawPeer(c.scheduler.address);
    await p.connected();
    p.write(Buffer.from("01000000020000009" + "1c0", "hex"));
    await p.closedAt;
    assert.ok(p.received.some((m) => (m as { op?: string }).op === "protocol-error"), "the peer is told why");
    // the same after a valid handshake, as a registered client
    const q = new RawPeer(c.scheduler.address);
    await q.connected();
    assert.equal((await q.handshake(TOKEN))?.["op"], "welcome");
    q.write(packet([{ op: "register-client", id: "raw", reqId: 1 }]));
    q.write(packet([null, { op: "update-graph", tasks: 5, keys: [] }]));
    await q.closedAt;
    const why = q.received.find((m) => (m as { op?: string }).op === "protocol-error") as { message: string } | undefined;
    assert.ok(why, "refused with a protocol-error");
    // a worker's data port, with the token: keys must be a list of strings
    const comm = await connect(c.workers[0]!.address, { token: TOKEN });
    await assert.rejects(comm.request({ op: "get-data", keys: 5 }, 5000), (e: Error) => e instanceof ProtocolError && /get-data: keys must be an array/.test(e.message));
    await stillServes(c.client);
  } finally {
    await c.close();
  }
});

test("every link needs the cluster token: scheduler, worker data ports, peers; the token never crosses the wire", async () => {
  const c = await tokenCluster();
  try {
    const fut = c.client.submit(makeBytes, 30_000);
    await fut.result();
    const holder = c.workers.find((w) => w.address !== "")!;
    for (const address of [c.scheduler.address, ...c.workers.map((w) => w.address)]) {
      await assert.rejects(connect(address, { role: "client" }), (e: Error) => e instanceof HandshakeError && e.reason === "bad-token" && /requires the cluster token/.test(e.message));
      await assert.rejects(connect(address, { role: "client", token: "wrong" }), (e: Error) => e instanceof HandshakeError && e.reason === "bad-token" && /the one given is wrong/.test(e.message));
    }
    // a raw get-data without any handshake gets no data, only a refusal
    const raw = new RawPeer(holder.address);
    await raw.connected();
    raw.write(packet([{ op: "auth", protocol: PROTOCOL_VERSION, version: "x", nonce: "n" }]));
    raw.write(packet([{ op: "get-data", keys: [fut.key], reqId: 1 }]));
    await raw.closedAt;
    assert.ok(!raw.received.some((m) => (m as { op?: string }).op === "reply"), "no data without the token");
    // a worker or client with the wrong token cannot join
    const bad = new WorkerServer({ scheduler: c.scheduler.address, nthreads: 1, token: "nope" });
    await assert.rejects(bad.start(), /refused this worker.*token/);
    await bad.close();
    await assert.rejects(Client.connect({ address: c.scheduler.address, token: "nope", timeout: 5000 }), /refused this client.*token/);
    // what a client sends on the wire (through a recording proxy) never holds the token
    const seen: Buffer[] = [];
    const proxy = net.createServer((down) => {
      const up = net.connect(Number(c.scheduler.address.split(":").pop()), "127.0.0.1");
      down.on("data", (b) => {
        seen.push(b);
        up.write(b);
      });
      up.on("data", (b) => {
        seen.push(b);
        down.write(b);
      });
      down.on("close", () => up.destroy());
      up.on("close", () => down.destroy());
      down.on("error", () => undefined);
      up.on("error", () => undefined);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const viaProxy = await Client.connect({ address: `tcp://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, token: TOKEN });
    assert.equal(await viaProxy.submit(inc, 1).result(), 2);
    await viaProxy.close();
    proxy.close();
    assert.ok(seen.length > 0);
    assert.ok(!Buffer.concat(seen).includes(Buffer.from(TOKEN)), "the token itself is not sent");
    await stillServes(c.client);
  } finally {
    await c.close();
  }
});

test("a protocol version mismatch is refused, naming both versions", async () => {
  const c = await tokenCluster();
  try {
    const p = new RawPeer(c.scheduler.address);
    await p.connected();
    const answer = await p.handshake(TOKEN, 999);
    assert.equal(answer?.["op"], "refused");
    assert.equal(answer?.["reason"], "protocol-mismatch");
    assert.match(String(answer?.["message"]), new RegExp(`protocol 999 .*protocol ${PROTOCOL_VERSION}`));
  } finally {
    await c.close();
  }
});

test("registrations are checked: missing fields are refused by name; a forged registration does not displace a live worker", async () => {
  const c = await tokenCluster();
  try {
    const missing = await connect(c.scheduler.address, { token: TOKEN });
    await assert.rejects(missing.request({ op: "register-worker", name: "x" }, 5000), /register-worker: address must be a string/);
    const victim = c.workers[0]!;
    const forger = await connect(c.scheduler.address, { token: TOKEN, accepts: Accepts.workerFromScheduler });
    const r = await forger.request({ op: "register-worker", name: "evil", address: victim.address, nthreads: 1, memoryLimit: 0, pid: 1, host: "h", version: "x", instance: "forged", keys: [] }, 5000);
    assert.equal(r["status"], "refused");
    assert.match(String(r["message"]), /already registered/);
    assert.equal(c.scheduler.state.workers.size, 2);
    // a client may not send worker messages, nor unknown ones
    const cl = await connect(c.scheduler.address, { token: TOKEN, accepts: Accepts.clientFromScheduler });
    await cl.request({ op: "register-client", id: "c2" }, 5000);
    await assert.rejects(cl.request({ op: "task-finished", key: "k", runId: 1, nbytes: 1, type: "", start: 0, stop: 0 }, 5000), /not accepted on this connection/);
    const cl2 = await connect(c.scheduler.address, { token: TOKEN });
    await cl2.request({ op: "register-client", id: "c3" }, 5000);
    await assert.rejects(cl2.request({ op: "launch-missiles" }, 5000), /unknown op 'launch-missiles'/);
    await stillServes(c.client);
  } finally {
    await c.close();
  }
});

test("before the handshake only a small frame is read: huge length prefixes are refused before any body is buffered", async () => {
  const c = await tokenCluster();
  try {
    const rss0 = process.memoryUsage.rss();
    // 768 MiB announced, then streamed
    const p = new RawPeer(c.scheduler.address);
    await p.connected();
    const head = Buffer.alloc(8);
    head.writeUInt32LE(1, 0);
    head.writeUInt32LE(768 * 2 ** 20, 4);
    p.write(head);
    const junk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 64 && !p.closed; i++) p.write(junk);
    await p.closedAt;
    // a header announcing a million frames
    const q = new RawPeer(c.workers[0]!.address);
    await q.connected();
    const h2 = Buffer.alloc(4);
    h2.writeUInt32LE(1 << 20, 0);
    q.write(h2);
    await q.closedAt;
    assert.ok(process.memoryUsage.rss() - rss0 < 256 * 2 ** 20, "memory did not grow with what the peers sent");
    await stillServes(c.client);
  } finally {
    await c.close();
  }
});

test("silent and half-header connections are closed at the handshake deadline; the connection cap turns away the excess with a log line", async () => {
  const c = await tokenCluster({ handshakeTimeoutMs: 2000, maxHandshakes: 4 });
  try {
    const silent = Array.from({ length: 3 }, () => new RawPeer(c.scheduler.address));
    const half = new RawPeer(c.scheduler.address);
    await Promise.all([...silent, half].map((p) => p.connected()));
    half.write(Buffer.from([1, 0, 0]));
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    const quiet = process.env["SHOAL_QUIET"];
    delete process.env["SHOAL_QUIET"];
    try {
      const excess = new RawPeer(c.scheduler.address);
      await excess.closedAt; // turned away at once: 4 are in their handshake
      assert.equal(excess.received.length, 0);
    } finally {
      process.stderr.write = write;
      if (quiet !== undefined) process.env["SHOAL_QUIET"] = quiet;
    }
    assert.ok(lines.some((l) => /turned away a connection .* in their handshake \(limit 4/.test(l)), `a log line says why: ${lines.join("")}`);
    await Promise.all([...silent, half].map((p) => p.closedAt));
    // the door is open again
    const ok = await Client.connect({ address: c.scheduler.address, token: TOKEN });
    assert.equal(await ok.submit(inc, 1).result(), 2);
    await ok.close();
  } finally {
    await c.close();
  }
});

test("protocol fuzz: random, truncated, mutated and mistyped frames at the scheduler and data ports; nothing crashes or hangs, memory stays bounded", async () => {
  const c = await tokenCluster({ handshakeTimeoutMs: 2000 });
  try {
    const rss0 = process.memoryUsage.rss();
    const seed = Number(process.env["SHOAL_FUZZ_SEED"] ?? "20261207");
    const n = Number(process.env["SHOAL_FUZZ_N"] ?? "120");
    const results = [
      await fuzzPort(c.scheduler.address, { seed, n, token: TOKEN, register: "none" }),
      await fuzzPort(c.scheduler.address, { seed: seed + 1, n, token: TOKEN, register: "client" }),
      await fuzzPort(c.scheduler.address, { seed: seed + 2, n, token: TOKEN, register: "worker" }),
      await fuzzPort(c.workers[0]!.address, { seed: seed + 3, n, token: TOKEN }),
    ];
    for (const r of results) assert.ok(r.refusals > n / 3, `most hostile connections are refused with a reason (${JSON.stringify(r)})`);
    await until(() => c.scheduler.state.workers.size === 2, "fuzzing 'workers' to be gone");
    await stillServes(c.client);
    assert.ok(process.memoryUsage.rss() - rss0 < 300 * 2 ** 20, "memory bounded");
  } finally {
    await c.close();
  }
});

test("a peer that leaves more than maxQueuedBytes unread is disconnected as too slow; the listener stays up", async () => {
  let serverSide: import("../../src/comm/index.ts").Comm | null = null;
  const l = await listen("tcp://127.0.0.1:0", (c) => (serverSide = c), { name: "test listener", accepts: Accepts.none, limits: { maxQueuedBytes: 4 * 2 ** 20 } });
  try {
    const peer = await connect(l.address, { timeoutMs: 5000 });
    peer.pauseReading();
    await until(() => serverSide !== null, "the server side of the connection");
    const s = serverSide!;
    const closed = new Promise<Error | null>((r) => s.onClose(r));
    const chunk = "x".repeat(256 * 1024);
    for (let i = 0; i < 200 && !s.isClosed; i++) {
      s.send({ op: "key-cancelled", key: chunk });
      await new Promise((r) => setImmediate(r));
    }
    const err = await closed;
    assert.ok(err instanceof ProtocolError && /is not reading/.test(err.message), String(err));
    const again = await connect(l.address, { timeoutMs: 5000 });
    again.close();
    peer.close();
  } finally {
    await l.close();
  }
});

test("idle connections to a worker's data port are closed after the idle timeout; clients reconnect when they need data", async () => {
  process.env["SHOAL_COMM_DATA_IDLE_TIMEOUT"] = "0.3";
  let c: Awaited<ReturnType<typeof tokenCluster>> | null = null;
  try {
    c = await tokenCluster();
    const idle = await connect(c.workers[0]!.address, { token: TOKEN });
    await until(() => idle.isClosed, "the idle connection to be closed", 10_000);
    await stillServes(c.client);
    // the client's cached connection to the worker times out too: every data port ends up with none open
    const ports = c.workers.map((w) => (w as unknown as { listener: { connections: number } }).listener);
    await until(() => ports.every((l) => l.connections === 0), "the client's cached data connections to be closed", 10_000);
    await stillServes(c.client);
  } finally {
    delete process.env["SHOAL_COMM_DATA_IDLE_TIMEOUT"];
    await c?.close();
  }
});

test("sendLazy: a message made when its packet is written keeps its place among plain sends; null sends nothing; a make that has not run yet costs nothing", async () => {
  let serverSide: import("../../src/comm/index.ts").Comm | null = null;
  const l = await listen("tcp://127.0.0.1:0", (c) => (serverSide = c), { name: "test listener", accepts: Accepts.clientFromScheduler });
  try {
    const peer = await connect(l.address, { timeoutMs: 5000, accepts: Accepts.clientFromScheduler });
    await until(() => serverSide !== null, "the server side of the connection");
    const got: string[] = [];
    serverSide!.onMessage((m) => void got.push(m["key"] as string));
    const made: number[] = [];
    peer.send({ op: "key-cancelled", key: "a" });
    peer.sendLazy(() => (made.push(1), { op: "key-cancelled", key: "b" }), 10_000);
    peer.sendLazy(() => (made.push(2), null), 10_000);
    peer.send({ op: "key-cancelled", key: "c" });
    peer.sendLazy(() => (made.push(3), { op: "key-cancelled", key: "d" }), 10_000);
    assert.deepEqual(made, [], "nothing is made in the caller's turn");
    await until(() => got.length === 4, "four messages");
    assert.deepEqual(got, ["a", "b", "c", "d"]);
    assert.deepEqual(made, [1, 2, 3]);
    peer.close();
  } finally {
    await l.close();
  }
});

test("a receiver with a backlog handles at most a turn's worth of packets (TURN_BYTES) before its timers run", async () => {
  let serverSide: import("../../src/comm/index.ts").Comm | null = null;
  const l = await listen("tcp://127.0.0.1:0", (c) => (serverSide = c), { name: "test listener", accepts: Accepts.clientFromScheduler });
  try {
    const peer = new RawPeer(l.address);
    await peer.connected();
    assert.equal((await peer.handshake())?.["op"], "welcome");
    await until(() => serverSide !== null, "the server side of the connection");
    const n = 40;
    let handled = 0;
    let sinceTick = 0;
    let most = 0;
    serverSide!.onMessage(() => {
      handled++;
      sinceTick++;
      most = Math.max(most, sinceTick);
    });
    const tick = setInterval(() => (sinceTick = 0), 1);
    // the whole backlog at once: 40 packets of ~100 KiB (a turn, 256 KiB, is three of them)
    const one = packet([{ op: "key-cancelled", key: "k".repeat(100 * 1024) }]);
    peer.write(Buffer.concat(Array.from({ length: n }, () => one)));
    await until(() => handled === n, "all messages handled", 60_000);
    clearInterval(tick);
    assert.ok(most <= 4, `${most} packets were handled without a timer running in between (a turn is ${TURN_BYTES} bytes)`);
    peer.destroy();
  } finally {
    await l.close();
  }
});
