/**
 * Streams benchmark: Shoal (`shoal streams serve`, fsync on) vs kinesalite,
 * side by side in one run, on 127.0.0.1.
 *
 *     node --import tsx bench/streams/bench.ts [--seconds 3] [--fsync always|interval|never] [--no-kinesalite]
 *
 * Measures PutRecords throughput (records/s, MB/s; 100 B and 10 KiB records;
 * 1 and 4 shards; 8 requests in flight), GetRecords throughput (reading back
 * what was put), and put→get latency p50/p99 for one PutRecord at a time
 * (~200/s) while a consumer polls the shard without pause. Prints the load
 * average, server RSS and the Shoal/kinesalite ratios.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { KinesisHttpClient } from "../../src/streams/client.ts";
import { type BenchServer, startKinesalite, startShoal } from "./servers.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "3" }, fsync: { type: "string", default: "always" }, "no-kinesalite": { type: "boolean", default: false } } });
const SECONDS = Number(values.seconds);
const INFLIGHT = 8;

interface Row {
  test: string;
  [server: string]: string | number;
}

async function waitActive(c: KinesisHttpClient, name: string): Promise<void> {
  for (;;) {
    const d = await c.call<{ StreamDescription: { StreamStatus: string } }>("DescribeStream", { StreamName: name });
    if (d.StreamDescription.StreamStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function putThroughput(c: KinesisHttpClient, name: string, size: number): Promise<{ rps: number; mbps: number; n: number }> {
  const data = Buffer.alloc(size, 120).toString("base64");
  const batch = size >= 10_000 ? 100 : 500;
  // Request bodies are built once (64 distinct ones, spread over the hash
  // space) so the client's JSON work does not cap what is measured.
  const bodies = Array.from({ length: 64 }, (_, b) => ({ StreamName: name, Records: Array.from({ length: batch }, (_, i) => ({ Data: data, PartitionKey: `pk-${b}-${i}` })) })).map((o) => Buffer.from(JSON.stringify(o)));
  let n = 0;
  let k = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (performance.now() < end) {
        const res = await c.callBody<{ FailedRecordCount: number }>("PutRecords", bodies[k++ % bodies.length] as Buffer);
        n += batch - res.FailedRecordCount;
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { rps: n / s, mbps: (n * size) / s / 1e6, n };
}

async function getThroughput(c: KinesisHttpClient, name: string, size: number): Promise<{ rps: number; mbps: number }> {
  const shards = await c.call<{ Shards: Array<{ ShardId: string }> }>("ListShards", { StreamName: name });
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    shards.Shards.map(async (s) => {
      let it: string | undefined = (await c.call<{ ShardIterator: string }>("GetShardIterator", { StreamName: name, ShardId: s.ShardId, ShardIteratorType: "TRIM_HORIZON" })).ShardIterator;
      while (it) {
        const r: { Records: unknown[]; NextShardIterator?: string; MillisBehindLatest?: number } = await c.call("GetRecords", { ShardIterator: it, Limit: 10000 });
        n += r.Records.length;
        if (r.Records.length === 0) break;
        it = r.NextShardIterator;
      }
    }),
  );
  const sec = (performance.now() - t0) / 1000;
  return { rps: n / sec, mbps: (n * size) / sec / 1e6 };
}

async function latency(c: KinesisHttpClient, name: string): Promise<{ p50: number; p99: number; n: number }> {
  const shard = (await c.call<{ Shards: Array<{ ShardId: string }> }>("ListShards", { StreamName: name })).Shards[0]?.ShardId as string;
  let it: string | undefined = (await c.call<{ ShardIterator: string }>("GetShardIterator", { StreamName: name, ShardId: shard, ShardIteratorType: "LATEST" })).ShardIterator;
  const sent = new Map<string, number>();
  const lat: number[] = [];
  let done = false;
  const consumer = (async () => {
    while (!done && it) {
      const r: { Records: Array<{ Data: string }>; NextShardIterator?: string } = await c.call("GetRecords", { ShardIterator: it });
      const now = performance.now();
      for (const rec of r.Records) {
        const id = Buffer.from(rec.Data, "base64").toString();
        const t = sent.get(id);
        if (t !== undefined) lat.push(now - t);
      }
      it = r.NextShardIterator;
    }
  })();
  const end = performance.now() + SECONDS * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const id = `m${i}`;
    sent.set(id, performance.now());
    await c.call("PutRecord", { StreamName: name, Data: Buffer.from(id).toString("base64"), PartitionKey: "lat" });
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 200));
  done = true;
  await consumer;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), n: lat.length };
}

async function runAll(srv: BenchServer): Promise<Map<string, number>> {
  const c = new KinesisHttpClient(srv.url, { accessKeyId: "AK", secretAccessKey: "SK" });
  const out = new Map<string, number>();
  let i = 0;
  for (const shards of [1, 4]) {
    for (const size of [100, 10 * 1024]) {
      const name = `bench-${shards}-${size}-${i++}`;
      await c.call("CreateStream", { StreamName: name, ShardCount: shards });
      await waitActive(c, name);
      const p = await putThroughput(c, name, size);
      const label = `${shards} shard${shards > 1 ? "s" : ""}, ${size === 100 ? "100 B" : "10 KiB"}`;
      out.set(`PutRecords ${label}: records/s`, p.rps);
      out.set(`PutRecords ${label}: MB/s`, p.mbps);
      const g = await getThroughput(c, name, size);
      out.set(`GetRecords ${label}: records/s`, g.rps);
      out.set(`GetRecords ${label}: MB/s`, g.mbps);
      await c.call("DeleteStream", { StreamName: name });
    }
  }
  const name = `bench-lat-${i}`;
  await c.call("CreateStream", { StreamName: name, ShardCount: 1 });
  await waitActive(c, name);
  const l = await latency(c, name);
  out.set("put→get latency p50 (ms)", l.p50);
  out.set("put→get latency p99 (ms)", l.p99);
  out.set("server RSS after run (MiB)", srv.rssMiB());
  c.close();
  return out;
}

const results: Array<{ name: string; r: Map<string, number> }> = [];
console.log(`streams bench: ${SECONDS}s per test, ${INFLIGHT} requests in flight, load average before ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
for (const start of [() => startShoal(values.fsync), values["no-kinesalite"] ? async () => undefined : startKinesalite]) {
  const srv = await start();
  if (srv === undefined) {
    console.log("kinesalite is not installed (npm devDependency): Shoal only");
    continue;
  }
  try {
    results.push({ name: srv.name, r: await runAll(srv) });
  } finally {
    await srv.stop();
  }
}
const keys = [...(results[0]?.r.keys() ?? [])];
const rows: Row[] = keys.map((k) => {
  const row: Row = { test: k };
  for (const { name, r } of results) row[name] = Number((r.get(k) ?? NaN).toFixed(k.includes("MB/s") || k.includes("ms") ? 2 : 0));
  if (results.length === 2) {
    const a = results[0]?.r.get(k) ?? NaN;
    const b = results[1]?.r.get(k) ?? NaN;
    row["shoal / kinesalite"] = `${(a / b).toFixed(2)}x`;
  }
  return row;
});
console.table(rows);
console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
