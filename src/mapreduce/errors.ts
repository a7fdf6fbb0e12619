/**
 * Errors of MapReduce jobs. Each class sets `name` and accepts `{ cause }`.
 *
 * @module
 */

/** A job definition or its options are invalid (no steps, a step without mapper or reducer, bad option). */
export class JobDefinitionError extends Error {
  override readonly name = "JobDefinitionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A mapper, combiner or reducer failed: it threw, or (streaming) exited
 * non-zero. Names the step, the phase, the input split or partition, and
 * for external commands the tail of their stderr. Not retried: run the job
 * inline (`-r inline`) to debug it.
 */
export class MapReduceTaskError extends Error {
  override readonly name = "MapReduceTaskError";
  constructor(
    message: string,
    readonly phase: "mapper" | "combiner" | "reducer",
    readonly step: number,
    /** The input split (`url:start-end`) or reduce partition (`partition N`). */
    readonly input: string,
    readonly stderrTail = "",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
