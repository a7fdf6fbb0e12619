/**
 * Errors of Bag collections. Each class sets `name` and accepts `{ cause }`.
 *
 * @module
 */

/** A Bag was used with invalid arguments (bad fraction, npartitions, missing key...). */
export class BagArgumentError extends Error {
  override readonly name = "BagArgumentError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A user function given to a Bag failed on a worker; names the operation and partition. */
export class BagTaskError extends Error {
  override readonly name = "BagTaskError";
  constructor(
    message: string,
    /** The operation that failed (`map`, `filter`, ...). */
    readonly op: string,
    /** Index of the partition being processed. */
    readonly partition: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
