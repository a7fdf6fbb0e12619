#!/usr/bin/env node
// Typechecks every ```ts / ```typescript block of README.md and docs/*.md
// against the BUILT package, as a user's program would see it.
//
// Usage: node scripts/check-doc-snippets.mjs [--keep] [FILE.md ...]
//   (default: README.md docs/*.md; run `npm run build` first)
//
// Each block becomes its own module in a temporary project outside the
// repository:
//   node_modules/shoal      -> this repository (so package.json "exports" is
//                              honoured exactly as in a user's install: only
//                              the subpaths it lists resolve, to dist/*.d.ts)
//   node_modules/<dep>      -> the repository's copy, for each of shoal's
//                              "dependencies" (a user has them installed) and
//                              @types/node
//   internal/               -> dist/, reachable only as "#internal/..." (the
//                              project's package.json "imports"), and only
//                              from blocks marked `internal`
//   tsconfig.json           -> extends what `tsc --init` writes with the
//                              pinned TypeScript (strict, module nodenext,
//                              noUncheckedIndexedAccess,
//                              exactOptionalPropertyTypes, ...), plus
//                              types ["node"], target ES2022 (Node 20),
//                              skipLibCheck false (shoal's .d.ts files are
//                              checked too) and noEmit.
// and one tsc run checks all of them. Errors are reported as FILE.md:LINE:COL.
//
// Markers: an HTML comment on the line(s) just before the fence (several may
// be stacked, one per comment), documented in docs/architecture.md
// ("Doc snippets"):
//   <!-- snippet: skip REASON -->       not checked; REASON is required
//   <!-- snippet: file NAME.ts -->      written as NAME.ts beside the page's
//                                       other blocks, which import it as
//                                       "./NAME.js" (a user's own module)
//   <!-- snippet: prelude               hidden context prepended to the block
//   CODE                                (imports, `declare const` for the
//   -->                                 placeholders the prose names)
//   <!-- snippet: internal              as prelude, and the block may import
//   CODE                                "#internal/<path under dist>.js": it
//   -->                                 shows unexported internals
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TSC = join(repo, "node_modules", "typescript", "bin", "tsc");
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const TS_LANGS = new Set(["ts", "typescript"]);
const MARKER = /^<!--\s*snippet:\s*(\w+)([\s\S]*?)-->$/;

/**
 * The TypeScript blocks of one markdown text, with their markers.
 * @param {string} text
 * @param {string} page  the page's path, for messages
 * @returns {{ snippets: Snippet[], problems: string[] }}
 * @typedef {{ page: string, line: number, body: string[], skip?: string, file?: string,
 *   prelude: { text: string, line: number }[], internal: boolean }} Snippet
 */
export function extractSnippets(text, page) {
  const lines = text.split(/\r?\n/);
  const snippets = [];
  const problems = [];
  const used = new Set();      // lines of the markers that belong to a block
  const fenced = new Set();    // lines inside fences (of any language)
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]);
    if (!m) continue;
    const [, indent, fence, lang] = m;
    const start = i;
    const body = [];
    for (i++; i < lines.length; i++) {
      fenced.add(i + 1);
      const close = lines[i].trimStart();
      if (close.startsWith(fence[0].repeat(fence.length)) && close.replace(/[`~]/g, "").trim() === "") break;
      body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i].trimStart());
    }
    if (!TS_LANGS.has(lang.toLowerCase())) continue;
    const snippet = { page, line: start + 1, body, prelude: [], internal: false };
    for (const c of markersBefore(lines, start)) {
      const mm = MARKER.exec(c.text);
      if (!mm) continue;
      used.add(c.line);
      const [, kind, rest] = mm;
      const arg = rest.trim();
      const where = `${page}:${c.line}`;
      if (kind === "skip") {
        if (!arg) problems.push(`${where}: snippet: skip needs a reason`);
        snippet.skip = arg || "(no reason)";
      } else if (kind === "file") {
        if (!/^[\w.-]+\.ts$/.test(arg)) problems.push(`${where}: snippet: file needs a NAME.ts, got ${JSON.stringify(arg)}`);
        snippet.file = arg;
      } else if (kind === "prelude" || kind === "internal") {
        // CODE starts on the comment's second line; report its lines where they are
        const first = c.text.indexOf("\n");
        if (first >= 0) snippet.prelude.push({ text: c.text.slice(first + 1).replace(/-->$/, ""), line: c.line + 1 });
        if (kind === "internal") snippet.internal = true;
      } else {
        problems.push(`${where}: unknown snippet marker '${kind}' (skip, file, prelude, internal)`);
      }
    }
    snippets.push(snippet);
  }
  lines.forEach((l, k) => {
    if (/^\s*<!--\s*snippet:/.test(l) && !used.has(k + 1) && !fenced.has(k + 1)) {
      problems.push(`${page}:${k + 1}: a snippet marker must end on the line just before a \`\`\`ts fence`);
    }
  });
  return { snippets, problems };
}

/** The HTML comments that end on the lines just before line `start` (nearest last). */
function markersBefore(lines, start) {
  const out = [];
  let j = start - 1;
  while (j >= 0 && lines[j].trim().endsWith("-->")) {
    let k = j;
    while (k >= 0 && !lines[k].trimStart().startsWith("<!--")) k--;
    if (k < 0) break;
    out.unshift({ line: k + 1, text: lines.slice(k, j + 1).map((l) => l.trim()).join("\n") });
    j = k - 1;
  }
  return out;
}

function defaultPages() {
  const docs = readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => join("docs", f));
  return ["README.md", ...docs];
}

function linkInto(target, link) {
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, "dir");
}

