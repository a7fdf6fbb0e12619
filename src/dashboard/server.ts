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
 *   `/json/counts.json`, `/json/identity.json`,
 *   `/json/story/<key>.json` — the scheduler's logged transitions of that key
 *   (`{ key, story: [[key, start, finish, stimulusId, time], ...] }`)
 * - `/events` — server-sent events: one status snapshot per interval
 *   (500 ms) with the task-stream entries that client has not seen (≤ 1000).
 *   The sampling timer runs only while at least one page is connected, and a
 *   client whose socket is backed up is skipped rather than buffered.
 *
 * Access (as Jupyter's): with {@link DashboardOptions.accessToken} set, every
 * route but `/health` needs the token, given once as `?token=…` (a page then
 * sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL
 * without it), as `Authorization: Bearer …` (Prometheus, scripts), or by that
 * cookie; anything else gets 401 and no data. A host other than loopback
 * needs a token unless {@link DashboardOptions.allowUnauthenticated}.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import { log } from "../utils/log.ts";
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
  /**
   * Access token: when set, every route but `/health` needs it (`?token=…`
   * once in a browser, `Authorization: Bearer …`, or the cookie the first
   * sets). Needed when `host` is not loopback, unless `allowUnauthenticated`.
   * See {@link dashboardAccessToken} for the usual choice (a cluster's token).
   */
  accessToken?: string;
  /** Serve a host other than loopback without an access token (logs a warning; default false). */
  allowUnauthenticated?: boolean;
  /**
   * Neither the server nor open pages hold the process open (the dashboard
   * of an embedded cluster goes away with the program). Default false.
   */
  unref?: boolean;
}

/** The dashboard would listen beyond loopback without an access token. */
export class DashboardAuthError extends Error {
  override name = "DashboardAuthError";
  constructor(readonly host: string) {
    super(
      `refusing to serve the dashboard on ${host} without an access token: anyone who can reach the port could read task keys, worker addresses and task errors. ` +
        `Set options.accessToken (a LocalCluster uses its token option), listen on 127.0.0.1, or set options.allowUnauthenticated to serve it openly anyway.`,
    );
  }
}

/** Whether `host` (a name or an address, IPv6 with or without brackets) is this machine's loopback interface only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.split(".")[0] === "127";
  const v6 = normalizeIPv6(h);
  return v6 === "::1" || (v6 !== null && /^::ffff:7f[0-9a-f]{2}:/.test(v6));
}

/** Whether `host` means every interface (`0.0.0.0`, `::`, or empty). */
export function isAllInterfaces(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  return h === "" || h === "0.0.0.0" || normalizeIPv6(h) === "::";
}

function normalizeIPv6(h: string): string | null {
  if (isIP(h) !== 6) return null;
  try {
    return new URL(`http://[${h}]/`).hostname.slice(1, -1);
  } catch {
    return null; // zone ids (fe80::1%eth0)
  }
}

/**
 * The access token a dashboard on `host` should require: an explicit
 * dashboard token wherever it listens; else, beyond loopback, the cluster
 * token; else none (`null`: on loopback that is fine, beyond it
 * {@link startDashboard} refuses unless told `allowUnauthenticated`).
 *
 * @example
 * ```ts
 * const auth = dashboardAccessToken("0.0.0.0", { clusterToken: process.env.SHOAL_TOKEN });
 * await startDashboard(scheduler, { host: "0.0.0.0", ...(auth ? { accessToken: auth.token } : {}) });
 * ```
 */
export function dashboardAccessToken(
  host: string,
  tokens: { dashboardToken?: string | undefined; clusterToken?: string | undefined },
): { token: string; source: "dashboard" | "cluster" } | null {
  if (tokens.dashboardToken) return { token: tokens.dashboardToken, source: "dashboard" };
  if (tokens.clusterToken && !isLoopbackHost(host)) return { token: tokens.clusterToken, source: "cluster" };
  return null;
}

const UNAUTHORIZED = (why: string): string =>
  `401 Unauthorized: ${why}. This dashboard needs its access token (--dashboard-token / SHOAL_DASHBOARD_TOKEN, else the cluster token, --token / SHOAL_TOKEN):\n` +
  `  in a browser, open /status?token=TOKEN once (a cookie then keeps you signed in);\n` +
  `  from scripts and Prometheus, send the header 'Authorization: Bearer TOKEN'.\n`;

/** Checks requests against one access token; compares SHA-256 digests in constant time. */
class AccessCheck {
  private readonly tokenDigest: Buffer;
  /** The cookie holds an HMAC of the token, not the token: cookies go to every port of the host. */
  private readonly cookieValue: string;
  private readonly cookieDigest: Buffer;
  readonly cookieName: string;

  constructor(token: string, port: number) {
    this.tokenDigest = digest(token);
    this.cookieValue = createHmac("sha256", token).update("shoal-dashboard-cookie").digest("base64url");
    this.cookieDigest = digest(this.cookieValue);
    this.cookieName = `shoal-dashboard-${port}`;
  }

