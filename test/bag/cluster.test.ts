// Bag on a LocalCluster (real worker processes): user functions shipped as
// bundles and as source, shuffles across workers, results equal to the Unix
// reference word count.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { Bag, readText, defaultClient } from "../../src/bag/index.ts";
import { add, toPair, words } from "./fns.ts";
import { referenceCounts, writeText } from "./gen.ts";

let client: Client;
const dir = mkdtempSync(join(tmpdir(), "shoal-bagc-"));

before(async () => {
  client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
});
after(async () => {
  await client.close();
});

test("the last connected client is the default", () => {
  assert.equal(defaultClient(), client);
});

test("word frequencies over several files equal `tr | sort | uniq -c`", async () => {
  const files = [0, 1, 2].map((i) => join(dir, `t${i}.txt`));
  files.forEach((f, i) => writeText(f, 3000, i + 1));
  const ref = referenceCounts(files);
  const bag = readText(join(dir, "t*.txt"), { blocksize: 20_000 }).flatMap(words);
  const freq = new Map(await bag.frequencies({ npartitions: 4 }).collect());
  assert.deepEqual(new Map([...freq].sort()), new Map([...ref].sort()));
  const rbk = new Map(await bag.map(toPair).reduceByKey(add, { npartitions: 3 }).collect());
  assert.deepEqual(new Map([...rbk].sort()), new Map([...ref].sort()));
  const total = [...ref.values()].reduce((a, b) => a + b, 0);
  assert.equal(await bag.count(), total);
  const top = await bag.frequencies().topk(3, (kv: [string, number]) => kv[1]);
  const refTop = [...ref].sort((a, b) => b[1] - a[1]).slice(0, 3);
  assert.deepEqual(top, refTop);
});

test("inline source functions and sampling give the same answers as in-process", async () => {
  const b = Bag.fromSequence([...Array(2000).keys()], { npartitions: 5 }).map((x: number) => x * 3).sample(0.2, { seed: 3 });
  assert.deepEqual(await b.collect(), await b.collect({ client: "inline" }));
  assert.equal(await b.reduce(add), await b.reduce(add, { client: "inline" }));
});
