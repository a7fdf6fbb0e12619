/**
 * `Bag`: lazy partitioned collections of JavaScript values (dask.bag, Spark RDDs).
 *
 * @example
 * ```ts
 * import { readText } from "shoal";
 * const n = await readText("data/*.txt").filter((l) => l.includes("error")).count();
 * ```
 *
 * @module
 */
export { Bag, readText, readJsonLines, partitionOf, type FromSequenceOptions, type ReadTextOptions, type ShuffleOptions, type WriteOptions } from "./bag.ts";
export { computeAll, computeInProcess, defaultClient, type ComputeOptions, type ComputeTarget } from "./execute.ts";
export { BagArgumentError, BagTaskError, JsonLinesParseError, type JsonLinesParseErrorInfo } from "./errors.ts";
export { HASH_VERSION, hashString, hashBytes, compareCodePoints } from "./hash.ts";
