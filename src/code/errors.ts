/** Errors about getting user code to workers. */

/** A task function cannot be shipped (captures variables, not exported, unparsable). */
export class FunctionShippingError extends Error {
  override name = "FunctionShippingError";
  constructor(message: string, readonly fnName: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
  }
}

/** A worker could not load a task's code. */
export class CodeLoadError extends Error {
  override name = "CodeLoadError";
}
