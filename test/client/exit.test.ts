// A program that forgets `await client.close()` must still exit, and a
// program that dies (uncaught error, signal, SIGKILL) must leave no worker
// processes and no /tmp/shoal-cluster-* folder behind (issue 25, item 1).
// Process-level: each case runs a real script in its own Node process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LocalCluster } from "../../src/index.ts";
import { waitFor } from "../support/cli.ts";

const SHOAL_SRC = resolve("src/index.ts");
const scratch = mkdtempSync(join(tmpdir(), "shoal-exit-test-"));

interface Run {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runScript(name: string, body: string, env: Record<string, string> = {}): Run {
  const file = join(scratch, `${name}.mts`); // .mts: an ES module with top-level await wherever the folder is
  writeFileSync(
    file,
    `import { Client } from ${JSON.stringify(SHOAL_SRC)};\n` +
      `const sleepy = (ms: number): number => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); return ms; };\n` +
      `void sleepy;\n${body}\n`,
  );
  let out = "";
  const proc = spawn(process.execPath, ["--import", "tsx", file], {
    env: { ...process.env, SHOAL_QUIET: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once("exit", (code, signal) => r({ code, signal })));
  return { proc, out: () => out, exited };
}

/** The `KEY=value` line a script printed. */
function printed(run: Run, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, "m").exec(run.out());
  assert.ok(m, `the script printed no ${key}= line; output:\n${run.out()}`);
  return m[1]!;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const REPORT = `console.log("DIR=" + client.localCluster!.directory); console.log("PIDS=" + client.localCluster!.workers.map((w) => w.process.pid).join(","));`;

async function assertCleanedUp(run: Run): Promise<void> {
  const dir = printed(run, "DIR");
  const pids = printed(run, "PIDS").split(",").map(Number);
  await waitFor(() => pids.every((p) => !alive(p)), "the worker processes to exit", 60_000);
  await waitFor(() => !existsSync(dir), `${dir} to be removed`, 30_000);
}

test("a script that never closes its client exits by itself, after its awaited work", async () => {
  const run = runScript(
    "no-close",
    `const client = await Client.connect({ cluster: { nworkers: 2, dashboard: false } });\n${REPORT}\n` +
      // a result that takes a while: the pending await must hold the process open
      `console.log("SLEPT=" + (await client.submit(sleepy, 700).result()));\n` +
      `console.log("SUM=" + (await client.gather(client.map((x: number) => x + 1, [1, 2, 3]))).reduce((a, b) => a + b, 0));`,
  );
  const { code, signal } = await run.exited;
  assert.equal(signal, null, run.out());
  assert.equal(code, 0, run.out());
  assert.equal(printed(run, "SLEPT"), "700");
  assert.equal(printed(run, "SUM"), "9");
  await assertCleanedUp(run);
});

test("an uncaught error after connect exits non-zero and cleans up", async () => {
  const run = runScript("throws", `const client = await Client.connect({ cluster: { nworkers: 1, dashboard: false } });\n${REPORT}\nawait client.submit((x: number) => x, 1).result();\nthrow new Error("user bug");`);
  const { code } = await run.exited;
  assert.notEqual(code, 0);
  assert.match(run.out(), /user bug/);
  await assertCleanedUp(run);
});

test("SIGINT during a running task kills the program by the signal and cleans up", async () => {
  const run = runScript("sigint", `const client = await Client.connect({ cluster: { nworkers: 1, dashboard: false } });\n${REPORT}\nconst f = client.submit(sleepy, 60_000);\nconsole.log("RUNNING=1");\nawait f.result();`);
  await waitFor(() => /RUNNING=1/.test(run.out()), "the script to submit its task");
  run.proc.kill("SIGINT");
  const { signal } = await run.exited;
  assert.equal(signal, "SIGINT", run.out());
  await assertCleanedUp(run);
});

test("SIGKILL of the program: its workers exit and remove the cluster's folder", async () => {
  const run = runScript("sigkill", `const client = await Client.connect({ cluster: { nworkers: 2, dashboard: false } });\n${REPORT}\nawait client.gather(client.map((x: number) => x * 2, [1, 2, 3, 4]));\nconsole.log("READY=1");\nawait client.submit(sleepy, 60_000).result();`);
  await waitFor(() => /READY=1/.test(run.out()), "the script to run its map");
  run.proc.kill("SIGKILL");
  await run.exited;
  await assertCleanedUp(run);
});

test("a script connected to a running scheduler exits without close(), and the cluster keeps serving", async () => {
  const cluster = await LocalCluster.start({ nworkers: 1, dashboard: false });
  try {
    await cluster.waitForWorkers(1);
    const run = runScript("remote", `const client = await Client.connect(process.env.ADDR!);\nconsole.log("SUM=" + (await client.gather(client.map((x: number) => x * 10, [1, 2]))).reduce((a, b) => a + b, 0));`, { ADDR: cluster.schedulerAddress });
    const { code } = await run.exited;
    assert.equal(code, 0, run.out());
    assert.equal(printed(run, "SUM"), "30");
    // the script's client was closed on its way out: the scheduler forgets it
    await waitFor(() => cluster.scheduler.state.clients.size <= 1, "the scheduler to drop the exited client", 30_000);
  } finally {
    await cluster.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});
