/**
 * The storage conformance suite: every backend must pass it (BullMQ-style).
 *
 * A backend test file calls {@link runConformance} with a factory for a
 * {@link ConformanceContext}: an empty root URL owned by the run, options, and
 * (for read-only backends) a way to put fixture objects in place.
 *
 * @example
 * ```ts
 * runConformance("memory", async () => ({ root: `memory://conf-${randomUUID()}/`, opts: {}, writable: true, cleanup: async () => {} }));
 * ```
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import * as storage from "../../src/storage/index.ts";
import {
  InvalidArgumentError,
  NoMatchesError,
  NotFoundError,
  type StorageOptions,
} from "../../src/storage/index.ts";

/** What a backend test provides to the suite. */
export interface ConformanceContext {
  /** A fresh, empty directory URL ending in "/" (e.g. `s3://bucket/run-1/`). */
  root: string;
  /** Options passed to every call (endpoint, credentials). */
  opts: StorageOptions;
  /** Whether the backend supports write/delete/copy and list/glob. */
  writable: boolean;
  /** Put a fixture object at `root + rel` by a side channel (read-only backends). */
  put?: (rel: string, data: Buffer) => Promise<void>;
  /** Release everything the context holds. */
  cleanup: () => Promise<void>;
}

/** Deterministic pseudo-random bytes. */
function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * Register the conformance tests for one backend.
 *
 * @example
 * ```ts
 * runConformance("file", async () => ({ root: (await mkdtemp(join(tmpdir(), "c-"))) + "/", opts: {}, writable: true, cleanup }));
 * ```
 */
