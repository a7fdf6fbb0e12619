/**
 * Failures cross process boundaries as records (name, message, stack, data,
 * cause) and are rebuilt on the other side, so the client sees the remote
 * stack and the structured fields of the original error.
 */
import type { ErrorRecord } from "../protocol/messages.ts";

export function errorToRecord(err: unknown, depth = 0): ErrorRecord {
  if (!(err instanceof Error)) {
    return { name: "NonErrorThrown", message: `a non-Error value was thrown: ${safeString(err)}`, stack: "" };
  }
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    if (k === "cause") continue;
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) data[k] = v;
    else data[k] = safeString(v);
  }
  const rec: ErrorRecord = { name: err.name, message: err.message, stack: err.stack ?? "" };
  if (Object.keys(data).length > 0) rec.data = data;
  if (err.cause !== undefined && depth < 5) rec.cause = errorToRecord(err.cause, depth + 1);
  return rec;
}

function safeString(v: unknown): string {
  try {
    return typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
