// Hadoop Streaming mode with real Unix tools and a Python script, through
// the `shoal mr` command-line entry (inline runner: one process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/cli/mr.ts";
import { runStreaming } from "../../src/mapreduce/runner.ts";
import { MapReduceTaskError } from "../../src/mapreduce/errors.ts";
import { referenceCounts, writeText } from "../bag/gen.ts";

const dir = mkdtempSync(join(tmpdir(), "shoal-streaming-"));
const files = [0, 1, 2].map((i) => join(dir, `in${i}.txt`));
files.forEach((f, i) => writeText(f, 1500, 20 + i));
const ref = referenceCounts(files);

const PY_REDUCER = `#!/usr/bin/python3
"""Word count reducer (Hadoop Streaming): sums the counts of each key."""
import sys
from itertools import groupby

def keyfunc(line):
    return line.partition("\\t")[0]

for key, group in groupby(sys.stdin, keyfunc):
    total = sum(int(line.rstrip("\\n").partition("\\t")[2]) for line in group)
    print(f"{key}\\t{total}")
`;

function readParts(out: string): string {
  return readdirSync(out).filter((f) => f.startsWith("part-")).sort().map((f) => readFileSync(join(out, f), "utf8")).join("");
}

function sorted(m: Map<string, number>): [string, number][] {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const orig = console.error;
  console.error = () => undefined;
  try {
    return await f();
  } finally {
    console.error = orig;
  }
}

test("tr mapper + `uniq -c` reducer equals tr | sort | uniq -c", async () => {
  const out = join(dir, "uniq");
  const code = await quietly(() => run(["--mapper", "tr -s '[:space:]' '\\n'", "--reducer", "uniq -c", "--reducers", "2", "--blocksize", "20000", ...files, "-o", out]));
  assert.equal(code, 0);
  const m = new Map<string, number>();
  for (const line of readParts(out).split("\n")) {
    const mm = /^\s*(\d+) (.*)$/.exec(line);
    if (mm && mm[2] !== "") m.set(mm[2]!, (m.get(mm[2]!) ?? 0) + Number(mm[1]));
  }
  assert.deepEqual(sorted(m), sorted(ref));
  assert.ok(readdirSync(out).includes("_SUCCESS"));
});

test("awk mapper with counters on stderr, Python combiner and reducer", async () => {
  const py = join(dir, "reducer.py");
  writeFileSync(py, PY_REDUCER, { mode: 0o755 });
  const mapper = `awk '{ print "reporter:counter:wc,lines,1" > "/dev/stderr"; for (i = 1; i <= NF; i++) print $i "\\t1" }'`;
  const r = await runStreaming({ mapper, combiner: py, reducer: `/usr/bin/python3 ${py}`, env: {} }, { inputs: files, reducers: 3, blocksize: 30_000 });
  const m = new Map<string, number>();
  for (const line of r.output!.split("\n").filter(Boolean)) {
    const [k, v] = line.split("\t");
    m.set(k!, Number(v));
  }
  assert.deepEqual(sorted(m), sorted(ref));
  assert.equal(r.counters["wc"]!["lines"], 4500);
});

test("keys are sorted bytewise within a partition and job parameters reach the commands", async () => {
  writeFileSync(join(dir, "keys.txt"), ["b\t1", "B\t2", "a b\t3", "a\t4", "é\t5", "z\t6", "a\t7"].join("\n") + "\n");
  const r = await runStreaming({ mapper: "cat", env: { my_setting: "x" } }, { inputs: [join(dir, "keys.txt")], reducers: 1 });
  assert.equal(r.output, ["B\t2", "a\t4", "a\t7", "a b\t3", "b\t1", "z\t6", "é\t5"].join("\n") + "\n");
  const env = await runStreaming({ mapper: `sh -c 'echo "$mapreduce_job_reduces $mapreduce_task_partition $my_setting $(basename $map_input_file)"; cat >/dev/null'`, env: { my_setting: "x" } }, { inputs: [join(dir, "keys.txt")], reducers: 0 });
  assert.equal(env.output, "0 0 x keys.txt\n");
});

test("a mapper that exits non-zero fails the job with its stderr tail and the split", async () => {
  await assert.rejects(runStreaming({ mapper: "echo 'cannot parse record 17' >&2; exit 3", reducer: "cat", env: {} }, { inputs: [files[0]!] }), (err: unknown) => {
    assert.ok(err instanceof MapReduceTaskError);
    assert.match(err.message, /mapper '.*' exited with code 3 on .*in0\.txt:0-\d+; stderr tail:\ncannot parse record 17/);
    return true;
  });
  const code = await quietly(() => run(["--mapper", "false", files[0]!]));
  assert.equal(code, 1);
});
