// The client's on-disk bundle cache, across processes: a second program run
// reuses the bundle without esbuild; an edit to the module, or to a file it
// imports, is a miss; SHOAL_CODE_CACHE_DIR=off turns it off. Real child
// processes, synchronized on their output (ship.ts' bundleStats), not on time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SHIP = join(import.meta.dirname, "../../src/code/ship.ts");
const CLIENT = join(import.meta.dirname, "../../src/index.ts");

interface Report {
  hash?: string;
  builds: number;
  diskHits: number;
  results?: number[];
}

function run(script: string, cacheDir: string, args: string[] = []): Report {
  const out = execFileSync(process.execPath, ["--import", "tsx", script, ...args], {
    env: { ...process.env, SHOAL_CODE_CACHE_DIR: cacheDir, SHOAL_QUIET: "1" },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Report;
}

function project(): { dir: string; cache: string; mod: string; dep: string; bundle: string; prepare: string } {
  const dir = mkdtempSync(join(tmpdir(), "shoal-bundle-cache-test-"));
  const mod = join(dir, "tasks.ts");
  const dep = join(dir, "dep.ts");
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(dep, "export const factor: number = 3;\n");
  writeFileSync(mod, 'import { factor } from "./dep.ts";\nexport function triple(x: number): number {\n  return factor * x;\n}\nexport function plusOne(x: number): number {\n  return x + 1;\n}\n');
  const bundle = join(dir, "bundle.mjs");
  writeFileSync(
    bundle,
    `import { bundleModule, bundleStats } from ${JSON.stringify(SHIP)};\n` +
      `const b = bundleModule(process.argv[2]);\n` +
      `console.log(JSON.stringify({ hash: b.hash, ...bundleStats }));\n`,
  );
  const prepare = join(dir, "prepare.mjs");
  writeFileSync(
    prepare,
    `import { prepareShipping, bundleModule, bundleStats } from ${JSON.stringify(SHIP)};\n` +
      `await prepareShipping(process.argv[2]);\n` +
      `const before = { ...bundleStats };\n` +
      `const b = bundleModule(process.argv[3]);\n` +
      `if (bundleStats.builds !== before.builds || bundleStats.diskHits !== before.diskHits) throw new Error("not prepared");\n` +
      `console.log(JSON.stringify({ hash: b.hash, ...bundleStats }));\n`,
  );
  return { dir, cache: join(dir, "cache"), mod, dep, bundle, prepare };
}

test("a second process takes the bundle from the disk cache; an edit to the module or to an import is a miss", () => {
  const p = project();
  try {
    const first = run(p.bundle, p.cache, [p.mod]);
    assert.deepEqual([first.builds, first.diskHits], [1, 0]);
    const second = run(p.bundle, p.cache, [p.mod]);
    assert.deepEqual([second.builds, second.diskHits], [0, 1], "the second process ran esbuild");
    assert.equal(second.hash, first.hash);

    writeFileSync(p.mod, 'import { factor } from "./dep.ts";\nexport function triple(x: number): number {\n  return x * factor;\n}\n');
    const edited = run(p.bundle, p.cache, [p.mod]);
    assert.deepEqual([edited.builds, edited.diskHits], [1, 0], "an edited module was taken from the cache");
    assert.notEqual(edited.hash, first.hash);

    writeFileSync(p.dep, "export const factor: number = 4;\n");
    const depEdited = run(p.bundle, p.cache, [p.mod]);
    assert.deepEqual([depEdited.builds, depEdited.diskHits], [1, 0], "a module whose import changed was taken from the cache");
    assert.notEqual(depEdited.hash, edited.hash);
    const again = run(p.bundle, p.cache, [p.mod]);
    assert.deepEqual([again.builds, again.diskHits, again.hash], [0, 1, depEdited.hash]);

    const off = run(p.bundle, "off", [p.mod]);
    assert.deepEqual([off.builds, off.diskHits, off.hash], [1, 0, depEdited.hash]);
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("a corrupt cached bundle is rebuilt, not shipped", () => {
  const p = project();
  try {
    const first = run(p.bundle, p.cache, [p.mod]);
    writeFileSync(join(p.cache, `${first.hash}.mjs`), "export const nope = 1;\n");
    const second = run(p.bundle, p.cache, [p.mod]);
    assert.deepEqual([second.builds, second.diskHits, second.hash], [1, 0, first.hash]);
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("prepareShipping bundles the entry script and the modules it imports ahead of use, from the cache in a second process", () => {
  const p = project();
  try {
    const entry = join(p.dir, "main.ts");
    writeFileSync(entry, 'import { triple } from "./tasks.ts";\nexport function six(): number {\n  return triple(2);\n}\n');
    const first = run(p.prepare, p.cache, [entry, p.mod]);
    assert.deepEqual([first.builds, first.diskHits], [3, 0], "main.ts, tasks.ts and dep.ts built during prepareShipping");
    const second = run(p.prepare, p.cache, [entry, p.mod]);
    assert.deepEqual([second.builds, second.diskHits, second.hash], [0, 3, first.hash]);
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("a program run twice on a LocalCluster ships its module from the disk cache the second time", () => {
  const p = project();
  try {
    const main = join(p.dir, "main.ts");
    writeFileSync(
      main,
      `import { Client, isMain } from ${JSON.stringify(CLIENT)};\n` +
        `import { bundleStats } from ${JSON.stringify(SHIP)};\n` +
        `import { plusOne, triple } from "./tasks.ts";\n` +
        `if (isMain(import.meta)) {\n` +
        `  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, dashboard: false } });\n` +
        `  const a = await client.gather(client.map(triple, [1, 2]));\n` +
        `  const b = await client.gather(client.map(plusOne, [1, 2]));\n` +
        `  await client.close();\n` +
        `  console.log(JSON.stringify({ results: [...a, ...b], ...bundleStats }));\n` +
        `}\n`,
    );
    const first = run(main, p.cache);
    assert.deepEqual(first.results, [3, 6, 2, 3]);
    assert.equal(first.diskHits, 0);
    // main.ts imports Shoal's sources by path, so prepareShipping bundles it (at
    // connect) but not the modules it imports; tasks.ts is bundled at the first map
    assert.equal(first.builds, 2, "main.ts and tasks.ts bundled once each");
    const second = run(main, p.cache);
    assert.deepEqual(second.results, [3, 6, 2, 3]);
    assert.deepEqual([second.builds, second.diskHits], [0, 2], "the second run ran esbuild");
    assert.ok(readdirSync(p.cache).some((f) => f.endsWith(".mjs")));
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});
