/**
 * The dashboard's browser script, served at `/static/dashboard.js`. Plain
 * ES2020, no framework, no external resources. The status page listens to
 * `/events` (server-sent events, one snapshot every 500 ms); the other pages
 * poll their JSON endpoint. The script keeps at most 1000 task-stream
 * entries per page view.
 *
 * The page exposes its state for tests and tools as data attributes:
 * `#task-stream[data-head]` (stream sequence seen), `[data-drawn]` (entries
 * drawn), `tr[data-worker]` rows and `tr[data-group][data-done][data-total]`.
 */
export const CLIENT_JS = String.raw`
"use strict";
(function () {
  var STREAM_MAX = 1000;
  var page = document.body.dataset.page;
  var conn = document.getElementById("conn");
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }
  function bytes(n) {
    if (!(n > 0)) return "0 B";
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (n < 10 && i > 0 ? n.toFixed(1) : Math.round(n)) + " " + u[i];
  }
  function hash(s) { var h = 2166136261; for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return h >>> 0; }
  function colour(group) { var h = hash(group); return "hsl(" + (h % 360) + "," + (55 + (h >> 9) % 25) + "%," + (45 + (h >> 17) % 15) + "%)"; }
  var STATE_COLOURS = { normal: "#3b82c4", spilling: "#f0932b", paused: "#d63031" };
  function workerLink(a) { return '<a href="/info/worker/' + encodeURIComponent(a) + '.html">' + esc(a) + "</a>"; }
  function taskLink(k) { return '<a href="/info/task/' + encodeURIComponent(k) + '.html">' + esc(k) + "</a>"; }
  function setConn(text) { if (conn) conn.textContent = text; }

  // ---------------------------------------------------------------- workers
  function renderWorkers(workers) {
    var table = $("workers"); if (!table) return;
    var rows = workers.map(function (w) {
      return '<tr data-worker="' + esc(w.address) + '"><td>' + esc(w.name) + "</td><td>" + workerLink(w.address) + '</td><td class="num">' + w.nthreads +
        '</td><td class="num">' + bytes(w.rss) + '</td><td class="num">' + (w.memoryLimit > 0 ? bytes(w.memoryLimit) : "none") +
        '</td><td class="num">' + bytes(w.managed) + '</td><td class="num">' + bytes(w.spilled) + '</td><td class="num">' + w.processing +
        '</td><td class="num">' + Math.round(w.cpu) + '%</td><td class="num">' + w.stored + '</td><td class="status-' + esc(w.status) + '">' + esc(w.status) + "</td></tr>";
    });
    table.tBodies[0].innerHTML = rows.length ? rows.join("") : '<tr><td colspan="11" class="muted">no workers connected</td></tr>';
  }

  function renderMemory(workers) {
    var svg = $("memory"); if (!svg) return;
    var rowH = 22, labelW = 150, width = svg.clientWidth || 600, barW = Math.max(50, width - labelW - 150);
    var max = 1;
    workers.forEach(function (w) { max = Math.max(max, w.memoryLimit > 0 ? w.memoryLimit : 0, w.rss + w.spilled, w.managed); });
    var parts = [];
    workers.forEach(function (w, i) {
      var y = i * rowH + 2;
      var used = Math.max(w.rss, w.managed);
      var wUsed = (used / max) * barW, wMan = (Math.min(w.managed, used) / max) * barW, wSp = (w.spilled / max) * barW;
      var c = STATE_COLOURS[w.memoryState] || STATE_COLOURS.normal;
      parts.push('<g data-worker="' + esc(w.address) + '" data-state="' + w.memoryState + '">' +
        '<text x="0" y="' + (y + 14) + '" font-size="12">' + esc(w.name) + "</text>" +
        '<rect x="' + labelW + '" y="' + y + '" width="' + barW + '" height="16" fill="#eef0f3"/>' +
        '<rect x="' + labelW + '" y="' + y + '" width="' + wUsed + '" height="16" fill="' + c + '" opacity="0.45"/>' +
        '<rect x="' + labelW + '" y="' + y + '" width="' + wMan + '" height="16" fill="' + c + '"/>' +
        '<rect x="' + (labelW + wUsed) + '" y="' + y + '" width="' + wSp + '" height="16" fill="#9aa0a6"/>' +
        '<text x="' + (labelW + barW + 6) + '" y="' + (y + 13) + '" font-size="11">' + bytes(used) + (w.memoryLimit > 0 ? " / " + bytes(w.memoryLimit) : "") + (w.spilled > 0 ? " (+" + bytes(w.spilled) + " spilled)" : "") + "</text></g>");
    });
    svg.setAttribute("height", String(Math.max(24, workers.length * rowH + 4)));
    svg.innerHTML = parts.join("");
  }

  // --------------------------------------------------------------- progress
  function renderProgress(rows) {
    var table = $("progress"); if (!table) return;
    var html = rows.slice(-40).map(function (r) {
      var t = Math.max(1, r.total), c = colour(r.group);
      var d = (r.done / t) * 100, e = (r.erred / t) * 100, p = (r.processing / t) * 100;
      return '<tr data-group="' + esc(r.group) + '" data-done="' + r.done + '" data-total="' + r.total + '" data-erred="' + r.erred + '"><td>' + esc(r.group) +
        '</td><td class="bar"><svg viewBox="0 0 100 10" preserveAspectRatio="none"><rect width="100" height="10" fill="#eef0f3"/>' +
        '<rect width="' + d + '" height="10" fill="' + c + '"/><rect x="' + d + '" width="' + e + '" height="10" fill="#111"/>' +
        '<rect x="' + (d + e) + '" width="' + p + '" height="10" fill="' + c + '" opacity="0.35"/></svg></td><td class="num">' + r.done + " / " + r.total +
        (r.erred ? ' <span class="error">' + r.erred + " erred</span>" : "") + "</td></tr>";
    });
    table.tBodies[0].innerHTML = html.length ? html.join("") : '<tr><td class="muted">no tasks yet</td></tr>';
  }

  function renderSummary(s) {
    var el = $("summary"); if (!el) return;
    var c = s.counts, threads = s.scheduler.threads;
    function box(label, v) { return "<div><b>" + v + "</b>" + label + "</div>"; }
    el.innerHTML = box("workers", s.scheduler.workers) + box("threads", threads) + box("processing", c.processing || 0) +
      box("queued", (c.queued || 0) + (c.waiting || 0) + (c["no-worker"] || 0)) + box("in memory", c.memory || 0) + box("erred", c.erred || 0) +
      box("scheduler", '<code class="small">' + esc(s.scheduler.address) + "</code>");
  }

  function renderErrors(errors) {
    var ul = $("errors"); if (!ul) return;
    if (!errors.length) { ul.innerHTML = '<li class="muted">none</li>'; return; }
    ul.innerHTML = errors.slice().reverse().map(function (e) { return "<li>" + taskLink(e.key) + " on " + esc(e.worker) + "</li>"; }).join("");
  }

  // ------------------------------------------------------------ task stream
  var stream = [], streamHead = 0, layoutWorkers = [];
  function addStream(head, entries) {
    for (var i = 0; i < entries.length; i++) if (entries[i].seq >= streamHead) stream.push(entries[i]);
    if (stream.length > STREAM_MAX) stream.splice(0, stream.length - STREAM_MAX);
    streamHead = Math.max(streamHead, head);
  }
  function drawStream(workers) {
    var cv = $("task-stream"); if (!cv) return;
    cv.dataset.head = String(streamHead);
    cv.dataset.drawn = String(stream.length);
    if (workers) layoutWorkers = workers.map(function (w) { return { address: w.address, name: w.name, nthreads: w.nthreads }; });
    var rows = [], rowOf = {};
    layoutWorkers.forEach(function (w) {
      rowOf[w.address] = { base: rows.length, ends: new Array(w.nthreads).fill(0) };
      for (var t = 0; t < w.nthreads; t++) rows.push(t === 0 ? w.name : "");
      rows.push("");
    });
    var rowH = Math.max(6, Math.min(18, Math.floor(320 / Math.max(1, rows.length)))), labelW = 110;
    var width = cv.clientWidth || 800, height = Math.max(40, rows.length * rowH + 16);
    var dpr = window.devicePixelRatio || 1;
    if (cv.width !== Math.round(width * dpr) || cv.height !== Math.round(height * dpr)) { cv.width = Math.round(width * dpr); cv.height = Math.round(height * dpr); cv.style.height = height + "px"; }
    var g = cv.getContext("2d"); if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    if (!stream.length) { g.fillStyle = "#888"; g.font = "12px sans-serif"; g.fillText("waiting for tasks…", labelW, 20); }
    var t0 = Infinity, t1 = -Infinity;
    stream.forEach(function (e) { if (e.start < t0) t0 = e.start; if (e.stop > t1) t1 = e.stop; });
    var span = Math.max(1e-3, t1 - t0), plotW = width - labelW - 8;
    function x(t) { return labelW + ((t - t0) / span) * plotW; }
    var sorted = stream.slice().sort(function (a, b) { return a.start - b.start; });
    sorted.forEach(function (e) {
      var r = rowOf[e.worker]; if (!r) return;
      var row;
      if (e.kind === "transfer") row = r.base + r.ends.length;
      else {
        var best = 0;
        for (var i = 0; i < r.ends.length; i++) { if (r.ends[i] <= e.start + 1e-6) { best = i; break; } if (r.ends[i] < r.ends[best]) best = i; }
        r.ends[best] = e.stop; row = r.base + best;
      }
      g.fillStyle = e.kind === "erred" ? "#111" : e.kind === "transfer" ? "#e03131" : colour(e.group);
      g.fillRect(x(e.start), row * rowH + 1, Math.max(1, x(e.stop) - x(e.start)), rowH - 2);
    });
    g.fillStyle = "#33415c"; g.font = "11px sans-serif";
    rows.forEach(function (label, i) { if (label) g.fillText(label.slice(0, 16), 2, i * rowH + rowH - 3); });
    if (stream.length) { g.fillStyle = "#888"; g.fillText(span.toFixed(2) + " s", width - 60, height - 3); }
  }

  // ------------------------------------------------------------------ pages
  function onStatus(s) {
    renderSummary(s); renderWorkers(s.workers); renderMemory(s.workers); renderProgress(s.progress); renderErrors(s.errors);
    addStream(s.stream.head, s.stream.entries); drawStream(s.workers);
    setConn("live · " + new Date(s.time * 1000).toLocaleTimeString());
  }

  function startStatus() {
    if (!window.EventSource) return poll("/json/status.json", onStatus, 1000);
    var es = new EventSource("/events");
    es.onmessage = function (ev) { onStatus(JSON.parse(ev.data)); };
    es.onerror = function () { setConn("reconnecting…"); };
  }

  function poll(url, fn, ms) {
    function tick() {
      fetch(url, { cache: "no-store" }).then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
        .then(function (d) { fn(d); setConn("updated " + new Date().toLocaleTimeString()); }, function (e) { setConn("error: " + e.message); })
        .then(function () { if (ms > 0) setTimeout(tick, ms); });
    }
    tick();
  }

  function kv(id, pairs) {
    var t = $(id); if (!t) return;
    t.innerHTML = pairs.map(function (p) { return "<tr><td>" + esc(p[0]) + "</td><td>" + p[1] + "</td></tr>"; }).join("");
  }
  function list(id, items, fn) { var ul = $(id); if (ul) ul.innerHTML = items.length ? items.map(function (x) { return "<li>" + fn(x) + "</li>"; }).join("") : '<li class="muted">none</li>'; }

  function startWorker() {
    var a = document.body.dataset.address;
    poll("/json/workers/" + encodeURIComponent(a) + ".json", function (w) {
      kv("worker-info", [["name", esc(w.name)], ["address", esc(w.address)], ["host / pid", esc(w.host) + " / " + w.pid], ["threads", w.nthreads], ["status", esc(w.status)],
        ["memory (rss)", bytes(w.rss) + (w.memoryLimit > 0 ? " of " + bytes(w.memoryLimit) : "")], ["managed", bytes(w.managed)], ["spilled", bytes(w.spilled)],
        ["CPU", Math.round(w.cpu) + "%"], ["processing", w.processing], ["stored keys", w.stored], ["received from peers", bytes(w.transferBytes)], ["last heartbeat", w.lastSeenAgo.toFixed(1) + " s ago"]]);
      list("processing", w.processingTasks, function (t) { return taskLink(t.key) + (t.executing ? " (executing)" : ""); });
      list("stored", w.storedTasks, function (t) { return taskLink(t.key) + " · " + bytes(t.nbytes); });
      stream = []; streamHead = 0; addStream(0, w.stream); drawStream([w]);
    }, 1000);
  }

  function startTask() {
    var k = document.body.dataset.key;
    poll("/json/tasks/" + encodeURIComponent(k) + ".json", function (t) {
      kv("task-info", [["key", esc(t.key)], ["state", "<b>" + esc(t.state) + "</b>"], ["group", esc(t.group)], ["worker", t.worker ? workerLink(t.worker) : "—"],
        ["held by", (t.whoHas || []).map(workerLink).join(", ") || "—"], ["bytes", t.nbytes >= 0 ? bytes(t.nbytes) : "—"], ["type", esc(t.type || "—")],
        ["failed because of", t.blame ? taskLink(t.blame) : "—"], ["worker deaths while running", t.suspicious || 0], ["retries left", t.retries || 0]]);
      var ep = $("error-panel");
      if (t.error) { ep.hidden = false; $("error-message").textContent = t.error.name + ": " + t.error.message; $("error-stack").textContent = t.error.stack || "(no stack)"; }
      list("dependencies", t.dependencies || [], function (d) { return taskLink(d.key) + " · " + esc(d.state); });
      list("dependents", t.dependents || [], function (d) { return taskLink(d.key) + " · " + esc(d.state); });
      var h = $("history"); if (h) h.tBodies[0].innerHTML = (t.history || []).map(function (r) {
        return "<tr><td>" + workerLink(r.worker) + "</td><td>" + new Date(r.start * 1000).toLocaleTimeString() + '</td><td class="num">' + ((r.stop - r.start) * 1000).toFixed(1) + " ms</td><td>" + esc(r.kind) + "</td></tr>";
      }).join("");
    }, 2000);
  }

  if (page === "status") startStatus();
  else if (page === "workers") poll("/json/workers.json", function (d) { renderWorkers(d.workers); }, 1000);
  else if (page === "worker") startWorker();
  else if (page === "task") startTask();
})();
`;
