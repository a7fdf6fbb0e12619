// What crosses the wire (issue 25, item 2): registered classes come back as
// instances, unregistered ones as their fields (and the result type says
// so: `tsc` rejects a method call on one), functions travel as task
// arguments, and a function inside a result names where it is.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client, delayed, type Wire } from "../../src/index.ts";
import { applyAll, applyFn, Counter, mkCounter, mkPlain, mkPoint, normOf, Point, returnsFunction, square } from "../fixtures/wire/shapes.ts";

let client: Client;
before(async () => {
  client = await Client.connect({ cluster: { nworkers: 1, dashboard: false } });
});
after(async () => {
  await client.close();
});

test("a registered class comes back as an instance, with its methods", async () => {
  const p = await client.submit(mkPoint, 3).result();
  assert.ok(p instanceof Point);
  assert.equal(p.norm(), 5);
  // and goes to a task as an instance too
  assert.equal(await client.submit(normOf, new Point(6, 8)).result(), 10);
  assert.equal(await client.submit(normOf, client.submit(mkPoint, 0)).result(), 4);
  const c = await client.submit(mkCounter, 7).result();
  assert.ok(c instanceof Counter);
  assert.equal(c.value, 7);
});

test("an unregistered class arrives as its fields", async () => {
  const p = await client.submit(mkPlain, 21).result();
  assert.deepEqual({ ...p }, { v: 21 });
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
});

test("functions travel as task arguments, nested ones too, and in delayed graphs", async () => {
  assert.equal(await client.submit(applyFn, square, 9).result(), 81);
  assert.equal(await client.submit(applyFn, (x: number) => x + 1, 9).result(), 10);
  assert.deepEqual(await client.submit(applyAll, [{ name: "sq", f: square }, { name: "neg", f: (x: number) => -x }], 3).result(), ["sq=9", "neg=-3"]);
  assert.deepEqual(await client.gather(client.map((f: (x: number) => number) => f(2), [square, (x: number) => x * 10])), [4, 20]);
  const [v] = await client.compute(delayed(applyFn)(square, delayed(square)(3)));
  assert.equal(v, 81);
});

test("a function that captures variables is refused, saying it is an argument", () => {
  const k = 3;
  assert.throws(
    () => client.submit(applyFn, (x: number) => x * k, 1),
    (e: Error) => /a task argument is a function that cannot be sent/.test(e.message) && /uses variables from outside its body \(k\)/.test(e.message),
  );
});

test("a function inside a result is an error that names where it is", async () => {
  await assert.rejects(client.submit(returnsFunction).result(), (e: Error) => /value\.cb is a function/.test(e.message));
});

test("tsc: the result type of an unregistered class has no methods, a registered one keeps them", () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-wire-tsc-"));
  try {
    const src = resolve("src/index.ts");
    const shapes = resolve("test/fixtures/wire/shapes.ts");
    writeFileSync(
      join(dir, "use.ts"),
      `import type { Client } from ${JSON.stringify(src)};\n` +
        `import { mkPlain, mkPoint } from ${JSON.stringify(shapes)};\n` +
        `export async function f(client: Client): Promise<number> {\n` +
        `  const p = await client.submit(mkPoint, 3).result();\n` +
        `  const q = await client.submit(mkPlain, 3).result();\n` +
        `  return p.norm() + q.v + q.twice();\n` +
        `}\n`,
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", allowImportingTsExtensions: true, skipLibCheck: true, types: ["node"], typeRoots: [resolve("node_modules/@types")] }, files: ["use.ts"] }),
    );
    let out = "";
    try {
      execFileSync(process.execPath, [resolve("node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? "");
    }
    // exactly one error: the method call on the unregistered class's result
    const errors = out.split("\n").filter((l) => /error TS/.test(l));
    assert.equal(errors.length, 1, out);
    assert.match(errors[0]!, /Property 'twice' does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// type-level checks that tsc runs on this file itself
type Expect<T extends true> = T;
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
export type WireChecks = [
  Expect<Equal<Wire<number>, number>>,
  Expect<Equal<Wire<{ a: number; f: () => void }>, { a: number }>>,
  Expect<Equal<Wire<Map<string, Date>>, Map<string, Date>>>,
  Expect<Equal<Wire<Point>, Point>>,
];
