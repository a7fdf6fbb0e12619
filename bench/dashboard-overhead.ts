// Dashboard overhead: no-op task throughput through a 2-worker LocalCluster
// (1) without a dashboard, (2) with a dashboard attached and nobody looking,
// (3) with the status page open and updating: SSE clients reading /events
// (what the page does) and, with --browser, a headless chromium showing the
// page. Rounds alternate the variants on one cluster; medians are reported.
//
//   node --import tsx bench/dashboard-overhead.ts [--tasks 20000] [--rounds 5] [--sse 1] [--browser]
//
// Prints a table and one JSON line. Goal: less than 5% throughput lost.
import { parseArgs } from "node:util";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../src/client/client.ts";
import { LocalCluster } from "../src/client/local-cluster.ts";
import { startDashboard, type Dashboard } from "../src/dashboard/index.ts";
import { isMain } from "../src/utils/is-main.ts";

export function noop(): null {
  return null;
}

async function throughput(client: Client, n: number): Promise<number> {
  const t = performance.now();
  const fs = client.map(noop, Array.from({ length: n }, (_, i) => i));
  await client.gather(fs);
  const s = (performance.now() - t) / 1000;
  for (const f of fs) f.release();
  return n / s;
}

/** An SSE reader of /events that parses every snapshot, as the page does. */
function sseClient(url: string): { close(): void; messages: () => number } {
  let count = 0;
  let buf = "";
  const req = request(new URL("/events", url), (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (block.startsWith("data: ")) {
          JSON.parse(block.slice(6));
          count++;
        }
      }
    });
  });
  req.on("error", () => undefined);
  req.end();
  return { close: () => req.destroy(), messages: () => count };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tasks: { type: "string", default: "20000" }, rounds: { type: "string", default: "5" }, sse: { type: "string", default: "1" }, browser: { type: "boolean", default: false } } });
  const n = Number(values.tasks);
  const rounds = Number(values.rounds);
  const nsse = Number(values.sse);
  const cluster = await LocalCluster.start({ nworkers: 2, nthreads: 1, dashboard: false });
  await cluster.waitForWorkers(2);
  const client = await Client.connect(cluster.schedulerAddress);
  await throughput(client, 2000); // warm up: code loaded, JIT
  await throughput(client, n);

  let chromium: typeof import("playwright-core").chromium | null = null;
  if (values.browser) {
    if (!existsSync("/usr/bin/chromium")) throw new Error("--browser needs /usr/bin/chromium (apt-get install -y chromium)");
    chromium = (await import("playwright-core")).chromium;
  }
  const results: Record<string, number[]> = { none: [], attached: [], sse: [] };
  if (chromium) results["browser"] = [];
  let pushes = 0;
  for (let r = 0; r < rounds; r++) {
    results["none"]!.push(await throughput(client, n));
    const d: Dashboard = await startDashboard(cluster.scheduler, { port: 0 });
    results["attached"]!.push(await throughput(client, n));
    const readers = Array.from({ length: nsse }, () => sseClient(d.url));
    await new Promise((res) => setTimeout(res, 300));
    results["sse"]!.push(await throughput(client, n));
    pushes += readers.reduce((a, c) => a + c.messages(), 0);
    for (const c of readers) c.close();
    if (chromium) {
      const profile = mkdtempSync(join(tmpdir(), "shoal-bench-chromium-"));
      const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
      });
      const page = await ctx.newPage();
      await page.goto(`${d.url}status`);
      await page.waitForFunction(() => document.querySelectorAll("#workers tr[data-worker]").length === 2);
      results["browser"]!.push(await throughput(client, n));
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
    await d.close();
  }
  await client.close();
  await cluster.close();

  const base = median(results["none"]!);
  const summary: Record<string, { median_tasks_per_s: number; all: number[]; ratio_to_none: number }> = {};
  console.log(`${n} no-op tasks, 2 workers x 1 thread, ${rounds} rounds (median tasks/s)`);
  for (const [k, xs] of Object.entries(results)) {
    const m = median(xs);
    summary[k] = { median_tasks_per_s: Math.round(m), all: xs.map(Math.round), ratio_to_none: Number((m / base).toFixed(3)) };
    console.log(`  ${k.padEnd(9)} ${String(Math.round(m)).padStart(7)} tasks/s   ratio ${(m / base).toFixed(3)}   (${xs.map(Math.round).join(", ")})`);
  }
  console.log(JSON.stringify({ tasks: n, rounds, sseClients: nsse, ssePushesReceived: pushes, results: summary }));
}

if (isMain(import.meta)) await main();
