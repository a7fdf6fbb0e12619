/**
 * mrjob-style MapReduce jobs. A job is a class extending {@link MRJob} with
 * `mapper`, `combiner` and `reducer` methods (each may return or yield any
 * number of `[key, value]` pairs; generators, async generators, arrays and
 * promises all work), their `*Init` / `*Final` hooks, and `steps()` for
 * multi-step jobs. Counters: `this.incrementCounter(group, name, n)`.
 *
 * @example
 * ```ts
 * import { MRJob } from "shoal";
 * const WORD_RE = /[\w']+/g;
 * export class MRWordFreqCount extends MRJob {
 *   *mapper(_: null, line: string) {
 *     for (const w of line.match(WORD_RE) ?? []) yield [w.toLowerCase(), 1] as const;
 *   }
 *   *combiner(word: string, counts: Iterable<number>) { yield [word, sum(counts)] as const; }
 *   *reducer(word: string, counts: Iterable<number>) { yield [word, sum(counts)] as const; }
 * }
 * if (isMain(import.meta)) process.exitCode = await MRWordFreqCount.run();
 * ```
 *
 * @module
 */
import { JobDefinitionError } from "./errors.ts";
import { JSONProtocol, RawValueProtocol, type Protocol } from "./protocols.ts";

/** What a mapper/combiner/reducer or hook may return. */
export type Emitted =
  | Iterable<readonly [unknown, unknown]>
  | AsyncIterable<readonly [unknown, unknown]>
  | Promise<Iterable<readonly [unknown, unknown]> | AsyncIterable<readonly [unknown, unknown]> | void>
  | void;

/** A mapper: `(key, value)` of an input record. */
export type MapperFn = (key: any, value: any) => Emitted; // eslint-disable-line @typescript-eslint/no-explicit-any
/** A combiner or reducer: a key and all its values. */
export type ReducerFn = (key: any, values: Iterable<any>) => Emitted; // eslint-disable-line @typescript-eslint/no-explicit-any
/** An init or final hook. */
export type HookFn = () => Emitted;

/** The functions of one step; called with the job instance as `this`. */
export interface StepDefinition {
  mapper?: MapperFn;
  mapperInit?: HookFn;
  mapperFinal?: HookFn;
  combiner?: ReducerFn;
  combinerInit?: HookFn;
  combinerFinal?: HookFn;
  reducer?: ReducerFn;
  reducerInit?: HookFn;
  reducerFinal?: HookFn;
  /** Per-step job configuration (exported to streaming commands as environment variables). */
  jobconf?: Record<string, string>;
}

/**
 * One step of a multi-step job (mrjob's `MRStep`). A step needs a mapper, a
 * reducer or both; a missing mapper passes pairs through.
 *
 * @example
 * ```ts
 * steps() {
 *   return [new MRStep({ mapper: this.mapperGetWords, reducer: this.reducerCount }),
 *           new MRStep({ reducer: this.reducerFindMax })];
 * }
 * ```
 */
// The step's fields are those of StepDefinition (declaration merging).
export interface MRStep extends StepDefinition {}
export class MRStep {
  constructor(def: StepDefinition) {
    Object.assign(this, def);
    if (!this.mapper && !this.reducer && !this.mapperInit && !this.mapperFinal && !this.reducerInit && !this.reducerFinal) {
      throw new JobDefinitionError("MRStep needs a mapper or a reducer (or their init/final hooks)");
    }
  }

  /** True when the step has a reduce phase. */
  get hasReducer(): boolean {
    return Boolean(this.reducer || this.reducerInit || this.reducerFinal);
  }
}

/** A passthrough option declared by a job (`static OPTIONS`). */
export interface OptionSpec {
  type: "string" | "number" | "boolean";
  default?: string | number | boolean;
  help?: string;
}

/** Counters as `{ group: { name: amount } }`. */
export type Counters = Record<string, Record<string, number>>;

/** Adds `b`'s counters into `a`. @example `mergeCounters(total, task.counters)` */
export function mergeCounters(a: Counters, b: Counters | undefined): Counters {
  if (!b) return a;
  for (const [g, names] of Object.entries(b)) {
    const dst = (a[g] ??= {});
    for (const [n, v] of Object.entries(names)) dst[n] = (dst[n] ?? 0) + v;
  }
  return a;
}

