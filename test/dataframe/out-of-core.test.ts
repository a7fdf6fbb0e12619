// Out of core: the main job (examples/stackoverflow.ts) on 2 workers whose
// memory limit leaves too little room for both persisted tables and the
// shuffles, so that the memory ladder runs (stored results spilled to disk
// past 60% of the limit / 70% RSS, new tasks paused past 80% RSS, executor
// thread caches dropped and collected); the eight tasks still equal pandas.
//
// Choosing the limit: a worker process started from TypeScript sources (tsx)
// sits at ~110 MiB RSS idle and ~165 MiB once its executor thread has loaded
// nodejs-polars, so a 320 MiB limit pauses at 256 MiB and leaves ~90 MiB for
// data and working memory. Below ~260 MiB a worker would pause forever on its
// baseline alone (from the built dist the baseline is ~40 MiB lower).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// the job runs the compiled package (see examples/stackoverflow.ts): watch its client
import { Client } from "shoal";
import { generateStacklite } from "../../src/datasets/stacklite.ts";
import { compareAnswers } from "../../bench/stacklite/compare_answers.ts";
import { runJob } from "../../examples/stackoverflow.ts";

const PY = "/usr/bin/python3";
const hasPandas = spawnSync(PY, ["-c", "import pandas"], { stdio: "ignore" }).status === 0;
const root = new URL("../..", import.meta.url).pathname;
const LIMIT = 320 * 2 ** 20;

test("out of core: eight StackLite tasks with 320 MiB workers (spill, pause) equal pandas (50k questions, a worker killed)",
  { skip: hasPandas ? false : `${PY} lacks pandas (apt-get install -y python3-pandas) — comparison skipped`, timeout: 240_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-ooc-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await generateStacklite({ out: dir, questions: 50_000, dangling: 3, files: 2, seed: 3 });
    execFileSync(PY, [join(root, "bench/stacklite/pandas_tasks.py"), "--data", dir, "--out", join(dir, "pandas.json")], { stdio: "ignore" });
    const ref = JSON.parse(readFileSync(join(dir, "pandas.json"), "utf8")).answers;
    // watch the ladder through the job's client (the most recently connected one)
    const seen = { paused: 0, spilled: 0, maxRss: 0, limit: 0 };
    let done = false;
    const watch = (async () => {
      while (!done) {
        const c = Client.current();
        if (c) {
          try {
            for (const w of Object.values((await c.schedulerInfo()).workers)) {
              const m = w.metrics ?? {};
              seen.paused = Math.max(seen.paused, m["paused"] ?? 0);
              seen.spilled = Math.max(seen.spilled, m["spilled"] ?? 0);
              seen.maxRss = Math.max(seen.maxRss, m["rss"] ?? 0);
              seen.limit = Math.max(seen.limit, w.memoryLimit);
            }
          } catch { /* the client is closing */ }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const ours = await runJob({
      data: dir, questions: 0, workers: 2, threads: 1, blocksize: 256 << 10, persist: true, json: null, address: null, killWait: 60,
      memoryLimit: LIMIT,
    }, () => {});
    done = true;
    await watch;
    assert.deepEqual(compareAnswers(ref, ours.answers), []);
    assert.deepEqual(ours.answers.task7, ours.answers.task5);
    assert.deepEqual(ours.answers.task8, ours.answers.task6);
    assert.equal(seen.limit, LIMIT);
    // the limit was binding: workers paused or spilled at some point
    assert.ok(seen.paused > 0 || seen.spilled > 0, `the memory ladder never ran: ${JSON.stringify(seen)}`);
    t.diagnostic(`max worker RSS ${(seen.maxRss / 2 ** 20).toFixed(0)} MiB, max spilled ${(seen.spilled / 2 ** 20).toFixed(1)} MiB, paused: ${seen.paused > 0}`);
  });
