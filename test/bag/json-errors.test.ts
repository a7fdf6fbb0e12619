// Bag.readJsonLines: a line that is not JSON is a JsonLinesParseError naming
// the file, the 1-based file line and column, the parser's message and the
// line (issue 25, item 9.5) — in this process, for blocks past the file's
// start, for .gz files and with sampling, and through a cluster.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Client } from "../../src/client/client.ts";
import { BagTaskError, JsonLinesParseError, readJsonLines } from "../../src/bag/index.ts";
import { jsonErrorPosition } from "../../src/bag/json-lines.ts";

const inline = { client: "inline" as const };
const dir = mkdtempSync(join(tmpdir(), "shoal-bagjson-"));

/** `n` JSON lines (a blank one at line 10), line `bad` (1-based) replaced by `text`. */
function jsonFile(name: string, n: number, bad: number, text: string, gz = false): string {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(i === bad ? text : i === 10 ? "" : JSON.stringify({ i, name: `é-${i}` }));
  const p = join(dir, name);
  const body = lines.join("\n") + "\n";
  writeFileSync(p, gz ? gzipSync(body) : body);
  return p;
}

function isBadJson(file: string, line: number, column: number, detail: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof JsonLinesParseError, String(e));
    assert.ok(e instanceof BagTaskError);
    assert.equal(e.code, "bad-json");
    assert.equal(e.retriable, false);
    assert.deepEqual({ file: e.file, line: e.line, column: e.column }, { file, line, column });
    assert.match(e.info.detail, detail);
    assert.ok(e.message.startsWith(`invalid JSON at ${file}:${line}, column ${column}: `), e.message);
    assert.match(e.message, /\n {2}line: /);
    return true;
  };
}

test("jsonErrorPosition: from V8's position, or by bisection when the message has none", () => {
  const at = (s: string): number => { try { JSON.parse(s); return -1; } catch (e) { return jsonErrorPosition(s, e); } };
  assert.equal(at('{"a": 1,}'), 8);
  assert.equal(at('{"a": 1'), 7);
  assert.equal(at('{"a": tru}'), 9); // "Unexpected token '}', ... is not valid JSON": no position in the message
  assert.equal(at('{"é": [1,,2]}'), 9);
  assert.equal(at("nul"), 3);
});

test("a bad line in a block past the file's start names the file line and column", async () => {
  const f = jsonFile("big.json", 5_000, 3_777, '{"i": 3777, "name": "x",}');
  const bag = readJsonLines(f, { blocksize: 16 * 1024 });
  assert.ok((await bag.npartitions()) > 4);
  await assert.rejects(bag.count(inline), isBadJson(f, 3_777, 25, /Expected double-quoted property name/));
  // the same through sampling (positions kept) and a map after the parse
  await assert.rejects(bag.sample(0.5, { seed: 1 }).count(inline), isBadJson(f, 3_777, 25, /property name/));
  await assert.rejects(readJsonLines<{ i: number }>(f, { blocksize: 16 * 1024 }).map((x) => x.i).collect(inline), isBadJson(f, 3_777, 25, /property name/));
  // the error's byte offset is where the line starts
  await assert.rejects(bag.count(inline), (e: unknown) => {
    const head = Array.from({ length: 3_776 }, (_, k) => (k + 1 === 10 ? "" : JSON.stringify({ i: k + 1, name: `é-${k + 1}` })) + "\n").join("");
    return e instanceof JsonLinesParseError && e.info.byteOffset === Buffer.byteLength(head);
  });
  // the good lines still parse, the blank one is skipped
  const ok = jsonFile("ok.json", 5_000, 0, "");
  assert.equal(await readJsonLines(ok, { blocksize: 16 * 1024 }).count(inline), 4_999);
});

test("a .gz file (one partition) and an error without a position in V8's message", async () => {
  const f = jsonFile("r.json.gz", 300, 123, '{"a": tru}', true);
  await assert.rejects(readJsonLines(f).count(inline), isBadJson(f, 123, 10, /Unexpected token/));
  const g = jsonFile("trunc.json", 50, 50, '{"a": [1, 2');
  await assert.rejects(readJsonLines(g).collect(inline), isBadJson(g, 50, 12, /after array element|end of JSON/));
});

test("cluster: the client's TaskError carries the worker's JsonLinesParseError fields", async () => {
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, dashboard: false } });
  try {
    const f = jsonFile("cluster.json", 4_000, 2_345, "{not json}");
    await assert.rejects(readJsonLines(f, { blocksize: 8 * 1024 }).count({ client }), (e: Error & { remoteName?: string; data?: Record<string, unknown> }) => {
      assert.equal(e.remoteName, "JsonLinesParseError", e.message);
      assert.ok(e.message.includes(`invalid JSON at ${f}:2345, column 2: `), e.message);
      const info = typeof e.data?.info === "string" ? JSON.parse(e.data.info) : e.data?.info;
      assert.equal(e.data?.code, "bad-json");
      assert.deepEqual({ file: info.file, line: info.line, column: info.column }, { file: f, line: 2_345, column: 2 });
      return true;
    });
  } finally {
    await client.close();
  }
});
