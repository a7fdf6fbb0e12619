/**
 * Crash safety: writers put records in a loop while the server process
 * (`shoal streams serve`, default fsync policy) is SIGKILLed at 20 random
 * moments and restarted on the same root. Afterwards every acknowledged
 * record is present exactly once, with the sequence number and shard it was
 * acknowledged with, byte-identical, and in increasing sequence order per
 * shard; no record (acknowledged or not) appears twice. A split happens
 * midway so recovery also covers a changed shard layout, and 50 KiB segments
 * make the logs roll.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { describe, it } from "node:test";
import { spawnServer } from "./helpers.ts";
import { call, readAll } from "./kinesis-http.ts";

const ROUNDS = 20;
const WRITERS = 4;

function payload(id: string): string {
  const n = Number(id.split("-")[2] ?? 0) % 3000;
  return Buffer.from(JSON.stringify({ id, pad: "x".repeat(n) })).toString("base64");
}

describe("streams crash safety", () => {
  it(`SIGKILL at ${ROUNDS} random points loses no acknowledged record and duplicates none`, { timeout: 120_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), "shoal-streams-crash-"));
    const stream = "crash";
    const acked = new Map<string, { seq: string; shard: string }>();
    let seqNo = 0;
    let child: ChildProcess | undefined;
    try {
      let url: string;
      ({ child, url } = await spawnServer(["--root", root, "--port", "0", "--segment-mb", "0.05"]));
      await call(url, "CreateStream", { StreamName: stream, ShardCount: 2 });
      for (let round = 0; round < ROUNDS; round++) {
        let alive = true;
        const writer = async (w: number): Promise<void> => {
          while (alive) {
            const ids = Array.from({ length: randomInt(1, 12) }, () => `w${w}-r${round}-${seqNo++}`);
            try {
              const res = await call<{ Records: Array<{ SequenceNumber?: string; ShardId?: string }> }>(url, "PutRecords", {
                StreamName: stream,
                Records: ids.map((id) => ({ Data: payload(id), PartitionKey: `${id}` })),
              });
              res.Records.forEach((r, i) => {
                if (r.SequenceNumber !== undefined && r.ShardId !== undefined) acked.set(ids[i] as string, { seq: r.SequenceNumber, shard: r.ShardId });
              });
            } catch {
              return;
            }
          }
        };
        const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
        if (round === ROUNDS / 2) {
          const shards = await call<{ Shards: Array<{ ShardId: string; HashKeyRange: { StartingHashKey: string; EndingHashKey: string } }> }>(url, "ListShards", { StreamName: stream, ShardFilter: { Type: "AT_LATEST" } });
          const s = shards.Shards[0];
          assert.ok(s);
          const mid = (BigInt(s.HashKeyRange.StartingHashKey) + BigInt(s.HashKeyRange.EndingHashKey)) / 2n;
          await call(url, "SplitShard", { StreamName: stream, ShardToSplit: s.ShardId, NewStartingHashKey: mid.toString() });
        }
        // wait for some acknowledged progress, then kill at a random moment
        const before = acked.size;
        while (acked.size < before + 5) await new Promise((r) => setImmediate(r));
        await new Promise((r) => setTimeout(r, randomInt(0, 60)));
        const exited = once(child as ChildProcess, "exit");
        child?.kill("SIGKILL");
        await exited;
        alive = false;
        await Promise.all(writers);
        ({ child, url } = await spawnServer(["--root", root, "--port", "0", "--segment-mb", "0.05"]));
      }
      const all = await readAll(url, stream);
      const seen = new Map<string, { seq: string; shard: string }>();
      for (const [shard, recs] of all) {
        let prev = "";
        for (const r of recs) {
          assert.ok(r.SequenceNumber > prev, `sequence numbers increase in ${shard}`);
          prev = r.SequenceNumber;
          const id = r.PartitionKey;
          assert.equal(seen.has(id), false, `record ${id} appears twice`);
          assert.equal(r.Data, payload(id), `record ${id} is intact`);
          seen.set(id, { seq: r.SequenceNumber, shard });
        }
      }
      assert.ok(acked.size > ROUNDS * 5);
      const segments = readdirSync(join(root, "streams", stream, "shards"), { recursive: true }).filter((f) => String(f).endsWith(".seg"));
      assert.ok(segments.length > 4, `segments rolled (${segments.length} files)`);
      for (const [id, a] of acked) assert.deepEqual(seen.get(id), a, `acknowledged record ${id} present with its sequence number`);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    } finally {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await rm(root, { recursive: true, force: true });
    }
  });
});
