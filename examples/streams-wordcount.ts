// A running word count over a Kinesis stream: tumbling 1-second windows of
// records, counted with a Bag per window.
//
//   node --import tsx examples/streams-wordcount.ts [--url http://127.0.0.1:4567] [--seconds 5]
//
// Without --url it starts a Shoal stream server in a temporary folder. A
// producer puts lines of text while the consumer prints each window's top words.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KinesisHttpClient, startStreamsServer, streamToBag } from "../src/streams/index.ts";
import { isMain } from "../src/utils/is-main.ts";

const LINES = ["the quick brown fox", "jumps over the lazy dog", "the dog barks", "a fox runs"];

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { url: { type: "string" }, seconds: { type: "string", default: "5" } } });
  const root = values.url === undefined ? await mkdtemp(join(tmpdir(), "shoal-wordcount-")) : undefined;
  const server = root === undefined ? undefined : await startStreamsServer({ root, port: 0 });
  const url = values.url ?? (server?.url as string);
  const stream = `words-${process.pid}`;
  const client = new KinesisHttpClient(url);
  await client.call("CreateStream", { StreamName: stream, ShardCount: 2 });
  const seconds = Number(values.seconds);
  const producer = (async () => {
    const end = Date.now() + seconds * 1000;
    for (let i = 0; Date.now() < end; i++) {
      const line = LINES[i % LINES.length] as string;
      await client.call("PutRecord", { StreamName: stream, Data: Buffer.from(line).toString("base64"), PartitionKey: `p${i}` });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const stop = new AbortController();
  void producer.then(() => setTimeout(() => stop.abort(), 2500));
  for await (const w of streamToBag(url, { stream, every: "1s", signal: stop.signal, pollMs: 100 })) {
    const counts = await w.bag.flatMap((r) => r.data.toString().split(/\s+/)).frequencies().compute();
    const top = counts.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([word, n]) => `${word}=${n}`).join(" ");
    console.log(`${new Date(w.start).toISOString()}  ${w.records.length} lines  ${top}`);
  }
  client.close();
  await server?.close();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
}

if (isMain(import.meta)) await main(process.argv.slice(2));
