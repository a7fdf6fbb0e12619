// Jobs used by the MapReduce tests (exported so that workers can load them).
import { MRJob, MRStep } from "../../src/mapreduce/job.ts";
import { JSONValueProtocol, RawProtocol } from "../../src/mapreduce/protocols.ts";
import { foldValues, sumValues } from "../../src/mapreduce/fold.ts";

function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** Whitespace word count (the Unix reference's notion of a word). */
export class WordCount extends MRJob {
  *mapper(_key: null, line: string): Generator<[string, number]> {
    for (const w of line.split(/[ \t\n\v\f\r]+/)) if (w !== "") yield [w, 1];
    this.incrementCounter("wc", "lines");
  }
  *combiner(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
  *reducer(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
}

/** The same without a combiner, writing raw `word\tcount` lines. */
export class WordCountNoCombiner extends MRJob {
  static override OUTPUT_PROTOCOL = RawProtocol;
  mapper(_key: null, line: string): [string, number][] {
    return line.split(/[ \t\n\v\f\r]+/).filter((w) => w !== "").map((w) => [w, 1]);
  }
  async *reducer(word: string, counts: Iterable<number>): AsyncGenerator<[string, number]> {
    await new Promise((r) => setImmediate(r));
    yield [word, sum(counts)];
  }
}

const WORD_RE = /[\w']+/g;

/** Seed 001's two-step job: the most used word. */
export class MostUsedWord extends MRJob {
  override steps(): MRStep[] {
    return [
      new MRStep({ mapper: this.mapperGetWords, combiner: this.combinerCountWords, reducer: this.reducerCountWords }),
      new MRStep({ reducer: this.reducerFindMaxWord }),
    ];
  }
  *mapperGetWords(_: null, line: string): Generator<[string, number]> {
    for (const w of line.match(WORD_RE) ?? []) yield [w.toLowerCase(), 1];
  }
  *combinerCountWords(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
  *reducerCountWords(word: string, counts: Iterable<number>): Generator<[null, [number, string]]> {
    yield [null, [sum(counts), word]];
  }
  *reducerFindMaxWord(_: null, pairs: Iterable<[number, string]>): Generator<[number, string]> {
    let best: [number, string] | null = null;
    for (const p of pairs) if (!best || p[0] > best[0] || (p[0] === best[0] && p[1] > best[1])) best = p;
    if (best) yield best;
  }
}

/** Hooks, counters, passthrough options and a mapper-only step. */
export class LongLines extends MRJob {
  static override OUTPUT_PROTOCOL = JSONValueProtocol;
  static override OPTIONS = { "min-length": { type: "number" as const, default: 10 } };
  private seen = 0;
  mapperInit(): void {
    this.seen = 0;
  }
  *mapper(_: null, line: string): Generator<[null, string]> {
    this.seen++;
    if (line.length >= (this.options["min-length"] as number)) {
      this.incrementCounter("lines", "long");
      yield [null, line];
    } else this.incrementCounter("lines", "short");
  }
  *mapperFinal(): Generator<[null, string]> {
    yield [null, `seen:${this.seen}`];
  }
}

/** Throws on a particular line. */
export class Failing extends MRJob {
  *mapper(_: null, line: string): Generator<[string, number]> {
    if (line.includes("BOOM")) throw new Error(`bad record: ${line}`);
    yield [line, 1];
  }
  *reducer(k: string, vs: Iterable<number>): Generator<[string, number]> {
    yield [k, sum(vs)];
  }
}

/** Sleeps in the mapper (so a worker can be killed mid-job). */
export class SlowWordCount extends WordCount {
  override *mapper(key: null, line: string): Generator<[string, number]> {
    const end = performance.now() + 0.4;
    while (performance.now() < end) {
      /* spin */
    }
    yield* super.mapper(key, line);
  }
}

/** Word count with the fold helpers: `sumValues` combiner and reducer. */
export class WordCountFold extends MRJob {
  *mapper(_key: null, line: string): Generator<[string, number]> {
    for (const w of line.split(/[ \t\n\v\f\r]+/)) if (w !== "") yield [w, 1];
  }
  combiner = sumValues;
  reducer = sumValues;
}

/** Fold combiners with non-string keys: per word length (number keys) and per [first letter, length] (array keys), max and min. */
export class FoldKeys extends MRJob {
  *mapper(_key: null, line: string): Generator<[unknown, number]> {
    for (const w of line.split(/[ \t\n\v\f\r]+/)) {
      if (w === "") continue;
      yield [w.length, 1];
      yield [[w[0], w.length % 3], w.length];
      yield [null, -w.length];
    }
  }
  combiner = foldValues((a: number, b: number) => (a > 0 && b > 0 ? a + b : Math.min(a, b)));
  reducer = this.combiner;
}
