import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateStacklite } from "../../src/datasets/stacklite.ts";
import { runPartitionTasks } from "../../bench/stacklite/shoal_partition_tasks.ts";
import { compareAnswers } from "../../bench/stacklite/compare_answers.ts";

const PY = "/usr/bin/python3";
const hasPandas = spawnSync(PY, ["-c", "import pandas"], { stdio: "ignore" }).status === 0;
const root = new URL("../..", import.meta.url).pathname;

test("eight StackLite tasks: partition pipeline equals pandas (20k questions, 3 files, dangling rows)",
  { skip: hasPandas ? false : `${PY} lacks pandas (apt-get install -y python3-pandas) — comparison skipped`, timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-sl-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await generateStacklite({ out: dir, questions: 20_000, dangling: 3, files: 3, seed: 11 });
    execFileSync(PY, [join(root, "bench/stacklite/pandas_tasks.py"), "--data", dir, "--out", join(dir, "pandas.json")], { stdio: "inherit" });
    const ref = JSON.parse(readFileSync(join(dir, "pandas.json"), "utf8")).answers;
    // small blocks: several partitions per file, so every combine path runs
    const ours = runPartitionTasks(dir, { partitions: 3, blocksize: 150_000 });
    assert.deepEqual(compareAnswers(ref, ours.answers), []);
    assert.equal((ours.answers.task4 as { dangling: number }).dangling, 1);
    assert.equal((ref.task3.top as unknown[]).length, 5);
  });
