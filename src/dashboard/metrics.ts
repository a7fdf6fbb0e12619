/**
 * Prometheus text exposition (format 0.0.4) of a scheduler's state: workers,
 * threads, tasks by state, memory per worker, bytes transferred and task
 * durations per group. Built from {@link DashboardModel} snapshots; costs
 * O(workers + groups) per scrape.
 */
import { DURATION_BUCKETS, type DashboardModel } from "./model.ts";

/** Content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Escapes a label value (backslash, double quote, newline). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

class Writer {
  readonly lines: string[] = [];
  family(name: string, type: "gauge" | "counter" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: Record<string, string>, value: number): void {
    const l = Object.entries(labels);
    const ls = l.length === 0 ? "" : `{${l.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
    this.lines.push(`${name}${ls} ${fmt(value)}`);
  }
}

/**
 * Renders all metrics as Prometheus text.
 *
 * @example
 * ```ts
 * const text = renderMetrics(model); // "# HELP shoal_workers ...\nshoal_workers 2\n..."
 * ```
 */
export function renderMetrics(model: DashboardModel): string {
  model.fold();
  const s = model.scheduler;
  const w = new Writer();
  const workers = model.workers();

  w.family("shoal_workers", "gauge", "Workers connected to the scheduler, by status.");
  const byStatus: Record<string, number> = { running: 0, paused: 0, closing: 0 };
  for (const r of workers) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  for (const [st, n] of Object.entries(byStatus)) w.sample("shoal_workers", { status: st }, n);

  w.family("shoal_threads", "gauge", "Worker threads in the cluster.");
  w.sample("shoal_threads", {}, workers.reduce((a, r) => a + r.nthreads, 0));

  w.family("shoal_tasks", "gauge", "Tasks known to the scheduler, by state.");
  const counts = model.counts();
  for (const st of ["released", "waiting", "queued", "no-worker", "processing", "memory", "erred"]) w.sample("shoal_tasks", { state: st }, counts[st] ?? 0);

  w.family("shoal_task_transitions_total", "counter", "Task transitions into each state since the scheduler started.");
  for (const [st, n] of Object.entries(s.state.transitionCounts)) w.sample("shoal_task_transitions_total", { state: st }, n);

  w.family("shoal_worker_memory_bytes", "gauge", "Worker memory by kind: rss (process), managed (stored results), heap, spilled (on disk), limit.");
  for (const r of workers) {
    for (const [kind, v] of [["rss", r.rss], ["managed", r.managed], ["heap", r.heap], ["spilled", r.spilled], ["limit", r.memoryLimit]] as const) {
      w.sample("shoal_worker_memory_bytes", { worker: r.address, name: r.name, kind }, v);
    }
  }
  w.family("shoal_worker_tasks_processing", "gauge", "Tasks assigned to each worker and not finished.");
  for (const r of workers) w.sample("shoal_worker_tasks_processing", { worker: r.address, name: r.name }, r.processing);
  w.family("shoal_worker_cpu_percent", "gauge", "Worker process CPU use between its last two heartbeats (100 = one core).");
  for (const r of workers) w.sample("shoal_worker_cpu_percent", { worker: r.address, name: r.name }, r.cpu);
  w.family("shoal_worker_transfer_bytes_total", "counter", "Bytes each worker received from peers (dependencies).");
  for (const r of workers) w.sample("shoal_worker_transfer_bytes_total", { worker: r.address, name: r.name }, r.transferBytes);

  const comm = s.commBytes();
  w.family("shoal_scheduler_comm_bytes", "gauge", "Bytes through the scheduler's open connections, by direction.");
  w.sample("shoal_scheduler_comm_bytes", { direction: "in" }, comm.in);
  w.sample("shoal_scheduler_comm_bytes", { direction: "out" }, comm.out);

  w.family("shoal_task_duration_seconds", "histogram", "Durations of finished tasks by group, since the dashboard started.");
  for (const g of model.groups.values()) {
    let cum = 0;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      cum += g.buckets[i]!;
      w.sample("shoal_task_duration_seconds_bucket", { group: g.name, le: fmt(DURATION_BUCKETS[i]!) }, cum);
    }
    cum += g.buckets[DURATION_BUCKETS.length]!;
    w.sample("shoal_task_duration_seconds_bucket", { group: g.name, le: "+Inf" }, cum);
    w.sample("shoal_task_duration_seconds_sum", { group: g.name }, g.durationSum);
    w.sample("shoal_task_duration_seconds_count", { group: g.name }, g.durationCount);
  }
  w.family("shoal_task_failures_total", "counter", "Task runs that raised an error on a worker, by group.");
  for (const g of model.groups.values()) w.sample("shoal_task_failures_total", { group: g.name }, g.failedRuns);

  w.family("shoal_dashboard_stream_lost_total", "counter", "Task-stream entries overwritten before the dashboard counted them.");
  w.sample("shoal_dashboard_stream_lost_total", {}, model.lost);
  return w.lines.join("\n") + "\n";
}
