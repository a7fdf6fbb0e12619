/**
 * Joins inside one partition (both sides already co-partitioned by key hash,
 * or one side broadcast), with pandas `merge` semantics:
 *
 * - `how`: inner, left, outer (pandas "outer" = SQL full join; key columns
 *   coalesced into one), anti (left rows with no match);
 * - **missing keys match each other** (pandas 1.5.3 joins NaN to NaN and None
 *   to None in `merge`, checked with /usr/bin/python3); `nullsEqual: false`
 *   gives SQL semantics instead;
 * - overlapping non-key columns get suffixes `_x` / `_y` (pandas defaults);
 * - key columns are cast to a common type first (int64 + float64 → float64).
 *
 * Row order of the result is unspecified (sort afterwards when it matters).
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError, EngineError } from "./errors.ts";
import { column, flagSorted, typeOf } from "./frame-utils.ts";
import { isCategorical, toPolarsType, widenType, type ColumnType } from "./schema.ts";

/** Join strategies of {@link mergePartitions}. */
export type MergeHow = "inner" | "left" | "outer" | "anti";

/** Options of {@link mergePartitions}. */
export interface MergeOptions {
  /** Key column(s), present on both sides. */
  on: string | readonly string[];
  /** Default "inner". */
  how?: MergeHow;
  /** Suffixes for overlapping non-key columns (default `["_x", "_y"]`). */
  suffixes?: readonly [string, string];
  /** Missing keys match missing keys (default true, as pandas merge). */
  nullsEqual?: boolean;
}

function keyCast(left: Frame, right: Frame, keys: readonly string[]): { l: pl.Expr[]; r: pl.Expr[]; types: Record<string, ColumnType> } {
  const l: pl.Expr[] = [], r: pl.Expr[] = [];
  const types: Record<string, ColumnType> = {};
  for (const k of keys) {
    const tl = typeOf(column(left, k, "merge")), tr = typeOf(column(right, k, "merge"));
    const t = widenType(tl, tr);
    types[k] = t;
    // categorical and plain text keys do not join in polars: join text keys as plain text when either is categorical
    const cat = isCategorical(left.getColumn(k).dtype) || isCategorical(right.getColumn(k).dtype);
    const cast = (e: pl.Expr, own: ColumnType): pl.Expr => {
      let x = own === "float64" ? e.fillNan(null) : e;
      if (own !== t || cat) x = x.cast(toPolarsType(t === "null" ? "utf8" : t));
      return x.alias(k);
    };
    l.push(cast(pl.col(k), tl));
    r.push(cast(pl.col(k), tr));
  }
  return { l, r, types };
}

const SENTINEL: Record<ColumnType, unknown> = { null: "", utf8: "", int64: 0, float64: 0, bool: false };

/**
 * Merge two partitions on key columns (pandas semantics, see module docs).
 *
 * @example
 * ```ts
 * const joined = mergePartitions(questions, tags, { on: "Id", how: "inner" });
 * const dangling = mergePartitions(tags, questions.select("Id"), { on: "Id", how: "anti" });
 * ```
 */
export function mergePartitions(left: Frame, right: Frame, opts: MergeOptions): Frame {
  const keys = typeof opts.on === "string" ? [opts.on] : [...opts.on];
  if (keys.length === 0) throw new DataFrameArgumentError("merge: options.on must name at least one column");
  const how = opts.how ?? "inner";
  if (!["inner", "left", "outer", "anti"].includes(how)) throw new DataFrameArgumentError(`merge: options.how must be inner, left, outer or anti, got '${how}'`);
  const [sx, sy] = opts.suffixes ?? ["_x", "_y"];
  const nullsEqual = opts.nullsEqual ?? true;
  const { l, r, types } = keyCast(left, right, keys);

  // suffix overlapping non-key columns on both sides (pandas), and keep the right keys for outer coalescing
  const rightOnly = right.columns.filter((c) => !keys.includes(c));
  const overlap = new Set(left.columns.filter((c) => !keys.includes(c) && rightOnly.includes(c)));
  let L = left.withColumns(...l);
  let R = right.withColumns(...r);
  if (how === "anti") R = R.select(...keys);
  if (overlap.size > 0 && how !== "anti") {
    L = L.rename(Object.fromEntries([...overlap].map((c) => [c, c + sx])));
    R = R.rename(Object.fromEntries([...overlap].map((c) => [c, c + sy])));
  }
  const anyNull = keys.some((k) => L.getColumn(k).nullCount() > 0) && keys.some((k) => R.getColumn(k).nullCount() > 0);
  const useHelpers = nullsEqual && anyNull;
  try {
    if (!useHelpers) {
      // keys already in order (e.g. range-aligned partitions of tables stored by key) merge instead of hashing
      if (keys.length === 1 && how !== "outer") {
        const [l0, r0] = [L, R];
        L = flagSorted(L, keys[0]!);
        R = flagSorted(R, keys[0]!);
        if (how === "anti" && L !== l0 && R !== r0) {
          // polars' anti join does not merge: a merging left join with a marker, unmatched rows kept
          // (one StackLite block, one thread: 137–144 ms → 45 ms)
          const m = "__shoal_anti";
          const marked = R.select(pl.col(keys[0]!), pl.lit(true).alias(m));
          return L.join(marked, { on: keys, how: "left" } as never).filter(pl.col(m).isNull()).drop(m);
        }
      }
      if (how === "outer") return L.join(R, { on: keys, how: "full", coalesce: true } as never);
      return L.join(R, { on: keys, how } as never);
    }
    // null-safe equality: join on (key filled with a sentinel, key is null) pairs
    const helperKeys: string[] = [];
    const helpers = (side: "l" | "r"): pl.Expr[] => keys.flatMap((k, i) => {
      const f = `__k${i}_v`, n = `__k${i}_n`;
      if (side === "l") helperKeys.push(f, n);
      return [pl.col(k).fillNull(pl.lit(SENTINEL[types[k]!])).alias(f), pl.col(k).isNull().alias(n)];
    });
    L = L.withColumns(...helpers("l"));
    if (how === "anti") {
      R = R.withColumns(...helpers("r")).select(...helperKeys);
      return L.join(R, { on: helperKeys, how: "anti" } as never).drop(helperKeys);
    }
    const rk = keys.map((_, i) => `__rk${i}`);
    R = R.withColumns(...helpers("r")).rename(Object.fromEntries(keys.map((k, i) => [k, rk[i]!])));
    const joined = L.join(R, { on: helperKeys, how: how === "outer" ? "full" : how, coalesce: true } as never);
    const fixed: Frame = how === "outer" ? (joined as Frame).withColumns(...keys.map((k, i) => pl.when(pl.col(k).isNull()).then(pl.col(rk[i]!)).otherwise(pl.col(k)).alias(k))) : (joined as Frame);
    return fixed.drop([...helperKeys, ...rk]);
  } catch (err) {
    throw new EngineError("merge", String((err as Error).message ?? err), { cause: err });
  }
}
