/**
 * The dashboard: a web page per scheduler (workers, memory, task stream,
 * progress, per-worker and per-task pages), `/metrics` for Prometheus,
 * `/health`, and terminal progress bars.
 *
 * Imports flow one way: the dashboard imports the engine; the engine knows it
 * only through listener arrays and {@link LocalCluster.useDashboard}.
 */
import { LocalCluster } from "../client/local-cluster.ts";
import { startDashboard } from "./server.ts";

export { Dashboard, startDashboard, type DashboardOptions } from "./server.ts";
export { DashboardModel, DURATION_BUCKETS, type GroupStats, type ProgressRow, type StatusSnapshot, type WorkerRow } from "./model.ts";
export { renderMetrics, PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
export { progress, type ProgressInput, type ProgressOptions, type ProgressSummary } from "./progress.ts";

/**
 * Makes every {@link LocalCluster} started afterwards serve a dashboard
 * (its `dashboard` option). The `shoal` package entry calls this.
 *
 * @example
 * ```ts
 * installDashboard();
 * const cluster = await LocalCluster.start({ nworkers: 2, dashboard: "127.0.0.1:0" });
 * console.log(cluster.dashboardUrl);
 * ```
 */
export function installDashboard(): void {
  LocalCluster.useDashboard((scheduler, a) => startDashboard(scheduler, { host: a.host, port: a.port, anyPortIfBusy: a.anyPortIfBusy }));
}
