/**
 * Failures cross process boundaries as records (name, message, stack, data,
 * cause) and are rebuilt on the other side, so the client sees the remote
 * stack and the structured fields of the original error. A Shoal error's
 * `code` and `retriable` travel in `data`, like every other own field.
 */
import type { ErrorRecord } from "../protocol/messages.ts";

/** Causes followed when recording (deeper ones are cut off). */
const MAX_CAUSES = 5;
/** Fields every record has at the top level, never repeated in `data`. */
const OWN = new Set(["name", "message", "stack", "cause"]);

export function errorToRecord(err: unknown, depth = 0): ErrorRecord {
  if (!(err instanceof Error)) {
    return { name: "NonErrorThrown", message: `a non-Error value was thrown: ${safeString(err)}`, stack: "" };
  }
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    if (OWN.has(k)) continue;
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) data[k] = v;
    else if (v !== undefined) data[k] = safeString(v);
  }
  const rec: ErrorRecord = { name: err.name, message: err.message, stack: err.stack ?? "" };
  if (Object.keys(data).length > 0) rec.data = data;
  if (err.cause !== undefined && depth < MAX_CAUSES) rec.cause = errorToRecord(err.cause, depth + 1);
  return rec;
}

/**
 * Rebuilds a record as a plain `Error` with the remote name, message and
 * stack, its `data` fields as own properties (so a remote `err.code` such as
 * `ENOENT` reads the same) and its cause chain. Task failures themselves are
 * rebuilt as their classes by the client (`src/client/errors.ts`).
 */
export function recordToError(r: ErrorRecord): Error {
  const e = new Error(r.message, r.cause ? { cause: recordToError(r.cause) } : {});
  for (const [k, v] of Object.entries(r.data ?? {})) {
    if (!OWN.has(k)) Object.defineProperty(e, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  e.name = r.name;
  e.stack = r.stack || `${r.name}: ${r.message}`;
  return e;
}

function safeString(v: unknown): string {
  try {
    return typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
