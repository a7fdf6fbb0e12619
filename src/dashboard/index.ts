/**
 * The dashboard: a web page per scheduler (workers, memory, task stream,
 * progress, per-worker and per-task pages), `/metrics` for Prometheus,
 * `/health`, and terminal progress bars.
 *
 * Imports flow one way: the dashboard imports the engine; the engine knows it
 * only through listener arrays, and {@link LocalCluster} imports this module
 * dynamically when a cluster is asked for a dashboard (`dashboard: true`).
 */
import { LocalCluster, type DashboardStarter } from "../client/local-cluster.ts";
import { dashboardAccessToken, startDashboard } from "./server.ts";

export { Dashboard, DashboardAuthError, dashboardAccessToken, isAllInterfaces, isLoopbackHost, startDashboard, type DashboardOptions } from "./server.ts";
export { DashboardModel, DURATION_BUCKETS, type GroupStats, type ProgressRow, type StatusSnapshot, type WorkerRow } from "./model.ts";
export { renderMetrics, PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
export { progress, type ProgressInput, type ProgressOptions, type ProgressSummary } from "./progress.ts";

/**
 * Starts the dashboard of a {@link LocalCluster} whose `dashboard` option
 * asks for one; LocalCluster imports this module lazily for it.
 *
 * Access follows `shoal scheduler`: on loopback no token is needed (one may
 * be given: `dashboard: { address, accessToken }`); beyond loopback the
 * dashboard's `accessToken`, else the cluster's `token`, is required, and
 * with neither the cluster refuses to start unless the dashboard option says
 * `allowUnauthenticated: true`.
 *
 * @example
 * ```ts
 * const cluster = await LocalCluster.start({ nworkers: 2, dashboard: "127.0.0.1:0" });
 * console.log(cluster.dashboardUrl);
 * ```
 */
export const clusterDashboard: DashboardStarter = (scheduler, a) => {
  const auth = dashboardAccessToken(a.host, { dashboardToken: a.accessToken, clusterToken: a.clusterToken });
  return startDashboard(scheduler, {
    host: a.host,
    port: a.port,
    anyPortIfBusy: a.anyPortIfBusy,
    ...(auth ? { accessToken: auth.token } : {}),
    ...(a.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
    ...(a.unref ? { unref: true } : {}),
  });
};

/**
 * Makes clusters started afterwards use the built-in dashboard. Clusters
 * load it by themselves when their `dashboard` option asks for one, so this
 * is needed only to undo a custom {@link LocalCluster.useDashboard}.
 */
export function installDashboard(): void {
  LocalCluster.useDashboard(clusterDashboard);
}
