/**
 * Worker side of MapReduce jobs: the map task (read a split or the previous
 * step's output, run mapper hooks, combine map-side, partition by key) and
 * the reduce task (merge shards, sort by key in byte order, group, run the
 * reducer, write a `part-NNNNN` file or hand the lines to the next step).
 * These are builtin task functions; the job class travels as a reference.
 *
 * Between steps records travel in the internal protocol (JSON lines,
 * `JSON(key)\tJSON(value)`), so a job sees the same values whatever the runner.
 *
 * @module
 */
import type { FnRef } from "../code/fnref.ts";
import type { CompressionOption } from "../storage/blocks.ts";
import type { StorageOptions } from "../storage/types.ts";
import { write } from "../storage/ops.ts";
import { attemptUrl } from "../storage/commit.ts";
import { compareCodePoints, hashString } from "../bag/hash.ts";
import { readTextSplit } from "../bag/partition.ts";
import { resolveUser } from "../bag/user-fn.ts";
import { JobDefinitionError, MapReduceTaskError } from "./errors.ts";
import type { Counters, Emitted, JobClass, MRJob, MRStep } from "./job.ts";
import { RawValueProtocol, type Protocol } from "./protocols.ts";
import { foldOf } from "./fold.ts";
import { StringTable } from "./string-table.ts";
import { preview } from "../utils/preview.ts";

/** The job as it travels in task arguments: its class and passthrough options. */
export interface JobRef {
  ref: FnRef;
  options: Record<string, unknown>;
}

/** Input of a map task: a byte range of an input file, or the previous step's output. */
export type MapInput =
  | { k: "split"; url: string; start: number; end: number; compression: CompressionOption; storage?: StorageOptions; part: number }
  | { k: "prev"; data: unknown; part: number };

/** Where the last step writes: a directory URL (`part-NNNNN` files), or nothing (lines returned). */
export interface FinalSpec {
  output: string | null;
  /** Job id of the output commit: parts go to `<output>/_temporary/<job>/` first (storage/commit.ts). */
  job?: string;
  storage?: StorageOptions;
}

/** What map and reduce tasks return. */
export interface TaskOutput {
  /** Hash buckets of map output (internal protocol lines), one per reducer. */
  shards?: Buffer[];
  /** Output lines (internal protocol between steps, output protocol at the end) when not written. */
  lines?: Buffer;
  /** The part file written (its final URL). */
  url?: string;
  /** Where this attempt wrote it (under `_temporary/`); the client moves it to `url` at commit. */
  temp?: string;
  counters: Counters;
  records: { in: number; out: number };
  status: string;
}

/** A human name of a map input, for error messages. */
export function describeInput(input: MapInput): string {
  return input.k === "split" ? `${input.url}:${input.start}-${input.end}` : `output partition ${input.part} of the previous step`;
}

/** Instantiates the job and picks its step. */
export async function loadStep(job: JobRef, step: number): Promise<{ inst: MRJob; cls: JobClass; st: MRStep; nsteps: number }> {
  const cls = await resolveUser<JobClass>(job.ref);
  const inst = new cls({ options: job.options });
  const steps = inst.steps();
  const st = steps[step];
  if (!st) throw new JobDefinitionError(`the job has ${steps.length} steps; step ${step} does not exist`);
  return { inst, cls, st, nsteps: steps.length };
}

type Emit = (kv: readonly [unknown, unknown]) => void;

