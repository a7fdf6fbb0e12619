/**
 * Objects that stand for a task's result (Futures, Delayed values) carry the
 * task key under {@link TASK_KEY}. Before arguments are serialized, such
 * objects are replaced by {@link TaskRef}s, wherever they are nested.
 */
import { TaskRef } from "../protocol/serialize.ts";

export const TASK_KEY: unique symbol = Symbol.for("shoal.taskKey");

export interface HasTaskKey {
  readonly [TASK_KEY]: string;
}

export function isKeyed(v: unknown): v is HasTaskKey {
  return typeof v === "object" && v !== null && TASK_KEY in v;
}

/** Returns `value` with keyed objects replaced by TaskRefs, and reports each keyed object found. */
export function replaceKeyed(value: unknown, found: (obj: HasTaskKey) => void, onFunction?: (fn: (...a: never[]) => unknown) => unknown, depth = 0): unknown {
  if (typeof value === "function" && onFunction) return onFunction(value as (...a: never[]) => unknown);
  if (value === null || typeof value !== "object" || depth > 100) return value;
  if (isKeyed(value)) {
    found(value);
    return new TaskRef(value[TASK_KEY]);
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof TaskRef) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const r = replaceKeyed(value[i], found, onFunction, depth + 1);
      if (r !== value[i]) {
        out ??= value.slice();
        out[i] = r;
      }
    }
    return out ?? value;
  }
  if (value instanceof Map) {
    let changed = false;
    const m = new Map();
    for (const [k, v] of value) {
      const r = replaceKeyed(v, found, onFunction, depth + 1);
      if (r !== v) changed = true;
      m.set(k, r);
    }
    return changed ? m : value;
  }
  if (value instanceof Set) {
    let changed = false;
    const s = new Set();
    for (const v of value) {
      const r = replaceKeyed(v, found, onFunction, depth + 1);
      if (r !== v) changed = true;
      s.add(r);
    }
    return changed ? s : value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    const r = replaceKeyed(v, found, onFunction, depth + 1);
    if (r !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = r;
    }
  }
  return out ?? value;
}
