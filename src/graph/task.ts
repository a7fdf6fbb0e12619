/**
 * Client-side task definitions: a function reference, arguments in which
 * dependencies appear as {@link TaskRef}s, and the keys they depend on.
 * `tokenize` gives deterministic keys so that equal subgraphs are shared.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FnRef } from "../code/fnref.ts";
import { collectRefs, FnArg, serialize, TaskRef, type Payload } from "../protocol/serialize.ts";

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

/**
 * The function-replacing half of argument preparation: each function inside
 * task arguments becomes an {@link FnArg} (shipped as a module export,
 * builtin or source, like a task function), and the code bundles it needs
 * are added to `code`; workers swap the functions back in while decoding
 * the arguments (worker/thread.ts). Throws the shipping error, saying that
 * it is about an argument.
 */
export function functionArgs(code: Set<string>, ship: (fn: (...a: never[]) => unknown) => { ref: FnRef; code: string[] }): (fn: (...a: never[]) => unknown) => FnArg {
  return (fn) => {
    let shipped: { ref: FnRef; code: string[] };
    try {
      shipped = ship(fn);
    } catch (err) {
      const e = err as Error;
      e.message = `a task argument is a function that cannot be sent: ${e.message}`;
      throw e;
    }
    for (const h of shipped.code) code.add(h);
    return new FnArg(shipped.ref);
  };
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
