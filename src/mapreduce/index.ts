/**
 * MapReduce: mrjob-style jobs (inline, local and cluster runners) and Hadoop
 * Streaming jobs made of external commands. See docs/mapreduce.md.
 *
 * @module
 */
export { MRJob, MRStep, mergeCounters, type JobMethods, type JobClass, type JobInit, type StepDefinition, type OptionSpec, type Counters, type Emitted, type MapperFn, type ReducerFn, type HookFn } from "./job.ts";
export { JSONProtocol, JSONValueProtocol, RawProtocol, RawValueProtocol, PROTOCOLS, type Protocol } from "./protocols.ts";
export { runJob, runStreaming, formatSummary, jobClassRef, type RunJobOptions, type RunStreamingOptions, type JobResult, type RunnerName } from "./runner.ts";
export { JobDefinitionError, MapReduceTaskError } from "./errors.ts";
export { sumValues, maxValues, minValues, foldValues, foldOf, FOLD, type FoldReducer } from "./fold.ts";
export type { StreamingSpec } from "./streaming.ts";
