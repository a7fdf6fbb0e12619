/**
 * The dashboard: a web page per scheduler (workers, memory, task stream,
 * progress, per-worker and per-task pages), `/metrics` for Prometheus,
 * `/health`, and terminal progress bars.
 *
 * Imports flow one way: the dashboard imports the engine; the engine knows it
 * only through listener arrays and {@link LocalCluster.useDashboard}.
 */
import { LocalCluster } from "../client/local-cluster.ts";
import { dashboardAccessToken, startDashboard } from "./server.ts";

export { Dashboard, DashboardAuthError, dashboardAccessToken, isAllInterfaces, isLoopbackHost, startDashboard, type DashboardOptions } from "./server.ts";
export { DashboardModel, DURATION_BUCKETS, type GroupStats, type ProgressRow, type StatusSnapshot, type WorkerRow } from "./model.ts";
export { renderMetrics, PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
export { progress, type ProgressInput, type ProgressOptions, type ProgressSummary } from "./progress.ts";

/**
 * Makes every {@link LocalCluster} started afterwards serve a dashboard
 * (its `dashboard` option). The `shoal` package entry calls this.
 *
 * Access follows `shoal scheduler`: on loopback no token is needed (one may
 * be given: `dashboard: { address, accessToken }`); beyond loopback the
 * dashboard's `accessToken`, else the cluster's `token`, is required, and
 * with neither the cluster refuses to start unless the dashboard option says
 * `allowUnauthenticated: true`.
 *
 * @example
 * ```ts
 * installDashboard();
 * const cluster = await LocalCluster.start({ nworkers: 2, dashboard: "127.0.0.1:0" });
 * console.log(cluster.dashboardUrl);
 * ```
 */
export function installDashboard(): void {
  LocalCluster.useDashboard((scheduler, a) => {
    const auth = dashboardAccessToken(a.host, { dashboardToken: a.accessToken, clusterToken: a.clusterToken });
    return startDashboard(scheduler, {
      host: a.host,
      port: a.port,
      anyPortIfBusy: a.anyPortIfBusy,
      ...(auth ? { accessToken: auth.token } : {}),
      ...(a.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
    });
  });
}
