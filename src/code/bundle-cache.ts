/**
 * The client's on-disk cache of code bundles, so that a program run again
 * (or another program shipping the same module) does not run esbuild.
 *
 * An entry is found by a key made of the bundle's recipe: the cache format,
 * esbuild's version, the build options, the working directory (the bundle's
 * source map names files relative to it), the entry's path and the sha256 of
 * the entry's content. Its manifest lists every file esbuild read (local
 * imports, bundled npm packages) with the sha256 of its content; a hit
 * re-reads and re-hashes them, so an edit to any input is a miss, not a stale
 * bundle. The bundle is stored under its own sha256 and checked on read.
 *
 * Where: `SHOAL_CODE_CACHE_DIR`, else `<os.tmpdir()>/shoal-code-cache-<uid>`;
 * `SHOAL_CODE_CACHE_DIR=off` turns the cache off. The cache is best effort:
 * a folder that cannot be read or written means a build, never an error.
 * Entries unused for {@link MAX_AGE_MS} are removed when a new one is written.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Bumped when the layout or the meaning of an entry changes. */
const FORMAT = "shoal-bundle-cache/1";
/** Entries not used for this long are removed (on the next write). */
export const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** What a cache entry gives back: the bundle, its hash, the module's export names and the files it was built from. */
export interface CachedBundle {
  hash: string;
  contents: Uint8Array;
  exports: string[];
  inputs: string[];
}

interface Manifest {
  format: string;
  hash: string;
  exports: string[];
  /** Every file the build read: absolute path, sha256 of its content. */
  inputs: [string, string][];
}

/** The cache folder in use, or null when `SHOAL_CODE_CACHE_DIR=off`. */
export function bundleCacheDir(): string | null {
  const env = process.env["SHOAL_CODE_CACHE_DIR"];
  if (env === "off") return null;
  if (env !== undefined && env !== "") return env;
  const uid = typeof process.getuid === "function" ? String(process.getuid()) : "user";
  return join(tmpdir(), `shoal-code-cache-${uid}`);
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The key of the bundle of `entry` (whose content is `source`) built with
 * `recipe` (esbuild version and options, serialized by the caller).
 */
export function bundleKey(recipe: string, entry: string, source: Uint8Array): string {
  return sha256(`${FORMAT}\0${recipe}\0${process.cwd()}\0${entry}\0${sha256(source)}`);
}

/** The cached bundle for `key`, when every input it was built from is unchanged; else null. */
export function readBundle(key: string): CachedBundle | null {
  const dir = bundleCacheDir();
  if (!dir) return null;
  try {
    const manifestPath = join(dir, `${key}.json`);
    const m = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
    if (m.format !== FORMAT || typeof m.hash !== "string" || !Array.isArray(m.inputs) || !Array.isArray(m.exports)) return null;
    for (const [path, digest] of m.inputs) {
      if (sha256(readFileSync(path)) !== digest) return null;
    }
    const bundlePath = join(dir, `${m.hash}.mjs`);
    const contents = new Uint8Array(readFileSync(bundlePath));
    if (sha256(contents) !== m.hash) return null;
    const now = new Date();
    utimesSync(manifestPath, now, now);
    utimesSync(bundlePath, now, now);
    return { hash: m.hash, contents, exports: m.exports, inputs: m.inputs.map(([p]) => p) };
  } catch {
    return null;
  }
}

/** Stores a bundle built from `bundle.inputs` (absolute paths) under `key`. Errors are ignored. */
export function writeBundle(key: string, bundle: CachedBundle): void {
  const dir = bundleCacheDir();
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    prune(dir);
    const manifest: Manifest = { format: FORMAT, hash: bundle.hash, exports: bundle.exports, inputs: bundle.inputs.map((p) => [p, sha256(readFileSync(p))]) };
    atomicWrite(join(dir, `${bundle.hash}.mjs`), bundle.contents);
    atomicWrite(join(dir, `${key}.json`), JSON.stringify(manifest));
  } catch {
    /* best effort: the next run builds again */
  }
}

function atomicWrite(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, path);
}

function prune(dir: string): void {
  const cutoff = Date.now() - MAX_AGE_MS;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (statSync(path).mtimeMs < cutoff) unlinkSync(path);
    } catch {
      /* gone already */
    }
  }
}
