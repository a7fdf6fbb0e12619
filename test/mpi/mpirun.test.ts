import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { mpirun } from "../../src/mpi/launcher.ts";

const prog = (n: string) => fileURLToPath(new URL(`./programs/${n}`, import.meta.url));

test("hello at 3 ranks: bcast, Bcast, allreduce, scan, exscan", async () => {
  assert.equal(await mpirun({ np: 3, program: prog("hello.ts") }), 0);
});

test("a rank that throws stops the job, names the rank, exit code 1", async () => {
  const lines: string[] = [];
  const code = await mpirun({ np: 3, program: prog("fail.ts"), log: (l) => lines.push(l) });
  assert.equal(code, 1);
  assert.match(lines.join("\n"), /rank 1 failed: .*boom on purpose/);
});
