/**
 * Seed 004's threaded Hacker News fetch, without the internet: a local HTTP
 * server on 127.0.0.1 answers each request after 100 ms; fetch 200 pages
 * one after another, then with `mapConcurrent`, and print both times.
 *
 *   npx tsx examples/fetch-pages.ts [--pages 200] [--latency 100] [--concurrency 50]
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { isMain, mapConcurrent } from "shoal";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pages: { type: "string", default: "200" }, latency: { type: "string", default: "100" }, concurrency: { type: "string", default: "50" } } });
  const pages = Number(values.pages);
  const latency = Number(values.latency);
  const server = createServer((req, res) => setTimeout(() => res.end(`<html><title>story ${req.url}</title></html>`), latency));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const urls = Array.from({ length: pages }, (_, i) => `http://127.0.0.1:${port}/item/${i}`);
  const get = (u: string): Promise<string> => fetch(u).then((r) => r.text());

  let t0 = performance.now();
  const seq: string[] = [];
  for (const u of urls) seq.push(await get(u));
  const sequential = (performance.now() - t0) / 1000;

  t0 = performance.now();
  const conc = await mapConcurrent(get, urls, { concurrency: Number(values.concurrency), progress: true });
  const concurrent = (performance.now() - t0) / 1000;
  server.close();

  if (conc.join() !== seq.join()) throw new Error("concurrent pages differ from sequential ones");
  console.log(`${pages} pages, ${latency} ms latency each`);
  console.log(`sequential:               ${sequential.toFixed(2)} s`);
  console.log(`mapConcurrent (${values.concurrency} at once): ${concurrent.toFixed(2)} s  (${(sequential / concurrent).toFixed(1)}x)`);
}

if (isMain(import.meta)) await main();
