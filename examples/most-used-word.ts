// Seed 001: the two-step "most used word" job (mrjob's MRStep example).
//
//   node --import tsx examples/most-used-word.ts INPUT... [-r local]
//
// Step 1 counts words (with a combiner) and sends every (count, word) pair to
// one key; step 2 picks the largest pair, so the output is `count\t"word"`.
import { MRJob, MRStep } from "../src/mapreduce/job.ts";
import { isMain } from "../src/utils/is-main.ts";

const WORD_RE = /[\w']+/g;

function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

export class MRMostUsedWord extends MRJob {
  override steps(): MRStep[] {
    return [
      new MRStep({ mapper: this.mapperGetWords, combiner: this.combinerCountWords, reducer: this.reducerCountWords }),
      new MRStep({ reducer: this.reducerFindMaxWord }),
    ];
  }

  *mapperGetWords(_: null, line: string): Generator<[string, number]> {
    for (const word of line.match(WORD_RE) ?? []) yield [word.toLowerCase(), 1];
  }

  *combinerCountWords(word: string, counts: Iterable<number>): Generator<[string, number]> {
    yield [word, sum(counts)];
  }

  // Send all (count, word) pairs to the same reducer (key null).
  *reducerCountWords(word: string, counts: Iterable<number>): Generator<[null, [number, string]]> {
    yield [null, [sum(counts), word]];
  }

  // Like Python's max() over (count, word) tuples: yields [count, word].
  *reducerFindMaxWord(_: null, pairs: Iterable<[number, string]>): Generator<[number, string]> {
    let best: [number, string] | null = null;
    for (const p of pairs) if (best === null || p[0] > best[0] || (p[0] === best[0] && p[1] > best[1])) best = p;
    if (best) yield best;
  }
}

if (isMain(import.meta)) process.exitCode = await MRMostUsedWord.run();
