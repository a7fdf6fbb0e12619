// The main job (examples/stackoverflow.ts) on a real local cluster vs pandas:
// 200k questions split over 3 files with dangling tag rows; tasks 7/8 run
// after half of the workers were SIGKILLed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateStacklite } from "../../src/datasets/stacklite.ts";
import { compareAnswers } from "../../bench/stacklite/compare_answers.ts";
import { runJob } from "../../examples/stackoverflow.ts";
import { LocalCluster } from "../../src/client/local-cluster.ts";

const PY = "/usr/bin/python3";
const hasPandas = spawnSync(PY, ["-c", "import pandas"], { stdio: "ignore" }).status === 0;
const root = new URL("../..", import.meta.url).pathname;

test("main job: eight StackLite tasks on a 2-worker cluster equal pandas (200k questions, 3 files, dangling rows, a worker killed)",
  { skip: hasPandas ? false : `${PY} lacks pandas (apt-get install -y python3-pandas) — comparison skipped`, timeout: 180_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-dsl-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await generateStacklite({ out: dir, questions: 200_000, dangling: 3, files: 3, seed: 7 });
    execFileSync(PY, [join(root, "bench/stacklite/pandas_tasks.py"), "--data", dir, "--out", join(dir, "pandas.json")], { stdio: "ignore" });
    const ref = JSON.parse(readFileSync(join(dir, "pandas.json"), "utf8")).answers;
    const lines: string[] = [];
    // 1 MB blocks: several partitions per file, so every combine and shuffle path runs
    const ours = await runJob({
      data: dir, questions: 0, workers: 2, threads: 1, blocksize: 1 << 20, persist: true, json: null, address: null, killWait: 60,
    }, (s) => lines.push(s));
    assert.deepEqual(compareAnswers(ref, ours.answers), []);
    assert.equal((ours.answers.task4 as { dangling: number }).dangling, 1);
    assert.deepEqual(ours.answers.task7, ours.answers.task5);
    assert.deepEqual(ours.answers.task8, ours.answers.task6);
    assert.ok(lines.some((l) => /killing worker .* SIGKILL/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /^kill .*1 workers left/.test(l)), lines.join("\n"));
    for (const k of ["task1", "task2", "task3", "task4", "task5", "task6", "task7", "task8"]) assert.equal(typeof ours.timings_s[k], "number");
  });

test("main job without persist (every task reads the CSV blocks) equals pandas",
  { skip: hasPandas ? false : `${PY} lacks pandas — comparison skipped`, timeout: 180_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-dsl-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await generateStacklite({ out: dir, questions: 30_000, dangling: 2, files: 2, seed: 5 });
    execFileSync(PY, [join(root, "bench/stacklite/pandas_tasks.py"), "--data", dir, "--out", join(dir, "pandas.json")], { stdio: "ignore" });
    const ref = JSON.parse(readFileSync(join(dir, "pandas.json"), "utf8")).answers;
    const ours = await runJob({
      data: dir, questions: 0, workers: 2, threads: 1, blocksize: 200_000, persist: false, json: null, address: null, killWait: 60,
    }, () => {});
    assert.deepEqual(compareAnswers(ref, ours.answers), []);
  });

test("the compiled main job (dist/examples/stackoverflow.js, what `npm run demo` runs) generates data, runs the eight tasks as a process and writes the JSON",
  { timeout: 120_000 }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-demo-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, "answers.json");
    const r = spawnSync(process.execPath, [join(root, "dist/examples/stackoverflow.js"), "--data", join(dir, "data"), "--questions", "4000", "--workers", "2", "--json", out],
      { cwd: root, encoding: "utf8", timeout: 110_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /generating 4,000 questions/);
    const res = JSON.parse(readFileSync(out, "utf8")) as { answers: Record<string, unknown>; timings_s: Record<string, number> };
    for (const k of ["task1", "task2", "task3", "task4", "task5", "task6", "task7", "task8"]) {
      assert.ok(res.answers[k] !== undefined, `answer ${k} missing`);
      assert.equal(typeof res.timings_s[k], "number");
    }
    assert.deepEqual(res.answers.task7, res.answers.task5);
    assert.deepEqual(res.answers.task8, res.answers.task6);
  });

test("main job on a remote cluster whose workers nobody stops: tasks 1-6 answered, 7 and 8 reported as not run, no stack",
  { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-remote-"));
    const cluster = await LocalCluster.start({ nworkers: 2, nthreads: 1, dashboard: false });
    t.after(async () => {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await generateStacklite({ out: dir, questions: 3000, dangling: 2, seed: 3 });
    const lines: string[] = [];
    const res = await runJob({
      data: dir, questions: 0, workers: 2, threads: 1, blocksize: null, persist: true, json: null, address: cluster.schedulerAddress, killWait: 1,
    }, (s) => lines.push(s));
    assert.deepEqual(res.incomplete?.tasks, ["task7", "task8"]);
    assert.match(res.incomplete!.reason, /still has 2 workers after 1 s/);
    for (const k of ["task1", "task2", "task3", "task4", "task5", "task6"]) assert.ok(res.answers[k] !== undefined, `answer ${k} missing`);
    assert.equal(res.answers["task7"], undefined);
    assert.ok(lines.some((l) => /stop 1 of them now/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /^NOT COMPLETE: .*tasks 7 and 8/.test(l)), lines.join("\n"));
  });

test("npm run demo (scripts/demo.mjs) does not rebuild when dist/ is newer than src/ and examples/", { timeout: 60_000 }, () => {
  const newest = (p: string): number => {
    const st = statSync(p);
    return st.isDirectory() ? Math.max(0, ...readdirSync(p).map((e) => newest(join(p, e)))) : st.mtimeMs;
  };
  const built = Math.min(statSync(join(root, "dist/index.js")).mtimeMs, statSync(join(root, "dist/examples/stackoverflow.js")).mtimeMs);
  const fresh = Math.max(newest(join(root, "src")), newest(join(root, "examples"))) <= built;
  const r = spawnSync(process.execPath, [join(root, "scripts/demo.mjs"), "--help"], { cwd: root, encoding: "utf8", timeout: 50_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^usage: stackoverflow/m);
  // the suite builds before it runs, so dist/ is fresh here unless someone edits src/ meanwhile
  assert.equal(/building the package/.test(r.stdout), !fresh, r.stdout);
});
