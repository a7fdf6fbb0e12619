/**
 * Compare two answer JSONs of the StackLite tasks: integers exactly, other
 * numbers to 1e-9 relative, strings exactly; tasks 7/8 against the reference's 5/6
 * when the reference lacks them.
 *
 *     node --import tsx bench/stacklite/compare_answers.ts REF.json OTHER.json
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** Differences between `ref` and `got` (empty when they agree). */
export function compareAnswers(ref: unknown, got: unknown, path = "answers", rel = 1e-9): string[] {
  const diffs: string[] = [];
  const walk = (a: unknown, b: unknown, p: string): void => {
    if (typeof a === "number" && typeof b === "number") {
      if (Number.isInteger(a) && Number.isInteger(b)) { if (a !== b) diffs.push(`${p}: ${a} != ${b}`); return; }
      const d = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
      if (!(d <= rel)) diffs.push(`${p}: ${a} != ${b} (rel ${d.toExponential(2)})`);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) diffs.push(`${p}: length ${a.length} != ${b.length}`);
      a.forEach((x, i) => walk(x, b[i], `${p}[${i}]`));
      return;
    }
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
      const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
      if (ka.join() !== kb.join()) diffs.push(`${p}: keys ${ka.join(",")} != ${kb.join(",")}`);
      for (const k of ka) if (k in (b as object)) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${p}.${k}`);
      return;
    }
    if (a !== b) diffs.push(`${p}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
  };
  const r = { ...(ref as Record<string, unknown>) };
  if (!("task7" in r) && "task5" in r) r.task7 = r.task5;
  if (!("task8" in r) && "task6" in r) r.task8 = r.task6;
  walk(r, got, path);
  return diffs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [refFile, gotFile] = process.argv.slice(2);
  if (!refFile || !gotFile) { process.stderr.write("usage: compare_answers.ts REF.json OTHER.json\n"); process.exit(2); }
  const ref = JSON.parse(readFileSync(refFile, "utf8")).answers;
  const got = JSON.parse(readFileSync(gotFile, "utf8")).answers;
  const diffs = compareAnswers(ref, got);
  process.stdout.write(diffs.length === 0 ? "answers agree\n" : diffs.join("\n") + "\n");
  process.exit(diffs.length === 0 ? 0 : 1);
}
