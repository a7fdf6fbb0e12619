/**
 * The executor's HTML timeline: one horizontal bar per call from its start
 * to its end on the worker (seconds since the first submit), coloured by
 * job, failed calls in red. Drawn by Chart.js (a floating bar chart),
 * inlined from the installed package so the page needs no network.
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface TimelineRow {
  id: string;
  job: string;
  submitted: number;
  start: number;
  end: number;
  ok: boolean;
}

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f"];

export async function writeTimeline(path: string, title: string, rows: TimelineRow[]): Promise<void> {
  const require = createRequire(import.meta.url);
  // the UMD build sits beside the package's main entry (it is not in its exports map)
  const lib = await readFile(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"), "utf8");
  const t0 = rows.length > 0 ? Math.min(...rows.map((r) => r.submitted)) : 0;
  const jobs = [...new Set(rows.map((r) => r.job))];
  const datasets = jobs.map((job, i) => ({
    label: job,
    data: rows.filter((r) => r.job === job).map((r) => ({ y: r.id, x: [(r.start - t0) / 1000, Math.max((r.end - t0) / 1000, (r.start - t0) / 1000 + 0.001)] })),
    backgroundColor: rows.filter((r) => r.job === job).map((r) => (r.ok ? COLORS[i % COLORS.length] : "#e15759")),
    borderSkipped: false,
  }));
  const config = {
    type: "bar",
    data: { labels: rows.map((r) => r.id), datasets },
    options: {
      indexAxis: "y", animation: false, responsive: true, maintainAspectRatio: false, grouped: false,
      scales: { x: { type: "linear", title: { display: true, text: "seconds since the first submit" } }, y: { ticks: { autoSkip: true } } },
      plugins: { title: { display: true, text: title }, legend: { position: "top" } },
    },
  };
  const height = Math.min(20_000, Math.max(300, rows.length * 6 + 120));
  const safe = (s: string): string => s.replace(/</g, "\\u003c");
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${title.replace(/</g, "&lt;")}</title></head>
<body style="font-family: sans-serif; margin: 1em">
<div style="position: relative; height: ${height}px"><canvas id="timeline"></canvas></div>
<script>${lib.replace(/<\/script/gi, "<\\/script")}</script>
<script>new Chart(document.getElementById("timeline"), ${safe(JSON.stringify(config))});</script>
</body></html>
`;
  await writeFile(path, html);
}
