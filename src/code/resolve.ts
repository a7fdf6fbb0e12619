/**
 * Worker-side resolution of {@link FnRef}s to callable functions. Runs inside
 * executor threads. Modules are imported once per thread and cached.
 */
import { dirname, join, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { FnRef } from "./fnref.ts";
import { CodeLoadError } from "./errors.ts";

/** Root of the Shoal package (the folder holding package.json). */
export const PACKAGE_ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Source tree root in use: `src` when running TypeScript sources, `dist` when compiled. */
export const CODE_ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), "..");
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

const fnCache = new Map<string, (...args: unknown[]) => unknown>();

// esbuild's keepNames helper appears in the text of functions compiled by tsx.
(globalThis as Record<string, unknown>)["__name"] ??= (f: unknown, name: string) => {
  try {
    Object.defineProperty(f, "name", { value: name, configurable: true });
  } catch {
    /* ignore */
  }
  return f;
};

/** Path of a builtin module (given relative to the code root without extension). */
export function builtinPath(rel: string): string {
  return join(CODE_ROOT, rel + EXT);
}

function fnCacheKey(ref: FnRef): string {
  return ref.kind === "source" ? `s:${ref.source}` : ref.kind === "module" ? `m:${ref.hash}:${ref.name}` : `b:${ref.path}:${ref.name}`;
}

export async function resolveFn(ref: FnRef, codeDir: string): Promise<(...args: unknown[]) => unknown> {
  const cacheKey = fnCacheKey(ref);
  const hit = fnCache.get(cacheKey);
  if (hit) return hit;
  let fn: unknown;
  if (ref.kind === "source") {
    try {
      fn = (0, eval)(`(${ref.source})`);
    } catch (err) {
      try {
        fn = (0, eval)(`({${ref.source}})`)[ref.name];
      } catch {
        throw new CodeLoadError(`cannot compile the source of function '${ref.name}'`, { cause: err });
      }
    }
  } else {
    const url = ref.kind === "module" ? pathToFileURL(join(codeDir, `${ref.hash}.mjs`)).href : pathToFileURL(builtinPath(ref.path)).href;
    let ns: Record<string, unknown>;
    try {
      ns = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new CodeLoadError(`cannot import module for function '${ref.name}' (${ref.kind === "module" ? "bundle " + ref.hash.slice(0, 12) : ref.path})`, { cause: err });
    }
    fn = ns[ref.name];
  }
  if (typeof fn !== "function") {
    throw new CodeLoadError(`'${ref.name}' is not a function in ${ref.kind === "module" ? "the uploaded module" : ref.kind === "builtin" ? ref.path : "the given source"}`);
  }
  fnCache.set(cacheKey, fn as (...args: unknown[]) => unknown);
  return fn as (...args: unknown[]) => unknown;
}

/** A function already resolved in this thread, or undefined (then {@link resolveFn} loads it). */
export function resolvedFn(ref: FnRef): ((...args: unknown[]) => unknown) | undefined {
  return fnCache.get(fnCacheKey(ref));
}
