import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * True when the module owning `meta` is the program's entry point. Guard a
 * script's top-level work with it, because workers import the module to
 * find task functions:
 *
 * @example
 * ```ts
 * if (isMain(import.meta)) await main();
 * ```
 */
export function isMain(meta: ImportMeta): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(fileURLToPath(meta.url)) === realpathSync(entry);
  } catch {
    return false;
  }
}
