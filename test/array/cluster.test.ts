// shoal/array on a LocalCluster (2 worker processes): the same answers as in
// this process, .npy files NumPy reads back, user functions shipped to
// workers, persist, and a worker SIGKILLed in the middle of a matmul and a
// tree reduction (lost chunks recomputed from lineage).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import * as da from "../../src/array/index.ts";
import { until } from "../engine/harness.ts";

let client: Client;
const dir = mkdtempSync(join(tmpdir(), "shoal-arrc-"));
const inline = { client: "inline" as const };

before(async () => {
  client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
});
after(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

test("cluster results equal in-process results (elementwise, reductions, slicing, matmul, mapBlocks)", async () => {
  const x = da.random.seed(5).normal(0, 1, [300, 200], { chunks: [70, 60] });
  const exprs = [
    x.add(x.get("0:200").T.get(null, "0:200").sum({ axis: 0 })),
    x.std({ axis: 0, ddof: 1 }),
    x.get("::-3", "10:150:7").mul(2).sqrt().nanToNum(),
    x.matmul(x.T.get(null, "0:50")),
    x.argmax({ axis: 1 }),
    x.mapBlocks((c) => (c.data as Float64Array).map((v) => v * v)).sum(),
  ];
  for (const e of exprs) assert.deepEqual(await e.compute({ client }), await e.compute(inline));
});

test("random arrays are independent of the chunking", async () => {
  const a = await da.random.seed(9).uniform(-1, 1, [50, 40], { chunks: [7, 40] }).toTyped({ client });
  const b = await da.random.seed(9).uniform(-1, 1, [50, 40], { chunks: [50, 3] }).toTyped(inline);
  assert.deepEqual(a, b);
  const i = await da.random.seed(9).integers(0, 10, [100], { chunks: 9 }).toTyped(inline);
  assert.ok([...(i as BigInt64Array)].every((v) => v >= 0n && v < 10n));
});

test("toNpy writes NumPy's format and fromNpy reads what NumPy writes", { skip: spawnSync("python3", ["-c", "import numpy"]).status === 0 ? false : "python3 with NumPy is absent" }, async () => {
  const x = da.arange(0, 24, 1, { chunks: 5 }).reshape([2, 3, 4]).astype("float32").div(3);
  const p = join(dir, "x.npy");
  await da.toNpy(x, p, { client });
  const r = spawnSync("python3", ["-c", `import numpy as np; a = np.load(${JSON.stringify(p)}); assert a.dtype == np.float32 and a.shape == (2, 3, 4); assert (a == (np.arange(24).reshape(2,3,4).astype(np.float32) / np.float32(3))).all(); np.save(${JSON.stringify(join(dir, "y.npy"))}, np.arange(10, dtype=np.int32)[::-1] * 2)`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const y = await da.fromNpy(join(dir, "y.npy"), { chunks: 3 });
  assert.equal(y.dtype, "int32");
  assert.deepEqual([...(await y.toTyped({ client }))], [18, 16, 14, 12, 10, 8, 6, 4, 2, 0]);
});

test("persist keeps chunks on the workers; later arrays start from them", async () => {
  const x = await da.ones([100, 100], { chunks: 30 }).mul(3).persist({ client });
  assert.equal((await x.sum().toTyped({ client }))[0], 30000);
});

test("errors name both shapes and say what to do", () => {
  const a = da.ones([3, 4]), b = da.ones([5]);
  assert.throws(() => a.add(b), (e: Error) => e instanceof da.ArrayShapeError && /\(3,4\) \(5\)/.test(e.message));
  assert.throws(() => a.matmul(da.ones([5, 2])), (e: Error) => e instanceof da.ArrayShapeError && /\(3, 4\) and \(5, 2\)/.test(e.message));
  assert.throws(() => a.reshape([5, -1]), da.ArrayShapeError);
  assert.throws(() => a.sum({ axis: 2 }), da.ArrayArgumentError);
  assert.throws(() => da.ones([4], { chunks: [[1, 2]] }), da.ArrayChunkError);
});

test("a worker SIGKILLed in the middle of a matmul and a tree reduction gives the same answer", { timeout: 300_000 }, async (t) => {
  const c2 = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  t.after(() => c2.close());
  const job = (seed: number) => {
    const x = da.random.seed(seed).normal(0, 1, [600, 600], { chunks: 100 });
    return x.matmul(x.T).sum({ axis: 0, splitEvery: 2 }).compute({ client: c2 });
  };
  const cluster = c2.localCluster!;
  const state = cluster.scheduler.state;
  const victim = cluster.workers[1]!;
  const reference = await job(2); // the answer without a kill
  let done = false;
  // the same values under fresh task keys (a no-op add), so everything is computed again
  const running = (async () => {
    const x = da.random.seed(2).normal(0, 1, [600, 600], { chunks: 100 }).add(0);
    return x.matmul(x.T).sum({ axis: 0, splitEvery: 2 }).compute({ client: c2 });
  })().finally(() => (done = true));
  running.catch(() => undefined);
  const holdsNeeded = (): boolean => {
    for (const ts of state.tasks.values()) {
      if (ts.state !== "memory" || !/^array_(matmul|reduce)/.test(ts.group.name) || ts.whoHas.size !== 1) continue;
      if ([...ts.whoHas][0]!.address !== victim.address) continue;
      for (const d of ts.dependents) if (d.state === "waiting" || d.state === "queued" || d.state === "processing" || d.state === "no-worker") return true;
    }
    return false;
  };
  await until(() => done || holdsNeeded(), "the victim to hold a needed matmul/reduction chunk", 120_000);
  assert.equal(done, false, "the job finished before the kill");
  victim.process.kill("SIGKILL");
  const got = await running;
  assert.ok(victim.process.signalCode === "SIGKILL" || victim.process.exitCode !== null);
  assert.deepEqual(got, reference);
});
