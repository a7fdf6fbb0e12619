// Adaptive scaling on a LocalCluster: from zero, scale-down without recomputation, replacement of dead workers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, LocalCluster } from "../../src/index.ts";
import { retireStats } from "../../src/elastic/retire.ts";
import { counted, firstByte, square } from "./fixtures.ts";

async function until(what: string, ok: () => boolean, ms = 30_000, debug?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${debug ? `: ${debug()}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("adapt from zero: a submit starts workers; scale-down moves sole results (no recomputation); back to zero", { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-adapt-"));
  const log = join(dir, "runs.log");
  const cluster = await LocalCluster.start({ nworkers: 0, nthreads: 1, dashboard: false });
  const ad = cluster.adapt({ minimum: 0, maximum: 2, interval: 0.1, waitCount: 3, targetDuration: 0.2 });
  const client = await Client.connect(cluster);
  try {
    assert.equal(cluster.scheduler.state.workers.size, 0);
    // 10 results of 100 KB (too large to ride in the scheduler's messages), 150 ms of CPU each
    const parts = Array.from({ length: 10 }, (_, i) => client.submit(counted, i, log, 100_000, 150));
    await until("two workers", () => cluster.scheduler.state.workers.size === 2);
    await Promise.all(parts.map((f) => f.wait()));
    const holders = new Set([...cluster.scheduler.state.tasks.values()].filter((t) => t.state === "memory").flatMap((t) => [...t.whoHas].map((w) => w.address)));
    // idle now: the target falls; one worker retires after 3 recommendations, its results move to the other
    await until("one worker", () => cluster.scheduler.state.workers.size === 1);
    const st = retireStats.get(cluster.scheduler)!;
    assert.equal(st.retired, 1);
    if (holders.size === 2) assert.ok(st.moved >= 1, "the retired worker's sole results were moved");
    const sumFutures = parts.slice(1).map((f, i) => client.submit(firstByte, parts[i]!, f));
    const sums = await client.gather(sumFutures);
    assert.deepEqual(sums, Array.from({ length: 9 }, (_, i) => 2 * i + 1));
    assert.equal(readFileSync(log, "utf8").trim().split("\n").length, 10, "every part ran once: nothing recomputed by the scale-down");
    // the last worker holds wanted results and has nobody to give them to: it stays until they are released
    for (const f of [...parts, ...sumFutures]) f.release();
    await until("zero workers", () => cluster.scheduler.state.workers.size === 0 && ad.launcher.status().length === 0, 30_000, () => JSON.stringify({ hist: ad.history.slice(-3), workers: [...cluster.scheduler.state.workers.values()].map((w) => [w.name, w.status, w.processing.size, w.hasWhat.size]) }));
    // a submit to the empty cluster starts a worker again
    assert.equal(await client.submit(square, 7).result(), 49);
    assert.ok(ad.history.some((d) => d.action === "down"));
  } finally {
    await client.close();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("adapt replaces a launched worker that died while the target wants it", { timeout: 60_000 }, async () => {
  const cluster = await LocalCluster.start({ nworkers: 0, nthreads: 1, dashboard: false });
  const ad = cluster.adapt({ minimum: 1, maximum: 1, interval: 0.1 });
  try {
    await until("a worker", () => cluster.scheduler.state.workers.size === 1);
    const first = [...cluster.scheduler.state.workers.values()][0]!;
    const proc = cluster.workers.find((w) => w.name === first.name)!.process;
    proc.kill("SIGKILL");
    await until("a replacement", () => [...cluster.scheduler.state.workers.values()].some((w) => w.name !== first.name));
    assert.equal(ad.launcher.status().length, 1);
    const client = await Client.connect(cluster);
    assert.equal(await client.submit(square, 3).result(), 9);
    await client.close();
  } finally {
    await cluster.close();
  }
});
