/** Byte sizes as people write them ("4GiB", "500 MB", "1e9"), for the CLI and job command lines. */

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  k: 1e3, m: 1e6, g: 1e9, t: 1e12,
};

/**
 * Parses "4GiB", "500 MB", "123456" into bytes; throws a RangeError naming
 * `what` (callers turn it into their own usage error).
 *
 * @example
 * ```ts
 * parseBytes("64MiB", "--blocksize"); // 67108864
 * ```
 */
export function parseBytes(text: string, what: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw new RangeError(`${what}: cannot parse '${text}' as a size (examples: 4GiB, 500MB, 1e9)`);
  const unit = (m[2] ?? "").toLowerCase();
  const mult = unit === "" ? 1 : UNITS[unit];
  if (mult === undefined) throw new RangeError(`${what}: unknown unit '${m[2]}' in '${text}' (use B, kB, MB, GB, KiB, MiB, GiB)`);
  return Math.floor(Number(m[1]) * mult);
}
