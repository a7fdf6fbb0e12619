// Tier 2: persisted DataFrame partitions stay frames in the executor thread
// that made them (thread-resident values). Their Arrow IPC bytes are written
// only when they must leave the thread: the client collects them, a task on
// another worker or thread reads them, the worker spills them; a thread that
// dies takes them along and the scheduler has them recomputed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchedulerServer } from "../../src/scheduler/server.ts";
import { WorkerServer } from "../../src/worker/server.ts";
import { Client } from "../../src/client/client.ts";
import { col, delayed, readCsv } from "../../src/index.ts";
import { startHarness, until } from "./harness.ts";

interface StoreView { isResident(k: string): boolean; has(k: string): boolean; keys(): string[]; memoryBytes: number; spillCount: number }
const storeOf = (w: WorkerServer): StoreView => (w as unknown as { store: StoreView }).store;
const residentKeys = (ws: WorkerServer[]): string[] => ws.flatMap((w) => storeOf(w).keys().filter((k) => storeOf(w).isResident(k)));

/** Two CSV files of `n` rows each: id, g (id % 7), x (id * 0.5). */
function writeData(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), "shoal-resident-"));
  for (const f of [0, 1]) {
    const rows = Array.from({ length: n }, (_, i) => { const id = f * n + i; return `${id},${id % 7},${id * 0.5}`; });
    writeFileSync(join(dir, `part-${f}.csv`), "id,g,x\n" + rows.join("\n") + "\n");
  }
  return dir;
}

test("persisted partitions are resident until collected, read across workers, or recomputed after their thread dies", async () => {
  const dir = writeData(20_000);
  const h = await startHarness({ nworkers: 2, nthreads: 1 });
  try {
    const df = await (await readCsv(join(dir, "part-*.csv"))).persist(h.client);
    await until(() => residentKeys(h.workers).length >= 2, "both partitions resident");
    // every resident value counts towards its worker's managed memory
    for (const w of h.workers) for (const k of storeOf(w).keys()) if (storeOf(w).isResident(k)) assert.ok(storeOf(w).memoryBytes > 0);

    // a merge whose sides sit on different workers: the partner travels as Arrow IPC
    const other = df.select("id").rename({ id: "id2" });
    const joined = df.merge(other.rename({ id2: "id" }), { on: "id", how: "inner", npartitions: 2 });
    assert.equal(await joined.len().compute(h.client), 40_000);

    // collecting writes the bytes on demand; the values are intact
    const back = await df.collect(h.client);
    assert.equal(back.height, 40_000);
    assert.equal(Number(back.getColumn("x").sum()), (40_000 * 39_999) / 2 * 0.5);

    // a thread that dies takes its resident values along: the scheduler recomputes them from lineage
    const before = residentKeys(h.workers);
    const df2 = await (await readCsv(join(dir, "part-*.csv"))).withColumns(col("x").mul(2).alias("y")).persist(h.client);
    await until(() => residentKeys(h.workers).length > before.length, "new partitions resident");
    const lostReports: string[] = [];
    for (const w of h.workers) {
      const ex = (w as unknown as { executor: { onLost: (keys: string[]) => void } }).executor;
      const orig = ex.onLost;
      ex.onLost = (keys) => { lostReports.push(...keys); orig(keys); };
    }
    // a task that reads a resident partition runs on its thread (locality) and ends that thread
    const exit = delayed((part: Uint8Array): number => { void part; process.exit(3); }, { name: "exitThread" });
    const [first] = df2.toDelayed();
    await assert.rejects(h.client.compute(exit(first!)), /died|exit/i, "the exiting task fails");
    assert.ok(lostReports.length > 0, "the dead thread's resident values were reported lost");
    const again = await df2.collect(h.client);
    assert.equal(again.height, 40_000);
    assert.equal(Number(again.getColumn("y").sum()), (40_000 * 39_999) / 2);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a worker over its memory target has resident partitions written by their thread and spilled", async () => {
  const dir = writeData(60_000);
  const local = mkdtempSync(join(tmpdir(), "shoal-resident-spill-"));
  const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false }).start();
  // RSS rungs off: this worker shares the test process; 1 MiB: the partitions (~1.4 MiB each) cannot all stay
  const worker = new WorkerServer({ scheduler: scheduler.address, nthreads: 2, memoryLimit: 2 ** 20, localDirectory: local, memory: { spill: Infinity, pause: Infinity, terminate: Infinity } });
  await worker.start();
  const client = await Client.connect(scheduler.address);
  try {
    const df = await (await readCsv(join(dir, "part-*.csv"))).persist(client);
    await until(() => storeOf(worker).spillCount > 0, "a resident partition spilled");
    assert.ok(storeOf(worker).memoryBytes <= 0.6 * 2 ** 20 || residentKeys([worker]).length < 2);
    const sums = await df.groupBy("g").agg({ n: ["id", "count"], s: ["x", "sum"] }).collect(client);
    assert.equal(sums.height, 7);
    assert.equal(sums.getColumn("n").toArray().reduce((a: number, b) => a + Number(b), 0), 120_000);
  } finally {
    await client.close();
    await worker.close();
    await scheduler.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(local, { recursive: true, force: true });
  }
});
