// Dashboard access token: every route but /health needs it (query token →
// cookie + redirect, Bearer header, cookie); 401 without it; the host rule
// (loopback or not) for startDashboard, LocalCluster and `shoal scheduler`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { SchedulerServer } from "../../src/scheduler/server.ts";
import { LocalCluster } from "../../src/client/local-cluster.ts";
import {
  dashboardAccessToken,
  DashboardAuthError,
  installDashboard,
  isAllInterfaces,
  isLoopbackHost,
  startDashboard,
  type Dashboard,
} from "../../src/dashboard/index.ts";
import { SHOAL, startShoal, waitFor } from "../support/cli.ts";

const TOKEN = "s3cret-token-for-the-test";

/** Every kind of route: pages, JSON, the event stream, metrics, static files, a 404 page. */
const ROUTES = [
  "/",
  "/status",
  "/info/main/workers.html",
  "/info/worker/tcp%3A%2F%2F127.0.0.1%3A1.html",
  "/info/task/some-key.html",
  "/json/status.json",
  "/json/workers.json",
  "/json/workers/tcp%3A%2F%2F127.0.0.1%3A1.json",
  "/json/tasks/some-key.json",
  "/json/progress.json",
  "/json/task-stream.json?since=0",
  "/json/counts.json",
  "/json/identity.json",
  "/events",
  "/metrics",
  "/static/dashboard.js",
  "/static/dashboard.css",
  "/no-such-page",
];

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET without following redirects; `/events` is read up to its first snapshot and then dropped. */
function get(d: Dashboard, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, d.url), { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
        if (res.headers["content-type"]?.startsWith("text/event-stream") && body.includes("data: ")) {
          req.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body });
        }
      });
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A status that says the route served its own answer (200, or the 302 of `/`, or the 404s of unknown items). */
function served(path: string, r: Reply): void {
  const expected = path === "/" ? 302 : /some-key\.json|%3A1\.json|no-such-page/.test(path) ? 404 : 200;
  assert.equal(r.status, expected, `${path}: ${r.status} ${r.body.slice(0, 200)}`);
}

function assertDenied(path: string, r: Reply): void {
  assert.equal(r.status, 401, `${path} without the token`);
  assert.match(String(r.headers["content-type"]), /^text\/plain/);
  assert.equal(r.headers["www-authenticate"], 'Bearer realm="shoal dashboard"');
  assert.match(r.body, /\?token=TOKEN/);
  assert.match(r.body, /Authorization: Bearer TOKEN/);
  assert.doesNotMatch(r.body, /tcp:\/\/|shoal_|"workers"|127\.0\.0\.1/, `${path}: a 401 carries no data`);
  assert.equal(r.headers["set-cookie"], undefined);
}

