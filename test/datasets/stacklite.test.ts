import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateStacklite } from "../../src/datasets/stacklite.ts";
import { run } from "../../src/cli/datasets.ts";

const REF = "/work/shared/data/gen-stacklite.mjs";
const sha = (f: string): string => createHash("sha256").update(readFileSync(f)).digest("hex");

test("generator output is byte-identical to gen-stacklite.mjs", { skip: !existsSync(REF) && `${REF} not present` }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-gen-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const args of [{ questions: 3000, dangling: 3, files: 2, seed: 7 }, { questions: 1200, dangling: 0, files: 1, seed: 42 }]) {
    const a = join(dir, `ts-${args.files}`), b = join(dir, `ref-${args.files}`);
    await generateStacklite({ out: a, ...args });
    execFileSync(process.execPath, [REF, "--out", b, "--questions", String(args.questions), "--dangling", String(args.dangling),
      "--files", String(args.files), "--seed", String(args.seed)], { stdio: "ignore" });
    const files = readdirSync(b).sort();
    assert.deepEqual(readdirSync(a).sort(), files);
    for (const f of files) assert.equal(sha(join(a, f)), sha(join(b, f)), f);
  }
});

test("shoal datasets stacklite CLI", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-gen-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(await run(["stacklite", "--out", dir, "--questions", "500", "--files", "2"]), 0);
  assert.deepEqual(readdirSync(dir).sort(), ["question_tags-000.csv", "question_tags-001.csv", "questions-000.csv", "questions-001.csv"]);
  const lines = readFileSync(join(dir, "questions-000.csv"), "utf8").trimEnd().split("\n");
  assert.equal(lines[0], "Id,CreationDate,ClosedDate,DeletionDate,Score,OwnerUserId,AnswerCount");
  assert.equal(lines.length, 251);
  const errs: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => { errs.push(String(s)); return true; }) as typeof process.stderr.write;
  try {
    assert.equal(await run(["stacklite", "--questions", "10"]), 2);
    assert.equal(await run(["stacklite", "--out", dir, "--questions", "-1"]), 1);
    assert.equal(await run(["nope"]), 2);
  } finally { process.stderr.write = orig; }
  assert.match(errs.join(""), /--out DIR is required/);
  assert.match(errs.join(""), /--questions must be an integer >= 0/);
});
