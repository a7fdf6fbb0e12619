// Docs as a user gets them (issue 25, items 5 and 10), run after `npm run build`:
// - every ```ts block of README.md and docs/*.md typechecks against the built
//   package (scripts/check-doc-snippets.mjs: one tsc run, `tsc --init`'s strict
//   settings, shoal resolved through package.json "exports");
// - the checker reports a broken block as PAGE.md:LINE:COL and honours its markers;
// - every relative link of the README and the docs pages points at a file the
//   npm package carries (`npm pack --dry-run --json`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";

const CHECKER = resolve("scripts/check-doc-snippets.mjs");

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  p.stdout.on("data", (d) => (stdout += d));
  p.stderr.on("data", (d) => (stderr += d));
  return new Promise((r, reject) => {
    p.once("error", reject);
    p.once("close", (code) => r({ code, stdout, stderr }));
  });
}

test("dist/ is built (npm test builds it first)", () => {
  assert.ok(existsSync("dist/index.d.ts"), "run `npm run build` before this test");
});

const BAD = `# A page with broken blocks

<!-- snippet: file helper.ts -->
\`\`\`ts
export function twice(x: number): number { return 2 * x; }
\`\`\`

<!-- snippet: prelude
declare const n: number;
-->
\`\`\`ts
import { twice } from "./helper.js";
const s: string = twice(n);
\`\`\`

<!-- snippet: skip -->
\`\`\`ts
this is not TypeScript
\`\`\`

<!-- snippet: internal
import { reductions } from "#internal/dataframe/reductions.js";
import type { Frame } from "shoal";
declare const parts: Frame[];
-->
\`\`\`typescript
const r = reductions.count("x");
const n: number = r.finalize(r.combine(parts.map((df) => r.map(df))));
\`\`\`

\`\`\`ts
import { reductions } from "#internal/dataframe/reductions.js";
\`\`\`

\`\`\`ts
import { Client } from "shoal/dist/index.js";
\`\`\`

<!-- snippet: prelude
const wrong: number = "text";
-->
\`\`\`ts
export {};
\`\`\`

<!-- snippet: file helper.ts -->

<!-- snippet: frobnicate -->
\`\`\`ts
const fine: number = 1;
\`\`\`
`;

// One checker run (one tsc) over the real pages and the broken one.
let checked: Promise<{ code: number | null; real: string[]; bad: string; summary: string; output: string }> | undefined;
function check(): NonNullable<typeof checked> {
  checked ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-doc-snippets-test-"));
    try {
      writeFileSync(join(dir, "bad.md"), BAD);
      const pages = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
      const r = await run(process.execPath, [CHECKER, ...pages, join(dir, "bad.md")]);
      const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
      const summary = lines.find((l) => l.startsWith("check-doc-snippets: ")) ?? "";
      // problems start a line (their continuation lines are indented)
      const real = lines.filter((l) => !l.includes("bad.md") && !l.startsWith("check-doc-snippets: ") && !/^\s/.test(l));
      return { code: r.code, real, bad: lines.filter((l) => l.includes("bad.md")).join("\n"), summary, output: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return checked;
}

test("every TypeScript block of README.md and docs/*.md typechecks against the built package", async () => {
  const r = await check();
  assert.deepEqual(r.real, [], `broken doc blocks (node scripts/check-doc-snippets.mjs):\n${r.output}`);
  const m = /(\d+) blocks checked, (\d+) skipped, (\d+) pages/.exec(r.summary);
  assert.ok(m, r.summary);
  assert.ok(Number(m[1]) - 7 >= 20, `only ${Number(m[1]) - 7} doc blocks checked`);
});

test("the checker reports broken blocks as PAGE.md:LINE:COL and honours its markers", async () => {
  const r = await check();
  assert.equal(r.code, 1, r.output);
  const out = r.bad;
  const at = (line: number) => new RegExp(`bad\\.md:${line}:\\d+: `);
  // the failing statement, in the block that imports the companion file as ./helper.js
  assert.match(out, new RegExp(`bad\\.md:13:7: TS2322: Type 'number' is not assignable to type 'string'`), out);
  assert.match(out, /bad\.md:16: snippet: skip needs a reason/, out);
  // the internal block checks (no error at 27 or 28); an unmarked #internal import is refused
  assert.doesNotMatch(out, at(27), out);
  assert.doesNotMatch(out, at(28), out);
  assert.match(out, /bad\.md:31: imports #internal\/ without an 'internal' marker/, out);
  // package.json "exports" is honoured: dist/ is not importable by path
  assert.match(out, /bad\.md:36:\d+: TS2307: /, out);
  // an error in a prelude is reported on its own line inside the comment
  assert.match(out, /bad\.md:40:7: TS2322: /, out);
  // markers that are unknown or not just before a fence
  assert.match(out, /bad\.md:46: a snippet marker must end on the line just before/, out);
  assert.match(out, /bad\.md:48: unknown snippet marker 'frobnicate'/, out);
  assert.equal(out.split("\n").length, 7, out);
});

/** Relative link targets of a markdown text, outside code. */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/^\s*(`{3,}|~{3,})[\s\S]*?^\s*\1\s*$/gm, "").replace(/`[^`\n]*`/g, "");
  const out: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue; // https:, mailto:, same-page anchors
    out.push(target.replace(/[#?].*$/, ""));
  }
  return out;
}

test("the npm package carries docs/ and every relative link of the README and docs points into the package", async () => {
  const r = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"]);
  assert.equal(r.code, 0, r.stderr);
  const packed = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  const files = new Set(packed[0]!.files.map((f) => f.path));
  const pages = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  for (const page of pages) assert.ok(files.has(page), `${page} is not in the package`);
  const missing: string[] = [];
  let links = 0;
  for (const page of pages) {
    for (const target of relativeLinks(readFileSync(page, "utf8"))) {
      links++;
      const path = posix.normalize(posix.join(posix.dirname(page), decodeURIComponent(target))).replace(/\/$/, "");
      const carried = files.has(path) || [...files].some((f) => f.startsWith(path + "/"));
      if (!carried) missing.push(`${page}: ${target} (${path})`);
    }
  }
  assert.deepEqual(missing, [], "links to files the package does not carry");
  assert.ok(links >= 14, `only ${links} relative links found`);
});
