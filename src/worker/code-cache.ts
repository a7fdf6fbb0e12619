/**
 * The worker's cache of uploaded code bundles, content-addressed by sha256.
 * Bundles import `shoal` and Shoal's own dependencies as externals; the cache
 * folder gets a `node_modules` with links to this worker's installation so
 * that those imports resolve wherever the worker was started.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync, lstatSync } from "node:fs";
import { dirname, join } from "node:path";
import { PACKAGE_ROOT } from "../code/resolve.ts";

export class CodeCache {
  private readonly present = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    linkDependencies(dir);
  }

  has(hash: string): boolean {
    if (this.present.has(hash)) return true;
    if (existsSync(join(this.dir, `${hash}.mjs`))) {
      this.present.add(hash);
      return true;
    }
    return false;
  }

  /** Makes sure every bundle is present, fetching missing ones with `fetch`. */
  async ensure(hashes: readonly string[], fetch: (hash: string) => Promise<Uint8Array>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const h of hashes) {
      if (this.has(h)) continue;
      let p = this.inFlight.get(h);
      if (!p) {
        p = (async () => {
          const code = await fetch(h);
          const tmp = join(this.dir, `.${h}.${process.pid}.tmp`);
          writeFileSync(tmp, code);
          renameSync(tmp, join(this.dir, `${h}.mjs`));
          this.present.add(h);
        })().finally(() => this.inFlight.delete(h));
        this.inFlight.set(h, p);
      }
      waits.push(p);
    }
    await Promise.all(waits);
  }
}

function linkDependencies(dir: string): void {
  const nm = join(dir, "node_modules");
  mkdirSync(nm, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  const depsDirs = [join(PACKAGE_ROOT, "node_modules"), dirname(PACKAGE_ROOT)];
  const link = (name: string, target: string): void => {
    const at = join(nm, name);
    try {
      lstatSync(at);
      return;
    } catch {
      /* absent */
    }
    mkdirSync(dirname(at), { recursive: true });
    try {
      symlinkSync(target, at, "dir");
    } catch {
      /* a concurrent worker made it */
    }
  };
  link("shoal", PACKAGE_ROOT);
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const found = depsDirs.map((d) => join(d, dep)).find((p) => existsSync(p));
    if (found) link(dep, found);
  }
}
