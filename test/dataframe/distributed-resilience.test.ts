// A worker SIGKILLed while a DataFrame shuffle runs: the result is still
// complete and correct (lost partitions and shuffle buckets are recomputed
// from lineage).
//
// Sizes: the cost of this test is per task, not per row (a group-by split or
// bucket task costs 60-130 ms at 1k or 3k rows alike, most of it building
// nodejs-polars wrapper objects), so the data is cut into few partitions: 8 + 6
// instead of 21 + 17 (1908 tasks per run before, 2 runs), which keeps the
// test's CPU work to a few seconds and lets it pass on a loaded machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, col, compute, readCsv } from "../../src/index.ts";
import { generateStacklite } from "../../src/datasets/stacklite.ts";
import { until } from "../engine/harness.ts";

/** Groups whose results are shuffle outputs (splits and the buckets picked from them). */
const SHUFFLE_GROUPS = new Set(["groupBySplit", "shuffleSplit", "pickBucket"]);
const PENDING = new Set(["waiting", "queued", "processing", "no-worker"]);

test("SIGKILL of a worker in the middle of a group-by and a hash join gives the same answers", { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-dfk-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await generateStacklite({ out: dir, questions: 24_000, dangling: 1, seed: 3 });
  // the default worker TTL: a SIGKILLed worker is noticed by its closed connection
  // (in ~50 ms), and a short TTL could remove a live worker starved on a busy machine
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  t.after(() => client.close());
  const q0 = await readCsv(join(dir, "questions.csv"), { naValues: ["NA"], blocksize: 160_000 });
  const tags = await readCsv(join(dir, "question_tags.csv"), { naValues: ["NA"], blocksize: 160_000 });
  assert.ok(q0.npartitions >= 6 && tags.npartitions >= 6, `${q0.npartitions} + ${tags.npartitions} partitions`);
  t.diagnostic(`${q0.npartitions} + ${tags.npartitions} partitions`);
  // `fresh` changes every task key (a no-op filter), so the second run recomputes everything
  const job = (fresh: boolean) => {
    const q = fresh ? q0.filter(col("Id").gt(-1)) : q0;
    const owners = q.groupBy("OwnerUserId").agg({ n: ["Id", "count"], s: ["Score", "sum"] });
    const byTag = q.select("Id", "Score").merge(tags, { on: "Id" }).groupBy("Tag").agg({ n: ["Id", "count"], m: ["Score", "mean"] });
    return compute([owners.len(), owners.sum("s"), owners.nlargest(3, "n", { tieBreak: ["OwnerUserId"] }), byTag.len(), byTag.nlargest(3, "n", { tieBreak: ["Tag"] })], client);
  };
  const expected = await job(false);

  const cluster = client.localCluster!;
  const state = cluster.scheduler.state;
  const victim = cluster.workers[1]!;
  let done = false;
  const running = job(true).finally(() => (done = true));
  running.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
  // kill once the victim holds the only copy of a shuffle output that a task
  // still to run needs: the kill then certainly loses shuffle data
  const holdsNeededShuffleData = (): boolean => {
    for (const ts of state.tasks.values()) {
      if (ts.state !== "memory" || !SHUFFLE_GROUPS.has(ts.group.name) || ts.whoHas.size !== 1) continue;
      if ([...ts.whoHas][0]!.address !== victim.address) continue;
      for (const d of ts.dependents) if (PENDING.has(d.state)) return true;
    }
    return false;
  };
  await until(() => done || holdsNeededShuffleData(), "the victim to hold needed shuffle data", 300_000);
  assert.equal(done, false, `the job finished before the victim held needed shuffle data: ${JSON.stringify(state.stateCounts())}`);
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
