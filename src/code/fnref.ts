/**
 * How a task function is named on the wire. Workers resolve a reference to a
 * function in their own threads (see `resolve.ts`).
 *
 * - `module`: an export of a user module, bundled by the client and fetched
 *   by workers by content hash;
 * - `builtin`: an export of one of Shoal's own modules (path relative to the
 *   package root, so it resolves on any worker's install);
 * - `source`: the source text of a self-contained function.
 */
export type FnRef =
  | { kind: "module"; hash: string; name: string }
  | { kind: "builtin"; path: string; name: string }
  | { kind: "source"; source: string; name: string };

/** The serialized form of a task: function, positional arguments. */
export interface TaskSpec {
  f: FnRef;
  a: unknown[];
}

export function fnRefName(f: FnRef): string {
  return f.name || "anonymous";
}
