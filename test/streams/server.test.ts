/**
 * The server in-process: routing, sequence numbers, iterators of every type
 * (and their expiry, with an injected clock), GetRecords paging and
 * MillisBehindLatest, error shapes, split/merge/UpdateShardCount lineage with
 * ChildShards, ListShards filters and tokens, retention and trimming, tags,
 * quotas, torn-tail recovery, and SigV4 rejection.
 */
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MAX_HASH_KEY, partitionKeyHash } from "../../src/streams/index.ts";
import { evenRanges } from "../../src/streams/hash.ts";
import { decodeFrame, encodeFrame } from "../../src/streams/segment.ts";
import { parseSequence } from "../../src/streams/sequence.ts";
import { KinesisClient, ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { USER, startTestServer, streamName } from "./helpers.ts";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
import { CallError, call } from "./kinesis-http.ts";

type Rec = { SequenceNumber: string; Data: string; PartitionKey: string; ApproximateArrivalTimestamp: number };
type Got = { Records: Rec[]; NextShardIterator?: string; MillisBehindLatest: number; ChildShards?: Array<{ ShardId: string; ParentShards: string[] }> };

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("streams pieces", () => {
  it("hash ranges split 2^128 evenly; MD5 routing; frames round-trip and reject corruption", () => {
    const r = evenRanges(4);
    assert.equal(r[0]?.start, 0n);
    assert.equal(r[1]?.start, 1n << 126n);
    assert.equal(r[3]?.end, MAX_HASH_KEY);
    assert.equal(partitionKeyHash("a"), BigInt("0x0cc175b9c0f1b6a831c399e269772661"));
    const f = encodeFrame({ counter: 7, time: 1234.5, partitionKey: "ké", data: Buffer.from("data") });
    const d = decodeFrame(f, 0);
    assert.deepEqual({ ...d?.record, data: d?.record.data.toString() }, { counter: 7, time: 1234.5, partitionKey: "ké", data: "data" });
    const bad = Buffer.from(f);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    assert.equal(decodeFrame(bad, 0), undefined);
    assert.equal(decodeFrame(f.subarray(0, f.length - 1), 0), undefined);
  });
});

describe("streams server", () => {
  let now = Date.now();
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let url: string;
  before(async () => {
    t = await startTestServer({ users: [], clock: () => now });
    url = t.url;
  });
  after(() => t.dispose());

  const iter = async (name: string, shard: string, type: string, extra: Record<string, unknown> = {}): Promise<string> =>
    (await call<{ ShardIterator: string }>(url, "GetShardIterator", { StreamName: name, ShardId: shard, ShardIteratorType: type, ...extra })).ShardIterator;

  async function rejects(op: string, body: unknown, type: string, re?: RegExp): Promise<void> {
    await assert.rejects(call(url, op, body), (e: unknown) => {
      assert.ok(e instanceof CallError);
      assert.equal(e.type, type);
      assert.equal(e.status, 400);
      if (re) assert.match(e.message, re);
      return true;
    });
  }

  it("routes by MD5 and ExplicitHashKey; sequence numbers increase; iterators of all five types", async () => {
    const name = streamName();
    await call(url, "CreateStream", { StreamName: name, ShardCount: 4 });
    const put = await call<{ ShardId: string; SequenceNumber: string }>(url, "PutRecord", { StreamName: name, Data: b64("x"), PartitionKey: "a" });
    assert.equal(put.ShardId, `shardId-00000000000${Number(partitionKeyHash("a") >> 126n)}`);
    const ehk = await call<{ ShardId: string }>(url, "PutRecord", { StreamName: name, Data: b64("y"), PartitionKey: "a", ExplicitHashKey: MAX_HASH_KEY.toString() });
    assert.equal(ehk.ShardId, "shardId-000000000003");
    const shard = "shardId-000000000001";
    const seqs: string[] = [];
    for (let i = 0; i < 5; i++) {
      now += 10;
      seqs.push((await call<{ SequenceNumber: string }>(url, "PutRecord", { StreamName: name, Data: b64(`r${i}`), PartitionKey: "p", ExplicitHashKey: ((1n << 126n) + 5n).toString() })).SequenceNumber);
    }
    assert.deepEqual([...seqs].sort(), seqs);
    assert.ok(seqs.every((s) => /^49\d{54}$/.test(s) && parseSequence(s)?.shardIndex === 1));
    const data = async (it: string, limit?: number): Promise<[string[], Got]> => {
      const g = await call<Got>(url, "GetRecords", { ShardIterator: it, ...(limit ? { Limit: limit } : {}) });
      return [g.Records.map((r) => Buffer.from(r.Data, "base64").toString()), g];
    };
    assert.deepEqual((await data(await iter(name, shard, "TRIM_HORIZON")))[0], ["r0", "r1", "r2", "r3", "r4"]);
    assert.deepEqual((await data(await iter(name, shard, "AT_SEQUENCE_NUMBER", { StartingSequenceNumber: seqs[2] })))[0], ["r2", "r3", "r4"]);
    assert.deepEqual((await data(await iter(name, shard, "AFTER_SEQUENCE_NUMBER", { StartingSequenceNumber: seqs[2] })))[0], ["r3", "r4"]);
    const at = parseSequence(seqs[3] as string)?.time ?? 0;
    assert.deepEqual((await data(await iter(name, shard, "AT_TIMESTAMP", { Timestamp: at / 1000 })))[0], ["r3", "r4"]);
    const future = await iter(name, shard, "AT_TIMESTAMP", { Timestamp: (now + 60_000) / 1000 });
    const latest = await iter(name, shard, "LATEST");
    assert.deepEqual((await data(latest))[0], []);
    await call(url, "PutRecord", { StreamName: name, Data: b64("r5"), PartitionKey: "p", ExplicitHashKey: ((1n << 126n) + 5n).toString() });
    const [afterLatest, g] = await data(latest);
    assert.deepEqual(afterLatest, ["r5"]);
    assert.deepEqual((await data(future))[0], [], "AT_TIMESTAMP in the future skips records older than it");
    // paging: Limit, NextShardIterator advances (never the same record forever), MillisBehindLatest
    const [p1, g1] = await data(await iter(name, shard, "TRIM_HORIZON"), 2);
    assert.deepEqual(p1, ["r0", "r1"]);
    assert.ok(g1.MillisBehindLatest > 0);
    const [p2, g2] = await data(g1.NextShardIterator as string, 10);
    assert.deepEqual(p2, ["r2", "r3", "r4", "r5"]);
    assert.equal(g2.MillisBehindLatest, 0);
    assert.deepEqual((await data(g2.NextShardIterator as string))[0], []);
    assert.ok(g.NextShardIterator);
    // iterators expire after 5 minutes
    now += 300_001;
    await rejects("GetRecords", { ShardIterator: latest }, "ExpiredIteratorException", /tolerated delay of 300000/);
  });

  it("answers with AWS's error types", async () => {
    const name = streamName();
    await rejects("DescribeStream", { StreamName: "nope" }, "ResourceNotFoundException", /Stream nope under account 000000000000 not found/);
    await call(url, "CreateStream", { StreamName: name, ShardCount: 1 });
    await rejects("CreateStream", { StreamName: name, ShardCount: 1 }, "ResourceInUseException");
    await rejects("CreateStream", { StreamName: "bad name!", ShardCount: 1 }, "ValidationException", /streamName/);
    await rejects("PutRecord", { StreamName: name, Data: b64("x") }, "ValidationException", /Value null at 'partitionKey'/);
    await rejects("PutRecord", { StreamName: name, Data: b64("x"), PartitionKey: "k", ExplicitHashKey: (MAX_HASH_KEY + 1n).toString() }, "InvalidArgumentException");
    await rejects("GetShardIterator", { StreamName: name, ShardId: "shardId-000000000009", ShardIteratorType: "LATEST" }, "ResourceNotFoundException");
    await rejects("GetShardIterator", { StreamName: name, ShardId: "shardId-000000000000", ShardIteratorType: "AT_SEQUENCE_NUMBER" }, "InvalidArgumentException");
    await rejects("GetShardIterator", { StreamName: name, ShardId: "shardId-000000000000", ShardIteratorType: "AT_TIMESTAMP" }, "InvalidArgumentException");
    await rejects("GetShardIterator", { StreamName: name, ShardId: "shardId-000000000000", ShardIteratorType: "BOGUS" }, "ValidationException");
    await rejects("GetRecords", { ShardIterator: b64("forged-iterator-that-is-long-enough") }, "InvalidArgumentException");
    await rejects("Frobnicate", {}, "UnknownOperationException");
    const many = await call<{ FailedRecordCount: number; Records: unknown[] }>(url, "PutRecords", { StreamName: name, Records: Array.from({ length: 500 }, (_, i) => ({ Data: b64(`${i}`), PartitionKey: `${i}` })) });
    assert.equal(many.FailedRecordCount, 0);
    await rejects("PutRecords", { StreamName: name, Records: Array.from({ length: 501 }, () => ({ Data: "", PartitionKey: "k" })) }, "ValidationException");
    await rejects("IncreaseStreamRetentionPeriod", { StreamName: name, RetentionPeriodHours: 12 }, "InvalidArgumentException");
  });

  it("splits, merges and reshards with lineage; GetRecords ends a closed shard with ChildShards; ListShards filters and tokens", async () => {
    const name = streamName();
    await call(url, "CreateStream", { StreamName: name, ShardCount: 2 });
    const s0 = "shardId-000000000000";
    await call(url, "PutRecord", { StreamName: name, Data: b64("before"), PartitionKey: "k", ExplicitHashKey: "5" });
    const mid = ((1n << 127n) / 2n).toString();
    await call(url, "SplitShard", { StreamName: name, ShardToSplit: s0, NewStartingHashKey: mid });
    await rejects("SplitShard", { StreamName: name, ShardToSplit: s0, NewStartingHashKey: mid }, "ResourceInUseException");
    await rejects("SplitShard", { StreamName: name, ShardToSplit: "shardId-000000000001", NewStartingHashKey: "1" }, "InvalidArgumentException");
    const put = await call<{ ShardId: string; SequenceNumber: string }>(url, "PutRecord", { StreamName: name, Data: b64("after"), PartitionKey: "k", ExplicitHashKey: "5" });
    assert.equal(put.ShardId, "shardId-000000000002");
    const g = await call<Got>(url, "GetRecords", { ShardIterator: await iter(name, s0, "TRIM_HORIZON") });
    assert.deepEqual(g.Records.map((r) => Buffer.from(r.Data, "base64").toString()), ["before"]);
    assert.equal(g.NextShardIterator, undefined);
    assert.deepEqual(g.ChildShards?.map((c) => [c.ShardId, c.ParentShards]), [["shardId-000000000002", [s0]], ["shardId-000000000003", [s0]]]);
    assert.ok(put.SequenceNumber > (g.Records[0] as Rec).SequenceNumber, "children's sequence numbers follow the parent's");
    await rejects("MergeShards", { StreamName: name, ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000001" }, "InvalidArgumentException");
    await call(url, "MergeShards", { StreamName: name, ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000003" });
    type LS = { Shards: Array<{ ShardId: string; ParentShardId?: string; AdjacentParentShardId?: string; SequenceNumberRange: { EndingSequenceNumber?: string } }>; NextToken?: string };
    const all = await call<LS>(url, "ListShards", { StreamName: name });
    assert.equal(all.Shards.length, 5);
    const merged = all.Shards[4];
    assert.deepEqual([merged?.ParentShardId, merged?.AdjacentParentShardId], ["shardId-000000000002", "shardId-000000000003"]);
    const open = await call<LS>(url, "ListShards", { StreamName: name, ShardFilter: { Type: "AT_LATEST" } });
    assert.deepEqual(open.Shards.map((s) => s.ShardId), ["shardId-000000000001", "shardId-000000000004"]);
    const page1 = await call<LS>(url, "ListShards", { StreamName: name, MaxResults: 2 });
    assert.equal(page1.Shards.length, 2);
    await rejects("ListShards", { StreamName: name, NextToken: page1.NextToken }, "InvalidArgumentException");
    const page2 = await call<LS>(url, "ListShards", { NextToken: page1.NextToken, MaxResults: 10 });
    assert.deepEqual(page2.Shards.map((s) => s.ShardId), ["shardId-000000000002", "shardId-000000000003", "shardId-000000000004"]);
    const after = await call<LS>(url, "ListShards", { StreamName: name, ShardFilter: { Type: "AFTER_SHARD_ID", ShardId: "shardId-000000000003" } });
    assert.deepEqual(after.Shards.map((s) => s.ShardId), ["shardId-000000000004"]);
    const up = await call<{ CurrentShardCount: number; TargetShardCount: number }>(url, "UpdateShardCount", { StreamName: name, TargetShardCount: 4, ScalingType: "UNIFORM_SCALING" });
    assert.deepEqual([up.CurrentShardCount, up.TargetShardCount], [2, 4]);
    const sum = await call<{ StreamDescriptionSummary: { OpenShardCount: number } }>(url, "DescribeStreamSummary", { StreamName: name });
    assert.equal(sum.StreamDescriptionSummary.OpenShardCount, 4);
  });

  it("retention: increase/decrease, trimming old records; tags", async () => {
    const name = streamName();
    await call(url, "CreateStream", { StreamName: name, ShardCount: 1 });
    await call(url, "PutRecord", { StreamName: name, Data: b64("old"), PartitionKey: "k" });
    now += 30 * 3600_000;
    await call(url, "PutRecord", { StreamName: name, Data: b64("new"), PartitionKey: "k" });
    await call(url, "IncreaseStreamRetentionPeriod", { StreamName: name, RetentionPeriodHours: 48 });
    const read = async (): Promise<string[]> =>
      (await call<Got>(url, "GetRecords", { ShardIterator: await iter(name, "shardId-000000000000", "TRIM_HORIZON") })).Records.map((r) => Buffer.from(r.Data, "base64").toString());
    assert.deepEqual(await read(), ["old", "new"]);
    await rejects("DecreaseStreamRetentionPeriod", { StreamName: name, RetentionPeriodHours: 72 }, "InvalidArgumentException");
    await call(url, "DecreaseStreamRetentionPeriod", { StreamName: name, RetentionPeriodHours: 24 });
    await t.trim();
    assert.deepEqual(await read(), ["new"]);
    await call(url, "AddTagsToStream", { StreamName: name, Tags: { b: "2", a: "1" } });
    const tags = await call<{ Tags: Array<{ Key: string; Value: string }>; HasMoreTags: boolean }>(url, "ListTagsForStream", { StreamName: name, Limit: 1 });
    assert.deepEqual(tags, { Tags: [{ Key: "a", Value: "1" }], HasMoreTags: true });
    await call(url, "DeleteStream", { StreamName: name });
  });

  it("recovers after restart, dropping a torn tail", async () => {
    const name = streamName();
    await call(url, "CreateStream", { StreamName: name, ShardCount: 1 });
    for (let i = 0; i < 3; i++) await call(url, "PutRecord", { StreamName: name, Data: b64(`r${i}`), PartitionKey: "k" });
    await t.close();
    const dir = join(t.root, "streams", name, "shards", "0");
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith(".seg")) as string);
    const size = statSync(seg).size;
    appendFileSync(seg, encodeFrame({ counter: 99, time: now, partitionKey: "k", data: Buffer.from("torn") }).subarray(0, 20));
    const t2 = await startTestServer({ users: [], clock: () => now, root: t.root });
    url = t2.url;
    t = t2;
    assert.equal(statSync(seg).size, size);
    const put = await call<{ SequenceNumber: string }>(url, "PutRecord", { StreamName: name, Data: b64("r3"), PartitionKey: "k" });
    assert.equal(parseSequence(put.SequenceNumber)?.counter, 3);
    const g = await call<Got>(url, "GetRecords", { ShardIterator: await iter(name, "shardId-000000000000", "TRIM_HORIZON") });
    assert.deepEqual(g.Records.map((r) => Buffer.from(r.Data, "base64").toString()), ["r0", "r1", "r2", "r3"]);
  });
});

describe("streams server options", () => {
  it("shoal streams: bad flags exit 2 with a message, --help exits 0", async () => {
    const { run } = await import("../../src/cli/streams.ts");
    const err = console.error;
    const log = console.log;
    console.error = () => undefined;
    console.log = () => undefined;
    try {
      assert.equal(await run(["serve"]), 2);
      assert.equal(await run(["serve", "--root", "/tmp/x", "--fsync", "sometimes"]), 2);
      assert.equal(await run(["serve", "--root", "/tmp/x", "--port", "70000"]), 2);
      assert.equal(await run(["serve", "--root", "/tmp/x", "--user", "nocolon"]), 2);
      assert.equal(await run(["frobnicate"]), 2);
      assert.equal(await run(["serve", "--help"]), 0);
    } finally {
      console.error = err;
      console.log = log;
    }
  });

  it("--enforce-limits: 5 GetRecords/s per shard and per-record PutRecords throttling", async () => {
    let now = 1_000_000;
    const t = await startTestServer({ users: [], clock: () => now, enforceLimits: { writeRecords: 3, writeBytes: 1 << 20, readCalls: 5, readBytes: 2 << 20 } });
    try {
      const name = streamName();
      await call(t.url, "CreateStream", { StreamName: name, ShardCount: 1 });
      const r = await call<{ FailedRecordCount: number; Records: Array<{ ErrorCode?: string }> }>(t.url, "PutRecords", { StreamName: name, Records: Array.from({ length: 5 }, () => ({ Data: "", PartitionKey: "k" })) });
      assert.equal(r.FailedRecordCount, 2);
      assert.equal(r.Records[4]?.ErrorCode, "ProvisionedThroughputExceededException");
      const it0 = (await call<{ ShardIterator: string }>(t.url, "GetShardIterator", { StreamName: name, ShardId: "shardId-000000000000", ShardIteratorType: "LATEST" })).ShardIterator;
      for (let i = 0; i < 5; i++) await call(t.url, "GetRecords", { ShardIterator: it0 });
      await assert.rejects(call(t.url, "GetRecords", { ShardIterator: it0 }), (e: unknown) => e instanceof CallError && e.type === "ProvisionedThroughputExceededException");
      now += 1000;
      await call(t.url, "GetRecords", { ShardIterator: it0 });
    } finally {
      await t.dispose();
    }
  });

  it("rejects unsigned and wrongly signed requests when users are configured", async () => {
    const t = await startTestServer();
    try {
      await assert.rejects(call(t.url, "ListStreams", {}), (e: unknown) => e instanceof CallError && e.type === "MissingAuthenticationTokenException");
      for (const [accessKeyId, secretAccessKey, type] of [
        [USER.accessKey, "wrong", "InvalidSignatureException"],
        ["NOSUCHKEY", "x", "UnrecognizedClientException"],
      ] as const) {
        const c = new KinesisClient({ endpoint: t.url, region: "us-east-1", credentials: { accessKeyId, secretAccessKey }, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
        await assert.rejects(c.send(new ListStreamsCommand({})), (e: unknown) => (e as { name?: string }).name === type);
        c.destroy();
      }
    } finally {
      await t.dispose();
    }
  });
});
