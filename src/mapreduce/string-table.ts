/**
 * An open-addressing hash table from strings to dense indices (0, 1, 2...),
 * for the map-side fold combiner. For the short, freshly sliced strings a
 * mapper emits it is about twice as fast as a `Map` lookup: the FNV-1a hash
 * is computed over the UTF-16 code units in JS, probes touch one `Int32Array`
 * slot and one cached hash, and keys are compared only when hashes match.
 *
 * @module
 */

const EMPTY = -1;

/**
 * Strings to dense indices; `indexOf` inserts missing keys.
 *
 * @example
 * ```ts
 * const t = new StringTable();
 * t.indexOf("a"); // 0
 * t.indexOf("b"); // 1
 * t.indexOf("a"); // 0
 * t.keys; // ["a", "b"]
 * ```
 */
export class StringTable {
  /** The keys, by index. */
  readonly keys: string[] = [];
  /** True after `indexOf` inserted the key it was given. */
  inserted = false;
  private table: Int32Array;
  private hashes: Int32Array;
  private mask: number;

  constructor(capacity = 1 << 14) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.table = new Int32Array(cap).fill(EMPTY);
    this.hashes = new Int32Array(cap >> 1);
    this.mask = cap - 1;
  }

  /** The number of keys. */
  get size(): number {
    return this.keys.length;
  }

  /** The index of `k`, inserting it (and setting {@link inserted}) when missing. */
  indexOf(k: string): number {
    let h = 0x811c9dc5;
    for (let j = 0; j < k.length; j++) h = Math.imul(h ^ k.charCodeAt(j), 0x01000193);
    const table = this.table;
    const mask = this.mask;
    let s = h & mask;
    for (;;) {
      const i = table[s]!;
      if (i === EMPTY) break;
      if (this.hashes[i] === h && this.keys[i] === k) {
        this.inserted = false;
        return i;
      }
      s = (s + 1) & mask;
    }
    const i = this.keys.length;
    table[s] = i;
    if (i >= this.hashes.length) {
      const nh = new Int32Array(this.hashes.length * 2);
      nh.set(this.hashes);
      this.hashes = nh;
    }
    this.hashes[i] = h;
    this.keys.push(k);
    this.inserted = true;
    if (this.keys.length * 2 > table.length) this.grow();
    return i;
  }

  private grow(): void {
    const cap = this.table.length * 2;
    const table = new Int32Array(cap).fill(EMPTY);
    const mask = cap - 1;
    for (let i = 0; i < this.keys.length; i++) {
      let s = this.hashes[i]! & mask;
      while (table[s] !== EMPTY) s = (s + 1) & mask;
      table[s] = i;
    }
    this.table = table;
    this.mask = mask;
  }
}
