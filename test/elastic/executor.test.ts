// The serverless-style executor on an adaptive local cluster that starts with no workers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TaskError } from "../../src/index.ts";
import { executor, type Executor } from "../../src/elastic/executor.ts";
import { square, addTo, failOn, sleepMs, flakyOnce, sumAll, chunkLines, joinTexts } from "./fixtures.ts";

let ex: Executor;
const dir = mkdtempSync(join(tmpdir(), "shoal-exec-"));
before(async () => {
  ex = await executor({ maxWorkers: 2 });
});
after(async () => {
  await ex.close();
  rmSync(dir, { recursive: true, force: true });
});

test("from zero workers: map keeps order (chunksize, extraArgs), callAsync, mapReduce", async () => {
  assert.equal(ex.client.localCluster, null); // the executor owns its cluster, not the client
  const fs = ex.map(square, Array.from({ length: 20 }, (_, i) => i), { chunksize: 3 });
  assert.equal(fs.length, 20);
  assert.equal(fs[4]!.callId, "M000/00004");
  assert.deepEqual(await ex.getResult(fs), Array.from({ length: 20 }, (_, i) => i * i));
  assert.equal(await ex.getResult(ex.callAsync(addTo, 2, { extraArgs: [40] })), 42);
  assert.deepEqual(await ex.getResult(ex.map(addTo, [1, 2], { extraArgs: [10] })), [11, 12]);
  const [r] = await ex.mapReduce(square, [1, 2, 3, 4], sumAll, { chunksize: 2 });
  assert.equal(await r!.result(), 30);
});

test("errors carry the remote stack; throwExcept: false; retries; timeout", async () => {
  const fs = ex.map(failOn, [1, 2, 3], { extraArgs: [2] });
  await assert.rejects(ex.getResult(fs), (err: unknown) => err instanceof TaskError && err.remoteName === "RangeError" && /failOn/.test(err.remoteStack));
  assert.deepEqual(await ex.getResult(fs, { throwExcept: false }), [1, undefined, 3]);
  const flaky = ex.map(flakyOnce, [5, 6], { extraArgs: [dir], retries: 1 });
  assert.deepEqual(await ex.getResult(flaky), [5, 6]);
  assert.equal((await flaky[0]!.record())[3], 2, "two attempts");
  const slow = ex.callAsync(sleepMs, 1, { extraArgs: [5_000], timeout: 0.2 });
  await assert.rejects(slow.result(), /did not finish within 200 ms/);
  const s = await ex.summary();
  assert.ok(s.retries >= 2);
  assert.ok(s.failed >= 2);
  assert.ok(s.calls >= s.done + s.failed);
});

test("wait: ALWAYS, ANY_COMPLETED, ALL_COMPLETED, timeout", async () => {
  const fast = ex.callAsync(sleepMs, 1, { extraArgs: [0] });
  const slow = ex.callAsync(sleepMs, 2, { extraArgs: [3_000] });
  const [d0, n0] = await ex.wait([fast, slow], { returnWhen: "ALWAYS" });
  assert.equal(d0.length + n0.length, 2);
  const [d1, n1] = await ex.wait([fast, slow], { returnWhen: "ANY_COMPLETED" });
  assert.ok(d1.includes(fast) && n1.includes(slow));
  const [, n2] = await ex.wait([slow], { timeout: 0.05 });
  assert.deepEqual(n2, [slow]);
  const [d3, n3] = await ex.wait([fast, slow]);
  assert.equal(d3.length, 2);
  assert.equal(n3.length, 0);
});

test("object-chunked map over storage URLs: line-aligned ranges read every line once; a reducer per object", async () => {
  const data = join(dir, "objs");
  const a = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(i % 7)}`).join("\n") + "\n";
  const b = "short\nlines\nhere\n";
  (await import("node:fs")).mkdirSync(data);
  writeFileSync(join(data, "a.txt"), a);
  writeFileSync(join(data, "b.txt"), b);
  const url = pathToFileURL(data).href + "/";
  const parts = await ex.map(chunkLines, url, { objChunkSize: 37 });
  const got = await ex.getResult(parts);
  assert.equal(got.filter((g) => g.key.endsWith("a.txt")).map((g) => g.text).join(""), a);
  assert.equal(got.reduce((n, g) => n + g.lines, 0), 53);
  const perKey = await ex.mapReduce(chunkLines, url, joinTexts, { objChunkSize: 10, reducerPerKey: true });
  assert.deepEqual(await ex.getResult(perKey), [a, b]);
});

test("summary and an HTML timeline drawn with Chart.js", async () => {
  const s = await ex.summary();
  assert.ok(s.done > 20);
  assert.ok(s.jobs.some((j) => j.job === "M000" && j.fn === "square" && j.calls === 20));
  const file = join(dir, "timeline.html");
  await ex.plot(file);
  const html = readFileSync(file, "utf8");
  assert.match(html, /new Chart\(document.getElementById\("timeline"\)/);
  assert.match(html, /Chart\.js v4\.6\.2/);
  assert.match(html, /M000\/00019/);
});
