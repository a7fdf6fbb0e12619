// Importing the package entry has no side effects: the dashboard module is
// loaded when a LocalCluster starts a dashboard (on by default, as in Dask).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Client, LocalCluster } from "../../src/index.ts";

test("layering: no engine module imports the dashboard or the CLI (the dashboard is loaded by LocalCluster only when it starts one)", () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== "dashboard" && name !== "cli") walk(p);
      } else if (p.endsWith(".ts") && p !== join("src", "index.ts")) {
        for (const m of readFileSync(p, "utf8").matchAll(/^\s*(?:import|export)[^;]*?from\s+"((?:\.\.?\/)+(?:dashboard|cli)\/[^"]*)"/gm)) offenders.push(`${p}: ${m[1]}`);
      }
    }
  };
  walk("src");
  assert.deepEqual(offenders, []);
});

test("local clusters serve a dashboard by default, as in Dask; dashboard: false starts none", async () => {
  const on = await LocalCluster.start({ nworkers: 0 });
  try {
    assert.match(on.dashboardUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+\/$/);
  } finally {
    await on.close();
  }
  const off = await LocalCluster.start({ nworkers: 0, dashboard: false });
  try {
    assert.equal(off.dashboardUrl, null);
  } finally {
    await off.close();
  }
});

test("dashboard: true loads the dashboard lazily; Client.connect passes it through", async () => {
  const client = await Client.connect({ cluster: { nworkers: 1, nthreads: 1, dashboard: true } });
  try {
    const url = client.dashboardLink;
    assert.ok(url !== null && /^http:\/\/127\.0\.0\.1:\d+\/$/.test(url), `dashboard at ${url}`);
    const r = await fetch(new URL("/json/status.json", url));
    assert.equal(r.status, 200);
    const status = (await r.json()) as { workers?: unknown };
    assert.ok(status.workers !== undefined);
  } finally {
    await client.close();
  }
});
