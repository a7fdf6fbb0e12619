// Tier 3: `--help` of every subcommand as a real process: help on stdout,
// exit code 0, whether `--help` comes first or after other options (issue 25,
// item 9: `shoal datasets stacklite --help` said "--help needs a value").
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const MAIN = pathToFileURL(resolve("src/cli/main.ts")).href;

function shoal(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(process.argv.slice(1));`;
  const p = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  p.stdout.on("data", (d) => (stdout += d));
  p.stderr.on("data", (d) => (stderr += d));
  return new Promise((r) => p.once("close", (code) => r({ code, stdout, stderr })));
}

const CASES: string[][] = [
  ["datasets", "stacklite", "--help"],
  ["datasets", "stacklite", "-h"],
  ["datasets", "stacklite", "--out", "/nonexistent", "--questions", "5", "--help"],
  ["datasets", "--help"],
  ["scheduler", "--port", "0", "--help"],
  ["worker", "tcp://127.0.0.1:1", "--help"],
  ["s3", "serve", "--root", "/nonexistent", "--help"],
  ["streams", "serve", "--help"],
  ["slurm", "submit", "tcp://127.0.0.1:1", "--help"],
  ["ssh", "--help"],
  ["mr", "--help"],
  ["mpirun", "-n", "2", "--help"],
];

for (const args of CASES) {
  test(`shoal ${args.join(" ")} prints help and exits 0`, async () => {
    const r = await shoal(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage/);
    assert.doesNotMatch(r.stderr, /needs a value|unexpected argument/);
  });
}

test("shoal datasets stacklite with a real missing value still says so, exit 2", async () => {
  const r = await shoal(["datasets", "stacklite", "--out"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out needs a value/);
});
