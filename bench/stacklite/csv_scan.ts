/**
 * Cost of the validated CSV read of one block: the validation scan (WebAssembly fast path,
 * TypeScript general path: {@link scanCsv}) alone, the whole validated read ({@link readCsvPartition})
 * and polars' parse alone with the same schema, on the first `1/parts` of the
 * StackLite CSVs. Medians over `--reps` repetitions (the machine is noisy).
 *
 *     POLARS_MAX_THREADS=1 node --expose-gc --import tsx bench/stacklite/csv_scan.ts --data DIR [--parts 4] [--reps 7] [--only scan]
 *
 * With `--expose-gc` a full GC runs before each repetition and the event loop
 * turns, so the native memory of the previous repetition's frames (freed by
 * finalizers V8 runs only then) does not skew the next.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readCsvPartition, scanCsv, type CsvPartitionContext } from "../../src/dataframe/csv.ts";
import { engine } from "../../src/dataframe/engine.ts";
import { toPolarsType } from "../../src/dataframe/schema.ts";

const arg = (n: string, d: string): string => { const i = process.argv.indexOf(`--${n}`); return i >= 0 ? process.argv[i + 1]! : d; };
const dir = arg("data", "/tmp/sl5m");
const parts = Number(arg("parts", "4"));
const reps = Number(arg("reps", "7"));
const only = arg("only", "");
const gc = (globalThis as { gc?: () => void }).gc;

function block(file: string): Buffer {
  const all = readFileSync(file);
  let end = Math.floor(all.length / parts);
  while (all[end - 1] !== 0x0a) end++;
  return Buffer.from(all.subarray(0, end));
}
/** Full GC, then let the event loop run so native finalizers free the last frames. */
async function settle(): Promise<void> {
  for (let k = 0; k < 2; k++) { gc?.(); await new Promise((r) => setTimeout(r, 5)); }
}
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

const inputs: Array<{ name: string; bytes: Buffer; ctx: CsvPartitionContext }> = [
  { name: "questions", bytes: block(join(dir, "questions.csv")), ctx: { file: "q", header: null, naValues: ["NA"] } },
  { name: "tags", bytes: block(join(dir, "question_tags.csv")), ctx: { file: "t", header: null, naValues: ["NA"] } },
];

for (const { name, bytes, ctx } of inputs) {
  const s = scanCsv(bytes, ctx);
  const data = bytes.subarray(s.dataStart);
  const opts = { columns: s.columns, dtypes: s.columns.map((c) => toPolarsType(s.schema[c]!)), naValues: ["NA"], delimiter: ",", quote: '"' };
  const cases: Array<[string, () => unknown]> = [
    ["scanCsv", () => scanCsv(bytes, ctx)],
    ["readCsvPartition", () => readCsvPartition(bytes, ctx)],
    ["polars parse alone", () => engine().parseCsv(data, opts)],
  ];
  process.stdout.write(`${name}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${s.rows} rows, ${JSON.stringify(s.schema)}\n`);
  for (const [label, fn] of cases) {
    if (only && !label.startsWith(only)) continue;
    fn(); // warm-up
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      await settle();
      const t0 = performance.now(); fn(); ts.push(performance.now() - t0);
    }
    process.stdout.write(`  ${label.padEnd(20)} median ${median(ts).toFixed(0).padStart(5)} ms  (min ${Math.min(...ts).toFixed(0)}, max ${Math.max(...ts).toFixed(0)})\n`);
  }
}
