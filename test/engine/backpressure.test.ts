// Tier 3: backpressure on a worker's data port, in a real worker process.
// A peer asks for 2 GiB of results and stops reading: the worker must not
// read, encode or queue them all (its RSS stays within a stated bound), and
// when the peer reads again every byte arrives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Client, wait } from "../../src/client/client.ts";
import { connect } from "../../src/comm/index.ts";
import { fetchData } from "../../src/worker/data-plane.ts";
import { deserialize } from "../../src/protocol/serialize.ts";
import { makeBytes } from "../fixtures/tasks.ts";
import { until } from "./harness.ts";

const MiB = 2 ** 20;
const VALUES = 16;
const VALUE_BYTES = 128 * MiB;
/** The stated bound: one reply (64 MiB of values, at least one 128 MiB value) twice over, plus slack. */
const BOUND = 400 * MiB;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

test("a peer that requests 2 GiB of results and stops reading does not grow the worker's memory past the bound; all bytes arrive when it reads again", { timeout: 240_000 }, async (t) => {
  if (process.platform !== "linux") {
    t.skip("reads /proc for the worker's RSS");
    return;
  }
  const client = await Client.connect({ cluster: { nworkers: 1, nthreads: 1, memoryLimit: 1536 * MiB } });
  try {
    const futures = client.map(makeBytes, Array.from({ length: VALUES }, () => VALUE_BYTES / 8));
    await wait(futures);
    const info = await client.schedulerInfo();
    const [address, w] = Object.entries(info.workers)[0]!;
    // let spilling settle, then take the baseline
    let last = rssOf(w.pid);
    await until(async () => {
      await new Promise((r) => setTimeout(r, 250));
      const now = rssOf(w.pid);
      const steady = Math.abs(now - last) < 16 * MiB;
      last = now;
      return steady;
    }, "the worker's memory to settle", 60_000);
    const base = rssOf(w.pid);

    const comm = await connect(address, { timeoutMs: 10_000 });
    const fetched = fetchData(comm, futures.map((f) => f.key), 180_000);
    comm.pauseReading(); // a peer that stops reading
    let peak = base;
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      peak = Math.max(peak, rssOf(w.pid));
    }
    t.diagnostic(`worker RSS: base ${(base / MiB).toFixed(0)} MiB, peak while the peer did not read ${(peak / MiB).toFixed(0)} MiB (bound +${BOUND / MiB} MiB)`);
    assert.ok(peak - base < BOUND, `worker memory grew by ${((peak - base) / MiB).toFixed(0)} MiB while ${(VALUES * VALUE_BYTES) / 2 ** 30} GiB were requested and not read`);

    comm.resumeReading();
    const got = await fetched;
    comm.close();
    assert.equal(got.data.size, VALUES);
    assert.deepEqual(got.missing, []);
    const one = deserialize(got.data.get(futures[VALUES - 1]!.key)!) as Float64Array;
    assert.equal(one.length, VALUE_BYTES / 8);
    assert.equal(one[one.length - 1], one.length - 1);
  } finally {
    await client.close();
  }
});
