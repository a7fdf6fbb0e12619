/**
 * Hadoop Streaming mode: the mapper, combiner and reducer are any
 * executables (run with `sh -c`), reading lines on stdin and writing lines
 * on stdout. The key of an output line is the text before its first tab (the
 * whole line when there is none); lines are partitioned by a stable hash of
 * the key bytes (FNV-1a, the hash Bag and MRJob use for string keys) and
 * sorted by key bytewise within a partition (`LC_ALL=C` order; lines with
 * equal keys keep their map order). Lines reach reducers unchanged (no tab
 * is added to key-only lines, as in madoop).
 *
 * On stderr, `reporter:counter:GROUP,NAME,AMOUNT` adds to a counter and
 * `reporter:status:MESSAGE` sets the task status, as in Hadoop. Job
 * parameters are exported as environment variables (`mapreduce_job_reduces`,
 * `mapreduce_task_partition`, `mapreduce_map_input_file` and its old name
 * `map_input_file`, `map_input_start`, `map_input_length`,
 * `mapreduce_task_ismap`, plus `-D name=value` / `--cmdenv` settings with dots
 * replaced by underscores).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readBlock } from "../storage/blocks.ts";
import { hashBytes } from "../bag/hash.ts";
import { MapReduceTaskError } from "./errors.ts";
import type { Counters } from "./job.ts";
import { describeInput, writeOutputPart, type FinalSpec, type MapInput, type TaskOutput } from "./tasks.ts";

/** The commands and settings of a streaming job. */
export interface StreamingSpec {
  mapper: string;
  combiner?: string;
  /** Absent: identity reduce (the sorted map output). */
  reducer?: string;
  /** Extra environment for every command. */
  env: Record<string, string>;
}

/** What an external command produced. */
interface CommandResult {
  stdout: Buffer;
  counters: Counters;
  status: string;
}

const STDERR_TAIL = 2048;

/**
 * Runs `sh -c cmd` with `input` on stdin; resolves with its stdout and the
 * counters it reported, or rejects with a {@link MapReduceTaskError} holding
 * its stderr tail when it exits non-zero.
 */
export function runCommand(cmd: string, input: Uint8Array, env: Record<string, string>, phase: "mapper" | "combiner" | "reducer", where: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", cmd], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const counters: Counters = {};
    let status = "";
    let tail = "";
    let partial = "";
    const onErrLine = (line: string): void => {
      if (line.startsWith("reporter:counter:")) {
        const m = /^reporter:counter:([^,]*),([^,]*),(-?\d+)\s*$/.exec(line);
        if (m) {
          const g = (counters[m[1]!] ??= {});
          g[m[2]!] = (g[m[2]!] ?? 0) + Number(m[3]);
          return;
        }
      } else if (line.startsWith("reporter:status:")) {
        status = line.slice("reporter:status:".length);
        return;
      }
      tail = (tail + line + "\n").slice(-STDERR_TAIL);
    };
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => {
      partial += c;
      let nl: number;
      while ((nl = partial.indexOf("\n")) >= 0) {
        onErrLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    child.stdin.on("error", () => {
      /* EPIPE: the command stopped reading (e.g. `head`); its exit code decides */
    });
    child.on("error", (err) => reject(new MapReduceTaskError(`${phase} '${cmd}' could not start on ${where}: ${err.message}`, phase, 0, where, "", { cause: err })));
    child.on("close", (code, signal) => {
      if (partial) onErrLine(partial);
      if (code === 0) return resolve({ stdout: Buffer.concat(out), counters, status });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new MapReduceTaskError(`${phase} '${cmd}' ${how} on ${where}${tail ? `; stderr tail:\n${tail.trimEnd()}` : " (no stderr)"}`, phase, 0, where, tail));
    });
    child.stdin.end(input);
  });
}

function addCounters(a: Counters, b: Counters): Counters {
  for (const [g, names] of Object.entries(b)) {
    const dst = (a[g] ??= {});
    for (const [n, v] of Object.entries(names)) dst[n] = (dst[n] ?? 0) + v;
  }
  return a;
}

/** Line boundaries of a buffer: starts, key ends (first tab or line end) and ends (without the newline). */
interface Lines {
  buf: Buffer;
  start: Float64Array;
  keyEnd: Float64Array;
  end: Float64Array;
  n: number;
}

function scanLines(buf: Buffer): Lines {
  let count = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) count++;
  if (buf.length > 0 && buf[buf.length - 1] !== 10) count++;
  const start = new Float64Array(count);
  const keyEnd = new Float64Array(count);
  const end = new Float64Array(count);
  let from = 0;
  let n = 0;
  while (from < buf.length) {
    let nl = buf.indexOf(10, from);
    if (nl < 0) nl = buf.length;
    let tab = buf.indexOf(9, from);
    if (tab < 0 || tab > nl) tab = nl;
    start[n] = from;
    keyEnd[n] = tab;
    end[n] = nl;
    n++;
    from = nl + 1;
  }
  return { buf, start, keyEnd, end, n };
}

