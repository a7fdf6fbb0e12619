// The DataFrame writers' output commit on a real 2-worker LocalCluster (issue
// 25, item 9.1): parts go to `_temporary/` and are moved to their names only
// when every partition is written, then `_SUCCESS`; a write with one failing
// partition leaves no part and no marker, and an earlier output stays as it
// was; a worker killed in the middle of a write leaves no duplicate part.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, readCsv, type DataFrame } from "../../src/index.ts";
import { TaskError } from "../../src/client/errors.ts";
import { until } from "../engine/harness.ts";

let client: Client;
let dir: string;
const ROWS = 13_000;
const BAD_ROW = 12_500;

before(async () => {
  client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  dir = mkdtempSync(join(tmpdir(), "shoal-dfw-"));
  const good = ["a,b"];
  const bad = ["a,b"];
  for (let i = 0; i < ROWS; i++) {
    good.push(`${i},${i * 2}`);
    bad.push(i === BAD_ROW ? "x,1" : `${i},${i * 2}`);
  }
  writeFileSync(join(dir, "good.csv"), good.join("\n") + "\n");
  writeFileSync(join(dir, "bad.csv"), bad.join("\n") + "\n");
});
after(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** 14 partitions; with `bad`, the one holding row 12,500 fails to parse ("x" as int64), the 13 others are fine. */
const frame = (name: "good" | "bad", blocksize = 10_000): Promise<DataFrame> => readCsv(join(dir, `${name}.csv`), { blocksize, dtypes: { a: "int64" } });
/** Every file below `d`, relative, sorted ([] when `d` is missing). */
const tree = (d: string): string[] => (existsSync(d) ? (readdirSync(d, { recursive: true }) as string[]).sort() : []);

test("toCsv with one failing partition: a clear error, and no part, no _SUCCESS, no _temporary/ left", async () => {
  const df = await frame("bad");
  assert.equal(df.npartitions, 14);
  const out = join(dir, "failed");
  await assert.rejects(df.toCsv(out, {}, client), (err: unknown) => {
    assert.ok(err instanceof TaskError, String(err));
    assert.equal(err.remoteName, "CsvParseError");
    assert.match(err.message, /task writePartition-\S+ failed on worker .*malformed CSV row at .*bad\.csv:12502, column 1 'a': cannot parse "x" as int64/);
    return true;
  });
  assert.deepEqual(tree(out), []); // the 13 partitions that were written went to _temporary/, now removed
  // the same with a `*` pattern and with Parquet
  await assert.rejects(df.toCsv(join(dir, "failed-pattern", "p-*.csv"), {}, client), TaskError);
  assert.deepEqual(tree(join(dir, "failed-pattern")), []);
  await assert.rejects(df.toParquet(join(dir, "failed-pq"), {}, client), TaskError);
  assert.deepEqual(tree(join(dir, "failed-pq")), []);
});

test("a successful toCsv: every part and _SUCCESS, nothing else; the directory reads back without the marker", async () => {
  const df = await frame("good");
  const out = join(dir, "ok");
  const urls = await df.toCsv(out, {}, client);
  assert.equal(urls.length, 14);
  const parts = Array.from({ length: 14 }, (_, i) => `part-${String(i).padStart(5, "0")}.csv`);
  assert.deepEqual(tree(out), ["_SUCCESS", ...parts]);
  assert.equal(readFileSync(join(out, "_SUCCESS"), "utf8"), "");
  assert.equal(await (await readCsv(`${out}/`)).len().compute(client), ROWS);
  // a `*` pattern: the parts, no marker (the directory is not the write's own)
  const pattern = join(dir, "ok-pattern");
  mkdirSync(pattern);
  writeFileSync(join(pattern, "other.txt"), "kept");
  await df.toJsonLines(join(pattern, "p-*.jsonl"), {}, client);
  assert.deepEqual(tree(pattern), ["other.txt", ...Array.from({ length: 14 }, (_, i) => `p-${String(i).padStart(5, "0")}.jsonl`)]);
});

test("an earlier output: a failed write leaves it as it was; a successful one replaces it, stale parts included", async () => {
  const out = join(dir, "rewrite");
  await (await frame("good")).toCsv(out, {}, client); // 14 parts
  const before = tree(out).map((f) => [f, readFileSync(join(out, f), "utf8")]);
  await assert.rejects((await frame("bad")).toCsv(out, {}, client), TaskError);
  assert.deepEqual(tree(out).map((f) => [f, readFileSync(join(out, f), "utf8")]), before);
  const fewer = await frame("good", 60_000); // 3 partitions
  assert.equal(fewer.npartitions, 3);
  await fewer.toCsv(out, {}, client);
  assert.deepEqual(tree(out), ["_SUCCESS", "part-00000.csv", "part-00001.csv", "part-00002.csv"]);
  assert.equal(await (await readCsv(`${out}/`)).len().compute(client), ROWS);
});

test("single-file outputs: a failed write leaves no file and no temporary sibling", async () => {
  const df = await frame("bad");
  const sub = join(dir, "single");
  mkdirSync(sub);
  await assert.rejects(df.toCsv(join(sub, "all.csv"), {}, client), TaskError);
  await assert.rejects(df.toParquet(join(sub, "all.parquet"), {}, client), TaskError);
  assert.deepEqual(tree(sub), []);
  await (await frame("good")).toCsv(join(sub, "all.csv"), {}, client);
  assert.deepEqual(tree(sub), ["all.csv"]);
});

test("a worker SIGKILLed during a write: written parts it held are recomputed, and the output has each part once", { timeout: 300_000 }, async (t) => {
  // its own cluster: this test kills one of the workers
  const c = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  t.after(() => c.close());
  const df = await frame("good", 1_500); // ~80 partitions: the write takes long enough to kill a worker in the middle
  const n = df.npartitions;
  assert.ok(n >= 60, `${n} partitions`);
  const out = join(dir, "killed");
  const cluster = c.localCluster!;
  const state = cluster.scheduler.state;
  const victim = cluster.workers[1]!;
  let done = false;
  const running = df.toCsv(out, {}, c).finally(() => (done = true));
  running.catch(() => undefined); // awaited below
  // kill once the victim holds a finished write (its result lost with it: the task is rerun) and writes are still to run
  const holdsWrite = (): boolean => {
    let held = false;
    let pending = false;
    for (const ts of state.tasks.values()) {
      if (ts.group.name !== "writePartition") continue;
      if (ts.state === "memory" && ts.whoHas.size === 1 && [...ts.whoHas][0]!.address === victim.address) held = true;
      else if (ts.state !== "memory" && ts.state !== "erred") pending = true;
    }
    return held && pending;
  };
  await until(() => done || holdsWrite(), "the victim to hold a written part while others are pending", 240_000);
  assert.equal(done, false, "the write finished before the victim held a written part");
  victim.process.kill("SIGKILL");
  const urls = await running;
  assert.equal(urls.length, n);
  assert.deepEqual(tree(out), ["_SUCCESS", ...Array.from({ length: n }, (_, i) => `part-${String(i).padStart(5, "0")}.csv`)]);
  assert.equal(await (await readCsv(`${out}/`)).len().compute(c), ROWS); // no row twice, none lost
});
