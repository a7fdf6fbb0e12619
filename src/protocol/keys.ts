/** Task keys and priorities, shared by scheduler, worker and client. */

/** Name of the group a key belongs to: the key up to its last `-` segment (Dask's key_split idea). */
export function keyPrefix(key: string): string {
  const i = key.lastIndexOf("-");
  return i > 0 ? key.slice(0, i) : key;
}

/** Lexicographic order of priority tuples (lower runs first). */
export function comparePriority(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
