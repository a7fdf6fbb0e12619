/** `shoal scheduler`: run a scheduler in the foreground. */
import { parseArgs } from "node:util";
import { SchedulerServer } from "../scheduler/server.ts";
import { formatAddress } from "../comm/address.ts";
import { log } from "../utils/log.ts";
import { isLoopback, runCli, tlsFromFlags, UsageError } from "./options.ts";
import { dashboardAccessToken, isAllInterfaces, isLoopbackHost, startDashboard, type Dashboard } from "../dashboard/index.ts";

const USAGE = `usage: shoal scheduler [options]

  --host HOST            address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)
  --port PORT            port (default 8786; 0 = any free port)
  --protocol tcp|tls     transport (default tcp; tls needs --tls-cert and --tls-key)
  --token TOKEN          cluster token clients and workers must present (or SHOAL_TOKEN);
                         required when listening on anything but loopback
  --worker-ttl SECONDS   remove workers silent for this long (default 30)
  --tls-cert FILE --tls-key FILE [--tls-ca FILE]
                         certificate, key and CA for tls:// (default SHOAL_TLS_CERT,
                         SHOAL_TLS_KEY, SHOAL_TLS_CA: PEM file paths)
  --scheduler-file FILE  write the scheduler address to FILE (JSON) for workers and clients
  --dashboard-address HOST:PORT
                         where the web dashboard listens (default 127.0.0.1:8787; :PORT keeps
                         127.0.0.1; port 0 = any free port)
  --dashboard-token TOKEN
                         access token the dashboard requires (or SHOAL_DASHBOARD_TOKEN); beyond
                         loopback it defaults to the cluster token, and one of them is required
  --dashboard-no-auth    serve a dashboard beyond loopback without a token (logs a warning)
  --no-dashboard         do not serve the dashboard`;

export async function run(argv: string[]): Promise<number> {
  return runCli("scheduler", USAGE, async () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        protocol: { type: "string" },
        token: { type: "string" },
        "worker-ttl": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca": { type: "string" },
        "scheduler-file": { type: "string" },
        "dashboard-address": { type: "string" },
        "dashboard-token": { type: "string" },
        "dashboard-no-auth": { type: "boolean" },
        "no-dashboard": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const host = values.host ?? "127.0.0.1";
    const port = values.port === undefined ? 8786 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer in 0..65535, got '${values.port}'`);
    const protocol = values.protocol ?? (values["tls-cert"] ? "tls" : "tcp");
    if (protocol !== "tcp" && protocol !== "tls") throw new UsageError(`--protocol must be tcp or tls, got '${protocol}'`);
    const token = values.token ?? process.env["SHOAL_TOKEN"];
    if (!isLoopback(host) && !token) {
      throw new UsageError(
        `refusing to listen on ${host} without a cluster token: anyone who can reach the port could run code on your workers. ` +
          `Pass --token SECRET (or set SHOAL_TOKEN) here and on every worker and client.`,
      );
    }
    const ttl = values["worker-ttl"] === undefined ? undefined : Number(values["worker-ttl"]);
    if (ttl !== undefined && !(ttl > 0)) throw new UsageError(`--worker-ttl must be a positive number of seconds`);
    const dashboardAt = values["no-dashboard"] ? null : parseHostPort(values["dashboard-address"] ?? "127.0.0.1:8787");
    const dashboardAuth = dashboardAt ? dashboardAccess(dashboardAt.host, values, token) : null;
    const tls = protocol === "tls" ? tlsFromFlags(values) : undefined;
    if (protocol === "tls" && !tls) throw new UsageError("tls needs --tls-cert and --tls-key (or SHOAL_TLS_CERT and SHOAL_TLS_KEY)");
    const server = new SchedulerServer({
      address: formatAddress(protocol, host, port),
      ...(token ? { token } : {}),
      ...(ttl !== undefined ? { workerTtl: ttl } : {}),
      ...(tls ? { listen: { tls } } : {}),
    });
    await server.start();
    log("scheduler", `listening at ${server.address}${token ? " (token required)" : ""}`);
    let dashboard: Dashboard | null = null;
    if (dashboardAt) {
      try {
        // Like Dask: when the default port is taken, serve on any free port (the log line says which).
        dashboard = await startDashboard(server, {
          ...dashboardAt,
          anyPortIfBusy: values["dashboard-address"] === undefined,
          ...(dashboardAuth?.token ? { accessToken: dashboardAuth.token } : {}),
          ...(dashboardAuth?.noAuth ? { allowUnauthenticated: true } : {}),
        });
      } catch (err) {
        await server.close();
        throw err;
      }
      log("scheduler", dashboardLine(dashboard, dashboardAuth?.source ?? null));
    }
    if (values["scheduler-file"]) {
      // temp file + rename: a reader never sees a half-written file
      const { writeFileSync, renameSync } = await import("node:fs");
      const tmp = `${values["scheduler-file"]}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ address: server.address, id: server.id }) + "\n");
      renameSync(tmp, values["scheduler-file"]);
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string): void => {
        log("scheduler", `${sig}: shutting down`);
        resolve();
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    await dashboard?.close();
    await server.close();
    return 0;
  });
}

