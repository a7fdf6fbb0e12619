/**
 * Kinesalite as the reference peer: the same script of calls against
 * kinesalite (from its library, bound to 127.0.0.1) and Shoal gives the
 * same response shapes, the same hash ranges and routing, and the same
 * error types. Skips when kinesalite (a devDependency) is not installed.
 *
 * Known, deliberate differences (AWS's documented behaviour wins):
 * - sequence numbers: both are 56-digit decimals that increase per shard,
 *   but their digits encode different things, so values are not compared;
 * - kinesalite reports new streams as CREATING and resharded ones as
 *   UPDATING for a while; Shoal applies changes at once (ACTIVE), which
 *   clients that wait for ACTIVE accept;
 * - kinesalite splits an already-closed shard a second time; AWS refuses,
 *   and Shoal answers ResourceInUseException;
 * - DescribeStream: Shoal adds StreamModeDetails and EncryptionType as
 *   today's AWS does; kinesalite predates them.
 */
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { startTestServer } from "./helpers.ts";
import { CallError, call } from "./kinesis-http.ts";

const require = createRequire(import.meta.url);
let kinesalite: ((o: Record<string, unknown>) => Server) | undefined;
try {
  kinesalite = require("kinesalite") as (o: Record<string, unknown>) => Server;
} catch {
  kinesalite = undefined;
}

