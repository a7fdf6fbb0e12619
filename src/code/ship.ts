/**
 * Client side of code shipping: turns a task function into a {@link FnRef}.
 *
 * 1. A function exported by one of Shoal's own modules → `builtin` (workers
 *    import it from their own installation).
 * 2. A function exported by a user module → the module is bundled with
 *    esbuild (its local imports and npm packages included; Shoal and Shoal's
 *    dependencies left external), identified by the sha256 of the bundle,
 *    uploaded once per scheduler, cached by workers. Bundles are also kept
 *    on the client's disk (`bundle-cache.ts`), so a program run again skips
 *    esbuild, and {@link prepareShipping} builds the program's entry script
 *    in the background while `Client.connect` waits for the cluster.
 * 3. Otherwise its source text travels, if it is self-contained; a function
 *    that captures outer variables is refused with an error saying how to fix it.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildOptions, BuildResult } from "esbuild";
import { bundleKey, readBundle, sha256, writeBundle, type CachedBundle } from "./bundle-cache.ts";
import { FunctionShippingError } from "./errors.ts";
import type { FnRef } from "./fnref.ts";
import { freeVariables } from "./free-vars.ts";
import { locateFunction, prepareLocator } from "./locate.ts";
import { CODE_ROOT, PACKAGE_ROOT } from "./resolve.ts";

export interface ShippedFunction {
  ref: FnRef;
  /** Hashes of code bundles this function needs on the worker. */
  code: string[];
}

/** Bundles built in this process, by hash (uploaded by clients on first use). */
export const bundles = new Map<string, Uint8Array>();
const byFunction = new WeakMap<object, ShippedFunction>();
const byModule = new Map<string, ModuleBundle>();

// esbuild is loaded when a module is first bundled, not with this module:
// every executor thread that imports `shoal` loads this file (~50 ms saved each)
const requireEsbuild = createRequire(import.meta.url);
let esbuildModule: typeof import("esbuild") | null = null;
function esbuild(): typeof import("esbuild") {
  return (esbuildModule ??= requireEsbuild("esbuild") as typeof import("esbuild"));
}

let externals: string[] | null = null;
function externalPackages(): string[] {
  if (externals) return externals;
  const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, "utf8")) as { dependencies?: Record<string, string> };
  externals = ["shoal", ...Object.keys(pkg.dependencies ?? {})];
  return externals;
}

/**
 * How this process got its bundles, for tests and benchmarks: `builds` ran
 * esbuild, `diskHits` came from the on-disk cache.
 */
export const bundleStats = { builds: 0, diskHits: 0 };

type ModuleBundle = { mtimeMs: number; hash: string; exports: Set<string>; inputs: readonly string[] };

function buildOptions(path: string): BuildOptions & { metafile: true; write: false } {
  return {
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
  };
}

let recipeText: string | null = null;
/** What, besides the inputs, decides a bundle's bytes: esbuild's version and the options. */
function recipe(): string {
  if (recipeText) return recipeText;
  // the version from package.json: a bundle found on disk needs no esbuild at all
  const { version } = requireEsbuild("esbuild/package.json") as { version: string };
  recipeText = JSON.stringify({ esbuild: version, options: buildOptions("") });
  return recipeText;
}

function remember(path: string, mtimeMs: number, b: CachedBundle): ModuleBundle {
  const entry = { mtimeMs, hash: b.hash, exports: new Set(b.exports), inputs: b.inputs };
  bundles.set(b.hash, b.contents);
  byModule.set(path, entry);
  return entry;
}

/** Keeps a fresh build: in this process and on disk. */
function keep(path: string, mtimeMs: number, key: string, result: BuildResult<{ metafile: true; write: false }>): ModuleBundle {
  const out = result.outputFiles.find((f) => f.path.endsWith(".mjs"))!;
  const hash = sha256(out.contents);
  const exports = Object.values(result.metafile.outputs)[0]!.exports;
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith("(")).map((p) => (isAbsolute(p) ? p : resolve(p)));
  const b = { hash, contents: out.contents, exports, inputs };
  writeBundle(key, b);
  return remember(path, mtimeMs, b);
}

