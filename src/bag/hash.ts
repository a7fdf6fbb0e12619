/**
 * Stable hashing and ordering shared by Bag shuffles and MapReduce: the same
 * key lands in the same partition in every process, on every machine and in
 * every Shoal version that keeps {@link HASH_VERSION}.
 *
 * - Strings hash as FNV-1a (32-bit) over their UTF-8 bytes, computed without
 *   encoding; Buffers hash the same way over their bytes, so a streaming key
 *   and the equal JS string go to the same partition.
 * - Other values hash through a canonical text form ({@link canonicalKey}).
 *
 * @module
 */

/** Identifies the partition hash; change it when the function changes. */
export const HASH_VERSION = "fnv1a32-utf8-v1";

const FNV_OFFSET = 0x811c9dc5;

function fnvByte(h: number, b: number): number {
  return Math.imul(h ^ b, 0x01000193);
}

/**
 * FNV-1a of the UTF-8 encoding of `s` (lone surrogates encode as U+FFFD, like `Buffer.from`).
 *
 * @example
 * ```ts
 * hashString("word") === hashBytes(Buffer.from("word")); // true
 * ```
 */
export function hashString(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c < 0x800) {
      h = fnvByte(h, 0xc0 | (c >> 6));
      h = fnvByte(h, 0x80 | (c & 63));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        h = fnvByte(h, 0xf0 | (c >> 18));
        h = fnvByte(h, 0x80 | ((c >> 12) & 63));
        h = fnvByte(h, 0x80 | ((c >> 6) & 63));
        h = fnvByte(h, 0x80 | (c & 63));
        continue;
      }
      c = 0xfffd;
    }
    h = fnvByte(h, 0xe0 | (c >> 12));
    h = fnvByte(h, 0x80 | ((c >> 6) & 63));
    h = fnvByte(h, 0x80 | (c & 63));
  }
  return h >>> 0;
}

/** FNV-1a of `bytes[start, end)`. @example `hashBytes(Buffer.from("a\tb"), 0, 1)` */
export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** murmur3's 32-bit finalizer: a cheap, well-mixed combination of two integers. @example `mix(seed, 42)` */
export function mix(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A canonical text form of a key for hashing and equality of non-primitive
 * keys: JSON with object keys sorted; Maps, Sets, BigInts, Dates and typed
 * arrays tagged so that they differ from look-alike plain values.
 *
 * @example
 * ```ts
 * canonicalKey({ b: 1, a: [2] }) === canonicalKey({ a: [2], b: 1 }); // true
 * ```
 */
export function canonicalKey(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? String(Object.is(v, -0) ? 0 : v) : `#${String(v)}`;
    case "bigint":
      return `#n${v.toString()}`;
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return "#u";
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) return `[${v.map(canonicalKey).join(",")}]`;
      if (v instanceof Date) return `#d${v.toISOString()}`;
      if (v instanceof Map) return `#m[${[...v].map(([k, x]) => `${canonicalKey(k)}:${canonicalKey(x)}`).sort().join(",")}]`;
      if (v instanceof Set) return `#s[${[...v].map(canonicalKey).sort().join(",")}]`;
      if (ArrayBuffer.isView(v)) return `#b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")}`;
      const keys = Object.keys(v).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalKey((v as Record<string, unknown>)[k])}`).join(",")}}`;
    }
    default:
      throw new TypeError(`a ${typeof v} cannot be used as a key`);
  }
}

/** The partition hash of any key value (strings: {@link hashString}; others: of their canonical form). @example `hashKey("a") % 8` */
export function hashKey(v: unknown): number {
  if (typeof v === "string") return hashString(v);
  return hashString(canonicalKey(v));
}

/**
 * Compares strings in Unicode code point order, which equals UTF-8 byte order
 * (`LC_ALL=C sort`); JavaScript's `<` compares UTF-16 code units instead.
 *
 * @example
 * ```ts
 * ["b", "a", "\u{1F600}", "\uFFFD"].sort(compareCodePoints);
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return fixup(x) - fixup(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

function fixup(c: number): number {
  return c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

/**
 * A map from arbitrary key values to `V`: primitives by SameValueZero (so 1
 * and "1" differ), arrays and objects by {@link canonicalKey}.
 *
 * @example
 * ```ts
 * const m = new KeyMap<number>();
 * m.set(["a", 1], 5); m.get(["a", 1]); // 5
 * ```
 */
export class KeyMap<V> {
  private readonly prim = new Map<unknown, V>();
  private readonly obj = new Map<string, [unknown, V]>();

  get size(): number {
    return this.prim.size + this.obj.size;
  }

  get(k: unknown): V | undefined {
    if (k !== null && typeof k === "object") return this.obj.get(canonicalKey(k))?.[1];
    return this.prim.get(k);
  }

  has(k: unknown): boolean {
    if (k !== null && typeof k === "object") return this.obj.has(canonicalKey(k));
    return this.prim.has(k);
  }

  set(k: unknown, v: V): void {
    if (k !== null && typeof k === "object") {
      const c = canonicalKey(k);
      const hit = this.obj.get(c);
      if (hit) hit[1] = v;
      else this.obj.set(c, [k, v]);
    } else {
      this.prim.set(typeof k === "number" && Object.is(k, -0) ? 0 : k, v);
    }
  }

  *entries(): IterableIterator<[unknown, V]> {
    yield* this.prim.entries();
    for (const e of this.obj.values()) yield [e[0], e[1]];
  }
}
