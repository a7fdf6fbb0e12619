/**
 * Memory soak: a producer puts `--rate` records/s (100 B, PutRecords of 100)
 * into `shoal streams serve` while a consumer follows every shard; the
 * server's RSS is printed every `--every` seconds.
 *
 *     node --import tsx bench/streams/soak.ts [--seconds 600] [--rate 2000] [--every 30]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { KinesisHttpClient } from "../../src/streams/client.ts";
import { read } from "../../src/streams/consumer.ts";
import { startShoal } from "./servers.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "600" }, rate: { type: "string", default: "2000" }, every: { type: "string", default: "30" } } });
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const srv = await startShoal();
const c = new KinesisHttpClient(srv.url);
await c.call("CreateStream", { StreamName: "soak", ShardCount: 2 });
const data = Buffer.alloc(100, 120).toString("base64");
const stop = new AbortController();
let consumed = 0;
const consumer = (async () => {
  for await (const b of read(srv.url, { stream: "soak", signal: stop.signal, pollMs: 50 })) consumed += b.records.length;
})();
const t0 = Date.now();
let put = 0;
let nextReport = t0;
console.log(`soak: ${seconds}s at ${rate} records/s; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
while (Date.now() - t0 < seconds * 1000) {
  const due = Math.floor(((Date.now() - t0) / 1000) * rate);
  while (put < due) {
    await c.call("PutRecords", { StreamName: "soak", Records: Array.from({ length: 100 }, (_, i) => ({ Data: data, PartitionKey: `k${put + i}` })) });
    put += 100;
  }
  if (Date.now() >= nextReport) {
    console.log(`t=${Math.round((Date.now() - t0) / 1000)}s put=${put} consumed=${consumed} server RSS=${srv.rssMiB().toFixed(0)} MiB`);
    nextReport += Number(values.every) * 1000;
  }
  await new Promise((r) => setTimeout(r, 20));
}
console.log(`end: put=${put} consumed=${consumed} server RSS=${srv.rssMiB().toFixed(0)} MiB; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
stop.abort();
await consumer;
c.close();
await srv.stop();
