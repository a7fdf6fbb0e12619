/**
 * Baseline: the StackLite tasks 1–6 (7/8 repeat 5/6) as one plain nodejs-polars
 * script, whole files, no partitions — the "single-process polars" yardstick.
 *
 *     node --import tsx bench/stacklite/polars_tasks.ts --data DIR [--out FILE]
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pl from "nodejs-polars";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const dir = arg("data");
if (!dir) { process.stderr.write("usage: polars_tasks.ts --data DIR [--out FILE]\n"); process.exit(2); }
const t: Record<string, number> = {};
const T0 = performance.now();
let s = T0;
const lap = (n: string): void => { const now = performance.now(); t[n] = (now - s) / 1000; s = now; };
const q = pl.readCSV(join(dir, "questions.csv"), { nullValues: ["NA"], dtypes: { Id: pl.Int64, Score: pl.Int64, OwnerUserId: pl.Int64, AnswerCount: pl.Int64 } } as never);
const tags = pl.readCSV(join(dir, "question_tags.csv"), { nullValues: ["NA"] });
lap("load");
const a: Record<string, unknown> = {};
const miss = (d: pl.DataFrame): Record<string, number> => Object.fromEntries(d.getColumns().map((c) => [c.name, (c.nullCount() / d.height) * 100]));
a.task1 = { missing_pct: { questions: miss(q), question_tags: miss(tags) } };
lap("task1");
const sc = q.getColumn("Score");
a.task2 = { mean: sc.mean(), std: q.select(pl.col("Score").std()).getColumn("Score").get(0), median: sc.median(), min: sc.min(), max: sc.max() };
lap("task2");
a.task3 = { top: tags.groupBy("Tag").agg(pl.len().alias("NumQuestions")).sort("Tag").sort("NumQuestions", true, true, true).head(5).toRecords() };
lap("task3");
a.task4 = { dangling: tags.join(q.select("Id"), { on: "Id", how: "anti" }).height > 0 ? 1 : 0 };
lap("task4");
const task5 = (): unknown => ({ top: q.filter(pl.col("OwnerUserId").isNotNull()).groupBy("OwnerUserId").agg(
  pl.col("Score").mean().alias("AverageScore"), pl.col("Id").count().alias("NumQuestions"), pl.col("AnswerCount").sum().alias("NumAnswers"),
).sort("OwnerUserId").sort("NumQuestions", true, true, true).head(5).toRecords() });
const task6 = (): unknown => {
  const g = q.join(tags, { on: "Id" }).groupBy("Tag").agg(pl.col("Score").mean().alias("AverageScore"), pl.col("AnswerCount").sum().alias("NumAnswers"),
    pl.col("Id").count().alias("NumQuestions"), pl.col("OwnerUserId").count().alias("NumOwners")).sort("Tag");
  return { top_by_questions: g.sort("NumQuestions", true, true, true).head(5).toRecords(), top_by_answers: g.sort("NumAnswers", true, true, true).head(5).toRecords() };
};
a.task5 = task5(); lap("task5");
a.task6 = task6(); lap("task6");
a.task7 = task5(); lap("task7");
a.task8 = task6(); lap("task8");
t.total = (performance.now() - T0) / 1000;
const out = JSON.stringify({ answers: a, timings_s: t }, null, 1);
const file = arg("out");
if (file) writeFileSync(file, out); else process.stdout.write(out + "\n");
