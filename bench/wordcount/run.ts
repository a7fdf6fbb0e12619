// bench/wordcount: Shoal's local MapReduce runner vs mrjob 0.7.4's local
// runner vs the Unix pipeline `tr -s '[:space:]' '\n' | LC_ALL=C sort | uniq -c`.
//
//   node --import tsx bench/wordcount/run.ts [--size 1GB] [--files 16] [--mrjob-size 100MB]
//        [--mrjob /work/mrjob] [--no-mrjob] [--no-unix] [--dir /tmp/shoal-wordcount]
//
// Each output is checked against its reference (same counts for every word).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseBytes } from "../../src/cli/options.ts";
import { isMain } from "../../src/utils/is-main.ts";
import { runJob } from "../../src/mapreduce/runner.ts";
import { generate } from "./generate.ts";
import { MRWordFreqCount, WhitespaceWordCount } from "./job.ts";

function readJsonParts(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of readdirSync(dir).filter((n) => n.startsWith("part-"))) {
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (line === "") continue;
      const t = line.indexOf("\t");
      m.set(JSON.parse(line.slice(0, t)), Number(line.slice(t + 1)));
    }
  }
  return m;
}

function readUniq(path: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const mm = /^\s*(\d+) (.*)$/.exec(line);
    if (mm && mm[2] !== "") m.set(mm[2]!, Number(mm[1]));
  }
  return m;
}

function same(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function bytesOf(files: string[]): number {
  return files.reduce((s, f) => s + statSync(f).size, 0);
}

async function time<T>(f: () => Promise<T> | T): Promise<[number, T]> {
  const t = performance.now();
  const r = await f();
  return [(performance.now() - t) / 1000, r];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "1GB" },
      files: { type: "string", default: "16" },
      "mrjob-size": { type: "string", default: "100MB" },
      mrjob: { type: "string", default: "/work/mrjob" },
      "no-mrjob": { type: "boolean", default: false },
      "no-unix": { type: "boolean", default: false },
      dir: { type: "string", default: "/tmp/shoal-wordcount" },
    },
  });
  const size = parseBytes(values.size!, "--size");
  const nfiles = Number(values.files);
  const out = join(values.dir!, "out");
  const [gen, files] = await time(() => generate(join(values.dir!, "data"), size, nfiles));
  const total = bytesOf(files);
  const mb = (b: number): string => (b / 1e6).toFixed(0);
  console.log(`data: ${files.length} files, ${mb(total)} MB (generated or reused in ${gen.toFixed(1)} s); ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? "?"}`);
  const rows: { name: string; bytes: number; s: number; ok: string }[] = [];

  // 1. Shoal local runner, whitespace words (same words as the Unix pipeline).
  rmSync(out, { recursive: true, force: true });
  const [tShoalWs, rWs] = await time(() => runJob(WhitespaceWordCount, { runner: "local", inputs: files, output: join(out, "shoal-ws") }));
  rows.push({ name: "shoal mr -r local (whitespace words)", bytes: total, s: tShoalWs, ok: "" });
  console.log(`shoal local (whitespace): ${tShoalWs.toFixed(2)} s, ${rWs.mapTasks} map / ${rWs.reduceTasks} reduce tasks`);

  // 2. The Unix pipeline.
  if (!values["no-unix"]) {
    const uniqOut = join(out, "unix.txt");
    const [tUnix] = await time(() => {
      const r = spawnSync("sh", ["-c", `cat "$@" | tr -s '[:space:]' '\\n' | LC_ALL=C sort | uniq -c > ${uniqOut}`, "sh", ...files], { stdio: "inherit", env: { ...process.env, LC_ALL: "C" } });
      if (r.status !== 0) throw new Error("the Unix pipeline failed");
    });
    const ok = same(readUniq(uniqOut), readJsonParts(join(out, "shoal-ws")));
    rows.push({ name: "tr | LC_ALL=C sort | uniq -c", bytes: total, s: tUnix, ok: ok ? "counts equal" : "COUNTS DIFFER" });
    console.log(`unix pipeline: ${tUnix.toFixed(2)} s (${ok ? "same counts as Shoal" : "COUNTS DIFFER"})`);
  }

  // 3. mrjob local vs Shoal local on the mrjob example (subset: mrjob is slow).
  if (!values["no-mrjob"]) {
    if (!existsSync(join(values.mrjob!, "mrjob/examples/mr_word_freq_count.py"))) throw new Error(`no mrjob checkout at ${values.mrjob} (see bench/wordcount/README.md)`);
    const limit = parseBytes(values["mrjob-size"]!, "--mrjob-size");
    const subset: string[] = [];
    for (const f of files) if (subset.length === 0 || bytesOf(subset) + statSync(f).size <= limit) subset.push(f);
    const sub = bytesOf(subset);
    const [tShoal] = await time(() => runJob(MRWordFreqCount, { runner: "local", inputs: subset, output: join(out, "shoal-mrjob-example") }));
    const [tMrjob] = await time(() => {
      const r = spawnSync("/usr/bin/python3", [join(values.mrjob!, "mrjob/examples/mr_word_freq_count.py"), "-r", "local", "--no-conf", "-o", join(out, "mrjob"), ...subset], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, PYTHONPATH: values.mrjob! },
      });
      if (r.status !== 0) throw new Error(`mrjob failed: ${r.stderr.toString().slice(-2000)}`);
    });
    const ok = same(readJsonParts(join(out, "mrjob")), readJsonParts(join(out, "shoal-mrjob-example")));
    rows.push({ name: "shoal mr -r local (mr_word_freq_count)", bytes: sub, s: tShoal, ok: "" });
    rows.push({ name: "mrjob 0.7.4 -r local (mr_word_freq_count)", bytes: sub, s: tMrjob, ok: ok ? "counts equal" : "COUNTS DIFFER" });
    console.log(`mrjob example on ${mb(sub)} MB: shoal ${tShoal.toFixed(2)} s, mrjob ${tMrjob.toFixed(2)} s (${ok ? "same counts" : "COUNTS DIFFER"})`);
  }

  console.log("\n| run | data | seconds | MB/s | vs Shoal | check |\n|---|---|---|---|---|---|");
  const shoalRate = new Map<number, number>();
  for (const r of rows) if (r.name.startsWith("shoal")) shoalRate.set(r.bytes, r.s);
  for (const r of rows) {
    const ref = shoalRate.get(r.bytes) ?? tShoalWs;
    const vs = r.name.startsWith("shoal") ? "1.00x" : r.s >= ref ? `${(r.s / ref).toFixed(2)}x slower` : `${(ref / r.s).toFixed(2)}x faster`;
    console.log(`| ${r.name.replace(/\|/g, "\\|")} | ${mb(r.bytes)} MB | ${r.s.toFixed(2)} | ${(r.bytes / 1e6 / r.s).toFixed(1)} | ${vs} | ${r.ok} |`);
  }
  void execFileSync;
}

if (isMain(import.meta)) await main();
