// AssemblyScript source of the CSV validation scan's fast path (see
// src/dataframe/csv.ts, `scanRows`). Compiled by `npm run build:wasm`
// (scripts/build-wasm.mjs) into src/dataframe/csv-scan-wasm.ts.
//
// It scans complete lines in [start, end) of this module's memory, exactly as
// the TypeScript fast path did: exactly `ncols` fields per line, each plain or
// a well-formed quoted field, every value fitting its column. A plain integer
// is recognised in one pass; anything else is classified in full (NA token,
// int, float, bool, text). It stops before the first line that needs the
// general path (a wrong field count, a bad value, a blank line, a quote
// problem), which the caller reads in TypeScript, and at `maxRows` rows.
//
// Memory layout (i32, little-endian), written by the caller:
//   0 ncols, 4 delimiter, 8 quote, 12 NA token count, 16 NA tokens (i32 length + bytes each),
//   20 kinds (u8 per column), 24 settled (u8 per column), 28 declared (i8 per column, -1 = none)
// Results: 32 rows scanned, 36 lines advanced (rows + newlines inside quoted fields), 40 stop offset.

const K_BOOL: i32 = 1, K_INT: i32 = 2, K_FLOAT: i32 = 3, K_STR: i32 = 4;
const NL: u32 = 10, CR: u32 = 13;

@inline function isDigit(b: u32): bool { return b - 48 < 10; }

function isNa(s: usize, e: usize): bool {
  const len = <i32>(e - s);
  if (len == 0) return true;
  const count = load<i32>(12);
  let p = <usize>load<i32>(16);
  for (let t = 0; t < count; t++) {
    const tl = load<i32>(p);
    if (tl == len) {
      let j = 0;
      while (j < len && load<u8>(s + j) == load<u8>(p + 4 + j)) j++;
      if (j == len) return true;
    }
    p += 4 + tl;
  }
  return false;
}

/** Lower-case ASCII bytes [s, e) packed into a u64 (at most 8 bytes). */
function packLower(s: usize, e: usize): u64 {
  let w: u64 = 0;
  for (let j: usize = 0; s + j < e; j++) {
    let c = <u64>load<u8>(s + j);
    if (c >= 65 && c <= 90) c += 32;
    w |= c << (8 * <u64>j);
  }
  return w;
}

function classifyWord(s: usize, e: usize): i32 {
  const n = <i32>(e - s);
  if (n > 9) return K_STR;
  if (n == 9) {
    // "-infinity" / "+infinity"
    const c0 = load<u8>(s);
    return (c0 == 45 || c0 == 43) && packLower(s + 1, e) == 0x7974696e69666e69 ? K_FLOAT : K_STR;
  }
  const w = packLower(s, e);
  if ((n == 4 && w == 0x65757274) || (n == 5 && w == 0x65736c6166)) return K_BOOL; // true false
  if (n == 3 && (w == 0x6e616e || w == 0x666e69)) return K_FLOAT; // nan inf
  if (n == 4 && (w == 0x666e692d || w == 0x666e692b)) return K_FLOAT; // -inf +inf
  if (n == 8 && w == 0x7974696e69666e69) return K_FLOAT; // infinity
  return K_STR;
}

/** Digit `j` of 9223372036854775807 (i64 max), packed one digit per nibble: no data segment in memory. */
@inline function maxDigit(j: i32): i32 {
  const hi: u64 = 0x9223372036854775, lo: u64 = 0x807;
  return j < 16 ? <i32>((hi >> (4 * <u64>(15 - j))) & 0xf) : <i32>((lo >> (4 * <u64>(18 - j))) & 0xf);
}

function classify(s: usize, e: usize): i32 {
  let i = s;
  const c0 = <u32>load<u8>(i);
  if (c0 == 45 || c0 == 43) i++;
  const ds = i;
  while (i < e && isDigit(load<u8>(i))) i++;
  const nInt = <i32>(i - ds);
  if (i == e) {
    if (nInt == 0) return K_STR;
    if (nInt < 19) return K_INT;
    if (nInt == 19) {
      for (let j = 0; j < 19; j++) {
        const a = <i32>load<u8>(ds + j) - 48, b = maxDigit(j);
        if (a < b) return K_INT;
        if (a > b) return K_FLOAT;
      }
      return K_INT;
    }
    return K_FLOAT;
  }
  let nFrac = 0;
  if (load<u8>(i) == 46) {
    i++;
    const f = i;
    while (i < e && isDigit(load<u8>(i))) i++;
    nFrac = <i32>(i - f);
  }
  if (nInt + nFrac == 0) return classifyWord(s, e);
  if (i < e && (load<u8>(i) == 101 || load<u8>(i) == 69)) {
    i++;
    if (i < e && (load<u8>(i) == 45 || load<u8>(i) == 43)) i++;
    const x = i;
    while (i < e && isDigit(load<u8>(i))) i++;
    if (i == x) return K_STR;
  }
  return i == e ? K_FLOAT : K_STR;
}

