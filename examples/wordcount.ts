// Seed 001: mrjob's word-frequency count as a Shoal MapReduce job.
//
//   node --import tsx examples/wordcount.ts INPUT... [-r inline|local|cluster] [-o OUTPUT]
//   shoal mr examples/wordcount.ts INPUT... -r local
//
// Without -o the `"word"\tcount` lines go to stdout; a summary with counters goes to stderr.
import { MRJob } from "../src/mapreduce/job.ts";
import { isMain } from "../src/utils/is-main.ts";

const WORD_RE = /[\w']+/g;

function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

export class MRWordFreqCount extends MRJob {
  *mapper(_: null, line: string): Generator<[string, number]> {
    for (const word of line.match(WORD_RE) ?? []) yield [word.toLowerCase(), 1];
    this.incrementCounter("wordcount", "lines");
  }

  *combiner(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }

  *reducer(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }
}

if (isMain(import.meta)) process.exitCode = await MRWordFreqCount.run();