/** Lines `idx` of `lines`, each followed by a newline, in one buffer. */
function gather(lines: Lines, idx: ArrayLike<number>): Buffer {
  let size = 0;
  for (let i = 0; i < idx.length; i++) size += lines.end[idx[i]!]! - lines.start[idx[i]!]! + 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    at += lines.buf.copy(out, at, lines.start[j]!, lines.end[j]!);
    out[at++] = 10;
  }
  return out;
}

/** Indices of all lines sorted by key bytes (stable). */
function sortByKey(lines: Lines, idx?: number[]): number[] {
  const order = idx ?? Array.from({ length: lines.n }, (_, i) => i);
  const { buf, start, keyEnd } = lines;
  order.sort((a, b) => buf.compare(buf, start[b]!, keyEnd[b]!, start[a]!, keyEnd[a]!) || a - b);
  return order;
}

/**
 * Task: one streaming map task: pipes the split through the mapper, splits
 * the output into `nReducers` hash partitions, each sorted and passed
 * through the combiner when there is one. With no reducers, writes or
 * returns the mapper output as this split's part.
 */
export async function streamMapTask(spec: StreamingSpec, input: MapInput, nReducers: number, final: FinalSpec | null): Promise<TaskOutput> {
  if (input.k !== "split") throw new Error("internal: streaming jobs have one step");
  const where = describeInput(input);
  const data = await readBlock(input.url, input.start, input.end, { ...(input.storage ?? {}), delimiter: "\n", compression: input.compression });
  const env: Record<string, string> = {
    ...spec.env,
    mapreduce_task_ismap: "true",
    mapred_task_is_map: "true",
    mapreduce_task_partition: String(input.part),
    mapred_task_partition: String(input.part),
    mapreduce_job_reduces: String(nReducers),
    mapred_reduce_tasks: String(nReducers),
    mapreduce_map_input_file: input.url,
    map_input_file: input.url,
    mapreduce_map_input_start: String(input.start),
    map_input_start: String(input.start),
    mapreduce_map_input_length: String(input.end - input.start),
    map_input_length: String(input.end - input.start),
  };
  const mapped = await runCommand(spec.mapper, data, env, "mapper", where);
  const counters = mapped.counters;
  const lines = scanLines(mapped.stdout);
  const records = { in: countLines(data), out: lines.n };
  if (nReducers === 0) return finish(mapped.stdout, input.part, final, counters, records, mapped.status);
  const parts: number[][] = Array.from({ length: nReducers }, () => []);
  for (let i = 0; i < lines.n; i++) parts[nReducers === 1 ? 0 : hashBytes(lines.buf, lines.start[i]!, lines.keyEnd[i]!) % nReducers]!.push(i);
  const shards: Buffer[] = [];
  for (let j = 0; j < nReducers; j++) {
    const idx = parts[j]!;
    if (!spec.combiner || idx.length === 0) {
      shards.push(gather(lines, idx));
      continue;
    }
    const sorted = gather(lines, sortByKey(lines, idx));
    const combined = await runCommand(spec.combiner, sorted, { ...env, mapreduce_combine_partition: String(j) }, "combiner", `${where} (partition ${j})`);
    addCounters(counters, combined.counters);
    shards.push(combined.stdout.length > 0 && combined.stdout[combined.stdout.length - 1] !== 10 ? Buffer.concat([combined.stdout, Buffer.from("\n")]) : combined.stdout);
  }
  return { shards, counters, records, status: mapped.status };
}

function countLines(b: Uint8Array): number {
  let n = 0;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return buf.length > 0 && buf[buf.length - 1] !== 10 ? n + 1 : n;
}

async function finish(data: Buffer, part: number, final: FinalSpec | null, counters: Counters, records: { in: number; out: number }, status: string): Promise<TaskOutput> {
  if (final && final.output !== null) {
    const { url, temp } = await writeOutputPart({ ...final, output: final.output }, part, data);
    return { url, temp, counters, records, status };
  }
  return { lines: data, counters, records, status };
}

/**
 * Task: one streaming reduce partition: concatenates its shards, sorts the
 * lines by key bytewise and pipes them through the reducer (or keeps them,
 * without one); writes `part-NNNNN` or returns the lines.
 */
export async function streamReduceTask(spec: StreamingSpec, shards: readonly Uint8Array[], part: number, nReducers: number, final: FinalSpec | null): Promise<TaskOutput> {
  const all = Buffer.concat(shards.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength)));
  const lines = scanLines(all);
  const sorted = gather(lines, sortByKey(lines));
  const where = `reduce partition ${part}`;
  if (!spec.reducer) return finish(sorted, part, final, {}, { in: lines.n, out: lines.n }, "");
  const env: Record<string, string> = {
    ...spec.env,
    mapreduce_task_ismap: "false",
    mapred_task_is_map: "false",
    mapreduce_task_partition: String(part),
    mapred_task_partition: String(part),
    mapreduce_job_reduces: String(nReducers),
    mapred_reduce_tasks: String(nReducers),
  };
  const r = await runCommand(spec.reducer, sorted, env, "reducer", where);
  return finish(r.stdout, part, final, r.counters, { in: lines.n, out: countLines(r.stdout) }, r.status);
}