/** Kind of the field bytes [s, e), or -1 for a missing value (an NA token or an empty field). */
function fieldKind(s: usize, e: usize): i32 {
  let j = s;
  if (j < e && load<u8>(j) == 45) j++;
  const d0 = j;
  while (j < e && isDigit(load<u8>(j))) j++;
  if (j == e && j > d0 && j - d0 < 19) return K_INT;
  if (isNa(s, e)) return -1;
  return classify(s, e);
}

export function scan(start: usize, end: usize, maxRows: i32): void {
  const ncols = load<i32>(0);
  const delim = <u32>load<i32>(4), quote = <u32>load<i32>(8);
  const kinds = <usize>load<i32>(20), settled = <usize>load<i32>(24), declared = <usize>load<i32>(28);
  const lastCol = ncols - 1;
  let maxSpecial = delim;
  if (quote > maxSpecial) maxSpecial = quote;
  if (NL > maxSpecial) maxSpecial = NL;
  if (CR > maxSpecial) maxSpecial = CR;
  let i = start;
  let rows = 0, lines = 0;
  while (i < end && rows < maxRows) {
    const ls = i;
    let ok = true;
    let nls = 0; // newlines inside quoted fields of this row
    for (let c = 0; c < ncols; c++) {
      const term = c == lastCol ? NL : delim;
      let b = <u32>load<u8>(i);
      let k: i32;
      if (b == quote) {
        // quoted field: ends at a quote not doubled; must close inside [start, end)
        let j = i + 1;
        while (true) {
          while (j < end) { const q = <u32>load<u8>(j); if (q == quote) break; if (q == NL) nls++; j++; }
          if (j + 1 >= end || <u32>load<u8>(j + 1) != quote) break;
          j += 2;
        }
        if (j + 1 >= end) { ok = false; break; }
        let e = j + 1;
        b = load<u8>(e);
        if (b != term) {
          if (c == lastCol && b == CR && <u32>load<u8>(e + 1) == NL) e++;
          else { ok = false; break; }
        }
        k = load<u8>(settled + c) == 1 ? -1 : fieldKind(i + 1, j);
        i = e + 1;
      } else if (load<u8>(settled + c) == 1) {
        // text column: only the field's end matters
        while (b > maxSpecial) b = load<u8>(++i);
        while (b != delim && b != NL) {
          b = load<u8>(++i);
          while (b > maxSpecial) b = load<u8>(++i);
        }
        if (b != term) { ok = false; break; }
        i++;
        continue;
      } else {
        // first try a plain integer up to the delimiter; anything else is classified in full
        const fs = i;
        let j = i;
        if (b == 45) b = load<u8>(++j);
        const d0 = j;
        while (isDigit(b)) b = load<u8>(++j);
        if (b == term && j > d0 && j - d0 < 19) {
          k = K_INT;
        } else {
          while (b != delim && b != NL) {
            b = load<u8>(++j);
            while (b > maxSpecial) b = load<u8>(++j);
          }
          if (b != term) { ok = false; break; }
          k = fieldKind(fs, b == NL && j > fs && load<u8>(j - 1) == CR ? j - 1 : j);
        }
        i = j + 1;
      }
      if (k >= 0) {
        const d = <i32>load<i8>(declared + c);
        if (d >= 0) {
          if (d != K_STR && k != d && !(d == K_FLOAT && k == K_INT)) { ok = false; break; }
          store<u8>(kinds + c, <u8>d);
        } else if (k > <i32>load<u8>(kinds + c)) {
          store<u8>(kinds + c, <u8>k);
          if (k == K_STR) store<u8>(settled + c, 1);
        }
      }
    }
    if (!ok) { i = ls; break; }
    rows++;
    lines += 1 + nls;
  }
  store<i32>(32, rows);
  store<i32>(36, lines);
  store<i32>(40, <i32>i);
}
