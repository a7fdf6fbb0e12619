/**
 * Backend-independent unit tests: glob translation, URL helpers, errors,
 * and a randomized check of readBlock's line ownership.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { globBase } from "../../src/storage/glob.ts";
import * as storage from "../../src/storage/index.ts";
import {
  InvalidArgumentError,
  NoMatchesError,
  NotFoundError,
  StorageError,
  UnsupportedSchemeError,
  globToRegExp,
  schemeOf,
  urlToString,
} from "../../src/storage/index.ts";
import { splitBucketKey } from "../../src/storage/url.ts";

describe("glob translation", () => {
  const cases: [string, string[], string[]][] = [
    ["s3://b/*.csv", ["s3://b/a.csv", "s3://b/.csv"], ["s3://b/d/a.csv", "s3://b/a.csvx"]],
    ["s3://b/**/*.csv", ["s3://b/a.csv", "s3://b/d/a.csv", "s3://b/d/e/a.csv"], ["s3://b/a.txt"]],
    ["s3://b/d/**", ["s3://b/d/x", "s3://b/d/e/x"], ["s3://b/dx"]],
    ["s3://b/a?c", ["s3://b/abc"], ["s3://b/a/c", "s3://b/ac"]],
    ["s3://b/[a-c]x", ["s3://b/ax", "s3://b/cx"], ["s3://b/dx", "s3://b//x"]],
    ["s3://b/[!a-c]x", ["s3://b/dx"], ["s3://b/ax", "s3://b//x"]],
    ["s3://b/{a,b{1,2}}.csv", ["s3://b/a.csv", "s3://b/b1.csv", "s3://b/b2.csv"], ["s3://b/b.csv"]],
    ["s3://b/f(1)+[.]txt", ["s3://b/f(1)+.txt"], ["s3://b/f(1)+xtxt"]],
    ["data/\\*.csv", ["data/*.csv"], ["data/a.csv"]],
    ["s3://b/unclosed[x", ["s3://b/unclosed[x"], []],
  ];
  for (const [pattern, yes, no] of cases) {
    it(`${pattern}`, () => {
      const re = globToRegExp(pattern);
      for (const y of yes) assert.ok(re.test(y), `${pattern} should match ${y}`);
      for (const n of no) assert.ok(!re.test(n), `${pattern} should not match ${n}`);
    });
  }

  it("globBase picks the literal directory and recursion", () => {
    assert.deepEqual(globBase("s3://b/logs/2024-*.csv"), { base: "s3://b/logs/", recursive: false });
    assert.deepEqual(globBase("s3://b/logs/*/x.csv"), { base: "s3://b/logs/", recursive: true });
    assert.deepEqual(globBase("data/**"), { base: "data/", recursive: true });
    assert.deepEqual(globBase("*.csv"), { base: "", recursive: false });
  });
});

describe("url helpers", () => {
  it("detects schemes and splits bucket/key literally", () => {
    assert.equal(schemeOf("S3://b/k"), "s3");
    assert.equal(schemeOf("/tmp/x"), "file");
    assert.equal(schemeOf("relative/x:y"), "file");
    assert.equal(schemeOf("file:///tmp/x"), "file");
    assert.deepEqual(splitBucketKey("s3://b/dir/données%20x.csv"), { scheme: "s3", bucket: "b", key: "dir/données%20x.csv" });
    assert.deepEqual(splitBucketKey("s3://b"), { scheme: "s3", bucket: "b", key: "" });
  });

  it("normalizes URL objects", () => {
    assert.equal(urlToString(new URL("file:///tmp/a%20b")), "/tmp/a b");
    assert.equal(urlToString(new URL("s3://b/d%C3%A9j%C3%A0.csv")), "s3://b/déjà.csv");
    assert.throws(() => urlToString(""), InvalidArgumentError);
    assert.throws(() => urlToString("a\0b"), InvalidArgumentError);
  });
});

