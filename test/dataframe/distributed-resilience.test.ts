// A worker SIGKILLed while a DataFrame shuffle runs: the result is still
// complete and correct (lost partitions and shuffle buckets are recomputed
// from lineage).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, col, compute, readCsv } from "../../src/index.ts";
import { generateStacklite } from "../../src/datasets/stacklite.ts";

test("SIGKILL of a worker in the middle of a group-by and a hash join gives the same answers", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-dfk-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await generateStacklite({ out: dir, questions: 60_000, dangling: 1, seed: 3 });
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, workerTtl: 5 } });
  t.after(() => client.close());
  const q0 = await readCsv(join(dir, "questions.csv"), { naValues: ["NA"], blocksize: 150_000 });
  const tags = await readCsv(join(dir, "question_tags.csv"), { naValues: ["NA"], blocksize: 150_000 });
  assert.ok(q0.npartitions >= 10);
  // `fresh` changes every task key (a no-op filter), so the second run recomputes everything
  const job = (fresh: boolean) => {
    const q = fresh ? q0.filter(col("Id").gt(-1)) : q0;
    const owners = q.groupBy("OwnerUserId").agg({ n: ["Id", "count"], s: ["Score", "sum"] });
    const byTag = q.select("Id", "Score").merge(tags, { on: "Id" }).groupBy("Tag").agg({ n: ["Id", "count"], m: ["Score", "mean"] });
    return compute([owners.len(), owners.sum("s"), owners.nlargest(3, "n", { tieBreak: ["OwnerUserId"] }), byTag.len(), byTag.nlargest(3, "n", { tieBreak: ["Tag"] })], client);
  };
  const expected = await job(false);

  const state = client.localCluster!.scheduler.state;
  const running = job(true);
  // kill once the graph is under way: some tasks done, more waiting or running
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = state.stateCounts();
    if ((c["memory"] ?? 0) + (c["released"] ?? 0) >= 20 && (c["waiting"] ?? 0) + (c["processing"] ?? 0) + (c["queued"] ?? 0) > 20) break;
    if (Date.now() > deadline) throw new Error(`the graph never started: ${JSON.stringify(c)}`);
    await new Promise((r) => setImmediate(r));
  }
  const victim = client.localCluster!.workers[1]!;
  victim.process.kill("SIGKILL");
  const got = await running;
  assert.ok(victim.process.signalCode === "SIGKILL" || victim.process.exitCode !== null);
  assert.equal(got[0], expected[0]);
  assert.equal(got[1], expected[1]);
  assert.deepEqual(got[2].toRecords(), expected[2].toRecords());
  assert.equal(got[3], expected[3]);
  assert.deepEqual(got[4].toRecords(), expected[4].toRecords());
  assert.equal(Object.keys((await client.schedulerInfo()).workers).length, 1);
});
