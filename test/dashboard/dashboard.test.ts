// Dashboard handlers in-process: a scheduler with two workers on loopback and
// a dashboard on port 0; pages, JSON, Prometheus text and the live stream.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { startDashboard, type Dashboard } from "../../src/dashboard/index.ts";
import { startHarness, until, type Harness } from "../engine/harness.ts";
import { explode, inc, makeBytes, nap, totalBoth } from "./fixtures.ts";

let h: Harness;
let d: Dashboard;
before(async () => {
  h = await startHarness({ nworkers: 2 });
  d = await startDashboard(h.scheduler, { port: 0 });
});
after(async () => {
  await d.close();
  await h.close();
});

async function get(path: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(new URL(path, d.url), { redirect: "manual" });
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
}

async function getJson<T = Record<string, unknown>>(path: string): Promise<T> {
  const r = await get(path);
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  assert.match(r.type, /^application\/json/);
  return JSON.parse(r.body) as T;
}

test("health, redirect, pages and static assets", async () => {
  assert.deepEqual(await get("/health"), { status: 200, type: "text/plain; charset=utf-8", body: "ok" });
  const root = await get("/");
  assert.equal(root.status, 302);
  const status = await get("/status");
  assert.equal(status.status, 200);
  assert.match(status.body, /id="task-stream"/);
  assert.match(status.body, /id="workers"/);
  assert.match(status.body, /id="progress"/);
  assert.doesNotMatch(status.body, /https?:\/\/(?!dashboard)/, "no external resources");
  const js = await get("/static/dashboard.js");
  assert.match(js.type, /javascript/);
  assert.doesNotThrow(() => new Function(js.body), "the browser script parses");
  assert.match((await get("/static/dashboard.css")).type, /text\/css/);
  assert.equal((await get("/nope")).status, 404);
  const post = await fetch(new URL("/status", d.url), { method: "POST" });
  assert.equal(post.status, 405);
  await post.text();
  assert.equal(h.scheduler.identity()["services"] && (h.scheduler.identity()["services"] as Record<string, string>)["dashboard"], d.url);
});

test("workers and status JSON show both workers", async () => {
  await until(() => [...h.scheduler.state.workers.values()].every((w) => w.metrics["rss"] !== undefined), "first heartbeats");
  const { workers } = await getJson<{ workers: { name: string; address: string; nthreads: number; rss: number; memoryState: string }[] }>("/json/workers.json");
  assert.deepEqual(workers.map((w) => w.name), ["w0", "w1"]);
  for (const w of workers) {
    assert.equal(w.nthreads, 1);
    assert.ok(w.rss > 0);
    assert.equal(w.memoryState, "normal");
  }
  const one = await getJson<{ name: string; processingTasks: unknown[] }>(`/json/workers/${encodeURIComponent(workers[0]!.address)}.json`);
  assert.equal(one.name, "w0");
  assert.ok(Array.isArray(one.processingTasks));
  assert.equal((await get("/json/workers/tcp%3A%2F%2Fnowhere%3A1.json")).status, 404);
  const page = await get(`/info/worker/${encodeURIComponent(workers[0]!.address)}.html`);
  assert.equal(page.status, 200);
  assert.match(page.body, /data-page="worker"/);
});

test("task stream, progress and counts follow a computation", async () => {
  const before = (await getJson<{ stream: { head: number } }>("/json/status.json")).stream.head;
  const futures = h.client.map(inc, Array.from({ length: 40 }, (_, i) => i), { name: "dashinc" });
  await h.client.gather(futures);
  const s = await getJson<{ stream: { head: number; entries: { key: string; group: string; kind: string; worker: string; start: number; stop: number }[] }; progress: { group: string; done: number; total: number; erred: number }[]; counts: Record<string, number> }>(`/json/status.json?since=${before}`);
  assert.equal(s.stream.head - before, 40);
  assert.equal(s.stream.entries.length, 40);
  for (const e of s.stream.entries) {
    assert.equal(e.group, "dashinc");
    assert.equal(e.kind, "memory");
    assert.ok(e.stop >= e.start);
  }
  assert.equal(new Set(s.stream.entries.map((e) => e.worker)).size, 2, "both workers ran tasks");
  const row = s.progress.find((p) => p.group === "dashinc")!;
  assert.deepEqual({ done: row.done, total: row.total, erred: row.erred }, { done: 40, total: 40, erred: 0 });
  assert.equal(s.counts["memory"], 40);
  const ts = await getJson<{ head: number; entries: unknown[] }>(`/json/task-stream.json?since=${s.stream.head - 5}`);
  assert.equal(ts.entries.length, 5);
  const task = await getJson<{ state: string; group: string; whoHas: string[]; history: unknown[] }>(`/json/tasks/${encodeURIComponent(futures[0]!.key)}.json`);
  assert.equal(task.state, "memory");
  assert.equal(task.whoHas.length, 1);
  assert.equal(task.history.length, 1);
  for (const f of futures) f.release();
});

