// `shoal scheduler` serves the dashboard (real process): --dashboard-address,
// --no-dashboard, and a usage error for a bad address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type ChildProcess } from "node:child_process";
import { SHOAL, startShoal, waitFor } from "../support/cli.ts";

const start = (args: string[]): ReturnType<typeof startShoal> => startShoal(args);

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