/** Options given to a job instance. */
export interface JobInit {
  /** Passthrough option values (declared in `static OPTIONS`). */
  options?: Record<string, unknown>;
}

/**
 * The optional step methods a job class may define (not declared on
 * {@link MRJob} itself, so subclasses define them without `override`).
 */
export interface JobMethods {
  mapper?(key: any, value: any): Emitted; // eslint-disable-line @typescript-eslint/no-explicit-any
  mapperInit?(): Emitted;
  mapperFinal?(): Emitted;
  combiner?(key: any, values: Iterable<any>): Emitted; // eslint-disable-line @typescript-eslint/no-explicit-any
  combinerInit?(): Emitted;
  combinerFinal?(): Emitted;
  reducer?(key: any, values: Iterable<any>): Emitted; // eslint-disable-line @typescript-eslint/no-explicit-any
  reducerInit?(): Emitted;
  reducerFinal?(): Emitted;
}

/** Base class of MapReduce jobs; see the module overview. */
export abstract class MRJob {
  /** Reads input lines; default {@link RawValueProtocol} (key null, value the line). */
  static INPUT_PROTOCOL: Protocol = RawValueProtocol;
  /** Carries pairs between steps; default {@link JSONProtocol}. */
  static INTERNAL_PROTOCOL: Protocol = JSONProtocol;
  /** Writes the output; default {@link JSONProtocol} (`"key"\tvalue`). */
  static OUTPUT_PROTOCOL: Protocol = JSONProtocol;
  /** Passthrough options (`--name value` on the command line, `this.options.name` in the job). */
  static OPTIONS: Record<string, OptionSpec> = {};

  /** Passthrough option values. */
  readonly options: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** @internal counters incremented by this task. */
  readonly counters: Counters = {};
  /** @internal the last status message. */
  status = "";

  constructor(init: JobInit = {}) {
    const specs = (this.constructor as typeof MRJob).OPTIONS ?? {};
    const opts: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) opts[name] = spec.default;
    this.options = { ...opts, ...(init.options ?? {}) };
  }

  /**
   * The steps of the job. Default: one step made of this class's `mapper`,
   * `combiner`, `reducer` and their hooks.
   */
  steps(): MRStep[] {
    const self = this as MRJob & JobMethods;
    return [
      new MRStep({
        ...(self.mapper ? { mapper: self.mapper } : {}),
        ...(self.mapperInit ? { mapperInit: self.mapperInit } : {}),
        ...(self.mapperFinal ? { mapperFinal: self.mapperFinal } : {}),
        ...(self.combiner ? { combiner: self.combiner } : {}),
        ...(self.combinerInit ? { combinerInit: self.combinerInit } : {}),
        ...(self.combinerFinal ? { combinerFinal: self.combinerFinal } : {}),
        ...(self.reducer ? { reducer: self.reducer } : {}),
        ...(self.reducerInit ? { reducerInit: self.reducerInit } : {}),
        ...(self.reducerFinal ? { reducerFinal: self.reducerFinal } : {}),
      }),
    ];
  }

  /** Adds `amount` to counter `group`/`name` (summed over all tasks; shown in the summary). */
  incrementCounter(group: string, name: string, amount = 1): void {
    const g = (this.counters[group] ??= {});
    g[name] = (g[name] ?? 0) + amount;
  }

  /** Sets the task's status message (Hadoop's `reporter:status:`). */
  setStatus(message: string): void {
    this.status = message;
  }

  /**
   * Runs the job from the command line, like an mrjob script
   * (`tsx job.ts -r local input.txt -o out/`); returns the exit code.
   *
   * @example
   * ```ts
   * if (isMain(import.meta)) process.exitCode = await MRWordFreqCount.run();
   * ```
   */
  static async run(this: JobClass, argv: string[] = process.argv.slice(2)): Promise<number> {
    const { runJobCli } = await import("./cli-job.ts");
    return runJobCli(this, argv);
  }
}

/** A concrete job class. */
export type JobClass = (new (init?: JobInit) => MRJob) & Pick<typeof MRJob, "INPUT_PROTOCOL" | "INTERNAL_PROTOCOL" | "OUTPUT_PROTOCOL" | "OPTIONS">;
