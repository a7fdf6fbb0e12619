// The scheduler's transition log and `story(keys)` (issue 15, item 6): the
// `story` op and the dashboard's /json/story/<key>.json on an in-process
// cluster (tier 2), and the ring bound on the state machine (tier 1).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Comm } from "../../src/comm/index.ts";
import { startDashboard } from "../../src/dashboard/server.ts";
import { SchedulerState, type TransitionLogEntry } from "../../src/scheduler/state.ts";
import { serialize } from "../../src/protocol/serialize.ts";
import { inc } from "../fixtures/tasks.ts";
import { startHarness, until } from "./harness.ts";

async function storyOf(address: string, keys: string[]): Promise<TransitionLogEntry[]> {
  const comm: Comm = await connect(address, { role: "client" });
  try {
    await comm.request({ op: "register-client", id: `story-${Math.random()}` }, 5000);
    const r = await comm.request({ op: "story", keys }, 5000);
    return r["story"] as TransitionLogEntry[];
  } finally {
    comm.close();
  }
}

const edges = (story: TransitionLogEntry[]): string[] => story.map((e) => `${e[1]}>${e[2]}`);

test("the story of a task that ran: its transitions, with the stimuli that caused them and times; also on the dashboard, behind its token", async () => {
  const h = await startHarness({ nworkers: 1 });
  try {
    const t0 = Date.now() / 1000;
    const f = h.client.submit(inc, 1);
    assert.equal(await f.result(), 2);
    const story = await storyOf(h.scheduler.address, [f.key]);
    assert.deepEqual(edges(story), ["released>waiting", "waiting>processing", "processing>memory"]);
    for (const [key, , , stimulusId, time] of story) {
      assert.equal(key, f.key);
      assert.ok(stimulusId.length > 0);
      assert.ok(time >= t0 - 1 && time <= Date.now() / 1000 + 1, `time ${time} in seconds`);
    }
    assert.match(story[0]![3], /^update-graph-\d+$/);
    assert.equal(story[1]![3], story[0]![3], "assigned by the same update-graph");
    assert.notEqual(story[2]![3], story[0]![3], "finished by the worker's message");
    assert.deepEqual(await storyOf(h.scheduler.address, ["never-submitted"]), []);

    const dash = await startDashboard(h.scheduler, { port: 0, accessToken: "dash-token" });
    try {
      const url = `${dash.url}json/story/${encodeURIComponent(f.key)}.json`;
      assert.equal((await fetch(url)).status, 401, "the token is still required");
      const res = await fetch(url, { headers: { Authorization: "Bearer dash-token" } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { key: string; story: TransitionLogEntry[] };
      assert.equal(body.key, f.key);
      assert.deepEqual(body.story, story);
    } finally {
      await dash.close();
    }
  } finally {
    await h.close();
  }
});

test("the story of a task recomputed after its worker left: memory > released on the removal, then computed again", async () => {
  const h = await startHarness({ nworkers: 2 });
  try {
    const f = h.client.submit(inc, 41);
    assert.equal(await f.result(), 42);
    const ts = h.scheduler.state.tasks.get(f.key)!;
    const first = [...ts.whoHas][0]!.address;
    const dying = h.workers.find((w) => w.address === first)!;
    await dying.close();
    await until(() => ts.state === "memory" && ts.whoHas.size === 1 && [...ts.whoHas][0]!.address !== first, "the result recomputed on the survivor");
    const story = await storyOf(h.scheduler.address, [f.key]);
    assert.deepEqual(edges(story), [
      "released>waiting",
      "waiting>processing",
      "processing>memory",
      "memory>released",
      "released>waiting",
      "waiting>processing",
      "processing>memory",
    ]);
    assert.match(story[3]![3], /^remove-worker-\d+$/, "released by the worker's removal");
    assert.equal(story[4]![3], story[3]![3]);
    assert.equal(story[5]![3], story[3]![3], "reassigned in the same stimulus");
    assert.equal(await f.result(), 42);
  } finally {
    await h.close();
  }
});

test("the transition log is a ring of transitionLogSize entries; 0 keeps none", () => {
  const spec = serialize({ f: { kind: "source", source: "() => 1", name: "x" }, a: [] });
  const run = (size: number): SchedulerState => {
    const s = new SchedulerState({ validate: true, transitionLogSize: size });
    s.addWorker({ address: "w1", name: "w1", nthreads: 1, memoryLimit: 0, host: "h", pid: 1, keys: [] });
    for (let i = 0; i < 10; i++) {
      const key = `t-${i}`;
      s.updateGraph("c", [{ key, spec, deps: [], order: 0 }], [key]);
      const ts = s.tasks.get(key)!;
      s.taskFinished("w1", { op: "task-finished", key, runId: ts.runId, nbytes: 8, type: "number", start: 0, stop: 0, stimulusId: `worker-done-${i}` });
    }
    return s;
  };
  const s = run(7);
  assert.equal(s.transitionLog.total, 30, "three transitions per task");
  assert.equal(s.transitionLog.size, 7);
  const all = s.transitionLog.entries();
  assert.equal(all.length, 7);
  // the newest 7, oldest first: t-7's last, then t-8's and t-9's three each
  assert.deepEqual(all.map((e) => `${e[0]}:${e[1]}>${e[2]}`), [
    "t-7:processing>memory",
    "t-8:released>waiting",
    "t-8:waiting>processing",
    "t-8:processing>memory",
    "t-9:released>waiting",
    "t-9:waiting>processing",
    "t-9:processing>memory",
  ]);
  assert.deepEqual(s.story(["t-0"]), [], "overwritten");
  assert.equal(s.story(["t-9"])[2]![3], "worker-done-9", "the worker's stimulus id is used when it sends one");
  const none = run(0);
  assert.equal(none.transitionLog.size, 0);
  assert.deepEqual(none.story(["t-9"]), []);
  assert.throws(() => new SchedulerState({ transitionLogSize: -1 }), /config\.transitionLogSize must be a non-negative integer, got -1/);
});

test("client.story(future) returns the scheduler's story of that task", async () => {
  const h = await startHarness({ nworkers: 1 });
  try {
    const f = h.client.submit(inc, 41);
    assert.equal(await f.result(), 42);
    const story = await h.client.story(f);
    assert.deepEqual(story.map((e) => `${e[1]}>${e[2]}`), ["released>waiting", "waiting>processing", "processing>memory"]);
    assert.deepEqual(await h.client.story("no-such-key"), []);
  } finally {
    await h.close();
  }
});
