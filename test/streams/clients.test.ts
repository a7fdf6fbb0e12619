/**
 * Real Kinesis clients against `startStreamsServer` on loopback: boto3
 * running the seed's calls verbatim, the AWS CLI (v1 first on PATH and
 * Debian's v2 at /usr/bin/aws, each tested when present), and
 * `@aws-sdk/client-kinesis` over its default HTTP/2 handler and over
 * HTTP/1.1 (NodeHttpHandler). All requests are SigV4-signed and verified.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand, CreateStreamCommand, DescribeStreamCommand, ResourceNotFoundException } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { USER, awsEnv, startTestServer, streamName } from "./helpers.ts";

const exec = promisify(execFile);
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    await exec(cmd, args, { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const SEED = `
import boto3, json, sys
endpoint, stream = sys.argv[1], sys.argv[2]
kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
kinesis.create_stream(StreamName=stream, ShardCount=1)
for i in range(25):
    kinesis.put_record(StreamName=stream, Data=json.dumps({"event": i}), PartitionKey=str(i))
shard_id = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
seen = []
while True:
    out = kinesis.get_records(ShardIterator=it, Limit=10)
    seen += [json.loads(r["Data"])["event"] for r in out["Records"]]
    if not out["Records"] and out["MillisBehindLatest"] == 0:
        break
    it = out["NextShardIterator"]
try:
    kinesis.describe_stream(StreamName=stream + "-missing")
except kinesis.exceptions.ResourceNotFoundException as e:
    print("RNF", e.response["Error"]["Code"])
print(json.dumps(seen))
`;

describe("streams with real clients", { concurrency: true }, () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let dir: string;
  before(async () => {
    t = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), "shoal-streams-clients-"));
  });
  after(async () => {
    await t.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("boto3: the seed's create_stream / put_record / TRIM_HORIZON / get_records loop", async (ctx) => {
    if (!(await works("python3", ["-c", "import boto3"]))) return ctx.skip("boto3 is not installed");
    const script = join(dir, "seed.py");
    await writeFile(script, SEED);
    const { stdout } = await exec("python3", [script, t.url, streamName("boto")], { env: awsEnv(dir), timeout: 60_000 });
    const lines = stdout.trim().split("\n");
    assert.equal(lines[0], "RNF ResourceNotFoundException");
    assert.deepEqual(JSON.parse(lines[1] ?? "[]"), Array.from({ length: 25 }, (_, i) => i));
  });

  const clis = [
    { label: "AWS CLI v1 (first on PATH)", cmd: "aws", full: false },
    { label: "AWS CLI v2 (Debian /usr/bin/aws)", cmd: "/usr/bin/aws", full: true },
  ];
  // Each CLI call costs ~1-2 s of Python start-up, so the full script runs on
  // Debian's CLI (what CI installs) and the core of it on the v1 CLI.
  for (const { label, cmd, full } of clis) {
    it(`${label}: create, put-record(s), iterators, get-records${full ? ", split, merge, list" : ""}, delete`, async (ctx) => {
      if (cmd.startsWith("/") && !existsSync(cmd)) return ctx.skip(`${cmd} not present`);
      if (!(await works(cmd, ["--version"]))) return ctx.skip(`${cmd} does not run`);
      const v2 = (await exec(cmd, ["--version"])).stdout.startsWith("aws-cli/2");
      const env = awsEnv(dir);
      const aws = async (...args: string[]): Promise<Record<string, unknown>> => {
        const { stdout } = await exec(cmd, ["--endpoint-url", t.url, "--output", "json", "kinesis", ...args], { env, timeout: 60_000 });
        return stdout.trim() === "" ? {} : (JSON.parse(stdout) as Record<string, unknown>);
      };
      const name = streamName("cli");
      await aws("create-stream", "--stream-name", name, "--shard-count", "2");
      // v2 takes blobs as base64 by default; v1 takes them raw
      const blob = (s: string): string => (v2 ? Buffer.from(s).toString("base64") : s);
      const put = (await aws("put-record", "--stream-name", name, "--partition-key", "a", "--data", blob("one"))) as { ShardId: string; SequenceNumber: string };
      assert.match(put.SequenceNumber, /^49\d{54}$/);
      if (!full) {
        const it0 = (await aws("get-shard-iterator", "--stream-name", name, "--shard-id", put.ShardId, "--shard-iterator-type", "TRIM_HORIZON")) as { ShardIterator: string };
        const r0 = (await aws("get-records", "--shard-iterator", it0.ShardIterator)) as { Records: Array<{ Data: string }> };
        assert.deepEqual(r0.Records.map((r) => Buffer.from(r.Data, "base64").toString()), ["one"]);
        await aws("delete-stream", "--stream-name", name);
        return;
      }
      const many = (await aws("put-records", "--stream-name", name, "--records", JSON.stringify([{ Data: blob("two"), PartitionKey: "a" }, { Data: blob("three"), PartitionKey: "a" }]))) as { FailedRecordCount: number; Records: Array<{ ShardId: string }> };
      assert.equal(many.FailedRecordCount, 0);
      assert.ok(many.Records.every((r) => r.ShardId === put.ShardId), "same partition key, same shard");
      const it1 = (await aws("get-shard-iterator", "--stream-name", name, "--shard-id", put.ShardId, "--shard-iterator-type", "AT_SEQUENCE_NUMBER", "--starting-sequence-number", put.SequenceNumber)) as { ShardIterator: string };
      const got = (await aws("get-records", "--shard-iterator", it1.ShardIterator)) as { Records: Array<{ Data: string }>; NextShardIterator: string };
      assert.deepEqual(got.Records.map((r) => Buffer.from(r.Data, "base64").toString()), ["one", "two", "three"]);
      const shards = (await aws("list-shards", "--stream-name", name)) as { Shards: Array<{ ShardId: string; HashKeyRange: { StartingHashKey: string; EndingHashKey: string } }> };
      assert.equal(shards.Shards.length, 2);
      const s0 = shards.Shards[0];
      assert.ok(s0);
      const mid = ((BigInt(s0.HashKeyRange.StartingHashKey) + BigInt(s0.HashKeyRange.EndingHashKey)) / 2n).toString();
      await aws("split-shard", "--stream-name", name, "--shard-to-split", s0.ShardId, "--new-starting-hash-key", mid);
      const afterSplit = (await aws("list-shards", "--stream-name", name)) as { Shards: Array<{ ShardId: string; ParentShardId?: string }> };
      assert.equal(afterSplit.Shards.length, 4);
      const kids = afterSplit.Shards.filter((s) => s.ParentShardId === s0.ShardId).map((s) => s.ShardId);
      assert.equal(kids.length, 2);
      await aws("merge-shards", "--stream-name", name, "--shard-to-merge", kids[0] as string, "--adjacent-shard-to-merge", kids[1] as string);
      const open = (await aws("list-shards", "--stream-name", name, "--shard-filter", "Type=AT_LATEST")) as { Shards: unknown[] };
      assert.equal(open.Shards.length, 2);
      await aws("delete-stream", "--stream-name", name);
      await assert.rejects(aws("describe-stream-summary", "--stream-name", name), /ResourceNotFoundException/);
    });
  }

  for (const h of ["HTTP/2 (SDK default)", "HTTP/1.1 (NodeHttpHandler)"]) {
    it(`@aws-sdk/client-kinesis over ${h}`, async () => {
      const client = new KinesisClient({
        endpoint: t.url,
        region: "us-east-1",
        credentials: { accessKeyId: USER.accessKey, secretAccessKey: USER.secretKey },
        ...(h.startsWith("HTTP/1.1") ? { requestHandler: new NodeHttpHandler() } : {}),
      });
      try {
        const name = streamName("sdk");
        await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 3 }));
        const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
        assert.equal(d.StreamDescription?.Shards?.length, 3);
        const res = await client.send(new PutRecordsCommand({ StreamName: name, Records: Array.from({ length: 30 }, (_, i) => ({ Data: Buffer.from(`r${i}`), PartitionKey: `k${i}` })) }));
        assert.equal(res.FailedRecordCount, 0);
        const all: string[] = [];
        const shards = await client.send(new ListShardsCommand({ StreamName: name }));
        for (const s of shards.Shards ?? []) {
          const it0 = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: s.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
          const r = await client.send(new GetRecordsCommand({ ShardIterator: it0.ShardIterator }));
          all.push(...(r.Records ?? []).map((x) => Buffer.from(x.Data ?? new Uint8Array()).toString()));
          assert.equal(r.MillisBehindLatest, 0);
        }
        assert.deepEqual(all.sort(), Array.from({ length: 30 }, (_, i) => `r${i}`).sort());
        await assert.rejects(client.send(new DescribeStreamCommand({ StreamName: `${name}-nope` })), (e) => e instanceof ResourceNotFoundException);
      } finally {
        client.destroy();
      }
    });
  }
});
