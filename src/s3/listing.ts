/**
 * Listing over a bucket's sorted in-memory index: prefix, delimiter with
 * common prefixes, an exclusive start key and a page size. Pure.
 */
import { compareKeys } from "./keys.ts";
import type { BucketIndex, ObjectMeta } from "./store.ts";

/** Listing parameters. */
export interface ListParams {
  prefix: string;
  delimiter: string;
  /** Exclusive start: only keys (and common prefixes) after this are listed. */
  after: string;
  maxKeys: number;
}

/** One page of a listing. */
export interface ListPage {
  contents: ObjectMeta[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned (the next marker). */
  last: string | undefined;
}

function skipGroup(index: BucketIndex, from: number, cp: string): number {
  let lo = from;
  let hi = index.keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((index.keys[mid] as string).startsWith(cp)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Lists one page of keys and common prefixes in UTF-8 binary order. */
export function listPage(index: BucketIndex, p: ListParams): ListPage {
  const page: ListPage = { contents: [], commonPrefixes: [], isTruncated: false, last: undefined };
  if (p.maxKeys <= 0) return page;
  let i = p.after !== "" ? index.lowerBound(p.after, true) : 0;
  if (p.prefix !== "") i = Math.max(i, index.lowerBound(p.prefix));
  let count = 0;
  while (i < index.keys.length) {
    const k = index.keys[i] as string;
    if (!k.startsWith(p.prefix)) break;
    const d = p.delimiter === "" ? -1 : k.indexOf(p.delimiter, p.prefix.length);
    if (d >= 0) {
      const cp = k.slice(0, d + p.delimiter.length);
      if (p.after !== "" && compareKeys(cp, p.after) <= 0) {
        i = skipGroup(index, i, cp);
        continue;
      }
      if (count === p.maxKeys) {
        page.isTruncated = true;
        break;
      }
      page.commonPrefixes.push(cp);
      page.last = cp;
      count++;
      i = skipGroup(index, i, cp);
      continue;
    }
    if (count === p.maxKeys) {
      page.isTruncated = true;
      break;
    }
    const m = index.byKey.get(k);
    if (m !== undefined) page.contents.push(m);
    page.last = k;
    count++;
    i++;
  }
  return page;
}
