// Tier 3, multi-host: the seed's 3-machine cluster in network namespaces.
// Scheduler on host 1; `shoal worker --nworkers 2` on hosts 2 and 3. While a
// graph runs, both workers on host 3 are killed; then host 2's link is cut for
// longer than the heartbeat TTL and restored. Every result must be correct.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import type { ChildProcess } from "node:child_process";
import { Client, delayed, VERSION, type Future } from "../../src/index.ts";
import { connect } from "../../src/comm/index.ts";
import { Accepts, Op } from "../../src/protocol/messages.ts";
import { fetchData } from "../../src/worker/data-plane.ts";
import { makeBytes, sumPairs, tagged } from "../fixtures/tasks.ts";
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
    // results above 64 KiB, held on host 2 when it is cut (the scheduler then
    // knows their holders by address, not only their values)
    const bigs = client.persist(Array.from({ length: 6 }, (_, i) => delayed(makeBytes)(10_000 + i)));
    await client.gather(bigs);
    const parts2 = Array.from({ length: 100 }, (_, i) => delayed(tagged)(i + 1000, 20));
    const total2 = delayed(sumPairs)(parts2);
    const f2 = client.persist([total2])[0]!;
    await until(async () => Object.values((await client.schedulerInfo()).workers).some((w) => w.processing > 0), "round 2 to run on host 2");
    step("cutting host 2");
    net.setLink(h2, false);
    await until(() => /removed: no heartbeat/.test(schedLog()), "scheduler to declare host 2 dead", (TTL + 10) * 1000);
    // not a synchronization: the outage lasts a little past the scheduler's verdict
    await new Promise((r) => setTimeout(r, 1000));
    step("restoring host 2");
    net.setLink(h2, true);
    await until(() => /reconnected/.test(w2Log()), "host 2 workers to rejoin", 40_000);
    step("host 2 rejoined");
    const r2 = await f2.result({ timeout: 60_000 });
    assert.equal(r2, Array.from({ length: 100 }, (_, i) => i + 1000).reduce((a, b) => a + b, 0));
    assert.deepEqual((await client.gather(bigs)).map((a) => a.length), [10_000, 10_001, 10_002, 10_003, 10_004, 10_005]);
    // nothing is held twice: every key in memory has exactly the replicas the scheduler knows
    const info = await client.schedulerInfo();
    assert.equal(Object.keys(info.workers).length, 2);
    await assertReplicasAsScheduled(address, Object.keys(info.workers), [...futures, f2, ...bigs]);
  } catch (err) {
    process.stderr.write(`--- scheduler log ---\n${schedLog()}\n--- host 2 log ---\n${w2Log()}\n`);
    throw err;
  } finally {
    await client.close();
    net.destroy();
    net = null;
  }
});

/**
 * Asks every worker's data port which of `futures` it holds and the
 * scheduler (as a second client) where it thinks they are: each key is held
 * by exactly one worker (none of them lead a computation that would make a
 * replica), and for results the scheduler tracks by holder (above 64 KiB)
 * the holders are exactly the scheduler's.
 */
async function assertReplicasAsScheduled(scheduler: string, workers: string[], futures: Future[]): Promise<void> {
  const keys = futures.map((f) => f.key);
  const holders = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const w of workers) {
    const comm = await connect(w, { timeoutMs: 10_000, token: TOKEN, role: "client" });
    try {
      const got = await fetchData(comm, keys, 30_000);
      for (const k of got.data.keys()) holders.get(k)?.push(w);
    } finally {
      comm.close();
    }
  }
  const comm = await connect(scheduler, { timeoutMs: 10_000, token: TOKEN, role: "client", accepts: Accepts.clientFromScheduler });
  let whoHas: Record<string, string[]>;
  let inline: Record<string, unknown>;
  try {
    const reg = await comm.request({ op: Op.registerClient, id: `replica-check-${process.pid}`, version: VERSION });
    assert.equal(reg["status"], "ok");
    const loc = await comm.request({ op: Op.gather, keys });
    whoHas = (loc["whoHas"] ?? {}) as Record<string, string[]>;
    inline = (loc["inline"] ?? {}) as Record<string, unknown>;
  } finally {
    comm.close();
  }
  for (const k of keys) {
    assert.equal(holders.get(k)!.length, 1, `${k} is held by ${holders.get(k)!.length} workers: ${holders.get(k)!.join(", ")}`);
    assert.ok(k in whoHas || k in inline, `the scheduler does not have ${k} in memory`);
    if (k in whoHas) assert.deepEqual([...whoHas[k]!].sort(), holders.get(k), `replicas of ${k}: scheduler ${JSON.stringify(whoHas[k])}, workers ${JSON.stringify(holders.get(k))}`);
  }
}
