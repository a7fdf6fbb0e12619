// End to end: Debian's chromium (headless, driven by playwright-core) against
// a LocalCluster with two worker processes running a computation. Skipped when
// /usr/bin/chromium is missing (CI installs it: apt-get install -y chromium).
// Synchronizes on page state (data attributes the page maintains), never on sleeps.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { LocalCluster } from "../../src/client/local-cluster.ts";
import { installDashboard } from "../../src/dashboard/index.ts";
import { explode, nap } from "./fixtures.ts";

// Page-side code runs in chromium; the project compiles without the DOM lib, so
// declare the little of it used here (module-scoped, not global).
interface HTMLElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
declare const document: {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): HTMLElement | null;
  getElementById(id: string): HTMLElement | null;
};

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install it with 'apt-get install -y chromium' to run the browser test`;

type Context = Awaited<ReturnType<typeof import("playwright-core").chromium.launchPersistentContext>>;
let cluster: LocalCluster;
let client: Client;
let browser: Context;
let profile: string;

before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  installDashboard();
  cluster = await LocalCluster.start({ nworkers: 2, nthreads: 1, memoryLimit: 512 * 1024 * 1024, dashboard: "127.0.0.1:0" });
  await cluster.waitForWorkers(2);
  client = await Client.connect(cluster.schedulerAddress);
  profile = mkdtempSync(join(tmpdir(), "shoal-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await client?.close();
  await cluster?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("the status page shows both workers, and the task stream and progress move while tasks run", { skip, timeout: 60_000 }, async () => {
  const url = cluster.dashboardUrl;
  assert.ok(url, "the cluster has a dashboard");
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${url}status`);
  await page.waitForFunction(() => document.querySelectorAll("#workers tr[data-worker]").length === 2);
  const names = await page.$$eval("#workers tr[data-worker] td:first-child", (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(names, ["local-0", "local-1"]);
  await page.waitForFunction(() => document.querySelectorAll("#memory g[data-worker]").length === 2);

  // ~300 tasks of 20 ms on 2 threads: about 3 s of work
  const futures = client.map(nap, Array.from({ length: 300 }, (_, i) => i), { name: "browsernap" });
  let finished = false;
  const all = client.gather(futures).then((r) => {
    finished = true;
    return r;
  });
  const progressOf = (): Promise<{ done: number; total: number; head: number; drawn: number }> =>
    page.evaluate(() => {
      const row = document.querySelector('#progress tr[data-group="browsernap"]') as HTMLElement | null;
      const cv = document.getElementById("task-stream")!;
      return { done: Number(row?.dataset["done"] ?? -1), total: Number(row?.dataset["total"] ?? -1), head: Number(cv.dataset["head"]), drawn: Number(cv.dataset["drawn"]) };
    });
  // A: part done
  await page.waitForFunction(() => {
    const row = document.querySelector('#progress tr[data-group="browsernap"]') as HTMLElement | null;
    return row !== null && Number(row.dataset["done"]) > 0 && Number(row.dataset["done"]) < Number(row.dataset["total"]);
  });
  const a = await progressOf();
  assert.equal(finished, false, "observed while the computation runs");
  assert.equal(a.total, 300);
  assert.ok(a.drawn > 0, "the task stream drew entries");
  // B: later, more done and the stream advanced, still before the end
  await page.waitForFunction(
    (prev) => {
      const row = document.querySelector('#progress tr[data-group="browsernap"]') as HTMLElement | null;
      const cv = document.getElementById("task-stream")!;
      return row !== null && Number(row.dataset["done"]) > prev.done && Number(cv.dataset["head"]) > prev.head;
    },
    a,
  );
  const b = await progressOf();
  assert.ok(b.done > a.done && b.head > a.head);
  assert.ok(b.done < 300 || finished, "progress moved");
  await all;
  await page.waitForFunction(() => (document.querySelector('#progress tr[data-group="browsernap"]') as HTMLElement | null)?.dataset["done"] === "300");
  if (process.env["SHOAL_DASHBOARD_SCREENSHOT"]) await page.screenshot({ path: process.env["SHOAL_DASHBOARD_SCREENSHOT"], fullPage: true });
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test("a failed task's page shows its error and stack; a worker page shows the worker", { skip, timeout: 30_000 }, async () => {
  const f = client.submit(explode, "browser boom");
  await assert.rejects(f.result());
  const page = await browser.newPage();
  await page.goto(`${cluster.dashboardUrl}info/task/${encodeURIComponent(f.key)}.html`);
  await page.waitForFunction(() => (document.getElementById("error-message")?.textContent ?? "").includes("browser boom"));
  assert.match((await page.textContent("#error-message")) ?? "", /^RangeError: browser boom/);
  assert.match((await page.textContent("#error-stack")) ?? "", /fixtures\.ts/);
  const worker = [...cluster.scheduler.state.workers.keys()][0]!;
  await page.goto(`${cluster.dashboardUrl}info/worker/${encodeURIComponent(worker)}.html`);
  await page.waitForFunction(() => (document.getElementById("worker-info")?.textContent ?? "").includes("local-"));
  await page.close();
});