describe("a dashboard with an access token", () => {
  let scheduler: SchedulerServer;
  let d: Dashboard;
  before(async () => {
    scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0" }).start();
    d = await startDashboard(scheduler, { port: 0, accessToken: TOKEN });
  });
  after(async () => {
    await d.close();
    await scheduler.close();
  });

  test("every route but /health gives 401 without the token, and no data", async () => {
    assert.equal(d.tokenRequired, true);
    for (const path of ROUTES) assertDenied(path, await get(d, path));
    const head = await get(d, "/json/status.json", {}, "HEAD");
    assert.equal(head.status, 401);
    assert.equal(head.body, "");
    const health = await get(d, "/health");
    assert.equal(health.status, 200);
    assert.equal(health.body, "ok");
  });

  test("a wrong token is refused however it is given, even next to a valid cookie", async () => {
    const cookie = await signIn(d);
    for (const path of ["/status", "/json/status.json", "/events", "/metrics"]) {
      const sep = path.includes("?") ? "&" : "?";
      for (const r of [
        await get(d, `${path}${sep}token=wrong`),
        await get(d, `${path}${sep}token=`),
        await get(d, path, { authorization: "Bearer wrong" }),
        await get(d, path, { authorization: `Bearer ${TOKEN}x` }),
        await get(d, path, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` }),
        await get(d, path, { cookie: `${cookie.split("=")[0]}=forged` }),
        await get(d, path, { cookie: `shoal-dashboard-1=${cookie.split("=")[1]}` }),
        await get(d, `${path}${sep}token=wrong`, { cookie }),
        await get(d, path, { authorization: "Bearer wrong", cookie }),
      ]) {
        assert.equal(r.status, 401, `${path}: ${r.body}`);
      }
    }
    assert.match((await get(d, "/status?token=wrong")).body, /the access token given is wrong/);
    assert.match((await get(d, "/status")).body, /no access token was given/);
  });

  test("?token= on a page sets an HttpOnly, SameSite=Strict cookie and redirects to the URL without it", async () => {
    const r = await get(d, `/status?token=${encodeURIComponent(TOKEN)}`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, "/status");
    const set = r.headers["set-cookie"];
    assert.ok(Array.isArray(set) && set.length === 1, "one cookie");
    const c = set[0]!;
    assert.match(c, new RegExp(`^shoal-dashboard-${d.port}=[A-Za-z0-9_-]+; `));
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; SameSite=Strict/);
    assert.match(c, /; Path=\//);
    assert.ok(!c.includes(TOKEN), "the cookie is not the token itself (cookies reach every port of the host)");
    const other = await get(d, `/info/task/k.html?a=1&token=${TOKEN}&b=2`);
    assert.equal(other.status, 302);
    assert.equal(other.headers.location, "/info/task/k.html?a=1&b=2", "other parameters are kept");
    const root = await get(d, `/?token=${TOKEN}`);
    assert.equal(root.headers.location, "/");
  });

  test("every route gives its answer with the cookie, the Bearer header, or (off pages) the query token", async () => {
    const cookie = await signIn(d);
    for (const path of ROUTES) {
      served(path, await get(d, path, { cookie: `other=1; ${cookie}; more=2` }));
      served(path, await get(d, path, { authorization: `Bearer ${TOKEN}` }));
      served(path, await get(d, path, { authorization: `bearer  ${TOKEN}` }));
      const withToken = `${path}${path.includes("?") ? "&" : "?"}token=${TOKEN}`;
      const q = await get(d, withToken);
      if (path === "/" || path === "/status" || path.startsWith("/info/")) {
        assert.equal(q.status, 302, withToken);
        served(path, await get(d, q.headers.location as string, { cookie: (q.headers["set-cookie"] as string[])[0]!.split(";")[0]! }));
      } else {
        served(path, q);
      }
    }
    const events = await get(d, "/events", { cookie });
    assert.match(String(events.headers["content-type"]), /^text\/event-stream/);
    assert.match(events.body, /^data: \{"stream":/m);
    assert.match((await get(d, "/metrics", { authorization: `Bearer ${TOKEN}` })).body, /^shoal_workers\{status="running"\} 0$/m);
  });

  test("the token never reaches the URL, identity or logs of the dashboard", async () => {
    assert.ok(!d.url.includes(TOKEN));
    assert.equal(scheduler.services["dashboard"], d.url);
    const id = await get(d, "/json/identity.json", { authorization: `Bearer ${TOKEN}` });
    assert.ok(!id.body.includes(TOKEN));
  });
});

/** Trades the query token for the cookie; returns `name=value`. */
async function signIn(d: Dashboard): Promise<string> {
  const r = await get(d, `/status?token=${TOKEN}`);
  assert.equal(r.status, 302);
  return (r.headers["set-cookie"] as string[])[0]!.split(";")[0]!;
}

test("host classification: loopback, all interfaces, and everything else", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "[::ffff:127.0.0.5]"]) {
    assert.equal(isLoopbackHost(h), true, h);
  }
  for (const h of ["0.0.0.0", "::", "[::]", "10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "fe80::1%eth0", "example.com", "127.evil.example", "127", ""]) {
    assert.equal(isLoopbackHost(h), false, h);
  }
  for (const h of ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", ""]) assert.equal(isAllInterfaces(h), true, h);
  for (const h of ["127.0.0.1", "10.0.0.5", "::1", "example.com"]) assert.equal(isAllInterfaces(h), false, h);
});

test("which token: explicit anywhere, the cluster token beyond loopback only, else none", () => {
  assert.deepEqual(dashboardAccessToken("0.0.0.0", { dashboardToken: "d", clusterToken: "c" }), { token: "d", source: "dashboard" });
  assert.deepEqual(dashboardAccessToken("0.0.0.0", { clusterToken: "c" }), { token: "c", source: "cluster" });
  assert.deepEqual(dashboardAccessToken("10.1.2.3", { dashboardToken: "", clusterToken: "c" }), { token: "c", source: "cluster" });
  assert.deepEqual(dashboardAccessToken("127.0.0.1", { dashboardToken: "d" }), { token: "d", source: "dashboard" });
  assert.equal(dashboardAccessToken("127.0.0.1", { clusterToken: "c" }), null);
  assert.equal(dashboardAccessToken("0.0.0.0", {}), null);
});

test("startDashboard refuses a host beyond loopback without a token, before listening", async () => {
  const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0" }).start();
  try {
    // 0.0.0.0 must not be bound on this machine: both refusals happen before listen().
    await assert.rejects(startDashboard(scheduler, { host: "0.0.0.0", port: 0 }), (e: Error) => {
      assert.ok(e instanceof DashboardAuthError);
      assert.equal(e.name, "DashboardAuthError");
      assert.equal(e.host, "0.0.0.0");
      assert.match(e.message, /refusing to serve the dashboard on 0\.0\.0\.0 without an access token.*options\.accessToken.*allowUnauthenticated/);
      return true;
    });
    await assert.rejects(startDashboard(scheduler, { host: "0.0.0.0", port: 0, accessToken: "" }), /options\.accessToken must be a non-empty string/);
    assert.equal(scheduler.services["dashboard"], undefined);
    const open = await startDashboard(scheduler, { port: 0 });
    try {
      assert.equal(open.tokenRequired, false, "loopback needs no token");
      assert.equal(open.listenAddress, `127.0.0.1:${open.port}`);
      assert.equal((await get(open, "/json/workers.json")).status, 200);
    } finally {
      await open.close();
    }
  } finally {
    await scheduler.close();
  }
});

test("LocalCluster: a dashboard beyond loopback needs a token; loopback does not", async () => {
  installDashboard();
  try {
    await assert.rejects(LocalCluster.start({ nworkers: 0, dashboard: "0.0.0.0:0" }), DashboardAuthError);
    await assert.rejects(LocalCluster.start({ nworkers: 0, dashboard: { address: "[::]:0" } }), DashboardAuthError);
    const c = await LocalCluster.start({ nworkers: 0, dashboard: { address: "127.0.0.1:0", accessToken: TOKEN } });
    try {
      const url = c.dashboardUrl!;
      assert.ok(!url.includes(TOKEN));
      assert.equal((await fetch(new URL("/json/status.json", url))).status, 401);
      assert.equal((await fetch(new URL("/json/status.json", url), { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    } finally {
      await c.close();
    }
    const plain = await LocalCluster.start({ nworkers: 0, token: "cluster-only", dashboard: "127.0.0.1:0" });
    try {
      const r = await fetch(new URL("/json/status.json", plain.dashboardUrl!));
      assert.equal(r.status, 200, "on loopback the cluster token is not applied to the dashboard");
      await r.text();
    } finally {
      await plain.close();
    }
  } finally {
    LocalCluster.useDashboard(null);
  }
});

// ---------------------------------------------------------------- the CLI, as real processes

async function stop(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  const exited = new Promise<number | null>((r) => p.once("exit", (c) => r(c)));
  p.kill("SIGTERM");
  return exited;
}

function shoalSync(args: string[], env: Record<string, string | undefined> = {}): { status: number | null; out: string } {
  const base = { ...process.env };
  delete base["SHOAL_TOKEN"];
  delete base["SHOAL_DASHBOARD_TOKEN"];
  const r = spawnSync(process.execPath, [SHOAL, ...args], { encoding: "utf8", env: { ...base, SHOAL_QUIET: "0", ...env }, timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test("shoal scheduler refuses a dashboard beyond loopback without any token, before listening", () => {
  const r = shoalSync(["scheduler", "--port", "0", "--dashboard-address", "0.0.0.0:0"]);
  assert.equal(r.status, 2, r.out);
  assert.match(r.out, /refusing to serve the dashboard on 0\.0\.0\.0 without an access token/);
  assert.match(r.out, /--dashboard-token/);
  assert.match(r.out, /--dashboard-no-auth/);
  assert.doesNotMatch(r.out, /listening at/, "nothing was started");
  const v6 = shoalSync(["scheduler", "--port", "0", "--dashboard-address", "[::]:0"]);
  assert.equal(v6.status, 2, v6.out);
  assert.match(v6.out, /refusing to serve the dashboard on ::/);
  const both = shoalSync(["scheduler", "--port", "0", "--dashboard-address", "0.0.0.0:0", "--dashboard-no-auth", "--dashboard-token", "x"]);
  assert.equal(both.status, 2);
  assert.match(both.out, /contradict/);
  const empty = shoalSync(["scheduler", "--port", "0", "--dashboard-token", ""]);
  assert.equal(empty.status, 2);
  assert.match(empty.out, /--dashboard-token must not be empty/);
});

test("shoal scheduler --dashboard-token on loopback: the log names the address and not the token; the token is required", async () => {
  const s = startShoal(["scheduler", "--port", "0", "--dashboard-address", "127.0.0.1:0", "--dashboard-token", TOKEN]);
  try {
    await waitFor(() => /dashboard at http:\/\/127\.0\.0\.1:\d+\/status/.test(s.output()), "the dashboard log line");
    const line = /^.*dashboard at .*$/m.exec(s.output())![0];
    assert.match(line, /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)status \(access token required: open \1status\?token=<the dashboard token> once/);
    assert.ok(!s.output().includes(TOKEN), "the token is never logged");
    const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)status/.exec(s.output())![1]!;
    assert.equal((await fetch(new URL("/health", url))).status, 200);
    const denied = await fetch(new URL("/json/identity.json", url));
    assert.equal(denied.status, 401);
    await denied.text();
    const id = (await (await fetch(new URL("/json/identity.json", url), { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { services: Record<string, string> };
    assert.equal(id.services["dashboard"], url);
  } finally {
    assert.equal(await stop(s.proc), 0);
  }
});

/** Whether this machine lets an unprivileged process open its own network namespace (where binding 0.0.0.0 is allowed). */
const netns = spawnSync("unshare", ["-rn", "sh", "-c", "ip link set lo up"], { encoding: "utf8" }).status === 0;

test("shoal scheduler --dashboard-address 0.0.0.0 --token logs the real bind address, never the token", { skip: netns ? false : "needs `unshare -rn` (a private network namespace) to bind 0.0.0.0" }, async () => {
  // In a private network namespace (only its own loopback), so nothing is exposed.
  const script = `ip link set lo up && exec "${process.execPath}" "${SHOAL}" scheduler --port 0 --dashboard-address 0.0.0.0:0 --token "$T"`;
  const { spawn } = await import("node:child_process");
  const proc = spawn("unshare", ["-rn", "sh", "-c", script], { env: { ...process.env, SHOAL_QUIET: "0", T: TOKEN }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  try {
    await waitFor(() => /dashboard listening on/.test(out) || proc.exitCode !== null, "the dashboard log line");
    assert.match(out, /dashboard listening on 0\.0\.0\.0:(\d+) \(all interfaces; open http:\/\/127\.0\.0\.1:\1\/status\?token=<the cluster token> from this machine\)/);
    assert.doesNotMatch(out, /dashboard at http:\/\/127/, "the log does not claim loopback");
    assert.ok(!out.includes(TOKEN), "the token is never logged");
  } finally {
    await stop(proc);
  }
});

test("shoal scheduler --dashboard-no-auth beyond loopback starts with a warning", { skip: netns ? false : "needs `unshare -rn` to bind 0.0.0.0" }, async () => {
  const script = `ip link set lo up && exec "${process.execPath}" "${SHOAL}" scheduler --port 0 --dashboard-address 0.0.0.0:0 --dashboard-no-auth`;
  const { spawn } = await import("node:child_process");
  const env: Record<string, string | undefined> = { ...process.env, SHOAL_QUIET: "0" };
  delete env["SHOAL_TOKEN"];
  delete env["SHOAL_DASHBOARD_TOKEN"];
  const proc = spawn("unshare", ["-rn", "sh", "-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  try {
    await waitFor(() => /dashboard listening on/.test(out) || proc.exitCode !== null, "the dashboard log line");
    assert.match(out, /warning: serving 0\.0\.0\.0:\d+ without an access token/);
    assert.match(out, /dashboard listening on 0\.0\.0\.0:(\d+) \(all interfaces; open http:\/\/127\.0\.0\.1:\1\/status from this machine; no access token\)/);
  } finally {
    await stop(proc);
  }
});