export function runConformance(name: string, makeContext: () => Promise<ConformanceContext | null>): void {
  describe(`storage conformance: ${name}`, () => {
    let ctx: ConformanceContext | null = null;
    let n = 0;
    before(async () => {
      ctx = await makeContext();
    });
    after(async () => {
      await ctx?.cleanup();
    });

    /** A unique directory for one test. */
    function dir(): string {
      assert.ok(ctx);
      n += 1;
      return `${ctx.root}t${n}/`;
    }
    function opts(): StorageOptions {
      assert.ok(ctx);
      return ctx.opts;
    }
    async function put(url: string, data: Buffer | string): Promise<void> {
      assert.ok(ctx);
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      if (ctx.put) await ctx.put(url.slice(ctx.root.length), buf);
      else await storage.write(url, buf, ctx.opts);
    }
    /** Test that needs a capability; skipped (with a reason) when the backend lacks it or the context is unavailable. */
    function test(title: string, need: "read" | "write", fn: () => Promise<void>): void {
      it(title, async (t) => {
        if (!ctx) return t.skip("backend unavailable");
        if (need === "write" && !ctx.writable) return t.skip("read-only backend");
        await fn();
      });
    }

    test("read and stat of a small object", "read", async () => {
      const u = `${dir()}hello.txt`;
      await put(u, "hello, world\n");
      assert.equal((await storage.read(u, opts())).toString(), "hello, world\n");
      const info = await storage.stat(u, opts());
      assert.equal(info.url, u);
      assert.equal(info.size, 13);
      assert.ok(info.mtime instanceof Date);
      assert.equal(await storage.exists(u, opts()), true);
      assert.equal(await storage.exists(`${u}.nope`, opts()), false);
    });

    test("empty object: read, readRange, stream, stat", "read", async () => {
      const u = `${dir()}empty.bin`;
      await put(u, Buffer.alloc(0));
      assert.equal((await storage.read(u, opts())).length, 0);
      assert.equal((await storage.readRange(u, 0, 10, opts())).length, 0);
      assert.equal((await storage.readRange(u, 0, 0, opts())).length, 0);
      assert.equal((await collect(storage.createReadStream(u, opts()))).length, 0);
      assert.equal((await storage.stat(u, opts())).size, 0);
    });

    test("readRange edge cases", "read", async () => {
      const u = `${dir()}r.bin`;
      const data = bytes(1000, 7);
      await put(u, data);
      const o = opts();
      assert.deepEqual(await storage.readRange(u, 0, 10, o), data.subarray(0, 10));
      assert.deepEqual(await storage.readRange(u, 500, 600, o), data.subarray(500, 600));
      assert.deepEqual(await storage.readRange(u, 990, 2000, o), data.subarray(990), "end past size is clamped");
      assert.deepEqual(await storage.readRange(u, 999, 1000, o), data.subarray(999));
      assert.equal((await storage.readRange(u, 1000, 1010, o)).length, 0, "start at size");
      assert.equal((await storage.readRange(u, 5000, 6000, o)).length, 0, "start past size");
      assert.equal((await storage.readRange(u, 10, 10, o)).length, 0, "zero-length range");
      assert.deepEqual(await storage.readRange(u, 900, undefined, o), data.subarray(900), "open-ended");
      await assert.rejects(storage.readRange(u, -1, 5, o), InvalidArgumentError);
      await assert.rejects(storage.readRange(u, 5, 4, o), InvalidArgumentError);
      await assert.rejects(storage.readRange(u, 1.5, 4, o), InvalidArgumentError);
    });

    test("missing objects raise NotFoundError with the url", "read", async () => {
      const u = `${dir()}missing.txt`;
      for (const f of [
        () => storage.read(u, opts()),
        () => storage.readRange(u, 0, 5, opts()),
        () => storage.readRange(u, 3, 3, opts()),
        () => storage.stat(u, opts()),
        () => storage.open(u, opts()),
        () => collect(storage.createReadStream(u, opts())),
      ]) {
        await assert.rejects(f, (e: unknown) => e instanceof NotFoundError && e.url === u && /not found/.test(e.message));
      }
    });

    test("createReadStream ranges", "read", async () => {
      const u = `${dir()}s.bin`;
      const data = bytes(300_000, 3);
      await put(u, data);
      const o = opts();
      assert.deepEqual(await collect(storage.createReadStream(u, o)), data);
      assert.deepEqual(await collect(storage.createReadStream(u, { ...o, start: 1234, end: 250_000 })), data.subarray(1234, 250_000));
      assert.deepEqual(await collect(storage.createReadStream(u, { ...o, start: 299_990 })), data.subarray(299_990));
      assert.equal((await collect(storage.createReadStream(u, { ...o, start: 10, end: 10 }))).length, 0);
      assert.equal((await collect(storage.createReadStream(u, { ...o, start: 400_000 }))).length, 0);
    });

    test("open() gives a handle with size and ranged reads", "read", async () => {
      const u = `${dir()}h.bin`;
      const data = bytes(5000, 9);
      await put(u, data);
      const f = await storage.open(u, opts());
      assert.equal(f.size, 5000);
      assert.deepEqual(await f.readRange(4990, f.size), data.subarray(4990));
      assert.deepEqual(await f.read(), data);
      assert.deepEqual(await collect(f.createReadStream({ start: 100, end: 200 })), data.subarray(100, 200));
      assert.equal((await f.stat()).size, 5000);
    });

    test("unicode and space in keys", "read", async () => {
      const d = dir();
      const u = `${d}données/日本語 file é.txt`;
      await put(u, "unicode ✓");
      assert.equal((await storage.read(u, opts())).toString(), "unicode ✓");
      assert.equal((await storage.stat(u, opts())).size, Buffer.byteLength("unicode ✓"));
      if (ctx?.writable) {
        const l = await storage.list(`${d}données/`, opts());
        assert.deepEqual(l.map((e) => e.url), [u]);
        assert.deepEqual(await storage.glob(`${d}*/日本語*.txt`, opts()), [u]);
      }
    });

    test("write accepts strings, bytes, async iterables and Readables", "write", async () => {
      const d = dir();
      const o = opts();
      const r1 = await storage.write(`${d}a`, "text ✓", o);
      assert.equal(r1.size, Buffer.byteLength("text ✓"));
      await storage.write(`${d}b`, new Uint8Array([1, 2, 3]), o);
      await storage.write(
        `${d}c`,
        (async function* () {
          yield Buffer.from("ab");
          yield "cd";
          yield new Uint8Array([0x65]);
        })(),
        o,
      );
      await storage.write(`${d}d`, Readable.from([Buffer.from("x"), Buffer.from("yz")]), o);
      assert.equal((await storage.read(`${d}a`, o)).toString(), "text ✓");
      assert.deepEqual([...(await storage.read(`${d}b`, o))], [1, 2, 3]);
      assert.equal((await storage.read(`${d}c`, o)).toString(), "abcde");
      assert.equal((await storage.read(`${d}d`, o)).toString(), "xyz");
      await storage.write(`${d}a`, "replaced", o);
      assert.equal((await storage.read(`${d}a`, o)).toString(), "replaced", "overwrite replaces");
    });

    test("large multi-MiB streaming write and ranged reads across part boundaries", "write", async () => {
      const u = `${dir()}big.bin`;
      const size = 12 * 1024 * 1024 + 12345;
      const data = bytes(size, 11);
      const chunk = 256 * 1024;
      const res = await storage.write(
        u,
        (async function* () {
          for (let i = 0; i < size; i += chunk) yield data.subarray(i, Math.min(i + chunk, size));
        })(),
        opts(),
      );
      assert.equal(res.size, size);
      assert.equal((await storage.stat(u, opts())).size, size);
      const back = await collect(storage.createReadStream(u, opts()));
      assert.ok(back.equals(data), "streamed content equal");
      const b = 5 * 1024 * 1024;
      assert.ok((await storage.readRange(u, b - 10, b + 10, opts())).equals(data.subarray(b - 10, b + 10)));
      assert.ok((await storage.readRange(u, size - 7, size + 100, opts())).equals(data.subarray(size - 7)));
    });

    test("createWriteStream commits on finish and works with pipeline", "write", async () => {
      const d = dir();
      const data = bytes(3 * 1024 * 1024, 5);
      const ws = storage.createWriteStream(`${d}w.bin`, opts());
      await pipeline(Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]), ws);
      assert.ok((await storage.read(`${d}w.bin`, opts())).equals(data));
      const res = await ws.done;
      assert.equal(res.size, data.length);
    });

    test("atomicity: a write whose source throws leaves nothing", "write", async () => {
      const d = dir();
      const o = opts();
      const boom = new Error("source failed");
      const big = bytes(6 * 1024 * 1024, 13); // past the S3 multipart threshold before failing
      await assert.rejects(
        storage.write(
          `${d}bad.bin`,
          (async function* () {
            yield big;
            yield big.subarray(0, 1024);
            throw boom;
          })(),
          o,
        ),
        (e: unknown) => e === boom,
      );
      assert.equal(await storage.exists(`${d}bad.bin`, o), false);
      assert.deepEqual(await storage.list(d, { ...o, recursive: true }), [], "no temp files or partial objects");

      // A failed overwrite keeps the old content.
      await storage.write(`${d}keep.txt`, "old", o);
      await assert.rejects(
        storage.write(
          `${d}keep.txt`,
          (async function* () {
            yield Buffer.from("new");
            throw boom;
          })(),
          o,
        ),
      );
      assert.equal((await storage.read(`${d}keep.txt`, o)).toString(), "old");
    });

    test("atomicity: destroying a write stream or aborting the signal leaves nothing", "write", async () => {
      const d = dir();
      const o = opts();
      const ws = storage.createWriteStream(`${d}destroyed.bin`, o);
      const errored = new Promise((r) => ws.on("error", r));
      ws.write(bytes(100_000));
      await new Promise((r) => setImmediate(r));
      ws.destroy(new Error("client went away"));
      await assert.rejects(ws.done);
      assert.match(String(await errored), /client went away/);
      assert.equal(await storage.exists(`${d}destroyed.bin`, o), false);

      const ac = new AbortController();
      const p = storage.write(
        `${d}aborted.bin`,
        (async function* () {
          yield bytes(1000);
          ac.abort();
          yield bytes(1000);
          await new Promise(() => undefined); // stall forever: abort must still end the write
        })(),
        { ...o, signal: ac.signal },
      );
      await assert.rejects(p);
      assert.equal(await storage.exists(`${d}aborted.bin`, o), false);
      assert.deepEqual(await storage.list(d, { ...o, recursive: true }), []);
    });

    test("list: recursive vs non-recursive, nested prefixes, sorted", "write", async () => {
      const d = dir();
      const o = opts();
      for (const k of ["b.txt", "a.txt", "sub/c.txt", "sub/deep/d.txt", "sub2/e.csv"]) await storage.write(`${d}${k}`, k, o);
      const top = await storage.list(d, o);
      assert.deepEqual(
        top.map((e) => [e.type, e.url]),
        [
          ["file", `${d}a.txt`],
          ["file", `${d}b.txt`],
          ["directory", `${d}sub/`],
          ["directory", `${d}sub2/`],
        ],
      );
      const a = top[0];
      assert.ok(a && a.type === "file" && a.size === 5);
      const rec = await storage.list(d, { ...o, recursive: true });
      assert.deepEqual(
        rec.map((e) => e.url),
        ["a.txt", "b.txt", "sub/c.txt", "sub/deep/d.txt", "sub2/e.csv"].map((k) => d + k),
      );
      assert.ok(rec.every((e) => e.type === "file"));
      assert.deepEqual(
        (await storage.list(`${d}sub`, o)).map((e) => e.url),
        [`${d}sub/c.txt`, `${d}sub/deep/`],
        "a prefix without trailing slash lists the directory",
      );
      assert.deepEqual(await storage.list(`${d}nothing-here/`, o), []);
    });

    test("glob patterns", "write", async () => {
      const d = dir();
      const o = opts();
      const keys = ["a.csv", "b.csv", "c.txt", "ab.csv", "sub/x.csv", "sub/deep/y.csv", "q-1.json", "q-2.json", "q-10.json"];
      for (const k of keys) await storage.write(`${d}${k}`, k, o);
      const g = async (p: string): Promise<string[]> => (await storage.glob(d + p, o)).map((u) => u.slice(d.length));
      assert.deepEqual(await g("*.csv"), ["a.csv", "ab.csv", "b.csv"]);
      assert.deepEqual(await g("?.csv"), ["a.csv", "b.csv"]);
      assert.deepEqual(await g("[ab].csv"), ["a.csv", "b.csv"]);
      assert.deepEqual(await g("[!a].*"), ["b.csv", "c.txt"]);
      assert.deepEqual(await g("**/*.csv"), ["a.csv", "ab.csv", "b.csv", "sub/deep/y.csv", "sub/x.csv"]);
      assert.deepEqual(await g("sub/**"), ["sub/deep/y.csv", "sub/x.csv"]);
      assert.deepEqual(await g("*/*.csv"), ["sub/x.csv"]);
      assert.deepEqual(await g("{a,c}.*"), ["a.csv", "c.txt"]);
      assert.deepEqual(await g("q-?.json"), ["q-1.json", "q-2.json"]);
      assert.deepEqual(await g("q-*.json"), ["q-1.json", "q-10.json", "q-2.json"]);
      assert.deepEqual(await g("*.parquet"), []);
      assert.deepEqual(await g("a.csv"), ["a.csv"], "literal path that exists");
      assert.deepEqual(await g("zz.csv"), [], "literal path that does not exist");

      assert.deepEqual(await storage.expandPaths([`${d}q-*.json`, `${d}a.csv`, `${d}q-1.json`], o), [
        `${d}q-1.json`,
        `${d}q-10.json`,
        `${d}q-2.json`,
        `${d}a.csv`,
      ]);
      assert.deepEqual(await storage.expandPaths(`${d}sub/`, o), [`${d}sub/deep/y.csv`, `${d}sub/x.csv`]);
      await assert.rejects(storage.expandPaths(`${d}2031-*.csv`, o), (e: unknown) => e instanceof NoMatchesError && e.pattern === `${d}2031-*.csv`);
    });

    test("copy within the backend and across backends", "write", async () => {
      const d = dir();
      const o = opts();
      const data = bytes(70_000, 21);
      await storage.write(`${d}src.bin`, data, o);
      const r = await storage.copy(`${d}src.bin`, `${d}copies/dst.bin`, o);
      assert.equal(r.size, data.length);
      assert.ok((await storage.read(`${d}copies/dst.bin`, o)).equals(data));
      const mem = `memory://conformance-copy-${randomBytes(4).toString("hex")}/x.bin`;
      await storage.copy(`${d}src.bin`, mem, { sourceOptions: o });
      assert.ok((await storage.read(mem)).equals(data));
      await storage.copy(mem, `${d}from-mem.bin`, o);
      assert.ok((await storage.read(`${d}from-mem.bin`, o)).equals(data));
      await storage.delete(mem);
      await assert.rejects(storage.copy(`${d}missing.bin`, `${d}never.bin`, o), NotFoundError);
      assert.equal(await storage.exists(`${d}never.bin`, o), false);
    });

    test("delete: existing object goes away; a missing object is a no-op", "write", async () => {
      const d = dir();
      const o = opts();
      await storage.write(`${d}x`, "x", o);
      await storage.delete(`${d}x`, o);
      assert.equal(await storage.exists(`${d}x`, o), false);
      await storage.delete(`${d}x`, o); // S3 semantics: no error
      await storage.remove(`${d}never-existed`, o);
    });

    test("move: the destination appears (replacing what was there) and the source is gone", "write", async () => {
      const d = dir();
      const o = opts();
      await storage.write(`${d}a/src.bin`, "new", o);
      await storage.write(`${d}dst.bin`, "old", o);
      const r = await storage.move(`${d}a/src.bin`, `${d}dst.bin`, o);
      assert.equal(r.size, 3);
      assert.equal((await storage.read(`${d}dst.bin`, o)).toString(), "new");
      assert.equal(await storage.exists(`${d}a/src.bin`, o), false);
      await storage.move(`${d}dst.bin`, `${d}deeper/new/dst.bin`, o); // a missing parent directory is made
      assert.equal((await storage.read(`${d}deeper/new/dst.bin`, o)).toString(), "new");
      await assert.rejects(storage.move(`${d}missing.bin`, `${d}never.bin`, o), NotFoundError);
    });

    test("expandPaths skips names starting with _ or . below a directory or glob (unless the pattern names them)", "write", async () => {
      const d = dir();
      const o = opts();
      for (const name of ["part-00000.csv", "part-00001.csv", "_SUCCESS", "_temporary/j1/attempt-1/part-00002.csv", ".hidden.csv"]) await storage.write(`${d}out/${name}`, "a\n1\n", o);
      const parts = [`${d}out/part-00000.csv`, `${d}out/part-00001.csv`];
      assert.deepEqual(await storage.expandPaths(`${d}out/`, o), parts);
      assert.deepEqual(await storage.expandPaths(`${d}out/*`, o), parts);
      assert.deepEqual(await storage.expandPaths(`${d}out/**`, o), parts);
      assert.deepEqual(await storage.expandPaths(`${d}out/_*`, o), [`${d}out/_SUCCESS`]);
      assert.deepEqual(await storage.expandPaths(`${d}out/_SUCCESS`, o), [`${d}out/_SUCCESS`]);
      assert.deepEqual(await storage.expandPaths(`${d}out/_temporary/*/*/*.csv`, o), [`${d}out/_temporary/j1/attempt-1/part-00002.csv`]);
    });

    test("output commit: parts move from _temporary/ to their names, stale parts go, _SUCCESS comes last; a second attempt leaves no duplicate", "write", async () => {
      const d = dir();
      const o = opts();
      await storage.write(`${d}out/part-00007.csv`, "stale", o); // an earlier, longer write
      await storage.write(`${d}out/_SUCCESS`, "", o);
      await storage.write(`${d}out/notes.txt`, "mine", o); // not named like a part: kept
      const job = storage.newOutputJob();
      const plan: storage.OutputPlan = { job, finals: [`${d}out/part-00000.csv`, `${d}out/part-00001.csv`], marker: `${d}out/`, stale: /^part-\d+\.csv$/ };
      const temps = plan.finals.map((f) => storage.attemptUrl(f, job));
      assert.ok(temps.every((t) => t.startsWith(`${d}out/${storage.TEMPORARY_DIR}/${job}/attempt-`)), temps.join());
      assert.ok(temps[0]!.endsWith("/part-00000.csv"));
      for (const [i, t] of temps.entries()) await storage.write(t, `part ${i}\n`, o);
      const lost = storage.attemptUrl(plan.finals[1]!, job); // an attempt whose result nobody used (a worker died after writing it)
      assert.notEqual(lost, temps[1]);
      await storage.write(lost, "lost attempt\n", o);
      await storage.commitOutput(plan, temps, { storage: o });
      const names = (await storage.list(`${d}out/`, { ...o, recursive: true })).map((e) => e.url.slice(`${d}out/`.length));
      assert.deepEqual(names, ["_SUCCESS", "notes.txt", "part-00000.csv", "part-00001.csv"]);
      assert.equal((await storage.read(`${d}out/part-00001.csv`, o)).toString(), "part 1\n");
    });

    test("output commit: abort removes the attempts and rethrows the task's error; a move that fails undoes the moves", "write", async () => {
      const d = dir();
      const o = opts();
      const job = storage.newOutputJob();
      const plan: storage.OutputPlan = { job, finals: [`${d}out/part-00000`, `${d}out/part-00001`], marker: `${d}out/` };
      await storage.write(storage.attemptUrl(plan.finals[0]!, job), "written before the failure\n", o);
      const cause = new Error("partition 1 failed");
      await assert.rejects(storage.abortOutput(plan, cause, { storage: o }), (e: unknown) => e === cause);
      assert.deepEqual(await storage.list(`${d}out/`, { ...o, recursive: true }), []);
      // commit with one attempt missing: the first part is moved, then taken back
      const job2 = storage.newOutputJob();
      const plan2 = { ...plan, job: job2 };
      const t0 = storage.attemptUrl(plan.finals[0]!, job2);
      await storage.write(t0, "p0\n", o);
      await assert.rejects(storage.commitOutput(plan2, [t0, storage.attemptUrl(plan.finals[1]!, job2)], { storage: o }), (e: unknown) => {
        assert.ok(e instanceof storage.OutputCommitError);
        assert.equal(e.code, storage.OutputCommitCode.CommitFailed);
        assert.ok(e.cause instanceof NotFoundError);
        assert.deepEqual(e.leftover, []);
        assert.match(e.message, /committing the write failed: .*not found.*Nothing of this write is left in place; there is no _SUCCESS/s);
        return true;
      });
      assert.deepEqual(await storage.list(`${d}out/`, { ...o, recursive: true }), []);
    });

    test("splitBlocks + readBlock produce every line exactly once (tiny blocksizes)", "read", async () => {
      const d = dir();
      const cases: [string, string, string, number[]][] = [];
      for (const [count, sizes] of [
        [8, [1, 3, 7]],
        [120, [61, 1000, 100_000]],
      ] as const) {
        const lines = Array.from({ length: count }, (_, i) => `line-${i}-${"x".repeat(i % 7)}`);
        cases.push([`a${count}.txt`, `${lines.join("\n")}\n`, "\n", [...sizes]]);
        cases.push([`b${count}.txt`, lines.join("\n"), "\n", [...sizes]]);
        cases.push([`c${count}.txt`, `${lines.join("\r\n")}\r\n`, "\r\n", [...sizes]]);
      }
      for (const [name, content] of cases) await put(`${d}${name}`, content);
      for (const [name, expectText, delimiter, sizes] of cases) {
        for (const bs of sizes) {
          const blocks = await storage.splitBlocks(`${d}${name}`, bs, opts());
          // A tiny lookahead on tiny blocks exercises reading past `end` in several steps.
          const lookahead = bs < 10 ? 4 : 64;
          const parts = await Promise.all(blocks.map((b) => storage.readBlock(b.url, b.start, b.end, { ...opts(), delimiter, lookahead })));
          assert.equal(Buffer.concat(parts).toString(), expectText, `${name} blocksize ${bs}`);
          for (const p of parts) {
            const s = p.toString();
            assert.ok(s === "" || s.endsWith(delimiter) || expectText.endsWith(s), `block ends at a line end (${name}, bs=${bs})`);
          }
        }
      }
      const empty = `${d}empty.txt`;
      await put(empty, "");
      assert.deepEqual(await storage.splitBlocks(empty, 10, opts()), [{ url: empty, start: 0, end: 0, compression: null }]);
    });

    test("gzip objects are one block and are decompressed transparently", "read", async () => {
      const d = dir();
      const text = Array.from({ length: 500 }, (_, i) => `row ${i}`).join("\n") + "\n";
      const u = `${d}rows.txt.gz`;
      await put(u, gzipSync(text));
      const blocks = await storage.splitBlocks(u, 16, opts());
      assert.equal(blocks.length, 1);
      assert.equal(blocks[0]?.compression, "gzip");
      const b = blocks[0];
      assert.ok(b);
      assert.equal((await storage.readBlock(b.url, b.start, b.end, opts())).toString(), text);
      assert.equal(await storage.readText(u, opts()), text);
      assert.equal((await collect(storage.openDecompressed(u, opts()))).toString(), text);
      const got: string[] = [];
      for await (const line of storage.readLines(u, opts())) got.push(line);
      assert.equal(got.length, 500);
      assert.equal(got[499], "row 499");
      await assert.rejects(storage.readBlock(u, 5, 10, opts()), /cannot be split/);
    });
  });
}
