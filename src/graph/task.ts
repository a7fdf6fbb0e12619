/**
 * Client-side task definitions: a function reference, arguments in which
 * dependencies appear as {@link TaskRef}s, and the keys they depend on.
 * `tokenize` gives deterministic keys so that equal subgraphs are shared.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FnRef } from "../code/fnref.ts";
import { collectRefs, serialize, TaskRef, type Payload } from "../protocol/serialize.ts";

export interface TaskDef {
  key: string;
  fn: FnRef;
  args: unknown[];
  deps: string[];
  code: string[];
}

export function makeTask(key: string, fn: FnRef, args: unknown[], code: string[]): TaskDef {
  const refs = new Set<string>();
  collectRefs(args, refs);
  return { key, fn, args, deps: [...refs], code };
}

export function specPayload(t: TaskDef): Payload {
  return serialize({ f: t.fn, a: t.args });
}

/** A deterministic token of a function reference and its arguments. */
export function tokenize(fn: FnRef, args: unknown[]): string {
  const p = serialize({ f: fn.kind === "source" ? fn.source : `${fn.kind}:${"hash" in fn ? fn.hash : fn.path}:${fn.name}`, a: args });
  const h = createHash("sha1").update(p.header);
  for (const f of p.frames) h.update(f);
  return h.digest("hex").slice(0, 24);
}

export function randomToken(): string {
  return randomBytes(12).toString("hex");
}

/** Key-friendly name of a function: no dashes (they separate the group name from the token). */
export function taskName(name: string): string {
  const n = name.replace(/[^A-Za-z0-9_.$]/g, "_");
  return n === "" ? "task" : n;
}

export { TaskRef };
