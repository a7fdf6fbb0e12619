/**
 * `shoal/elastic`: workers that come and go with the work.
 *
 * - {@link pool} / {@link mapConcurrent}: `multiprocessing.Pool.map` and
 *   bounded-concurrency async maps (also exported from `shoal`).
 * - {@link executor}: a serverless-style executor (Lithops shape) on an
 *   adaptive cluster that starts with no workers.
 * - {@link Adaptive} (`cluster.adapt()`), {@link retireWorkers}, launchers
 *   (local, SSH, Slurm), {@link ElasticCluster}, {@link SlurmCluster}.
 *
 * See `docs/elastic.md`.
 *
 * @module
 */
export { pool, Pool, defaultChunksize, type PoolOptions, type PoolMapOptions } from "./pool.ts";
export { mapConcurrent, type MapConcurrentOptions } from "./concurrent.ts";
export { ElasticArgumentError, LauncherError, RetireError, SlurmError } from "./errors.ts";
export { Adaptive, type AdaptOptions, type AdaptDecision } from "./adapt.ts";
export { retireWorkers, type RetireResult } from "./retire.ts";
export { LocalProcessLauncher, SshLauncher, type Launcher, type LaunchedWorker, type SshLauncherOptions } from "./launcher.ts";
export { ElasticCluster, type ElasticClusterOptions } from "./cluster.ts";
export { adaptiveTarget, workersToClose, type AdaptiveTarget, type AdaptiveTargetOptions } from "../scheduler/adaptive.ts";
export { executor, Executor, CallFuture, type ExecutorOptions, type MapOptions, type MapReduceOptions, type ReturnWhen as ExecutorReturnWhen, type JobSummary } from "./executor.ts";
export type { ObjChunk } from "./obj-tasks.ts";
export { SlurmCluster, SlurmLauncher, slurmJobScript, type SlurmClusterOptions, type SlurmJobOptions } from "./slurm.ts";
