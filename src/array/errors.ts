/**
 * Errors of `shoal/array`. Each class has a stable `code` and accepts `{ cause }`.
 *
 * | class | code | retriable |
 * |---|---|---|
 * | {@link ArrayShapeError} | `array-shape` | no |
 * | {@link ArrayChunkError} | `array-chunks` | no |
 * | {@link ArrayArgumentError} | `array-argument` | no |
 * | {@link NpyFormatError} | `array-npy-format` | no |
 *
 * @module
 */
import { ShoalError } from "../utils/errors.ts";

/** Shapes do not broadcast or do not match; the message names both shapes. */
export class ArrayShapeError extends ShoalError {
  override name = "ArrayShapeError";
  override readonly code = "array-shape";
  override readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Chunks do not fit the operation; the message says which `rechunk` fixes it. */
export class ArrayChunkError extends ShoalError {
  override name = "ArrayChunkError";
  override readonly code = "array-chunks";
  override readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An invalid argument (axis out of range, unknown dtype, bad slice). */
export class ArrayArgumentError extends ShoalError {
  override name = "ArrayArgumentError";
  override readonly code = "array-argument";
  override readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A `.npy` file is not in NumPy's format (or uses a dtype Shoal does not have). */
export class NpyFormatError extends ShoalError {
  override name = "NpyFormatError";
  override readonly code = "array-npy-format";
  override readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