/** Feeds what a user function returned into `emit`; returns a promise only when something async came back. */
export function drain(result: Emitted, emit: Emit): Promise<void> | undefined {
  if (result === undefined || result === null) return undefined;
  const r = result as { then?: unknown; [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  if (typeof r.then === "function") return (result as Promise<Emitted>).then((x) => drain(x, emit));
  if (typeof r[Symbol.iterator] === "function") {
    for (const kv of result as Iterable<readonly [unknown, unknown]>) emit(kv);
    return undefined;
  }
  if (typeof r[Symbol.asyncIterator] === "function") {
    return (async () => {
      for await (const kv of result as AsyncIterable<readonly [unknown, unknown]>) emit(kv);
    })();
  }
  throw new TypeError(`expected [key, value] pairs (a generator, an array of pairs or a promise of them), got ${typeof result}`);
}

function checkPair(kv: unknown): asserts kv is readonly [unknown, unknown] {
  if (!Array.isArray(kv) || kv.length !== 2) {
    throw new TypeError(`each output must be a [key, value] pair, got ${preview(kv)}`);
  }
}

function userError(err: unknown, phase: "mapper" | "combiner" | "reducer", step: number, input: string): MapReduceTaskError {
  if (err instanceof MapReduceTaskError) return err;
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new MapReduceTaskError(`step ${step + 1} ${phase} failed on ${input}: ${msg}`, phase, step, input, "", { cause: err });
}

/** Calls a user function (with the job as `this`) and drains its output, wrapping errors. */
async function call(fn: ((...a: never[]) => Emitted) | undefined, inst: MRJob, args: unknown[], emit: Emit, phase: "mapper" | "combiner" | "reducer", step: number, input: string): Promise<void> {
  if (!fn) return;
  try {
    const p = drain((fn as (...a: unknown[]) => Emitted).apply(inst, args), emit);
    if (p) await p;
  } catch (err) {
    throw userError(err, phase, step, input);
  }
}

/**
 * Calls the mapper for one record and drains its output. Stays synchronous
 * (returns undefined) for synchronous mappers; errors are wrapped either way.
 */
function callMapper(mapper: (...a: never[]) => Emitted, inst: MRJob, key: unknown, value: unknown, emit: Emit, step: number, where: string): Promise<void> | undefined {
  let p: Promise<void> | undefined;
  try {
    p = drain((mapper as (...a: unknown[]) => Emitted).call(inst, key, value), emit);
  } catch (err) {
    throw userError(err, "mapper", step, where);
  }
  return p?.catch((err: unknown) => {
    throw userError(err, "mapper", step, where);
  });
}

const JSON_KEY = (k: unknown): string => (k === undefined ? "null" : JSON.stringify(k));

/** Values of one key kept before the combiner runs over them (keeps arrays small and young). */
export const COMBINE_KEY_VALUES = 32;

/**
 * Groups values by key (by JSON identity) for the map-side combiner. When a
 * key collects {@link COMBINE_KEY_VALUES} values, `full` is called with its
 * list so that the combiner can shrink it right away (Hadoop's combiner
 * contract: it may run any number of times on any subset of a key's values).
 */
class GroupBuffer {
  prim = new Map<unknown, unknown[]>();
  obj = new Map<string, [unknown, unknown[]]>();
  values = 0;
  full: ((k: unknown, list: unknown[]) => void) | null = null;

  add(k: unknown, v: unknown): void {
    this.values++;
    let list: unknown[] | undefined;
    let key = k;
    if (k !== null && typeof k === "object") {
      const j = JSON.stringify(k);
      const e = this.obj.get(j);
      if (e) (list = e[1]).push(v);
      else this.obj.set(j, [k, [v]]);
    } else {
      if (k === undefined) key = null;
      list = this.prim.get(key);
      if (list) list.push(v);
      else this.prim.set(key, [v]);
    }
    if (list && list.length >= COMBINE_KEY_VALUES && this.full) this.full(key, list);
  }

  *groups(): IterableIterator<[unknown, unknown[]]> {
    yield* this.prim.entries();
    yield* this.obj.values();
  }
}

/**
 * Map-side accumulators of a fold combiner ({@link foldValues}): one value
 * per key, folded as the mapper emits (the same result as running the
 * combiner over each key's values).
 */
class FoldBuffer {
  private readonly strings = new StringTable();
  private readonly stringAccs: unknown[] = [];
  private readonly prim = new Map<unknown, number>();
  private readonly obj = new Map<string, number>();
  private readonly keys: unknown[] = [];
  private readonly accs: unknown[] = [];

  constructor(private readonly fold: (acc: unknown, v: unknown) => unknown) {}

  add(k: unknown, v: unknown): void {
    let i: number | undefined;
    if (typeof k === "string") {
      i = this.strings.indexOf(k);
      if (this.strings.inserted) this.stringAccs.push(v);
      else this.stringAccs[i] = this.fold(this.stringAccs[i], v);
      return;
    }
    if (k !== null && typeof k === "object") {
      const j = JSON.stringify(k);
      i = this.obj.get(j);
      if (i === undefined) {
        this.obj.set(j, this.keys.length);
        this.keys.push(k);
        this.accs.push(v);
        return;
      }
    } else {
      const key = k === undefined ? null : k;
      i = this.prim.get(key);
      if (i === undefined) {
        this.prim.set(key, this.keys.length);
        this.keys.push(key);
        this.accs.push(v);
        return;
      }
    }
    this.accs[i] = this.fold(this.accs[i], v);
  }

  forEach(f: (k: unknown, acc: unknown) => void): void {
    const sk = this.strings.keys;
    for (let i = 0; i < sk.length; i++) f(sk[i], this.stringAccs[i]);
    for (let i = 0; i < this.keys.length; i++) f(this.keys[i], this.accs[i]);
  }
}

/** Map-side combine buffers hold at most this many values before the combiner runs over them. */
export const COMBINE_BUFFER_VALUES = 1 << 20;

/**
 * Task: one map task of step `step`. With `nReducers > 0` returns hash shards
 * for the reducers; otherwise (a mapper-only step) output lines or, at the
 * end of the job, a written part file.
 */
export async function mrMapTask(job: JobRef, step: number, input: MapInput, nReducers: number, final: FinalSpec | null): Promise<TaskOutput> {
  const { inst, cls, st } = await loadStep(job, step);
  const where = describeInput(input);
  const records = { in: 0, out: 0 };
  // The split's text (bounded by the blocksize); lines are cut from it as the mapper goes.
  let lines: LineSource;
  if (input.k === "split") {
    const text = await readTextSplit({ k: "text", url: input.url, start: input.start, end: input.end, compression: input.compression, ...(input.storage ? { storage: input.storage } : {}), part: input.part });
    lines = { text, stripCR: true };
  } else {
    const data = input.data as TaskOutput;
    lines = { text: data.lines ? Buffer.from(data.lines.buffer, data.lines.byteOffset, data.lines.byteLength).toString("utf8") : "", stripCR: false };
  }
  const inProto: Protocol = step === 0 ? cls.INPUT_PROTOCOL : cls.INTERNAL_PROTOCOL;

  let emit: Emit;
  let finish: () => Promise<TaskOutput>;
  if (nReducers > 0) {
    const shards: string[][] = Array.from({ length: nReducers }, () => []);
    const route = (k: unknown, v: unknown): void => {
      const kj = JSON_KEY(k);
      const line = `${kj}\t${v === undefined ? "null" : JSON.stringify(v)}`;
      shards[nReducers === 1 ? 0 : hashString(kj) % nReducers]!.push(line);
      records.out++;
    };
    const fold = st.combinerInit || st.combinerFinal ? undefined : foldOf(st.combiner);
    if (fold) {
      // A fold combiner (sumValues...): one accumulator per key, folded as pairs arrive.
      const acc = new FoldBuffer(fold);
      await runMapper(inst, st, lines, inProto, (kv) => (checkPair(kv), acc.add(kv[0], kv[1])), step, where, records, null);
      acc.forEach(route);
      return { shards: shards.map((s) => Buffer.from(s.length > 0 ? s.join("\n") + "\n" : "")), counters: inst.counters, records, status: inst.status };
    }
    if (st.combiner) {
      let buf = new GroupBuffer();
      const combine = async (): Promise<void> => {
        const old = buf;
        buf = new GroupBuffer();
        buf.full = old.full;
        for (const [k, vs] of old.groups()) {
          await call(st.combiner, inst, [k, vs], (kv) => {
            checkPair(kv);
            buf.add(kv[0], kv[1]);
          }, "combiner", step, where);
        }
      };
      let pending = false;
      let eager = true;
      const waits: Promise<void>[] = [];
      buf.full = (k, list) => {
        if (!eager) return;
        const vs = list.splice(0, list.length);
        buf.values -= vs.length;
        let r: Emitted;
        try {
          r = st.combiner!.call(inst, k, vs);
        } catch (err) {
          throw userError(err, "combiner", step, where);
        }
        const out = r as { [Symbol.iterator]?: unknown } | undefined;
        if (out && typeof out[Symbol.iterator] === "function") {
          for (const kv of r as Iterable<readonly [unknown, unknown]>) {
            checkPair(kv);
            if (kv[0] === k) {
              list.push(kv[1]);
              buf.values++;
            } else buf.add(kv[0], kv[1]);
          }
          return;
        }
        // An async combiner: finish this call later, and stop combining eagerly.
        eager = false;
        const p = drain(r, (kv) => (checkPair(kv), buf.add(kv[0], kv[1])));
        if (p) waits.push(p.catch((err: unknown) => Promise.reject(userError(err, "combiner", step, where))));
      };
      emit = (kv) => {
        checkPair(kv);
        buf.add(kv[0], kv[1]);
        if (buf.values >= COMBINE_BUFFER_VALUES) pending = true;
      };
      finish = async () => {
        if (waits.length > 0) await Promise.all(waits.splice(0));
        buf.full = null;
        await call(st.combinerInit, inst, [], (kv) => (checkPair(kv), buf.add(kv[0], kv[1])), "combiner", step, where);
        await combine();
        await call(st.combinerFinal, inst, [], (kv) => (checkPair(kv), buf.add(kv[0], kv[1])), "combiner", step, where);
        for (const [k, vs] of buf.groups()) for (const v of vs) route(k, v);
        return { shards: shards.map((s) => Buffer.from(s.length > 0 ? s.join("\n") + "\n" : "")), counters: inst.counters, records, status: inst.status };
      };
      await runMapper(inst, st, lines, inProto, emit, step, where, records, async () => {
        if (waits.length > 0) await Promise.all(waits.splice(0));
        if (pending) {
          pending = false;
          await combine();
        }
      });
      return finish();
    }
    emit = (kv) => {
      checkPair(kv);
      route(kv[0], kv[1]);
    };
    await runMapper(inst, st, lines, inProto, emit, step, where, records, null);
    return { shards: shards.map((s) => Buffer.from(s.length > 0 ? s.join("\n") + "\n" : "")), counters: inst.counters, records, status: inst.status };
  }
  // Mapper-only step.
  const outProto = final ? cls.OUTPUT_PROTOCOL : cls.INTERNAL_PROTOCOL;
  const out: string[] = [];
  emit = (kv) => {
    checkPair(kv);
    out.push(outProto.write(kv[0], kv[1]));
    records.out++;
  };
  await runMapper(inst, st, lines, inProto, emit, step, where, records, null);
  return finishOutput(out, input.part, final, inst, records);
}

/** Lines of a map input: `\n`-separated text (`\r\n` line ends of input files lose their `\r`). */
interface LineSource {
  text: string;
  stripCR: boolean;
}

async function runMapper(
  inst: MRJob,
  st: MRStep,
  lines: LineSource,
  proto: Protocol,
  emit: Emit,
  step: number,
  where: string,
  records: { in: number; out: number },
  check: (() => Promise<void>) | null,
): Promise<void> {
  await call(st.mapperInit, inst, [], emit, "mapper", step, where);
  const mapper = st.mapper;
  const { text, stripCR } = lines;
  const n = text.length;
  const raw = proto === RawValueProtocol;
  let from = 0;
  for (let i = 0; from < n; i++) {
    let nl = text.indexOf("\n", from);
    if (nl < 0) nl = n;
    const end = stripCR && nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const line = text.slice(from, end);
    from = nl + 1;
    if (raw && mapper) {
      // RawValueProtocol: key null, value the line (no pair to build).
      records.in++;
      const p = callMapper(mapper, inst, null, line, emit, step, where);
      if (p) await p;
      if (check && (i & 1023) === 0) await check();
      continue;
    }
    let kv: [unknown, unknown];
    try {
      kv = proto.read(line);
    } catch (err) {
      throw new MapReduceTaskError(`step ${step + 1}: cannot decode line ${i + 1} of ${where} with ${proto.name}: ${(err as Error).message}`, "mapper", step, where, "", { cause: err });
    }
    records.in++;
    if (!mapper) {
      emit(kv);
      continue;
    }
    const p = callMapper(mapper, inst, kv[0], kv[1], emit, step, where);
    if (p) await p;
    if (check && (i & 1023) === 0) await check();
  }
  await call(st.mapperFinal, inst, [], emit, "mapper", step, where);
}

/** Writes part `part` of the job's output as a fresh attempt (under `_temporary/<job>/` when the client commits; directly without a job id). */
export async function writeOutputPart(final: FinalSpec & { output: string }, part: number, data: Buffer): Promise<{ url: string; temp: string }> {
  const url = `${final.output.replace(/\/+$/, "")}/part-${String(part).padStart(5, "0")}`;
  const temp = final.job === undefined ? url : attemptUrl(url, final.job);
  await write(temp, data, final.storage ?? {});
  return { url, temp };
}

async function finishOutput(out: string[], part: number, final: FinalSpec | null, inst: MRJob, records: { in: number; out: number }): Promise<TaskOutput> {
  const data = Buffer.from(out.length > 0 ? out.join("\n") + "\n" : "");
  if (final && final.output !== null) {
    const { url, temp } = await writeOutputPart({ ...final, output: final.output }, part, data);
    return { url, temp, counters: inst.counters, records, status: inst.status };
  }
  return { lines: data, counters: inst.counters, records, status: inst.status };
}

/** Task: the shard of map output for reducer `j`. */
export function mrShard(mapOut: TaskOutput, j: number): Buffer {
  const s = mapOut.shards?.[j];
  if (!s) throw new Error(`internal: map output has no shard ${j}`);
  return s;
}

/** Task: the counters and record counts of a task's output (so the client need not fetch the data). */
export function mrCounters(out: TaskOutput): Pick<TaskOutput, "counters" | "records" | "status"> {
  return { counters: out.counters, records: out.records, status: out.status };
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Record indices sorted by key in code point order (= UTF-8 byte order),
 * equal keys in record order. Without surrogates in the keys, UTF-16 order
 * is code point order and V8's string `<` does the work.
 */
function sortedOrder(keys: readonly string[], surrogates: boolean): Uint32Array {
  const order = new Uint32Array(keys.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (surrogates) return order.sort((a, b) => compareCodePoints(keys[a]!, keys[b]!) || a - b);
  return order.sort((a, b) => {
    const x = keys[a]!;
    const y = keys[b]!;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}

function callFold(fold: (acc: unknown, v: unknown) => unknown, acc: unknown, v: unknown, step: number, where: string): unknown {
  try {
    return fold(acc, v);
  } catch (err) {
    throw userError(err, "reducer", step, where);
  }
}

/**
 * Task: reduce partition `part` of step `step`: merges the shards, sorts
 * records by key in byte order (values of a key stay in map order), calls
 * the reducer once per key, and writes or returns its output.
 */
export async function mrReduceTask(job: JobRef, step: number, shards: readonly Uint8Array[], part: number, final: FinalSpec | null): Promise<TaskOutput> {
  const { inst, cls, st } = await loadStep(job, step);
  const where = `reduce partition ${part}`;
  const keys: string[] = [];
  const vals: string[] = [];
  let surrogates = false;
  for (const s of shards) {
    const text = Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString("utf8");
    if (!surrogates && SURROGATE.test(text)) surrogates = true;
    let from = 0;
    while (from < text.length) {
      let nl = text.indexOf("\n", from);
      if (nl < 0) nl = text.length;
      const tab = text.indexOf("\t", from);
      keys.push(text.slice(from, tab));
      vals.push(text.slice(tab + 1, nl));
      from = nl + 1;
    }
  }
  const order = sortedOrder(keys, surrogates);
  const outProto = final ? cls.OUTPUT_PROTOCOL : cls.INTERNAL_PROTOCOL;
  const out: string[] = [];
  const records = { in: keys.length, out: 0 };
  const emit: Emit = (kv) => {
    checkPair(kv);
    out.push(outProto.write(kv[0], kv[1]));
    records.out++;
  };
  await call(st.reducerInit, inst, [], emit, "reducer", step, where);
  const fold = foldOf(st.reducer);
  if (fold) {
    // A fold reducer (sumValues...): fold the values as they are decoded, no generator per key.
    let i = 0;
    while (i < order.length) {
      const kj = keys[order[i]!]!;
      let acc: unknown = JSON.parse(vals[order[i]!]!);
      let j = i + 1;
      for (; j < order.length && keys[order[j]!] === kj; j++) acc = callFold(fold, acc, JSON.parse(vals[order[j]!]!), step, where);
      emit([JSON.parse(kj), acc]);
      i = j;
    }
  } else if (st.reducer) {
    let i = 0;
    while (i < order.length) {
      const kj = keys[order[i]!]!;
      let j = i + 1;
      while (j < order.length && keys[order[j]!] === kj) j++;
      const from = i;
      const to = j;
      const values: Iterable<unknown> = {
        *[Symbol.iterator]() {
          for (let x = from; x < to; x++) yield JSON.parse(vals[order[x]!]!);
        },
      };
      await call(st.reducer, inst, [JSON.parse(kj), values], emit, "reducer", step, where);
      i = j;
    }
  }
  await call(st.reducerFinal, inst, [], emit, "reducer", step, where);
  return finishOutput(out, part, final, inst, records);
}
