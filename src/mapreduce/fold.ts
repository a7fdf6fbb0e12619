/**
 * Combiners and reducers that fold the values of a key with a binary
 * function: {@link sumValues}, {@link maxValues}, {@link minValues} and
 * {@link foldValues}. They behave like any reducer (they emit one
 * `[key, folded]` pair per key), but the runners recognize them and take a
 * fast path: map-side, each emitted value is folded straight into one
 * accumulator per key (no value lists, no generator per key), and
 * reduce-side values are folded as they are decoded.
 *
 * @example
 * ```ts
 * import { MRJob, sumValues } from "shoal";
 * export class WordCount extends MRJob {
 *   *mapper(_: null, line: string) { for (const w of line.split(" ")) if (w) yield [w, 1] as const; }
 *   combiner = sumValues;
 *   reducer = sumValues;
 * }
 * ```
 *
 * @module
 */
import type { ReducerFn } from "./job.ts";

/** The property under which a fold reducer carries its binary function. */
export const FOLD: unique symbol = Symbol.for("shoal.mapreduce.fold");

/** A reducer made by {@link foldValues}: emits `[key, values folded with fn]`. */
export type FoldReducer<V = any> = ReducerFn & { readonly [FOLD]: (acc: V, value: V) => V }; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A combiner/reducer that folds the values of a key left to right with `fn`
 * (`fn(fn(v1, v2), v3)`...) and emits `[key, result]`. `fn` must be
 * associative and return the same kind of value it takes (the combiner may
 * run on any subset of a key's values, any number of times). Recognized by
 * the runners: map-side, values are folded into one accumulator per key as
 * the mapper emits them.
 *
 * @example
 * ```ts
 * class Longest extends MRJob {
 *   *mapper(_: null, line: string) { yield [line.length > 0 ? line[0] : "", line] as const; }
 *   combiner = foldValues((a: string, b: string) => (b.length > a.length ? b : a));
 *   reducer = this.combiner;
 * }
 * ```
 */
export function foldValues<V>(fn: (acc: V, value: V) => V): FoldReducer<V> {
  const reducer = (key: unknown, values: Iterable<V>): [unknown, V][] => {
    let acc: V | undefined;
    let first = true;
    for (const v of values) {
      if (first) {
        acc = v;
        first = false;
      } else acc = fn(acc as V, v);
    }
    return first ? [] : [[key, acc as V]];
  };
  Object.defineProperty(reducer, FOLD, { value: fn });
  return reducer as unknown as FoldReducer<V>;
}

/** The binary function of a fold reducer, or `undefined` for any other function. @example `foldOf(sumValues)!(1, 2) // 3` */
export function foldOf(f: unknown): ((acc: unknown, value: unknown) => unknown) | undefined {
  return typeof f === "function" ? ((f as Partial<FoldReducer>)[FOLD] as ((acc: unknown, value: unknown) => unknown) | undefined) : undefined;
}

/** Sums the values of a key (`+`): the word-count combiner and reducer. @example `combiner = sumValues; reducer = sumValues;` */
export const sumValues: FoldReducer<number> = foldValues((a: number, b: number) => a + b);
/** The largest value of a key (`>`). @example `reducer = maxValues;` */
export const maxValues: FoldReducer<number> = foldValues((a: number, b: number) => (b > a ? b : a));
/** The smallest value of a key (`<`). @example `reducer = minValues;` */
export const minValues: FoldReducer<number> = foldValues((a: number, b: number) => (b < a ? b : a));
