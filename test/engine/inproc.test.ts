// Tier 2: the whole cluster in one process over the inproc:// transport
// (framed and encoded exactly as over TCP, without sockets).
import { test } from "node:test";
import assert from "node:assert/strict";
import { add, inc, makeBytes, total } from "../fixtures/tasks.ts";
import { startHarness } from "./harness.ts";

test("scheduler, workers and client over inproc://", async () => {
  const h = await startHarness({ nworkers: 2, address: "inproc://auto" });
  try {
    assert.match(h.scheduler.address, /^inproc:\/\//);
    assert.ok(h.workers.every((w) => w.address.startsWith("inproc://")));
    const { client } = h;
    assert.equal(await client.submit(add, client.submit(inc, 1), 10).result(), 12);
    const big = client.submit(makeBytes, 100_000);
    assert.equal(await client.submit(total, big).result(), (99_999 * 100_000) / 2);
    assert.equal((await big.result()).length, 100_000);
  } finally {
    await h.close();
  }
});