/** The user's tsconfig: `tsc --init` of the pinned TypeScript, then our few overrides. */
function writeTsconfig(project, files) {
  const r = spawnSync(process.execPath, [TSC, "--init"], { cwd: project, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tsc --init failed: ${r.stdout}${r.stderr}`);
  renameSync(join(project, "tsconfig.json"), join(project, "tsconfig.init.json"));
  const config = {
    extends: "./tsconfig.init.json",
    compilerOptions: {
      target: "ES2022",            // Node 20 (package.json engines); top-level await
      module: "NodeNext",          // as Node resolves: "exports" conditions, explicit extensions
      moduleResolution: "NodeNext",
      moduleDetection: "force",    // every block is a module, with or without imports
      types: ["node"],             // a Node program (tsc --init writes [])
      skipLibCheck: false,         // shoal's .d.ts files must check under the user's flags too
      noEmit: true,
      declaration: false,
      declarationMap: false,
      sourceMap: false,
    },
    files,
  };
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(config, null, 2) + "\n");
}

function main() {
  const args = process.argv.slice(2);
  const keep = args.includes("--keep");
  const pages = args.filter((a) => a !== "--keep");
  const list = pages.length > 0 ? pages : defaultPages();
  if (!existsSync(join(repo, "dist", "index.d.ts"))) {
    console.error("check-doc-snippets: dist/ is missing; run `npm run build` first");
    process.exit(2);
  }
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
  const project = mkdtempSync(join(tmpdir(), "shoal-doc-snippets-"));
  const problems = [];
  const files = [];            // project-relative path -> where it came from
  const origin = new Map();    // project-relative path -> line map (index: file line - 1)
  let checked = 0;
  let skipped = 0;
  try {
    linkInto(repo, join(project, "node_modules", "shoal"));
    for (const dep of [...Object.keys(pkg.dependencies ?? {}), "@types/node"]) {
      linkInto(join(repo, "node_modules", dep), join(project, "node_modules", dep));
    }
    linkInto(join(repo, "dist"), join(project, "internal"));
    writeFileSync(join(project, "package.json"), JSON.stringify({
      name: "doc-snippets", private: true, type: "module", imports: { "#internal/*": "./internal/*" },
    }, null, 2) + "\n");

    for (const page of list) {
      const text = readFileSync(resolve(page), "utf8");
      const shown = relative(process.cwd(), resolve(page)).split(sep).join("/");
      const { snippets, problems: p } = extractSnippets(text, shown);
      problems.push(...p);
      // one folder per page, inside the project whatever the page's path
      const dir = join("snippets", String(list.indexOf(page)) + "-" + basename(page).replace(/\.md$/i, "").replace(/[^\w.-]/g, "_"));
      const names = new Set();
      for (const s of snippets) {
        if (s.skip !== undefined) { skipped++; continue; }
        const name = s.file ?? `L${s.line}.ts`;
        if (names.has(name)) problems.push(`${shown}:${s.line}: a second block named ${name}`);
        names.add(name);
        const out = [];
        const map = [];
        for (const pre of s.prelude) {
          pre.text.split("\n").forEach((l, k) => { out.push(l); map.push(pre.line + k); });
        }
        s.body.forEach((l, k) => { out.push(l); map.push(s.line + 1 + k); });
        if (!s.internal && out.some((l) => /["']#internal\//.test(l))) {
          problems.push(`${shown}:${s.line}: imports #internal/ without an 'internal' marker`);
        }
        const rel = join(dir, name).split(sep).join("/");
        mkdirSync(join(project, dir), { recursive: true });
        writeFileSync(join(project, rel), out.join("\n") + "\n");
        files.push(rel);
        origin.set(rel, { page: shown, map });
        checked++;
      }
    }
    writeTsconfig(project, files);

    const r = spawnSync(process.execPath, [TSC, "-p", "tsconfig.json", "--pretty", "false"], { cwd: project, encoding: "utf8" });
    const output = (r.stdout + r.stderr).split("\n");
    // file(line,col): error TSxxxx: message   (continuation lines are indented)
    const LOC = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+: .*)$/;
    let errors = 0;
    for (const l of output) {
      const m = LOC.exec(l);
      if (m) {
        errors++;
        const [, file, line, col, , msg] = m;
        const o = origin.get(file.split(sep).join("/"));
        const at = o ? `${o.page}:${o.map[Number(line) - 1] ?? "?"}:${col}` : `${relative(process.cwd(), resolve(project, file))}:${line}:${col}`;
        problems.push(`${at}: ${msg}`);
      } else if (l.trim() !== "" && problems.length > 0 && /^\s/.test(l)) {
        problems[problems.length - 1] += "\n" + l;
      } else if (l.trim() !== "") {
        problems.push(l);
      }
    }
    if (r.status !== 0 && errors === 0 && problems.length === 0) problems.push(`tsc exited ${r.status} without errors it could name`);
  } finally {
    if (keep) console.error(`check-doc-snippets: project kept at ${project}`);
    else rmSync(project, { recursive: true, force: true });
  }
  const key = (p) => { const m = /^(.*?):(\d+)[:\s]/.exec(p); return m ? [m[1], Number(m[2])] : ["\uffff", 0]; };
  problems.sort((a, b) => { const [pa, la] = key(a); const [pb, lb] = key(b); return pa < pb ? -1 : pa > pb ? 1 : la - lb; });
  for (const p of problems) console.error(p);
  console.error(`check-doc-snippets: ${checked} blocks checked, ${skipped} skipped, ${list.length} pages, ${problems.length} problems`);
  process.exit(problems.length === 0 ? 0 : 1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