/**
 * The dashboard's access token, checked before anything listens: explicit
 * (--dashboard-token, SHOAL_DASHBOARD_TOKEN) anywhere; beyond loopback the
 * cluster token by default; with none beyond loopback, a refusal unless
 * --dashboard-no-auth.
 */
function dashboardAccess(
  host: string,
  values: { "dashboard-token"?: string | undefined; "dashboard-no-auth"?: boolean | undefined },
  clusterToken: string | undefined,
): { token?: string; source: "dashboard" | "cluster" | null; noAuth: boolean } {
  const flag = values["dashboard-token"];
  if (flag === "") throw new UsageError("--dashboard-token must not be empty");
  if (values["dashboard-no-auth"]) {
    if (flag !== undefined) throw new UsageError("--dashboard-no-auth and --dashboard-token contradict each other: give one");
    return { source: null, noAuth: !isLoopbackHost(host) };
  }
  const chosen = dashboardAccessToken(host, { dashboardToken: flag ?? process.env["SHOAL_DASHBOARD_TOKEN"], clusterToken });
  if (chosen) return { token: chosen.token, source: chosen.source, noAuth: false };
  if (!isLoopbackHost(host)) {
    throw new UsageError(
      `refusing to serve the dashboard on ${host} without an access token: anyone who can reach the port could see task keys, worker addresses and task errors. ` +
        `Pass --token SECRET (or set SHOAL_TOKEN; the dashboard then requires the cluster token), or --dashboard-token SECRET (or set SHOAL_DASHBOARD_TOKEN), ` +
        `or --dashboard-no-auth to serve it openly anyway.`,
    );
  }
  return { source: null, noAuth: false };
}

/** Where the dashboard listens and how to open it; names the token's source, never the token. */
function dashboardLine(d: Dashboard, source: "dashboard" | "cluster" | null): string {
  const query = source ? `?token=<the ${source === "cluster" ? "cluster" : "dashboard"} token>` : "";
  const bound = d.listenAddress.replace(/:\d+$/, "");
  if (isLoopbackHost(bound)) {
    return `dashboard at ${d.url}status${source ? ` (access token required: open ${d.url}status${query} once, or send 'Authorization: Bearer <token>')` : ""}`;
  }
  const all = isAllInterfaces(bound);
  return `dashboard listening on ${d.listenAddress} (${all ? "all interfaces; " : ""}open ${d.url}status${query}${all ? " from this machine" : ""}${source ? "" : "; no access token"})`;
}

function parseHostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(":");
  const host = i > 0 ? text.slice(0, i).replace(/^\[(.*)\]$/, "$1") : "127.0.0.1";
  const port = Number(i >= 0 ? text.slice(i + 1) : text);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (i >= 0 && text.slice(i + 1) === "")) {
    throw new UsageError(`--dashboard-address must be HOST:PORT or :PORT with a port in 0..65535, got '${text}'`);
  }
  return { host, port };
}
