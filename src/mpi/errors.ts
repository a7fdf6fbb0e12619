/** Errors of `shoal/mpi`: each names the call and the ranks involved. */
import { ShoalError } from "../utils/errors.ts";

/** A bad argument to an MPI call: a rank outside the communicator, a bad tag, mismatched buffer sizes. */
export class MpiArgumentError extends ShoalError {
  override name = "MpiArgumentError";
  override readonly code = "mpi-argument";
  override readonly retriable = false;
}

/** A received message is larger than the buffer posted for it (MPI_ERR_TRUNCATE). */
export class MpiTruncateError extends ShoalError {
  override name = "MpiTruncateError";
  override readonly code = "mpi-truncate";
  override readonly retriable = false;
}

/** The job was stopped (another rank failed, called abort(), or a deadlock was found) while this rank waited. */
export class MpiAbortedError extends ShoalError {
  override name = "MpiAbortedError";
  override readonly code = "mpi-aborted";
  override readonly retriable = false;
}
