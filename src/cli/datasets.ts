/**
 * `shoal datasets <name> ...`: write sample data sets.
 *
 *     shoal datasets stacklite --out DIR --questions N [--dangling K] [--files F] [--seed S]
 *
 * @module
 */
import { generateStacklite } from "../datasets/stacklite.ts";

const USAGE = `usage: shoal datasets stacklite --out DIR [--questions N] [--dangling K] [--files F] [--seed S]

  Writes questions.csv and question_tags.csv (or numbered files with --files),
  a synthetic copy of the StackLite data set. Defaults: --questions 1000000,
  --dangling 0, --files 1, --seed 42.
`;

/** Flags that take no value; every other `--name` takes the next argument or `--name=value`. */
const BOOLEAN_FLAGS = new Set(["help"]);

function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h") { flags.set("help", "true"); continue; }
    if (!a.startsWith("--")) throw new Error(`unexpected argument '${a}'`);
    if (BOOLEAN_FLAGS.has(a.slice(2))) { flags.set(a.slice(2), "true"); continue; }
    const eq = a.indexOf("=");
    if (eq > 0) { flags.set(a.slice(2, eq), a.slice(eq + 1)); continue; }
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value`);
    flags.set(a.slice(2), v);
    i++;
  }
  return flags;
}

function intFlag(flags: Map<string, string>, name: string, min: number): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

/** Entry point of `shoal datasets`; returns the process exit code. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name !== "stacklite") {
    process.stderr.write(`shoal datasets: unknown data set '${name}' (known: stacklite)\n${USAGE}`);
    return 2;
  }
  let flags: Map<string, string>;
  try {
    flags = parseFlags(rest);
    if (flags.has("help")) {
      process.stdout.write(USAGE);
      return 0;
    }
    for (const k of flags.keys()) {
      if (!["out", "questions", "dangling", "files", "seed"].includes(k)) throw new Error(`unknown option --${k}`);
    }
    if (!flags.has("out")) throw new Error("--out DIR is required");
  } catch (err) {
    process.stderr.write(`shoal datasets stacklite: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const t0 = performance.now();
    const res = await generateStacklite({
      out: flags.get("out")!,
      questions: intFlag(flags, "questions", 0),
      dangling: intFlag(flags, "dangling", 0),
      files: intFlag(flags, "files", 1),
      seed: intFlag(flags, "seed", 0),
    });
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`wrote ${res.questions} questions and ${res.tagRows} tag rows to ${flags.get("out")} in ${s} s\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`shoal datasets stacklite: ${(err as Error).message}\n`);
    return 1;
  }
}
