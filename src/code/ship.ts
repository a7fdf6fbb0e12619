/**
 * Client side of code shipping: turns a task function into a {@link FnRef}.
 *
 * 1. A function exported by one of Shoal's own modules → `builtin` (workers
 *    import it from their own installation).
 * 2. A function exported by a user module → the module is bundled with
 *    esbuild (its local imports and npm packages included; Shoal and Shoal's
 *    dependencies left external), identified by the sha256 of the bundle,
 *    uploaded once per scheduler, cached by workers.
 * 3. Otherwise its source text travels, if it is self-contained; a function
 *    that captures outer variables is refused with an error saying how to fix it.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { FunctionShippingError } from "./errors.ts";
import type { FnRef } from "./fnref.ts";
import { freeVariables } from "./free-vars.ts";
import { locateFunction } from "./locate.ts";
import { CODE_ROOT, PACKAGE_ROOT } from "./resolve.ts";

export interface ShippedFunction {
  ref: FnRef;
  /** Hashes of code bundles this function needs on the worker. */
  code: string[];
}

/** Bundles built in this process, by hash (uploaded by clients on first use). */
export const bundles = new Map<string, Uint8Array>();
const byFunction = new WeakMap<object, ShippedFunction>();
const byModule = new Map<string, { mtimeMs: number; hash: string; exports: Set<string> }>();

let externals: string[] | null = null;
function externalPackages(): string[] {
  if (externals) return externals;
  const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, "utf8")) as { dependencies?: Record<string, string> };
  externals = ["shoal", ...Object.keys(pkg.dependencies ?? {})];
  return externals;
}

/** Builds (or reuses) the bundle of a module file; returns its hash and export names. */
export function bundleModule(path: string): { hash: string; exports: Set<string> } {
  const mtimeMs = statSync(path).mtimeMs;
  const hit = byModule.get(path);
  if (hit && hit.mtimeMs === mtimeMs) return hit;
  const result = buildSync({
    entryPoints: [path],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    metafile: true,
    outfile: "bundle.mjs",
    external: externalPackages().flatMap((e) => [e, `${e}/*`]),
    sourcemap: "inline",
    sourcesContent: false,
    keepNames: true,
    logLevel: "silent",
    banner: { js: "import { createRequire as __shoalCreateRequire } from 'node:module'; const require = __shoalCreateRequire(import.meta.url);" },
  });
  const out = result.outputFiles.find((f) => f.path.endsWith(".mjs"))!;
  const hash = createHash("sha256").update(out.contents).digest("hex");
  const meta = Object.values(result.metafile!.outputs)[0]!;
  const entry = { mtimeMs, hash, exports: new Set(meta.exports) };
  bundles.set(hash, out.contents);
  byModule.set(path, entry);
  return entry;
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep);
}

/** Describes how workers get `fn`. Throws {@link FunctionShippingError} when they cannot. */
export function shipFunction(fn: (...args: never[]) => unknown): ShippedFunction {
  if (typeof fn !== "function") throw new TypeError(`a task function is required, got ${typeof fn}`);
  const cached = byFunction.get(fn);
  if (cached) return cached;
  const name = fn.name;
  const url = locateFunction(fn);
  let shipped: ShippedFunction | null = null;
  if (url && url.startsWith("file:") && name !== "") {
    const path = fileURLToPath(url);
    if (isInside(path, CODE_ROOT)) {
      const rel = relative(CODE_ROOT, path).replace(/\.(ts|js)$/, "").split(sep).join("/");
      shipped = { ref: { kind: "builtin", path: rel, name }, code: [] };
    } else {
      try {
        const b = bundleModule(path);
        if (b.exports.has(name)) shipped = { ref: { kind: "module", hash: b.hash, name }, code: [b.hash] };
      } catch (err) {
        throw new FunctionShippingError(`cannot bundle ${path} for function '${name}': ${(err as Error).message}`, name, { cause: err });
      }
    }
  }
  if (!shipped) shipped = shipSource(fn, url);
  byFunction.set(fn, shipped);
  return shipped;
}

function shipSource(fn: (...args: never[]) => unknown, url: string | null): ShippedFunction {
  const name = fn.name || "anonymous";
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new FunctionShippingError(`function '${name}' is native or bound; wrap it in an exported module function`, name);
  }
  let free: string[];
  try {
    free = freeVariables(source);
  } catch (err) {
    throw new FunctionShippingError(`cannot parse the source of function '${name}' to send it to workers: ${(err as Error).message}`, name, { cause: err });
  }
  if (free.length > 0) {
    const where = url && url.startsWith("file:") ? fileURLToPath(url) : "its module";
    throw new FunctionShippingError(
      `function '${name}' uses variables from outside its body (${free.join(", ")}), so its text alone cannot run on a worker. ` +
        `Either export it from ${where} (\`export function ${name === "anonymous" ? "myTask" : name}(...)\`), so workers import the module, ` +
        `or pass ${free.length === 1 ? "that value" : "those values"} as arguments.`,
      name,
    );
  }
  return { ref: { kind: "source", source, name }, code: [] };
}
