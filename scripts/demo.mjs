#!/usr/bin/env node
// `npm run demo`: runs the main job (dist/examples/stackoverflow.js), building
// the package first only when src/ or examples/ is newer than dist/ (`npm ci`
// already builds it through the `prepare` script). Arguments pass through:
// `npm run demo -- --questions 200000`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const job = join(root, "dist", "examples", "stackoverflow.js");
const outputs = [job, join(root, "dist", "index.js")];

/** Newest modification time (ms) of the files under `p`. */
function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const e of readdirSync(p)) t = Math.max(t, newest(join(p, e)));
  return t;
}

const inputs = ["src", "examples", "tsconfig.json", "tsconfig.build.json", "tsconfig.examples.json"].map((p) => join(root, p));
const built = outputs.every(existsSync) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
const changed = Math.max(...inputs.map(newest));
if (built === 0 || changed > built) {
  process.stdout.write(built === 0 ? "building the package (dist/ is missing) ...\n" : "building the package (src/ changed since the last build) ...\n");
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  for (const project of ["tsconfig.build.json", "tsconfig.examples.json"]) {
    const r = spawnSync(process.execPath, [tsc, "-p", project], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) {
      process.stderr.write(`demo: the build failed (tsc -p ${project}); fix the errors above and run \`npm run demo\` again\n`);
      process.exit(r.status ?? 1);
    }
  }
}
const r = spawnSync(process.execPath, [job, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
if (r.signal) process.kill(process.pid, r.signal);
process.exit(r.status ?? 1);
