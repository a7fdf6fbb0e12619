// progress() over whole computations (issue 25, item 4): a DataFrame
// group-by, a Bag fold and a delayed graph, drawn from the scheduler's
// counts of every task the computation sent (intermediates included), with
// the computation's value passed through and its error re-raised.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { Bag, Client, col, delayed, fromRecords, progress, setDefaultClient } from "../../src/index.ts";

function sink(): { stream: Writable & { isTTY: boolean; columns: number }; text: () => string } {
  let out = "";
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    }),
    { isTTY: false, columns: 100 },
  );
  return { stream, text: () => out };
}

let client: Client;
before(async () => {
  client = await Client.connect({ cluster: { nworkers: 2, dashboard: false } });
  setDefaultClient(client);
});
after(async () => {
  setDefaultClient(null);
  await client.close();
});

/** The last line's total `done/total`. */
function finalTotals(text: string): [number, number] {
  const last = text.trimEnd().split("\n").at(-1)!;
  const m = /: (\d+)\/(\d+) tasks 100%/.exec(last);
  assert.ok(m, `no final 100% line in:\n${text}`);
  return [Number(m[1]), Number(m[2])];
}

test("a DataFrame computation passed as a promise: the value comes back, every task is counted", async () => {
  const out = sink();
  const rows = Array.from({ length: 200 }, (_, i) => ({ k: i % 7, v: i }));
  const df = fromRecords(rows, { npartitions: 8 });
  const frame = await progress(df.groupBy("k").agg({ s: ["v", "sum"] }).collect(), { stream: out.stream, plainIntervalMs: 10 });
  assert.equal(frame.height, 7);
  const [done, total] = finalTotals(out.text());
  assert.equal(done, total);
  assert.ok(total > 8, `a group-by over 8 partitions runs more than 8 tasks, got ${total}`);
  assert.doesNotMatch(out.text(), /\x1b\[/);
});

test("a Bag fold and a delayed graph passed as functions that start them", async () => {
  const out = sink();
  const n = await progress(() => Bag.fromSequence(Array.from({ length: 100 }, (_, i) => i), { npartitions: 10 }).map((x: number) => x * 2).compute(), { stream: out.stream });
  assert.equal(n.reduce((a, b) => a + b, 0), 9900);
  const [done, total] = finalTotals(out.text());
  assert.equal(done, total);
  assert.ok(total >= 10);

  const out2 = sink();
  const inc = delayed((x: number) => x + 1);
  const add = delayed((a: number, b: number) => a + b);
  const [v] = await progress(client.compute(add(inc(1), inc(2))), { stream: out2.stream });
  assert.equal(v, 5);
  assert.deepEqual(finalTotals(out2.text()), [3, 3]);
});

test("a failing computation: the error is re-raised after the final line, which counts the failure", async () => {
  const out = sink();
  const df = fromRecords([{ a: "x" }, { a: "y" }], { npartitions: 2 });
  await assert.rejects(progress(df.withColumns(col("a").cast("int64").alias("b")).collect(), { stream: out.stream }), /cannot cast column 'a'/);
  assert.match(out.text().trimEnd().split("\n").at(-1)!, /erred/);
});