  token(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.tokenDigest);
  }

  cookie(header: string | undefined): boolean {
    for (const part of (header ?? "").split(";")) {
      const i = part.indexOf("=");
      if (i > 0 && part.slice(0, i).trim() === this.cookieName && timingSafeEqual(digest(part.slice(i + 1).trim()), this.cookieDigest)) return true;
    }
    return false;
  }

  setCookie(): string {
    return `${this.cookieName}=${this.cookieValue}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Routes that are pages a browser navigates to: a `?token=` there is swapped for the cookie by a redirect. */
function isPage(path: string): boolean {
  return path === "/" || path === "/status" || path.startsWith("/info/");
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
  private readonly access: AccessCheck | null;
  /** Live-update snapshots sent (for tests and the overhead benchmark). */
  updatesSent = 0;

  /** @internal use {@link startDashboard} */
  constructor(readonly scheduler: SchedulerServer, readonly server: Server, private readonly opts: DashboardOptions) {
    this.model = new DashboardModel(scheduler, opts);
    this.access = opts.accessToken ? new AccessCheck(opts.accessToken, this.port) : null;
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
  }

  /**
   * `http://HOST:PORT/` of the dashboard as seen from this machine: a
   * dashboard on every interface (`0.0.0.0`, `::`) shows `127.0.0.1`; see
   * {@link Dashboard.listenAddress} for where it really listens. Never
   * carries the access token.
   */
  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${a.port}/`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Where the server is bound, `HOST:PORT` (`0.0.0.0:8787`, `[::]:8787`, `127.0.0.1:8787`). */
  get listenAddress(): string {
    const a = this.server.address() as AddressInfo;
    return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** Whether requests need the access token (see {@link DashboardOptions.accessToken}). */
  get tokenRequired(): boolean {
    return this.access !== null;
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
    if (path === "/health") return send(res, 200, "text/plain; charset=utf-8", "ok");
    if (this.access && !this.admit(this.access, req, res, url)) return;
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

  /**
   * Whether the request carries the access token; when not, the response
   * (401, or the redirect that trades a page's `?token=` for the cookie) is sent.
   * A token that is given and wrong is refused even with a valid cookie.
   */
  private admit(access: AccessCheck, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const query = url.searchParams.get("token");
    if (query !== null) {
      if (!access.token(query)) return this.deny(res, "the access token given is wrong");
      if (!isPage(url.pathname)) return true;
      url.searchParams.delete("token");
      res.setHeader("Set-Cookie", access.setCookie());
      res.setHeader("Location", `${url.pathname}${url.search}`);
      send(res, 302, "text/plain; charset=utf-8", "signed in; see the same page without the token\n");
      return false;
    }
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (m && access.token(m[1]!)) return true;
      return this.deny(res, m ? "the access token given is wrong" : "the Authorization header must be 'Bearer TOKEN'");
    }
    if (access.cookie(req.headers.cookie)) return true;
    return this.deny(res, "no access token was given");
  }

  private deny(res: ServerResponse, why: string): false {
    res.setHeader("WWW-Authenticate", 'Bearer realm="shoal dashboard"');
    send(res, 401, "text/plain; charset=utf-8", UNAUTHORIZED(why));
    return false;
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
    if ((x = item("/json/story/", ".json")) !== null) return json(res, { key: x, story: this.scheduler.state.story([x]) });
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
  res.writeHead(status, { "Content-Type": type, "Cache-Control": cache ? "private, max-age=60" : "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" });
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
 * `dashboard` service (shown in `identity()`, without the token). Throws
 * {@link DashboardAuthError}, before listening, for a host other than
 * loopback with neither `accessToken` nor `allowUnauthenticated`.
 *
 * @example
 * ```ts
 * import { SchedulerServer, startDashboard } from "shoal";
 * const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:8786" }).start();
 * const dashboard = await startDashboard(scheduler, { host: "127.0.0.1", port: 8787 });
 * console.log(`dashboard at ${dashboard.url}`);
 * // beyond loopback, with a token: open http://HOST:8788/status?token=SECRET once
 * const shared = await startDashboard(scheduler, { host: "0.0.0.0", port: 8788, accessToken: "SECRET" });
 * // ...
 * await shared.close();
 * await dashboard.close();
 * ```
 */
export async function startDashboard(scheduler: SchedulerServer, opts: DashboardOptions = {}): Promise<Dashboard> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`options.port must be an integer in 0..65535, got ${port}`);
  if (opts.accessToken !== undefined && (typeof opts.accessToken !== "string" || opts.accessToken === "")) {
    throw new TypeError("options.accessToken must be a non-empty string");
  }
  const open = opts.accessToken === undefined && !isLoopbackHost(host);
  if (open && !opts.allowUnauthenticated) throw new DashboardAuthError(host);
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
  if (opts.unref) {
    server.unref();
    server.on("connection", (sock) => sock.unref());
  }
  const d = new Dashboard(scheduler, server, opts);
  if (open) log("dashboard", `warning: serving ${d.listenAddress} without an access token (allowUnauthenticated / --dashboard-no-auth): anyone who can reach it can read task keys, worker addresses and task errors`);
  scheduler.services["dashboard"] = d.url;
  return d;
}
