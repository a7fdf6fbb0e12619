// `shoal scheduler` serves the dashboard (real process): --dashboard-address,
// --no-dashboard, and a usage error for a bad address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const SHOAL = resolve("bin/shoal.mjs");

function start(args: string[]): { proc: ChildProcess; output: () => string } {
  let out = "";
  const proc = spawn(process.execPath, [SHOAL, ...args], { env: { ...process.env, SHOAL_QUIET: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  return { proc, output: () => out };
}

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stop(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  const exited = new Promise<number | null>((r) => p.once("exit", (c) => r(c)));
  p.kill("SIGTERM");
  return exited;
}

test("shoal scheduler --dashboard-address serves the dashboard and logs its URL", async () => {
  const s = start(["scheduler", "--port", "0", "--dashboard-address", "127.0.0.1:0"]);
  try {
    await waitFor(() => /dashboard at http:\/\/127\.0\.0\.1:\d+\/status/.test(s.output()), "the dashboard log line");
    const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)status/.exec(s.output())![1]!;
    const health = await fetch(new URL("/health", url));
    assert.equal(await health.text(), "ok");
    const id = (await (await fetch(new URL("/json/identity.json", url))).json()) as { services: Record<string, string> };
    assert.equal(id.services["dashboard"], url);
    assert.match(await (await fetch(new URL("/metrics", url))).text(), /^shoal_workers\{status="running"\} 0$/m);
  } finally {
    assert.equal(await stop(s.proc), 0);
  }
});

test("shoal scheduler --no-dashboard serves none; a bad address is a usage error", async () => {
  const s = start(["scheduler", "--port", "0", "--no-dashboard"]);
  try {
    await waitFor(() => /listening at tcp:/.test(s.output()), "the listening line");
    assert.doesNotMatch(s.output(), /dashboard at/);
  } finally {
    await stop(s.proc);
  }
  const bad = spawnSync(process.execPath, [SHOAL, "scheduler", "--port", "0", "--dashboard-address", "127.0.0.1:99999"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--dashboard-address must be HOST:PORT/);
});
