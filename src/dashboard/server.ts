/**
 * The dashboard's HTTP server (node:http, no framework), attached to a
 * {@link SchedulerServer}.
 *
 * Routes:
 * - `/`, `/status` — status page; `/info/main/workers.html`;
 *   `/info/worker/<address>.html`; `/info/task/<key>.html`
 * - `/health` — 200 `ok`; `/metrics` — Prometheus text
 * - `/json/status.json[?since=SEQ]`, `/json/workers.json`,
 *   `/json/workers/<address>.json`, `/json/tasks/<key>.json`,
 *   `/json/progress.json`, `/json/task-stream.json[?since=SEQ]`,
 *   `/json/counts.json`, `/json/identity.json`
 * - `/events` — server-sent events: one status snapshot per interval
 *   (500 ms) with the task-stream entries that client has not seen (≤ 1000).
 *   The sampling timer runs only while at least one page is connected, and a
 *   client whose socket is backed up is skipped rather than buffered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SchedulerServer } from "../scheduler/server.ts";
import { CLIENT_JS } from "./client-js.ts";
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { DashboardModel, PAGE_STREAM_LIMIT, type DashboardModelOptions } from "./model.ts";
import { STYLES, messagePage, statusPage, taskPage, workerPage, workersPage } from "./page.ts";

export interface DashboardOptions extends DashboardModelOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Port (default 8787; 0 = any free port). */
  port?: number;
  /** When the port is taken, listen on any free port instead of failing (default false). */
  anyPortIfBusy?: boolean;
  /** Milliseconds between live updates to connected pages (default 500). */
  updateIntervalMs?: number;
}

interface SseClient {
  res: ServerResponse;
  cursor: number;
}

/** A running dashboard; see {@link startDashboard}. */
export class Dashboard {
  readonly model: DashboardModel;
  private readonly sse = new Set<SseClient>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Live-update snapshots sent (for tests and the overhead benchmark). */
  updatesSent = 0;

  /** @internal use {@link startDashboard} */
  constructor(readonly scheduler: SchedulerServer, readonly server: Server, private readonly opts: DashboardOptions) {
    this.model = new DashboardModel(scheduler, opts);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
  }

