// Tier 3: the CLI as real processes. A scheduler and a 2-process worker are
// started with `shoal`; the worker runs in an unrelated directory, and the
// task module imports a local module and an npm package that exist only in
// the client's project: the code must reach the worker as an uploaded bundle.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "../../src/index.ts";
import { exitOf, startShoal, waitFor } from "../support/cli.ts";

const start = startShoal;

function makeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "shoal-project-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "analysis", type: "module" }));
  mkdirSync(join(dir, "node_modules", "left-pad-lite"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "left-pad-lite", "package.json"), JSON.stringify({ name: "left-pad-lite", version: "1.0.0", main: "index.js" }));
  writeFileSync(join(dir, "node_modules", "left-pad-lite", "index.js"), "module.exports = (s, n, c = ' ') => String(s).padStart(n, c);\n");
  writeFileSync(join(dir, "util.ts"), "export const greet = (name: string): string => `hello ${name}`;\n");
  writeFileSync(
    join(dir, "tasks.ts"),
    [
      'import pad from "left-pad-lite";',
      'import { greet } from "./util.ts";',
      "export function label(n: number): string { return greet(pad(n, 4, '0')) + ' from ' + process.cwd(); }",
      "export function crash(): never { throw new TypeError('no such thing'); }",
      "export function enginePool(): string { return String(process.env.POLARS_MAX_THREADS); }",
    ].join("\n"),
  );
  return dir;
}

test("scheduler and workers from the CLI run user modules shipped from another directory", async () => {
  const schedDir = mkdtempSync(join(tmpdir(), "shoal-sched-"));
  const workerDir = mkdtempSync(join(tmpdir(), "shoal-worker-"));
  const fileOut = join(schedDir, "scheduler.json");
  const sched = start(["scheduler", "--port", "0", "--scheduler-file", fileOut], schedDir);
  let worker: ReturnType<typeof start> | null = null;
  const projects: string[] = [];
  try {
    await waitFor(() => existsSync(fileOut), "scheduler file");
    const address = JSON.parse(readFileSync(fileOut, "utf8")).address as string;
    worker = start(["worker", address, "--nworkers", "2", "--nthreads", "1", "--engine-threads", "3", "--local-directory", workerDir], workerDir);
    await waitFor(() => (sched.output().match(/worker joined/g) ?? []).length === 2, "two 'worker joined' lines");

    const project = makeProject();
    projects.push(project);
    const mod = (await import(pathToFileURL(join(project, "tasks.ts")).href)) as { label: (n: number) => string; crash: () => never; enginePool: () => string };
    const client = await Client.connect(address);
    try {
      const out = await client.gather(client.map(mod.label, [7, 42]));
      assert.deepEqual(out, [`hello 0007 from ${workerDir}`, `hello 0042 from ${workerDir}`]);
      await assert.rejects(client.submit(mod.crash).result(), (err: Error) => /TypeError: no such thing/.test(err.message) && /tasks\.ts/.test((err as { remoteStack?: string }).remoteStack ?? ""));
      const info = await client.schedulerInfo();
      assert.equal(Object.keys(info.workers).length, 2);
      assert.deepEqual(await client.gather(client.map(mod.enginePool, [1, 2])), ["3", "3"], "--engine-threads sizes the polars pool");
    } finally {
      await client.close();
    }

    worker.proc.kill("SIGTERM");
    assert.equal(await exitOf(worker.proc), 0, "worker CLI exits cleanly on SIGTERM");
    await waitFor(() => (sched.output().match(/worker left/g) ?? []).length === 2, "two 'worker left' lines");
  } finally {
    worker?.proc.kill("SIGKILL");
    sched.proc.kill("SIGTERM");
    assert.equal(await exitOf(sched.proc), 0, "scheduler exits cleanly on SIGTERM");
    for (const d of [schedDir, workerDir, ...projects]) rmSync(d, { recursive: true, force: true });
  }
});

test("bad flags and unreachable schedulers give actionable errors", async () => {
  const cwd = tmpdir();
  const bad = start(["worker", "tcp://127.0.0.1:1", "--nworkerz", "2"], cwd);
  assert.equal(await exitOf(bad.proc), 2);
  assert.match(bad.output(), /Unknown option '--nworkerz'/);
  assert.match(bad.output(), /usage: shoal worker/);

  const unreachable = start(["worker", "tcp://127.0.0.1:1", "--death-timeout", "1"], cwd);
  assert.equal(await exitOf(unreachable.proc), 1);
  assert.match(unreachable.output(), /cannot connect to tcp:\/\/127\.0\.0\.1:1: connection refused/);
  assert.match(unreachable.output(), /Is 'shoal scheduler' running/);

  const open = start(["scheduler", "--host", "0.0.0.0", "--port", "0"], cwd);
  assert.equal(await exitOf(open.proc), 2);
  assert.match(open.output(), /without a cluster token/);
});

test("a scheduler with a token refuses workers without it", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "shoal-token-"));
  const fileOut = join(cwd, "s.json");
  const sched = start(["scheduler", "--port", "0", "--token", "s3cret", "--scheduler-file", fileOut], cwd);
  try {
    await waitFor(() => existsSync(fileOut), "scheduler file");
    const address = JSON.parse(readFileSync(fileOut, "utf8")).address as string;
    await assert.rejects(Client.connect({ address, token: "wrong" }), /refused.*token/);
    const w = start(["worker", address, "--token", "nope", "--no-nanny"], cwd);
    assert.notEqual(await exitOf(w.proc), 0);
    assert.match(w.output(), /refused this worker.*token/);
    assert.match(sched.output(), /refused worker/);
  } finally {
    sched.proc.kill("SIGTERM");
    await exitOf(sched.proc);
    rmSync(cwd, { recursive: true, force: true });
  }
});
