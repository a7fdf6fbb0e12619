// The local and cluster runners: the job class travels to real worker
// processes as a bundle; a worker SIGKILLed mid-job is recovered from lineage.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { Client } from "../../src/client/client.ts";
import { runJob, runStreaming } from "../../src/mapreduce/runner.ts";
import { MapReduceTaskError } from "../../src/mapreduce/errors.ts";
import { referenceCounts, writeText } from "../bag/gen.ts";
import { Failing, MostUsedWord, SlowWordCount, WordCount } from "./jobs.ts";
import { until } from "../engine/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "shoal-mrc-"));
const files = [0, 1, 2, 3].map((i) => join(dir, `in${i}.txt`));
files.forEach((f, i) => writeText(f, 1200, 40 + i));
const ref = referenceCounts(files);
let client: Client;

before(async () => {
  client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
});
after(async () => {
  await client.close();
});

function parts(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of readdirSync(out).filter((n) => n.startsWith("part-"))) {
    for (const line of readFileSync(join(out, f), "utf8").split("\n").filter(Boolean)) {
      const [k, v] = line.split("\t");
      m.set(JSON.parse(k!), JSON.parse(v!));
    }
  }
  return m;
}

/** Runs the built CLI as a child process (asynchronously: this process hosts a cluster that must keep answering). */
function shoal(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/shoal.mjs", ...args], { encoding: "utf8", maxBuffer: 1 << 26 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

function sorted(m: Map<string, number>): [string, number][] {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

test("word count on the cluster runner equals the Unix reference and the inline runner", async () => {
  const out = join(dir, "wc");
  const r = await runJob(WordCount, { runner: "cluster", client, inputs: files, output: out, reducers: 3, blocksize: 10_000 });
  assert.deepEqual(sorted(parts(out)), sorted(ref));
  assert.equal(r.counters["wc"]!["lines"], 4800);
  const inline = await runJob(WordCount, { inputs: files, reducers: 3, blocksize: 10_000 });
  const clustered = await runJob(WordCount, { runner: "cluster", client, inputs: files, reducers: 3, blocksize: 10_000 });
  assert.equal(clustered.output, inline.output);
  const most = await runJob(MostUsedWord, { runner: "cluster", client, inputs: files, reducers: 2 });
  assert.match(most.output!, /^\d+\t"\w+"\n$/);
});

test("streaming on the cluster runner", async () => {
  const r = await runStreaming({ mapper: "tr -s '[:space:]' '\\n'", reducer: "uniq -c", env: {} }, { runner: "cluster", client, inputs: files, reducers: 2, blocksize: 10_000 });
  const m = new Map<string, number>();
  for (const line of r.output!.split("\n")) {
    const mm = /^\s*(\d+) (.*)$/.exec(line);
    if (mm && mm[2] !== "") m.set(mm[2]!, Number(mm[1]));
  }
  assert.deepEqual(sorted(m), sorted(ref));
});

test("a user error on a worker fails the job without retries", async () => {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(join(dir, "bad.txt"), "a\nBOOM\n");
  await assert.rejects(runJob(Failing, { runner: "cluster", client, inputs: [join(dir, "bad.txt")] }), (err: Error) => {
    assert.match(err.message, /step 1 mapper failed on .*bad\.txt:0-\d+: Error: bad record: BOOM/);
    assert.equal(err.name, "MapReduceTaskError");
    return true;
  });
  void MapReduceTaskError;
});

test("a worker killed mid-job still gives the right output", async () => {
  const own = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  try {
    const cluster = own.localCluster!;
    const out = join(dir, "killed");
    const job = runJob(SlowWordCount, { runner: "cluster", client: own, inputs: files, output: out, reducers: 2, blocksize: 4_000 });
    let done = false;
    void job.then(() => (done = true), () => (done = true));
    // kill once the job is under way and the victim holds the only copy of a
    // result that a task still to run needs (a mapper's output before its
    // reducer ran): that result must be recomputed from lineage
    const state = cluster.scheduler.state;
    const victim = cluster.workers[0]!;
    const pending = new Set(["waiting", "queued", "processing", "no-worker"]);
    const neededOnlyOnVictim = (): boolean =>
      [...state.tasks.values()].some(
        (ts) => ts.state === "memory" && ts.whoHas.size === 1 && [...ts.whoHas][0]!.address === victim.address && [...ts.dependents].some((d) => pending.has(d.state)),
      );
    await until(() => done || neededOnlyOnVictim(), "the victim to hold a result that is still needed", 120_000);
    assert.equal(done, false, "the job finished before the victim held a needed result; make it slower");
    victim.process.kill("SIGKILL");
    const r = await job;
    assert.deepEqual(sorted(parts(out)), sorted(ref));
    assert.equal(r.counters["wc"]!["lines"], 4800);
    assert.equal(state.workers.size, 1, "the killed worker was removed");
  } finally {
    await own.close();
  }
});

test("`shoal mr job.ts --job WordCount -r local` loads the module, ships it, writes parts and a summary", async () => {
  const { run } = await import("../../src/cli/mr.ts");
  const out = join(dir, "cli");
  const logs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void logs.push(a.join(" "));
  let code: number;
  try {
    code = await run(["test/mapreduce/jobs.ts", "--job", "WordCount", ...files, "-r", "local", "--nworkers", "2", "--reducers", "2", "-o", out]);
  } finally {
    console.error = orig;
  }
  assert.equal(code, 0, logs.join("\n"));
  assert.deepEqual(sorted(parts(out)), sorted(ref));
  assert.match(logs.join("\n"), /Job succeeded \(local runner\)[\s\S]*wc\n\s+lines=4800/);
});

test("`shoal mr --progress` (a real process, stderr not a terminal) prints plain progress lines per task group that end at 100%; the output is unchanged", async () => {
  const out = join(dir, "cli-progress");
  const r = await shoal(["mr", "test/mapreduce/jobs.ts", "--job", "WordCount", ...files, "-r", "local", "--nworkers", "1", "--reducers", "2", "--progress", "-o", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(sorted(parts(out)), sorted(ref));
  const lines = r.stderr.split("\n").filter((l) => / tasks \d+%/.test(l));
  assert.ok(lines.length >= 1, `no progress line in:\n${r.stderr}`);
  // the last line counts every task of the job: 4 splits' maps and 2 reducers at least, all done
  const m = / (\d+)\/(\d+) tasks 100%/.exec(lines.at(-1)!);
  assert.ok(m && Number(m[1]) === Number(m[2]) && Number(m[2]) >= 6, lines.at(-1));
  assert.match(r.stderr, /Job succeeded \(local runner\)/);
});

test("`shoal mr --progress` with the inline runner is a usage error (exit 2) that says which runners draw progress", async () => {
  const r = await shoal(["mr", "test/mapreduce/jobs.ts", "--job", "WordCount", files[0]!, "--progress"]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--progress needs -r local or -r cluster/);
});
