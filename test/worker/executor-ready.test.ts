// Executor.ready: settles once every thread has loaded (and, with
// SHOAL_THREAD_PRELOAD=1, imported the `shoal` package), so a worker that
// registers after it runs its first task without waiting for its threads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Executor } from "../../src/worker/executor.ts";
import { deserialize, serialize } from "../../src/protocol/serialize.ts";

async function runSource(ex: Executor, source: string): Promise<unknown> {
  const r = await ex.run("t-1", serialize({ f: { kind: "source", source, name: "t" }, a: [20] }), []);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  return deserialize(r.result!);
}

for (const preload of ["0", "1"]) {
  test(`ready settles and tasks run (SHOAL_THREAD_PRELOAD=${preload})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-executor-ready-"));
    const ex = new Executor(2, dir, { SHOAL_THREAD_PRELOAD: preload });
    // executor threads do not hold the process open (a worker's sockets do): this test's timer does
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await ex.ready;
      assert.equal(await runSource(ex, "(x) => x + 1"), 21);
    } finally {
      clearInterval(keepAlive);
      await ex.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
