// The benchmark's jobs. `MRWordFreqCount` is mrjob's examples/mr_word_freq_count.py
// in TypeScript (words = [\w']+, lower-cased, combiner and reducer sum with Shoal's `sumValues`,
// the fold reducer the runners fold map-side; `*Generic` variants keep mrjob's generator form);
// `WhitespaceWordCount` counts whitespace-separated words like `tr -s '[:space:]' '\n' | sort | uniq -c`.
import { MRJob } from "../../src/mapreduce/job.ts";
import { sumValues } from "../../src/mapreduce/fold.ts";

const WORD_RE = /[\w']+/g;

function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

export class MRWordFreqCount extends MRJob {
  *mapper(_: null, line: string): Generator<[string, number]> {
    for (const w of line.match(WORD_RE) ?? []) yield [w.toLowerCase(), 1];
  }
  combiner = sumValues;
  reducer = sumValues;
}

/** `MRWordFreqCount` with generator combiner and reducer, as in mrjob's example (the generic path). */
export class MRWordFreqCountGeneric extends MRJob {
  *mapper(_: null, line: string): Generator<[string, number]> {
    for (const w of line.match(WORD_RE) ?? []) yield [w.toLowerCase(), 1];
  }
  *combiner(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
  *reducer(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
}

export class WhitespaceWordCount extends MRJob {
  *mapper(_: null, line: string): Generator<[string, number]> {
    for (const w of line.split(/[ \t\n\v\f\r]+/)) if (w !== "") yield [w, 1];
  }
  combiner = sumValues;
  reducer = sumValues;
}

/** The same with generator combiner and reducer (the generic path). */
export class WhitespaceWordCountGeneric extends MRJob {
  *mapper(_: null, line: string): Generator<[string, number]> {
    for (const w of line.split(/[ \t\n\v\f\r]+/)) if (w !== "") yield [w, 1];
  }
  *combiner(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
  *reducer(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
}