/** The bundle of `path` from this process's memory or the disk cache, with the disk cache key. */
function lookup(path: string): { hit: ModuleBundle | null; mtimeMs: number; key: string } {
  const mtimeMs = statSync(path).mtimeMs;
  const hit = byModule.get(path);
  if (hit && hit.mtimeMs === mtimeMs) return { hit, mtimeMs, key: "" };
  const key = bundleKey(recipe(), path, readFileSync(path));
  const cached = readBundle(key);
  if (!cached) return { hit: null, mtimeMs, key };
  bundleStats.diskHits++;
  return { hit: remember(path, mtimeMs, cached), mtimeMs, key };
}

/** Builds (or reuses) the bundle of a module file; returns its hash and export names. */
export function bundleModule(path: string): { hash: string; exports: Set<string> } {
  const { hit, mtimeMs, key } = lookup(path);
  if (hit) return hit;
  bundleStats.builds++;
  return keep(path, mtimeMs, key, esbuild().buildSync(buildOptions(path)));
}

const prebuilds = new Map<string, Promise<ModuleBundle | null>>();
/** Most modules imported by the entry script that {@link prepareShipping} bundles ahead of use. */
const PREBUNDLE_IMPORTS = 16;

/**
 * Builds the bundle of `path` in the background (esbuild's service process),
 * so that a later {@link bundleModule} of it finds it ready. Never throws: a
 * module that cannot be bundled fails later, when one of its functions is shipped.
 */
export function prebundleModule(path: string): Promise<ModuleBundle | null> {
  let p = prebuilds.get(path);
  if (p) return p;
  p = (async () => {
    const { hit, mtimeMs, key } = lookup(path);
    if (hit) return hit;
    const result = await esbuild().build(buildOptions(path));
    // a synchronous build of the same file that finished first wins
    const done = byModule.get(path);
    if (done?.mtimeMs === mtimeMs) return done;
    bundleStats.builds++;
    return keep(path, mtimeMs, key, result);
  })().catch(() => null);
  prebuilds.set(path, p);
  return p;
}

/** A program's entry script that may hold task functions: a file outside Shoal and outside node_modules. */
function userEntry(entry: string | undefined): string | null {
  if (!entry || !isAbsolute(entry) || !/\.(ts|mts|tsx|js|mjs|jsx)$/.test(entry)) return null;
  if (isInside(entry, CODE_ROOT) || isInside(entry, join(PACKAGE_ROOT, "bin")) || entry.split(sep).includes("node_modules")) return null;
  try {
    return statSync(entry).isFile() ? entry : null;
  } catch {
    return null;
  }
}

/**
 * Gets this process ready to ship functions while it waits (for a cluster to
 * start, for a scheduler to answer): opens the inspector session that finds
 * functions' files, and bundles the program's entry script (`process.argv[1]`)
 * and the program's own modules it imports, where task functions live, in
 * the background (at most {@link PREBUNDLE_IMPORTS} of them). The promise
 * settles when those builds are done (tests await it; callers need not).
 */
export async function prepareShipping(entry: string | undefined = process.argv[1]): Promise<void> {
  prepareLocator();
  const path = userEntry(entry);
  if (!path) return;
  // the entry first, then the program's own modules it imports (task functions
  // often live in one of them), each its own bundle as shipFunction makes them
  const b = await prebundleModule(path);
  // a program that imports Shoal's own sources by path (Shoal's tests) bundles
  // them into each of its modules: too costly to do for modules it may never ship from
  if (!b || b.inputs.some((p) => isInside(p, CODE_ROOT))) return;
  const local = b.inputs.filter((p) => p !== path && userEntry(p) !== null).slice(0, PREBUNDLE_IMPORTS);
  await Promise.all(local.map((p) => prebundleModule(p)));
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
