/**
 * Entry point of one worker process: `node process.js '<json WorkerOptions>'`.
 * Started by LocalCluster and by `shoal worker` (through its nanny). Exits
 * cleanly on SIGINT/SIGTERM, and when its parent goes away.
 */
import { readdirSync, rmSync, rmdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { WorkerServer, type WorkerOptions } from "./server.ts";
import { log } from "../utils/log.ts";
import { WorkerExit } from "./exit-codes.ts";

/**
 * When the program that started this worker's LocalCluster died without
 * closing it (SIGKILL, a crash), the cluster's scratch folder has no owner
 * left to remove it: each worker removes its own folder on the way out, and
 * the last one out removes the cluster's (the `owner` file aside, nothing
 * else lives there). Linearizable: whichever worker removes its folder last
 * finds the others' gone.
 */
function removeOrphanedFolders(own: string | undefined): void {
  const cluster = process.env["SHOAL_LOCAL_CLUSTER_DIR"];
  if (!own || !cluster || dirname(own) !== cluster) return;
  try {
    rmSync(own, { recursive: true, force: true });
    const left = readdirSync(cluster).filter((e) => e !== "owner");
    if (left.length > 0) return;
    rmSync(join(cluster, "owner"), { force: true });
    rmdirSync(cluster);
  } catch {
    // another worker got there first, or the folder is in use again: the next LocalCluster's sweep handles leftovers
  }
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (!raw) throw new Error("worker process needs its options as a JSON argument");
  const opts = JSON.parse(raw) as WorkerOptions;
  const w = new WorkerServer({
    ...opts,
    // past the terminate fraction of its memory limit the process exits; the
    // nanny (`shoal worker`) starts a fresh one, the scheduler recomputes
    onTerminate: () => process.exit(WorkerExit.memory),
  });
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    if (why === "parent exited") process.on("exit", () => removeOrphanedFolders(opts.localDirectory));
    log("worker", `${w.name}: stopping (${why})`);
    void w.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("disconnect", () => stop("parent exited"));
  try {
    await w.start();
  } catch (err) {
    log("worker", `${w.name}: cannot start: ${(err as Error).message}`);
    process.exit(WorkerExit.cannotStart);
  }
  process.send?.({ type: "ready", address: w.address, name: w.name });
  await w.finished;
  // a worker that gave up on a lost scheduler did not stop on request: say so to the nanny or the shell
  process.exit(w.gaveUp !== null ? WorkerExit.schedulerLost : WorkerExit.stopped);
}

void main();
