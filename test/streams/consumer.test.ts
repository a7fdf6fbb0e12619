/**
 * The consumer API against a real server: every record once, parents before
 * children across a split and a merge, per-key order, checkpoints that let a
 * restarted consumer resume, LATEST, signed requests, and tumbling-window
 * word counts that equal the whole-stream count.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { read, streamToBag } from "../../src/streams/index.ts";
import { USER, startTestServer, streamName } from "./helpers.ts";
import { call } from "./kinesis-http.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("streams consumer", () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let dir: string;
  before(async () => {
    t = await startTestServer({ users: [] });
    dir = await mkdtemp(join(tmpdir(), "shoal-streams-consumer-"));
  });
  after(async () => {
    await t.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function put(name: string, n: number, tag: string): Promise<void> {
    await call(t.url, "PutRecords", { StreamName: name, Records: Array.from({ length: n }, (_, i) => ({ Data: b64(`${tag}:${i}`), PartitionKey: `k${i % 7}` })) });
  }

  it("reads every record once, parents before children, keys in order; checkpoints resume a restarted consumer", async () => {
    const name = streamName("c");
    await call(t.url, "CreateStream", { StreamName: name, ShardCount: 2 });
    await put(name, 50, "a");
    await call(t.url, "SplitShard", { StreamName: name, ShardToSplit: "shardId-000000000000", NewStartingHashKey: (1n << 126n).toString() });
    await put(name, 50, "b");
    await call(t.url, "MergeShards", { StreamName: name, ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000003" });
    await put(name, 50, "c");
    const cp = join(dir, `${name}.json`);
    const seen: string[] = [];
    const byKey = new Map<string, string[]>();
    const shardOrder: string[] = [];
    for await (const batch of read(`${t.url}/${name}`, { checkpoints: cp, untilCaughtUp: true, pollMs: 20, limit: 30 })) {
      if (shardOrder.at(-1) !== batch.shardId) shardOrder.push(batch.shardId);
      for (const r of batch.records) {
        seen.push(r.data.toString());
        const l = byKey.get(r.partitionKey) ?? [];
        l.push(r.data.toString());
        byKey.set(r.partitionKey, l);
      }
    }
    assert.equal(seen.length, 150);
    assert.equal(new Set(seen).size, 150);
    for (const [, l] of byKey) assert.deepEqual(l, [...l].sort((x, y) => x.localeCompare(y, "en", { numeric: true })), "per-key order follows the writes");
    const first = (id: string): number => shardOrder.indexOf(id);
    assert.ok(first("shardId-000000000002") > first("shardId-000000000000") && first("shardId-000000000004") > first("shardId-000000000003"));
    // a restarted consumer resumes after its checkpoints
    await put(name, 10, "d");
    const again: string[] = [];
    for await (const batch of read(t.url, { stream: name, checkpoints: cp, untilCaughtUp: true, pollMs: 20 })) again.push(...batch.records.map((r) => r.data.toString()));
    assert.deepEqual(again.sort(), Array.from({ length: 10 }, (_, i) => `d:${i}`).sort());
  });

  it("a batch the loop broke out of is delivered again; LATEST skips history; signed requests", async () => {
    const t2 = await startTestServer();
    try {
      const name = streamName("l");
      const credentials = { accessKeyId: USER.accessKey, secretAccessKey: USER.secretKey };
      const { KinesisHttpClient } = await import("../../src/streams/index.ts");
      const c = new KinesisHttpClient(t2.url, credentials);
      await c.call("CreateStream", { StreamName: name, ShardCount: 1 });
      await c.call("PutRecord", { StreamName: name, Data: b64("old"), PartitionKey: "k" });
      const cp = join(dir, `${name}.json`);
      for await (const b of read(t2.url, { stream: name, credentials, checkpoints: cp })) {
        assert.equal(b.records[0]?.data.toString(), "old");
        break;
      }
      const redelivered: string[] = [];
      for await (const b of read(t2.url, { stream: name, credentials, checkpoints: cp, untilCaughtUp: true, pollMs: 20 })) redelivered.push(...b.records.map((r) => r.data.toString()));
      assert.deepEqual(redelivered, ["old"]);
      const latest = read(t2.url, { stream: name, credentials, from: "LATEST", pollMs: 20 });
      const nextBatch = latest.next();
      await new Promise((r) => setTimeout(r, 100));
      await c.call("PutRecord", { StreamName: name, Data: b64("new"), PartitionKey: "k" });
      const got = await nextBatch;
      assert.equal(got.done, false);
      assert.deepEqual(got.value?.records.map((r) => r.data.toString()), ["new"]);
      await latest.return(undefined);
      c.close();
    } finally {
      await t2.dispose();
    }
  });

  it("tumbling-window word counts equal the count over the whole recorded stream", async () => {
    const name = streamName("w");
    await call(t.url, "CreateStream", { StreamName: name, ShardCount: 3 });
    const words = ["alpha", "beta", "gamma", "delta", "alpha", "beta", "alpha"];
    for (let round = 0; round < 4; round++) {
      await call(t.url, "PutRecords", { StreamName: name, Records: words.map((w, i) => ({ Data: b64(`${w} ${words[(i + round) % words.length]}`), PartitionKey: `${round}-${i}` })) });
      await new Promise((r) => setTimeout(r, 60));
    }
    const total = new Map<string, number>();
    let windows = 0;
    for await (const w of streamToBag(t.url, { stream: name, every: "50ms", untilCaughtUp: true, pollMs: 10 })) {
      windows++;
      const counts = await w.bag.flatMap((r) => r.data.toString().split(" ")).frequencies().compute();
      for (const [word, n] of counts) total.set(word, (total.get(word) ?? 0) + n);
    }
    assert.ok(windows >= 2, `several windows (${windows})`);
    const whole = new Map<string, number>();
    for await (const b of read(t.url, { stream: name, untilCaughtUp: true, pollMs: 10 })) for (const r of b.records) for (const word of r.data.toString().split(" ")) whole.set(word, (whole.get(word) ?? 0) + 1);
    assert.deepEqual([...total].sort(), [...whole].sort());
    assert.equal([...whole.values()].reduce((a, b) => a + b, 0), 56);
  });
});
