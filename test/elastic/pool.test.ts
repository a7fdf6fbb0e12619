import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { pool, mapConcurrent, TaskError } from "../../src/index.ts";
import { defaultChunksize } from "../../src/elastic/index.ts";
import { square, addTo, failOn } from "./fixtures.ts";

test("pool(2).map keeps order, chunks, starmap, and re-raises with the remote stack", async () => {
  const p = pool(2);
  try {
    const items = Array.from({ length: 101 }, (_, i) => i);
    assert.deepEqual(await p.map(square, items), items.map((x) => x * x));
    assert.deepEqual(await p.map(square, items, { chunksize: 7 }), items.map((x) => x * x));
    assert.deepEqual(await p.map(addTo, [1, 2, 3], { extraArgs: [10] }), [11, 12, 13]);
    assert.deepEqual(await p.starmap(addTo, [[1, 2], [3, 4]]), [3, 7]);
    assert.deepEqual(await p.map(square, []), []);
    await assert.rejects(p.map(failOn, items, { chunksize: 10, extraArgs: [42] }), (err: unknown) => {
      assert.ok(err instanceof TaskError);
      assert.equal(err.remoteName, "RangeError");
      assert.match(err.message, /bad item 42/);
      assert.match(err.remoteStack, /failOn/);
      return true;
    });
    await assert.rejects(p.map(square, [1], { chunksize: 0 }), /options.chunksize must be a positive integer/);
  } finally {
    await p.close();
  }
  assert.equal(defaultChunksize(100, 4), 7); // multiprocessing: divmod(100, 16) = (6, 4) -> 7
  assert.equal(defaultChunksize(64, 4), 4);
});

test("mapConcurrent: order kept, concurrency bounded, first error raised", async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapConcurrent(
    async (x: number) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, (x * 7) % 5));
      inFlight--;
      return x * 2;
    },
    Array.from({ length: 50 }, (_, i) => i),
    { concurrency: 8 },
  );
  assert.deepEqual(out, Array.from({ length: 50 }, (_, i) => i * 2));
  assert.equal(peak, 8);
  await assert.rejects(mapConcurrent(async (x: number) => { if (x === 3) throw new Error("three"); return x; }, [1, 2, 3, 4], { concurrency: 2 }), /three/);
  await assert.rejects(mapConcurrent(async (x: number) => x, [1], { concurrency: 0 }), /options.concurrency must be a positive integer/);
});

test("mapConcurrent overlaps HTTP latency: 40 pages at 100 ms each", async () => {
  const server = createServer((req, res) => setTimeout(() => res.end(`page ${req.url}`), 100));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const urls = Array.from({ length: 40 }, (_, i) => `http://127.0.0.1:${port}/${i}`);
    const t0 = performance.now();
    const pages = await mapConcurrent((u: string) => fetch(u).then((r) => r.text()), urls, { concurrency: 40 });
    const ms = performance.now() - t0;
    assert.equal(pages[7], "page /7");
    assert.ok(ms < 40 * 100 / 2, `concurrent fetch took ${ms} ms`); // sequential would be >= 4000 ms
  } finally {
    server.close();
  }
});
