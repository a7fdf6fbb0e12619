/**
 * Exit codes of a worker process (`src/worker/process.ts`), read by the
 * nanny of `shoal worker` (`src/cli/worker.ts`) and by LocalCluster.
 *
 * | code | meaning | the nanny |
 * |---|---|---|
 * | 0 | stopped on request (SIGINT/SIGTERM, parent gone) | — |
 * | 3 | could not start (scheduler unreachable, token refused) | does not restart; exits 1 |
 * | 4 | gave up on a lost scheduler (`--death-timeout` passed, or it refused the worker for good) | does not restart; exits 4 |
 * | 70 | past the terminate fraction of its memory limit | restarts it |
 */
export const WorkerExit = {
  stopped: 0,
  cannotStart: 3,
  schedulerLost: 4,
  memory: 70,
} as const;
export type WorkerExit = (typeof WorkerExit)[keyof typeof WorkerExit];
