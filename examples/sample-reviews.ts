// Seed 000: take a reproducible random 10% sample of a large JSON-lines file
// of reviews and extract the `reviewText` field, in parallel.
//
//   node --import tsx examples/sample-reviews.ts reviews.json[.gz] [--out subset/] [--seed 42] [--fraction 0.1]
//
// Writes the sampled records (subset/part-*) and their review texts
// (vidreviews/part-*), like the seed's subset.json and vidreviews.txt. The
// same seed gives the same sample whatever the blocksize or number of workers.
// With no file, a small synthetic review file is generated first.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../src/client/client.ts";
import { Bag } from "../src/bag/bag.ts";
import { isMain } from "../src/utils/is-main.ts";

/** One review's text, with newlines flattened so that it stays one line. */
export function reviewText(r: { reviewText?: string }): string {
  return (r.reviewText ?? "").replace(/\s+/g, " ");
}

function demoFile(): string {
  const path = join(tmpdir(), "shoal-demo-reviews.json");
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    lines.push(JSON.stringify({ reviewerID: `R${i}`, asin: `B${i % 977}`, overall: 1 + (i % 5), reviewText: `Review number ${i}: ${i % 3 === 0 ? "great game" : "not my thing"}` }));
  }
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1]! : dflt;
  };
  const out = opt("--out", join(tmpdir(), "shoal-reviews"));
  const seed = Number(opt("--seed", "42"));
  const fraction = Number(opt("--fraction", "0.1"));
  const input = args[0] ?? demoFile();
  const client = await Client.connect();
  try {
    const t = performance.now();
    const subset = Bag.readJsonLines<{ reviewText?: string }>(input).sample(fraction, { seed });
    const [records, texts, n] = await Promise.all([
      subset.toJsonLines(join(out, "subset")),
      subset.map(reviewText).toTextFiles(join(out, "vidreviews")),
      subset.count(),
    ]);
    console.log(`${n} sampled reviews (${(fraction * 100).toFixed(0)}%, seed ${seed}) in ${((performance.now() - t) / 1000).toFixed(2)} s`);
    console.log(`records: ${records.length} part file(s) under ${join(out, "subset")}; texts: ${texts.length} under ${join(out, "vidreviews")}`);
  } finally {
    await client.close();
  }
}

if (isMain(import.meta)) await main();
