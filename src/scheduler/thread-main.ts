/**
 * Entry of the scheduler thread (see `scheduler/thread.ts`): starts a
 * SchedulerServer (and the built-in dashboard when asked), reports its
 * address, then answers the LocalCluster's requests until told to close.
 */
import { parentPort, workerData } from "node:worker_threads";
import { SchedulerServer } from "./server.ts";
import type { SchedulerThreadOptions, ThreadReady, ThreadReply, ThreadRequest } from "./thread.ts";

const port = parentPort!;
const opts = workerData as SchedulerThreadOptions;

let scheduler: SchedulerServer;
let dashboard: { url: string; close(): Promise<void> } | null = null;
try {
  scheduler = await new SchedulerServer(opts.scheduler).start();
  if (opts.dashboard !== null) {
    // loaded only when asked for, as LocalCluster does: the dashboard is a leaf nothing imports statically
    const { clusterDashboard } = await import("../dashboard/index.ts");
    dashboard = await clusterDashboard(scheduler, { ...opts.dashboard, unref: true });
  }
  port.postMessage({ ready: true, address: scheduler.address, dashboardUrl: dashboard?.url ?? null } satisfies ThreadReady);
} catch (err) {
  const e = err as Error;
  port.postMessage({ ready: false, error: e.message, name: e.name } satisfies ThreadReady);
  process.exit(1);
}

port.on("message", (req: ThreadRequest) => {
  void (async (): Promise<ThreadReply> => {
    try {
      switch (req.op) {
        case "workers":
          return { id: req.id, ok: true, value: scheduler.state.workers.size };
        case "close-workers":
          scheduler.closeWorkers(req.reason);
          return { id: req.id, ok: true };
        case "close":
          await dashboard?.close();
          await scheduler.close();
          return { id: req.id, ok: true };
      }
    } catch (err) {
      return { id: req.id, ok: false, error: (err as Error).message };
    }
  })().then((reply) => port.postMessage(reply));
});
