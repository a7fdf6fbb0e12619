/**
 * `shoal/mpi`: SPMD programs in the shape of mpi4py, launched with
 * `shoal mpirun -n 4 prog.ts`. Ranks are worker threads of one process that
 * talk through SharedArrayBuffer rings (docs/mpi.md says why).
 *
 * @example
 * ```ts
 * import { COMM_WORLD as comm } from "shoal/mpi";
 * const total = await comm.allreduce(comm.rank, "sum");
 * ```
 *
 * Outside `shoal mpirun` the program runs as a single rank (size 1), as an
 * mpi4py program run without mpirun does.
 */
import { Comm } from "./comm.ts";
import { createJobMemory, Endpoint, type JobMemory } from "./transport.ts";

export { Comm, Request, Status, ANY_SOURCE, ANY_TAG, IN_PLACE, MpiAbortRequest, type TypedArray } from "./comm.ts";
export { SUM, PROD, MIN, MAX, LAND, LOR, BAND, BOR, MAXLOC, MINLOC, createOp, type Op, type OpName, type UserOp } from "./ops.ts";
export { MpiArgumentError, MpiTruncateError, MpiAbortedError } from "./errors.ts";

/** What the rank thread leaves on globalThis for this module (any copy of it) to find. */
export interface RankContext {
  rank: number;
  mem: JobMemory;
  spinUs: number;
}
const KEY = Symbol.for("shoal.mpi.context");
const ENDPOINT = Symbol.for("shoal.mpi.endpoint");

function worldEndpoint(): Endpoint {
  const g = globalThis as Record<symbol, unknown>;
  let ep = g[ENDPOINT] as Endpoint | undefined;
  if (ep === undefined) {
    const ctx = g[KEY] as RankContext | undefined;
    ep = ctx ? new Endpoint(ctx.rank, ctx.mem, ctx.spinUs) : new Endpoint(0, createJobMemory(1, 1 << 16), 0);
    g[ENDPOINT] = ep;
  }
  return ep;
}

const ep = worldEndpoint();
/** Every rank of the job. */
export const COMM_WORLD: Comm = new Comm(ep, Array.from({ length: ep.size }, (_, i) => i), 0);
/** This rank alone. */
export const COMM_SELF: Comm = new Comm(ep, [ep.rank], 1 << 30, "COMM_SELF");

/** Seconds since an arbitrary point, with sub-microsecond resolution (MPI_Wtime). */
export function Wtime(): number {
  return performance.now() / 1000;
}
