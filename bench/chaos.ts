// Chaos bench: runs of a mixed graph (delayed arithmetic tree, DataFrame hash
// join + group-by, Bag reduceByKey + fold) on a LocalCluster of worker
// processes while one random worker is SIGKILLed at a random moment (after a
// random number of the run's tasks finished). Every answer is compared with
// plain TypeScript; a run not answered by its deadline is a hang, reported
// with the scheduler's stuck tasks, and the cluster is replaced.
// Prints one line per run and the totals; exits 1 on any wrong answer,
// error or hang.
//
//   npx tsx bench/chaos.ts [--runs 50] [--seed 1] [--workers 3] [--deadline 120] [--validate] [--json out.json]
//
// Run 0 is a control without a kill (it also counts a run's tasks, from
// which the kill moments are drawn). `--seed N` makes run i use seed N + i,
// so a failed run is replayed alone with `--runs 2 --seed <its seed - 1>`.
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { chaosRuns, HEADER, summarize } from "../test/fixtures/chaos.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "50" },
    seed: { type: "string", default: "1" },
    workers: { type: "string", default: "3" },
    deadline: { type: "string", default: "120" },
    validate: { type: "boolean", default: false },
    json: { type: "string" },
  },
});
const runs = Number(values.runs);
const seed = Number(values.seed);
const nworkers = Number(values.workers);
const deadlineS = Number(values.deadline);
for (const [name, v, min] of [["--runs", runs, 1], ["--workers", nworkers, 2], ["--deadline", deadlineS, 1]] as const) {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
}
if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got ${values.seed}`);

console.log(`chaos: ${runs} runs from seed ${seed}, ${nworkers} workers x 1 thread, deadline ${deadlineS} s per run, validation ${values.validate ? "on" : "off"}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
console.log(HEADER);
const t0 = performance.now();
const records = await chaosRuns(runs, seed, { nworkers, deadlineMs: deadlineS * 1000, validate: values.validate, log: (l) => console.log(l) });
const s = summarize(records);
console.log("");
console.log("| runs | kills | kills that lost results or running tasks | exact answers | wrong | errors | hangs | mean duration | max duration |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
console.log(`| ${s.runs} | ${s.kills} | ${s.effectiveKills} | ${s.exact} | ${s.wrong} | ${s.errors} | ${s.hangs} | ${s.meanS.toFixed(2)} s | ${s.maxS.toFixed(2)} s |`);
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ seed, runs, nworkers, summary: s, records }, null, 2));
const failed = records.filter((r) => !r.exact);
if (failed.length > 0) {
  console.log(`FAILED: ${failed.map((r) => `run ${r.run} (seed ${r.seed}): ${r.hang ? "hang" : r.error ?? r.mismatches.join("; ")}`).join("\n        ")}`);
}
process.exit(failed.length > 0 ? 1 : 0);
