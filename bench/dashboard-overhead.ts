// Dashboard overhead: no-op task throughput through a 2-worker LocalCluster
// (1) without a dashboard, (2) with a dashboard attached and nobody looking,
// (3) with the status page open and updating: SSE clients reading /events
// (what the page does) and, with --browser, a headless chromium showing the
// page. Each round runs every variant on one cluster, in rotating order, each
// from an idle scheduler; medians are reported.
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
import { startDashboard } from "../src/dashboard/index.ts";
import { isMain } from "../src/utils/is-main.ts";

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

export function noop(): null {
  return null;
}

async function throughput(client: Client, n: number, label = ""): Promise<number> {
  const t = performance.now();
  const fs = client.map(noop, Array.from({ length: n }, (_, i) => i));
  await client.gather(fs);
  const s = (performance.now() - t) / 1000;
  for (const f of fs) f.release();
  if (label) process.stderr.write(`  ${label}: ${Math.round(n / s)} tasks/s\n`);
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
  // Each measurement starts from an idle scheduler (released keys forgotten).
  const quiesce = async (): Promise<void> => {
    while (cluster.scheduler.state.tasks.size > 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
  };
  const variants: Record<string, () => Promise<number>> = {
    none: () => throughput(client, n, "none"),
    attached: async () => {
      const d = await startDashboard(cluster.scheduler, { port: 0 });
      try {
        return await throughput(client, n, "attached");
      } finally {
        await d.close();
      }
    },
    sse: async () => {
      const d = await startDashboard(cluster.scheduler, { port: 0 });
      const readers = Array.from({ length: nsse }, () => sseClient(d.url));
      try {
        await new Promise((r) => setTimeout(r, 300));
        return await throughput(client, n, "sse");
      } finally {
        pushes += readers.reduce((a, c) => a + c.messages(), 0);
        for (const c of readers) c.close();
        await d.close();
      }
    },
  };
  if (chromium) {
    const browser = chromium;
    variants["browser"] = async () => {
      const d = await startDashboard(cluster.scheduler, { port: 0 });
      const profile = mkdtempSync(join(tmpdir(), "shoal-bench-chromium-"));
      process.stderr.write("  (launching chromium)\n");
      const ctx = await browser.launchPersistentContext(profile, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        timeout: 60_000,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
      });
      try {
        const page = await ctx.newPage();
        await page.goto(`${d.url}status`);
        await page.waitForFunction(() => document.querySelectorAll("#workers tr[data-worker]").length === 2);
        return await throughput(client, n, "browser");
      } finally {
        await ctx.close();
        rmSync(profile, { recursive: true, force: true });
        await d.close();
      }
    };
  }
  const names = Object.keys(variants);
  for (let r = 0; r < rounds; r++) {
    // rotate the order each round so that no variant always runs first
    for (let i = 0; i < names.length; i++) {
      const k = names[(i + r) % names.length]!;
      await quiesce();
      results[k]!.push(await variants[k]!());
    }
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