/** Keys of an object tree (arrays by their first element), for shape comparison. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  }
  return typeof v;
}

// kinesalite wants an Authorization header to be present (it checks no signature)
const FAKE_AUTH = { authorization: "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0", "x-amz-date": "20260101T000000Z" };
const kcall = <T = Record<string, unknown>>(url: string, op: string, body: unknown): Promise<T> => call<T>(url, op, body, FAKE_AUTH);

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("streams vs kinesalite", { skip: kinesalite === undefined ? "kinesalite is not installed" : false }, () => {
  let kl: Server;
  let kUrl: string;
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    kl = (kinesalite as (o: Record<string, unknown>) => Server)({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
    await new Promise<void>((r) => kl.listen(0, "127.0.0.1", () => r()));
    kUrl = `http://127.0.0.1:${(kl.address() as AddressInfo).port}`;
    t = await startTestServer({ users: [] });
  });
  after(async () => {
    await new Promise((r) => kl.close(r));
    await t.dispose();
  });

  async function both(op: string, body: Record<string, unknown>): Promise<[Record<string, unknown>, Record<string, unknown>]> {
    return Promise.all([kcall(kUrl, op, body), call(t.url, op, body)]);
  }
  async function active(name: string): Promise<void> {
    for (;;) {
      const d = await kcall<{ StreamDescription: { StreamStatus: string } }>(kUrl, "DescribeStream", { StreamName: name });
      if (d.StreamDescription.StreamStatus === "ACTIVE") return;
      await new Promise((r) => setImmediate(r));
    }
  }
  async function sameError(op: string, body: Record<string, unknown>): Promise<string> {
    const err = async (url: string): Promise<string> => {
      try {
        await kcall(url, op, body);
        return "no error";
      } catch (e) {
        return e instanceof CallError ? e.type : String(e);
      }
    };
    const [a, b] = await Promise.all([err(kUrl), err(t.url)]);
    assert.equal(b, a, `${op} ${JSON.stringify(body).slice(0, 80)}`);
    return a;
  }

  it("same shapes, hash ranges, routing and errors for one script of calls", async () => {
    const name = "peer";
    await both("CreateStream", { StreamName: name, ShardCount: 3 });
    await active(name);
    const [kd, sd] = await both("DescribeStream", { StreamName: name });
    const kdesc = kd["StreamDescription"] as Record<string, unknown>;
    const sdesc = sd["StreamDescription"] as Record<string, unknown>;
    for (const k of Object.keys(kdesc)) assert.ok(k in sdesc, `DescribeStream has ${k}`);
    const ranges = (d: Record<string, unknown>): unknown => (d["Shards"] as Array<{ ShardId: string; HashKeyRange: unknown }>).map((s) => [s.ShardId, s.HashKeyRange]);
    assert.deepEqual(ranges(sdesc), ranges(kdesc));
    assert.deepEqual(shape((sdesc["Shards"] as unknown[])[0]), shape((kdesc["Shards"] as unknown[])[0]));
    for (const pk of ["a", "b", "hello", "user-42", "ü"]) {
      const [kp, sp] = await both("PutRecord", { StreamName: name, Data: b64(pk), PartitionKey: pk });
      assert.equal(sp["ShardId"], kp["ShardId"], `routing of ${pk}`);
      assert.deepEqual(Object.keys(sp).sort(), Object.keys(kp).filter((k) => k !== "EncryptionType").sort());
    }
    const recs = Array.from({ length: 20 }, (_, i) => ({ Data: b64(`r${i}`), PartitionKey: `p${i}` }));
    const [kr, sr] = await both("PutRecords", { StreamName: name, Records: recs });
    const ids = (r: Record<string, unknown>): unknown => (r["Records"] as Array<{ ShardId: string }>).map((x) => x.ShardId);
    assert.deepEqual(ids(sr), ids(kr));
    assert.equal(sr["FailedRecordCount"], kr["FailedRecordCount"]);
    for (const shard of ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]) {
      const [ki, si] = await both("GetShardIterator", { StreamName: name, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" });
      const [kg, sg] = await Promise.all([kcall(kUrl, "GetRecords", { ShardIterator: ki["ShardIterator"] }), call(t.url, "GetRecords", { ShardIterator: si["ShardIterator"] })]);
      const data = (g: Record<string, unknown>): unknown => (g["Records"] as Array<{ Data: string; PartitionKey: string }>).map((r) => [r.PartitionKey, r.Data]);
      assert.deepEqual(data(sg), data(kg), `records of ${shard}`);
      assert.deepEqual(shape(sg["Records"]), shape(kg["Records"]));
      for (const k of Object.keys(kg)) assert.ok(k in sg, `GetRecords has ${k}`);
    }
    assert.equal(await sameError("DescribeStream", { StreamName: "missing" }), "ResourceNotFoundException");
    assert.equal(await sameError("CreateStream", { StreamName: name, ShardCount: 1 }), "ResourceInUseException");
    assert.equal(await sameError("PutRecord", { StreamName: name, Data: b64("x") }), "ValidationException");
    assert.equal(await sameError("PutRecord", { StreamName: name, Data: b64("x"), PartitionKey: "k", ExplicitHashKey: (1n << 128n).toString() }), "InvalidArgumentException");
    assert.equal(await sameError("GetShardIterator", { StreamName: name, ShardId: "shardId-000000000009", ShardIteratorType: "LATEST" }), "ResourceNotFoundException");
    assert.equal(await sameError("GetShardIterator", { StreamName: name, ShardId: "shardId-000000000000", ShardIteratorType: "AT_SEQUENCE_NUMBER" }), "InvalidArgumentException");
    assert.equal(await sameError("SplitShard", { StreamName: name, ShardToSplit: "shardId-000000000000", NewStartingHashKey: "1" }), "InvalidArgumentException");
    assert.equal(await sameError("MergeShards", { StreamName: name, ShardToMerge: "shardId-000000000000", AdjacentShardToMerge: "shardId-000000000002" }), "InvalidArgumentException");
    // a split gives the same children
    const mid = ((BigInt("113427455640312821154458202477256070484") / 2n) + 1n).toString();
    await both("SplitShard", { StreamName: name, ShardToSplit: "shardId-000000000000", NewStartingHashKey: mid });
    await active(name);
    const [kl2, sl2] = await both("ListShards", { StreamName: name });
    const lineage = (l: Record<string, unknown>): unknown => (l["Shards"] as Array<{ ShardId: string; ParentShardId?: string; HashKeyRange: unknown }>).map((s) => [s.ShardId, s.ParentShardId, s.HashKeyRange]);
    assert.deepEqual(lineage(sl2), lineage(kl2));
    const range = (l: Record<string, unknown>): unknown => shape((l["Shards"] as Array<{ SequenceNumberRange: unknown }>)[0]?.SequenceNumberRange);
    assert.deepEqual(range(sl2), range(kl2), "closed parent has an EndingSequenceNumber on both");
    // kinesalite splits an already-closed shard again; AWS refuses (the shard is not open), and so does Shoal
    await assert.rejects(call(t.url, "SplitShard", { StreamName: name, ShardToSplit: "shardId-000000000000", NewStartingHashKey: mid }), (e: unknown) => e instanceof CallError && e.type === "ResourceInUseException");
    await both("DeleteStream", { StreamName: name });
  });
});
