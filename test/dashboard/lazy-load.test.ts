// Importing the package entry has no side effects: a LocalCluster serves a
// dashboard only when asked, loading the dashboard module at that moment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../src/index.ts";

test("importing shoal installs nothing: a LocalCluster has no dashboard unless asked", async () => {
  const c = await LocalCluster.start({ nworkers: 0 });
  try {
    assert.equal(c.dashboardUrl, null);
  } finally {
    await c.close();
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