test("an erred task shows its error and stack; its page exists", async () => {
  const f = h.client.submit(explode, "dashboard boom");
  await assert.rejects(f.result());
  const t = await getJson<{ state: string; error: { name: string; message: string; stack: string } }>(`/json/tasks/${encodeURIComponent(f.key)}.json`);
  assert.equal(t.state, "erred");
  assert.equal(t.error.name, "RangeError");
  assert.match(t.error.message, /dashboard boom/);
  assert.match(t.error.stack, /fixtures\.ts/);
  const s = await getJson<{ progress: { group: string; erred: number }[]; errors: { key: string }[]; stream: { entries: { key: string; kind: string }[] } }>("/json/status.json");
  assert.equal(s.progress.find((p) => p.group === "explode")?.erred, 1);
  assert.ok(s.errors.some((e) => e.key === f.key));
  assert.equal(s.stream.entries.find((e) => e.key === f.key)!.kind, "erred");
  const page = await get(`/info/task/${encodeURIComponent(f.key)}.html`);
  assert.match(page.body, /id="error-stack"/);
  assert.equal((await get("/json/tasks/never-submitted-1.json")).status, 404);
});

test("worker-to-worker transfers appear in the stream", async () => {
  // Two large results; a task needing both makes one worker fetch from the other.
  const a = h.client.submit(makeBytes, 50_000);
  const b = h.client.submit(makeBytes, 50_001);
  await Promise.all([a.wait(), b.wait()]);
  const holders = new Set([a, b].flatMap((f) => [...h.scheduler.state.tasks.get(f.key)!.whoHas].map((w) => w.address)));
  const both = h.client.submit(totalBoth, a, b);
  assert.equal(await both.result(), 2 * ((49_999 * 50_000) / 2) + 50_000);
  if (holders.size < 2) return; // both results on one worker: nothing to transfer
  await until(async () => {
    const s = await getJson<{ entries: { kind: string; nbytes?: number; worker: string }[] }>("/json/task-stream.json");
    return s.entries.some((e) => e.kind === "transfer" && (e.nbytes ?? 0) >= 400_000);
  }, "a transfer entry (reported with the next heartbeat)");
  const m = await get("/metrics");
  const moved = [...m.body.matchAll(/^shoal_worker_transfer_bytes_total\{[^}]*\} (\d+)$/gm)].reduce((acc, x) => acc + Number(x[1]), 0);
  assert.ok(moved >= 400_000, `transfer bytes in /metrics: ${moved}`);
});

test("/metrics is valid Prometheus text with the expected families", async () => {
  const r = await get("/metrics");
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  const lines = r.body.trimEnd().split("\n");
  const families = new Map<string, string>();
  for (const l of lines) {
    if (l.startsWith("# TYPE ")) {
      const [, , name, type] = l.split(" ");
      families.set(name!, type!);
      continue;
    }
    if (l.startsWith("# HELP ")) continue;
    assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$/, `sample line: ${l}`);
    const name = l.split(/[{ ]/)[0]!;
    const base = name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(families.has(name) || families.get(base) === "histogram", `sample ${name} has a TYPE line`);
  }
  for (const f of ["shoal_workers", "shoal_threads", "shoal_tasks", "shoal_worker_memory_bytes", "shoal_task_duration_seconds", "shoal_worker_transfer_bytes_total", "shoal_scheduler_comm_bytes"]) {
    assert.ok(families.has(f), `family ${f}`);
  }
  assert.match(r.body, /^shoal_workers\{status="running"\} 2$/m);
  assert.match(r.body, /^shoal_threads 2$/m);
  assert.match(r.body, /^shoal_task_duration_seconds_count\{group="dashinc"\} 40$/m);
  assert.match(r.body, /^shoal_task_duration_seconds_bucket\{group="dashinc",le="\+Inf"\} 40$/m);
  // buckets are cumulative
  const buckets = [...r.body.matchAll(/^shoal_task_duration_seconds_bucket\{group="dashinc",le="[^"]+"\} (\d+)$/gm)].map((m) => Number(m[1]));
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]! >= buckets[i - 1]!);
});

test("the live stream pushes snapshots only while a page listens", async () => {
  assert.equal(d.liveClients, 0);
  const sent0 = d.updatesSent;
  const messages: { stream: { head: number; entries: unknown[] }; workers: unknown[] }[] = [];
  let buf = "";
  const req = request(new URL("/events", d.url));
  const done = new Promise<void>((resolve, reject) => {
    req.on("response", (res) => {
      assert.match(String(res.headers["content-type"]), /text\/event-stream/);
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) messages.push(JSON.parse(data) as never);
        }
        if (messages.length >= 2) resolve();
      });
    });
    req.on("error", reject);
  });
  req.end();
  const futures = h.client.map(nap, [1, 2, 3, 4], { name: "dashlive" });
  await done;
  await h.client.gather(futures);
  assert.equal(d.liveClients, 1);
  assert.equal(messages[0]!.workers.length, 2);
  assert.ok(messages[0]!.stream.entries.length <= 1000);
  req.destroy();
  await until(() => d.liveClients === 0, "stream closed");
  const sent = d.updatesSent;
  assert.ok(sent > sent0);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(d.updatesSent, sent, "no sampling while nobody listens");
});
