// Tier 3: `shoal worker` as real processes. A worker that gives up on a lost
// scheduler (its --death-timeout passes) exits non-zero, with the nanny and
// with --no-nanny, and the nanny does not restart it (issue 25, item 9).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { exitOf, waitFor } from "../support/cli.ts";
import { WorkerExit } from "../../src/worker/exit-codes.ts";

const MAIN = pathToFileURL(resolve("src/cli/main.ts")).href;

/** `shoal ...args` from the sources (no build needed), stdout and stderr collected together. */
function shoal(args: string[]): { proc: ChildProcess; output: () => string } {
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(process.argv.slice(1));`;
  const proc = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, ...args], {
    env: { ...process.env, SHOAL_QUIET: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  return { proc, output: () => out };
}

test("a worker that gives up on a lost scheduler exits non-zero, with and without the nanny", { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-worker-exit-"));
  const file = join(dir, "scheduler.json");
  const started: ChildProcess[] = [];
  t.after(() => {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const sched = shoal(["scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", file]);
  started.push(sched.proc);
  await waitFor(() => existsSync(file) && readFileSync(file, "utf8").length > 0, "scheduler file");
  const address = JSON.parse(readFileSync(file, "utf8")).address as string;
  const withNanny = shoal(["worker", address, "--nworkers", "1", "--nthreads", "1", "--death-timeout", "2", "--name", "nannied"]);
  const noNanny = shoal(["worker", address, "--nworkers", "1", "--nthreads", "1", "--death-timeout", "2", "--name", "bare", "--no-nanny"]);
  started.push(withNanny.proc, noNanny.proc);
  await waitFor(() => (sched.output().match(/worker joined/g) ?? []).length === 2, "two 'worker joined' lines");

  sched.proc.kill("SIGKILL");
  const [a, b] = await Promise.all([exitOf(withNanny.proc), exitOf(noNanny.proc)]);
  assert.equal(a, WorkerExit.schedulerLost, withNanny.output());
  assert.equal(b, WorkerExit.schedulerLost, noNanny.output());
  assert.match(withNanny.output(), /giving up on the scheduler/);
  assert.match(withNanny.output(), /gave up on the scheduler; not restarting/);
  assert.doesNotMatch(withNanny.output(), /died .*; restarting/);
});