  /** `http://HOST:PORT/` of the dashboard. */
  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${a.port}/`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Pages connected to the live stream right now. */
  get liveClients(): number {
    return this.sse.size;
  }

  /** Stops serving, ends live streams and detaches from the scheduler. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    for (const c of this.sse) c.res.end();
    this.sse.clear();
    this.model.detach();
    if (this.scheduler.services["dashboard"] === this.url) delete this.scheduler.services["dashboard"];
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      send(res, 500, "text/plain; charset=utf-8", `internal error: ${(err as Error).message}\n`);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    const since = Number(url.searchParams.get("since") ?? "0") || 0;
    const m = this.model;
    switch (path) {
      case "/":
        res.setHeader("Location", "/status");
        return send(res, 302, "text/plain; charset=utf-8", "see /status\n");
      case "/status":
        return html(res, 200, statusPage());
      case "/info/main/workers.html":
        return html(res, 200, workersPage());
      case "/health":
        return send(res, 200, "text/plain; charset=utf-8", "ok");
      case "/metrics":
        return send(res, 200, PROMETHEUS_CONTENT_TYPE, renderMetrics(m));
      case "/static/dashboard.js":
        return send(res, 200, "text/javascript; charset=utf-8", CLIENT_JS, true);
      case "/static/dashboard.css":
        return send(res, 200, "text/css; charset=utf-8", STYLES, true);
      case "/json/status.json":
        return json(res, m.status(since));
      case "/json/workers.json":
        return json(res, { workers: m.workers() });
      case "/json/progress.json":
        m.fold();
        return json(res, { progress: m.progress() });
      case "/json/counts.json":
        return json(res, { counts: m.counts(), transitions: { ...this.scheduler.state.transitionCounts } });
      case "/json/task-stream.json":
        return json(res, { head: m.ring.head, entries: m.ring.since(since, PAGE_STREAM_LIMIT) });
      case "/json/identity.json":
        return json(res, this.scheduler.identity());
      case "/events":
        return this.openStream(req, res);
      default:
        return this.routeItem(path, res);
    }
  }

  private routeItem(path: string, res: ServerResponse): void {
    const item = (prefix: string, suffix: string): string | null => {
      if (!path.startsWith(prefix) || !path.endsWith(suffix) || path.length <= prefix.length + suffix.length) return null;
      try {
        return decodeURIComponent(path.slice(prefix.length, path.length - suffix.length));
      } catch {
        return null;
      }
    };
    let x: string | null;
    if ((x = item("/info/worker/", ".html")) !== null) return html(res, 200, workerPage(x));
    if ((x = item("/info/task/", ".html")) !== null) return html(res, 200, taskPage(x));
    if ((x = item("/json/workers/", ".json")) !== null) {
      const w = this.model.worker(x);
      return w ? json(res, w) : json(res, { error: `no worker ${x} is connected` }, 404);
    }
    if ((x = item("/json/tasks/", ".json")) !== null) {
      this.model.fold();
      const t = this.model.task(x);
      return t ? json(res, t) : json(res, { error: `the scheduler does not know task ${x} (never submitted, or released and forgotten)` }, 404);
    }
    html(res, 404, messagePage("Not found", `No page at ${path}.`));
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.write("retry: 2000\n\n");
    const client: SseClient = { res, cursor: Math.max(0, this.model.ring.head - PAGE_STREAM_LIMIT) };
    this.sse.add(client);
    req.socket.setNoDelay(true);
    const drop = (): void => {
      this.sse.delete(client);
      if (this.sse.size === 0) this.stopTimer();
    };
    req.on("close", drop);
    res.on("error", drop);
    this.push([client]);
    if (this.timer === null) {
      this.timer = setInterval(() => this.push(this.sse), this.opts.updateIntervalMs ?? 500);
      this.timer.unref();
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Builds one snapshot and sends it, with each client's unseen stream entries. */
  private push(clients: Iterable<SseClient>): void {
    const snap = this.model.status(this.model.ring.head);
    const { stream: _ignored, ...rest } = snap;
    const tail = JSON.stringify(rest).slice(1);
    for (const c of clients) {
      if (c.res.writableNeedDrain) continue;
      const entries = this.model.ring.since(c.cursor, PAGE_STREAM_LIMIT);
      c.cursor = snap.stream.head;
      c.res.write(`data: {"stream":${JSON.stringify({ head: snap.stream.head, entries })},${tail}\n\n`);
      this.updatesSent++;
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, cache = false): void {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": cache ? "max-age=60" : "no-store", "X-Content-Type-Options": "nosniff" });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function html(res: ServerResponse, status: number, body: string): void {
  res.setHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'");
  send(res, status, "text/html; charset=utf-8", body);
}

function json(res: ServerResponse, body: unknown, status = 200): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/**
 * Starts the dashboard of a scheduler and registers it as the scheduler's
 * `dashboard` service (shown in `identity()`).
 *
 * @example
 * ```ts
 * import { SchedulerServer, startDashboard } from "shoal";
 * const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:8786" }).start();
 * const dashboard = await startDashboard(scheduler, { host: "127.0.0.1", port: 8787 });
 * console.log(`dashboard at ${dashboard.url}`);
 * // ...
 * await dashboard.close();
 * ```
 */
export async function startDashboard(scheduler: SchedulerServer, opts: DashboardOptions = {}): Promise<Dashboard> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`options.port must be an integer in 0..65535, got ${port}`);
  const server = createServer();
  server.keepAliveTimeout = 5000;
  try {
    await listenOn(server, host, port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || !opts.anyPortIfBusy) {
      throw new Error(`dashboard could not listen on ${host}:${port}: ${(err as Error).message}${(err as NodeJS.ErrnoException).code === "EADDRINUSE" ? " (use another --dashboard-address, or port 0 for any free port)" : ""}`, { cause: err });
    }
    await listenOn(server, host, 0);
  }
  const d = new Dashboard(scheduler, server, opts);
  scheduler.services["dashboard"] = d.url;
  return d;
}
