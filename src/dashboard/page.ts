/**
 * HTML shells and the stylesheet of the dashboard pages. Each page is a
 * static shell; `/static/dashboard.js` fills it from the JSON endpoints and
 * the `/events` stream. No external resources: the pages work offline.
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function shell(title: string, page: string, attrs: Record<string, string>, body: string): string {
  const data = Object.entries(attrs)
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Shoal</title>
<link rel="stylesheet" href="/static/dashboard.css">
</head>
<body data-page="${page}"${data}>
<header><a class="brand" href="/status">Shoal</a> <nav><a href="/status">Status</a> <a href="/info/main/workers.html">Workers</a> <a href="/metrics">Metrics</a></nav> <span id="conn" class="conn">connecting…</span></header>
<main>
${body}
</main>
<script src="/static/dashboard.js" defer></script>
</body>
</html>
`;
}

/** The `/status` page: workers, bytes stored, task stream, progress. */
export function statusPage(): string {
  return shell(
    "Status",
    "status",
    {},
    `<section class="summary" id="summary"></section>
<section class="row">
  <div class="panel grow"><h2>Task stream</h2><div class="legend">one row per worker thread · coloured by task group · <span class="sw transfer"></span> transfer · <span class="sw erred"></span> erred</div><canvas id="task-stream" data-head="0" data-drawn="0" height="120"></canvas></div>
</section>
<section class="row">
  <div class="panel half"><h2>Bytes stored per worker</h2><div class="legend"><span class="sw normal"></span> normal <span class="sw spilling"></span> spilling <span class="sw paused"></span> paused <span class="sw spilled"></span> spilled</div><svg id="memory" width="100%" height="40"></svg></div>
  <div class="panel half"><h2>Progress</h2><table id="progress" class="progress"><tbody></tbody></table></div>
</section>
<section class="panel"><h2>Workers</h2><table id="workers" class="grid"><thead><tr><th>name</th><th>address</th><th>threads</th><th>memory</th><th>limit</th><th>managed</th><th>spilled</th><th>processing</th><th>CPU</th><th>stored keys</th><th>status</th></tr></thead><tbody></tbody></table></section>
<section class="panel"><h2>Recent errors</h2><ul id="errors" class="errors"><li class="muted">none</li></ul></section>`,
  );
}

/** The workers-only page (`/info/main/workers.html`). */
export function workersPage(): string {
  return shell("Workers", "workers", {}, `<section class="panel"><h2>Workers</h2><table id="workers" class="grid"><thead><tr><th>name</th><th>address</th><th>threads</th><th>memory</th><th>limit</th><th>managed</th><th>spilled</th><th>processing</th><th>CPU</th><th>stored keys</th><th>status</th></tr></thead><tbody></tbody></table></section>`);
}

/** The page of one worker (`/info/worker/<address>.html`). */
export function workerPage(address: string): string {
  return shell(
    `Worker ${address}`,
    "worker",
    { address },
    `<h1>Worker <code>${escapeHtml(address)}</code></h1>
<section class="panel"><table id="worker-info" class="kv"></table></section>
<section class="panel"><h2>Task stream</h2><canvas id="task-stream" data-head="0" data-drawn="0" height="60"></canvas></section>
<section class="row"><div class="panel half"><h2>Processing</h2><ul id="processing" class="keys"></ul></div><div class="panel half"><h2>Stored</h2><ul id="stored" class="keys"></ul></div></section>`,
  );
}

/** The page of one task (`/info/task/<key>.html`): state, dependencies, error and stack. */
export function taskPage(key: string): string {
  return shell(
    `Task ${key}`,
    "task",
    { key },
    `<h1>Task <code>${escapeHtml(key)}</code></h1>
<section class="panel"><table id="task-info" class="kv"></table></section>
<section class="panel" id="error-panel" hidden><h2>Error</h2><p id="error-message" class="error"></p><pre id="error-stack"></pre></section>
<section class="row"><div class="panel half"><h2>Dependencies</h2><ul id="dependencies" class="keys"></ul></div><div class="panel half"><h2>Dependents</h2><ul id="dependents" class="keys"></ul></div></section>
<section class="panel"><h2>Runs</h2><table id="history" class="grid"><thead><tr><th>worker</th><th>start</th><th>duration</th><th>result</th></tr></thead><tbody></tbody></table></section>`,
  );
}

/** A minimal page for errors (404 and such). */
export function messagePage(title: string, message: string): string {
  return shell(title, "message", {}, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><a href="/status">Back to status</a></p>`);
}

/** The stylesheet, served at `/static/dashboard.css`. */
export const STYLES = `
:root { --fg:#1d2330; --muted:#6b7280; --bg:#f6f7f9; --panel:#fff; --line:#e3e6eb;
  --normal:#3b82c4; --spilling:#f0932b; --paused:#d63031; --spilled:#9aa0a6; --transfer:#e03131; --erred:#111; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1.2em; align-items:center; padding:.5em 1em; background:#16324f; color:#fff; }
header a { color:#fff; text-decoration:none; margin-right:.8em; }
header .brand { font-weight:700; letter-spacing:.05em; }
.conn { margin-left:auto; font-size:12px; opacity:.8; }
main { padding:1em; }
h1 { font-size:18px; margin:.2em 0 .8em; } h2 { font-size:14px; margin:0 0 .4em; color:#33415c; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:.8em; margin-bottom:1em; overflow-x:auto; }
.row { display:flex; gap:1em; flex-wrap:wrap; } .row > .panel { flex:1 1 360px; } .grow { flex:1 1 100%; }
.summary { display:flex; gap:1.5em; flex-wrap:wrap; margin-bottom:1em; }
.summary div { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:.4em .8em; }
.summary b { font-size:18px; display:block; } .summary code.small { font-size:12px; }
canvas { width:100%; display:block; background:#fbfbfc; border:1px solid var(--line); }
table.grid { border-collapse:collapse; width:100%; } table.grid th, table.grid td { text-align:left; padding:.25em .6em; border-bottom:1px solid var(--line); white-space:nowrap; }
table.grid td.num { text-align:right; font-variant-numeric:tabular-nums; }
table.kv td { padding:.15em .8em .15em 0; vertical-align:top; } table.kv td:first-child { color:var(--muted); }
table.progress { width:100%; border-collapse:collapse; } table.progress td { padding:.15em .4em; white-space:nowrap; }
table.progress td.bar { width:60%; } table.progress svg { width:100%; height:14px; display:block; }
.legend { font-size:12px; color:var(--muted); margin-bottom:.4em; }
.sw { display:inline-block; width:10px; height:10px; border-radius:2px; vertical-align:middle; margin:0 .2em 0 .6em; }
.sw.normal { background:var(--normal); } .sw.spilling { background:var(--spilling); } .sw.paused { background:var(--paused); } .sw.spilled { background:var(--spilled); }
.sw.transfer { background:var(--transfer); } .sw.erred { background:var(--erred); }
.status-paused { color:var(--paused); font-weight:600; } .muted { color:var(--muted); }
.error { color:#b00020; font-weight:600; } pre { background:#111827; color:#e5e7eb; padding:.8em; border-radius:4px; overflow:auto; max-height:50vh; }
ul.keys, ul.errors { margin:0; padding-left:1.2em; max-height:320px; overflow:auto; font-family:ui-monospace, monospace; font-size:12px; }
code { font-family:ui-monospace, monospace; }
`;
