// Seed 002: count the words of many files in parallel, then add them up
// (multiprocessing.Pool.map(word_count, files) in the seed), with a Bag.
//
//   node --import tsx examples/parallel-wordcount.ts 'books/*.txt' [--address tcp://HOST:8786]
//
// The sequential version reads every file in this process; the parallel one
// splits the files into blocks and counts them on all cores (or a cluster).
import { Client } from "../src/client/client.ts";
import { readText } from "../src/bag/bag.ts";
import { isMain } from "../src/utils/is-main.ts";
import { expandPaths, readLines } from "../src/storage/index.ts";

/** Words of one line (whitespace-separated, like Python's str.split()). */
export function wordsInLine(line: string): number {
  let n = 0;
  for (const w of line.split(/\s+/)) if (w !== "") n++;
  return n;
}

export async function sequentialWordCount(paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) for await (const line of readLines(p)) total += wordsInLine(line);
  return total;
}

export async function parallelWordCount(pattern: string | string[]): Promise<number> {
  return readText(pattern, { blocksize: 16 << 20 }).map(wordsInLine).sum();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--address");
  const address = at >= 0 ? args.splice(at, 2)[1] : undefined;
  if (args.length === 0) {
    console.error("usage: parallel-wordcount.ts FILE_OR_GLOB... [--address tcp://HOST:8786]");
    process.exitCode = 2;
    return;
  }
  const paths = await expandPaths(args);
  let t = performance.now();
  const seq = await sequentialWordCount(paths);
  console.log(`sequential: ${seq} words in ${((performance.now() - t) / 1000).toFixed(2)} s`);
  const client = await Client.connect(address);
  try {
    t = performance.now();
    const par = await parallelWordCount(paths);
    console.log(`parallel:   ${par} words in ${((performance.now() - t) / 1000).toFixed(2)} s`);
    if (par !== seq) throw new Error("the counts differ");
  } finally {
    await client.close();
  }
}

if (isMain(import.meta)) await main();
