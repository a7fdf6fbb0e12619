/** What every operation handler gets: the store, the clock, the iterator key and optional quotas. */
import type { Limiter } from "./limits.ts";
import type { StreamStore } from "./store.ts";
import type { Body } from "./validate.ts";

export interface OpContext {
  store: StreamStore;
  clock: () => number;
  /** HMAC key that signs shard iterators (persisted, so iterators survive a restart). */
  iteratorKey: Buffer;
  limiter: Limiter | undefined;
  /** Most open shards per account (LimitExceededException above it). */
  shardLimit: number;
}

/** A response body serialized by the operation itself (GetRecords builds its JSON directly, without an object per record). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An operation: request body in, response body out. */
export type Operation = (ctx: OpContext, body: Body) => Promise<Record<string, unknown> | RawJson> | Record<string, unknown> | RawJson;
