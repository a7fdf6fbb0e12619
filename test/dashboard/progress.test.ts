// Terminal progress bars: TTY redraws and plain lines, driven by stand-in
// futures that the test settles (no cluster, no sleeps on wall-clock time).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { formatBar, progress } from "../../src/dashboard/progress.ts";
import type { Future } from "../../src/client/future.ts";

class FakeFuture {
  status: "pending" | "finished" | "error" = "pending";
  private resolve!: () => void;
  private readonly p = new Promise<void>((r) => (this.resolve = r));
  constructor(readonly key: string) {}
  wait(): Promise<void> {
    return this.p;
  }
  settle(status: "finished" | "error"): void {
    this.status = status;
    this.resolve();
  }
}

function sink(isTTY: boolean): { stream: Writable & { isTTY: boolean; columns: number }; text: () => string } {
  let out = "";
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    }),
    { isTTY, columns: 100 },
  );
  return { stream, text: () => out };
}

const fakes = (group: string, n: number): FakeFuture[] => Array.from({ length: n }, (_, i) => new FakeFuture(`${group}-${i}`));

test("formatBar draws the fraction, counts and errors", () => {
  assert.equal(formatBar({ group: "inc", done: 5, erred: 0, total: 10 }, 5, 10, 1.25), "[#####     ] inc   5/10  50% 1.3s");
  assert.match(formatBar({ group: "load", done: 8, erred: 2, total: 10 }, 5, 10, 75), /^\[##########\] load  10\/10 100% 1m15s 2 erred$/);
});

test("plain mode prints one summary line when the counts change, when not a TTY, and resolves with the counts", async () => {
  const inc = fakes("inc", 4);
  const load = fakes("load-csv", 2);
  const out = sink(false);
  const p = progress([...inc, ...load] as unknown as Future[], { stream: out.stream, plainIntervalMs: 5 });
  for (const f of inc) f.settle("finished");
  load[0]!.settle("finished");
  load[1]!.settle("error");
  const summary = await p;
  assert.deepEqual(summary.groups, [
    { group: "inc", done: 4, erred: 0, total: 4 },
    { group: "load-csv", done: 1, erred: 1, total: 2 },
  ]);
  const text = out.text();
  assert.doesNotMatch(text, /\x1b\[|\r/, "no control characters outside a TTY");
  const lines = text.trimEnd().split("\n");
  assert.match(lines[0]!, /^progress [0-9.]+s: 0\/6 tasks 0% \| inc 0\/4 \| load-csv 0\/2$/, "first state is printed");
  assert.match(lines.at(-1)!, /^progress [0-9.]+s: 6\/6 tasks 100% \(1 erred\) \| inc 4\/4 \| load-csv 2\/2 1 erred$/);
  assert.equal(new Set(lines.map((l) => l.replace(/^progress [^:]*: /, ""))).size, lines.length, "a line only when the counts changed");
});

test("TTY mode redraws in place with ANSI cursor movement", async () => {
  const fs = fakes("square", 3);
  const out = sink(true);
  const p = progress({ futures: fs as unknown as Future[] }, { stream: out.stream, intervalMs: 5 });
  fs[0]!.settle("finished");
  await new Promise((r) => setImmediate(r));
  fs[1]!.settle("finished");
  fs[2]!.settle("finished");
  await p;
  const text = out.text();
  assert.match(text, /^\r\x1b\[2K\[ +\] square 0\/3 +0%/);
  assert.match(text, /\x1b\[1A\r\x1b\[2K\[#+\] square 3\/3 100%/);
});

test("a single future and bad input", async () => {
  const f = new FakeFuture("one-1");
  const out = sink(false);
  const p = progress(f as unknown as Future, { stream: out.stream });
  f.settle("finished");
  assert.equal((await p).groups[0]!.done, 1);
  await assert.rejects(progress(42 as unknown as Future), /expects a Future/);
});