describe("errors", () => {
  it("are typed, named, carry url and cause, and say what to do", async () => {
    await assert.rejects(storage.read("ftp://host/x"), (e: unknown) => {
      assert.ok(e instanceof UnsupportedSchemeError && e instanceof StorageError);
      assert.equal(e.name, "UnsupportedSchemeError");
      assert.equal(e.scheme, "ftp");
      assert.match(e.message, /s3:\/\//);
      return true;
    });
    const dir = await mkdtemp(join(tmpdir(), "shoal-units-"));
    try {
      await assert.rejects(storage.read(join(dir, "nope.csv")), (e: unknown) => {
        assert.ok(e instanceof NotFoundError);
        assert.equal(e.name, "NotFoundError");
        assert.equal(e.url, join(dir, "nope.csv"));
        assert.equal((e.cause as NodeJS.ErrnoException).code, "ENOENT");
        assert.equal(e.retriable, false);
        return true;
      });
      await assert.rejects(storage.read(dir), NotFoundError, "a directory is not an object");
      await assert.rejects(storage.expandPaths([]), InvalidArgumentError);
      await assert.rejects(storage.expandPaths(join(dir, "*.csv")), NoMatchesError);
      await assert.rejects(storage.expandPaths(`${dir}/`), NoMatchesError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("local specifics", () => {
  it("relative patterns and paths keep their form", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-rel-"));
    const cwd = process.cwd();
    try {
      await mkdir(join(dir, "sub"));
      await writeFile(join(dir, "a.json"), "{}");
      await writeFile(join(dir, "sub", "b.json"), "{}");
      process.chdir(dir);
      assert.deepEqual(await storage.glob("*.json"), ["a.json"]);
      assert.deepEqual(await storage.glob("**/*.json"), ["a.json", "sub/b.json"]);
      assert.deepEqual(await storage.glob("sub/*.json"), ["sub/b.json"]);
      assert.deepEqual((await storage.list("sub")).map((e) => e.url), ["sub/b.json"]);
      await storage.write("sub/new/c.txt", "c");
      assert.equal(await storage.readText("sub/new/c.txt"), "c");
    } finally {
      process.chdir(cwd);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a write stream whose backend fails errors instead of hanging", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-wsfail-"));
    try {
      await writeFile(join(dir, "file"), "x");
      const ws = storage.createWriteStream(join(dir, "file", "sub", "x.bin")); // parent is a file
      const errored = new Promise<unknown>((r) => ws.on("error", r));
      for (let i = 0; i < 64 && !ws.destroyed; i++) ws.write(Buffer.alloc(64 * 1024));
      assert.ok((await errored) instanceof storage.StorageError);
      await assert.rejects(ws.done);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("readRange of a local file reads only the range", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-range-"));
    try {
      const f = join(dir, "sparse.bin");
      // A 4 GiB sparse file: reading it whole would fail (Buffer limit) or take long.
      const fs = await import("node:fs/promises");
      const fh = await fs.open(f, "w");
      await fh.truncate(4 * 1024 ** 3);
      await fh.write(Buffer.from("tail"), 0, 4, 4 * 1024 ** 3 - 4);
      await fh.close();
      assert.equal((await storage.readRange(f, 4 * 1024 ** 3 - 4, 4 * 1024 ** 3)).toString(), "tail");
      assert.equal((await storage.stat(f)).size, 4 * 1024 ** 3);
      const blocks = await storage.splitBlocks(f, 1024 ** 3);
      assert.equal(blocks.length, 4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("readBlock line ownership (randomized)", () => {
  it("every line exactly once for random texts, delimiters and block sizes", async () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const root = "memory://units-blocks/";
    for (let trial = 0; trial < 300; trial++) {
      const delimiter = ["\n", "\r\n", "<>"][trial % 3] ?? "\n";
      const nLines = rnd(30);
      const lines = Array.from({ length: nLines }, () => "abcdefghij".slice(0, rnd(11)));
      const text = lines.join(delimiter) + (rnd(2) ? delimiter : "");
      const url = `${root}t${trial}.txt`;
      await storage.write(url, text);
      const bs = 1 + rnd(20);
      const blocks = await storage.splitBlocks(url, bs);
      const parts = await Promise.all(blocks.map((b) => storage.readBlock(b.url, b.start, b.end, { delimiter, lookahead: 1 + rnd(5) })));
      assert.equal(Buffer.concat(parts).toString(), text, `trial ${trial} bs=${bs} delim=${JSON.stringify(delimiter)}`);
    }
    storage.clearMemoryStorage(root);
  });

  it("delimiter: null reads exact ranges; skipFirstPartialLine: false keeps the partial line", async () => {
    const url = "memory://units-blocks2/x.txt";
    await storage.write(url, "aaa\nbbb\nccc\n");
    assert.equal((await storage.readBlock(url, 2, 6, { delimiter: null })).toString(), "a\nbb");
    assert.equal((await storage.readBlock(url, 2, 6, { skipFirstPartialLine: false })).toString(), "a\nbbb\n");
    assert.equal((await storage.readBlock(url, 2, 6)).toString(), "bbb\n");
    assert.equal((await storage.readBlock(url, 4, 8)).toString(), "ccc\n", "a block starting at a line start skips that line (it belongs to the previous block)");
    assert.equal((await storage.readBlock(url, 0, 4)).toString(), "aaa\nbbb\n");
    storage.clearMemoryStorage("memory://units-blocks2/");
  });
});
