/**
 * A short, always-printable rendering of a user value for error messages:
 * JSON where possible, `String()` otherwise, cut to 80 characters.
 *
 * @example
 * ```ts
 * throw new TypeError(`expected a [key, value] pair, got ${preview(kv)}`);
 * ```
 */
export function preview(x: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(x) ?? String(x);
  } catch {
    s = String(x);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
