/**
 * Stream and shard administration: CreateStream, DeleteStream,
 * DescribeStream(Summary), ListStreams, ListShards, SplitShard, MergeShards,
 * UpdateShardCount, retention and tags. Responses follow the Kinesis API
 * model (timestamps as epoch seconds).
 */
import type { OpContext, Operation } from "./context.ts";
import { KinesisError } from "./errors.ts";
import { parseHashKey } from "./hash.ts";
import { shardIdOf, shardIndexOf } from "./sequence.ts";
import { ACCOUNT, type ShardMeta, type Stream } from "./store.ts";
import { type Body, STREAM_NAME, Validator, streamName } from "./validate.ts";

const secs = (ms: number): number => ms / 1000;

/** The wire form of a shard. */
export function shardJson(s: Stream, m: ShardMeta): Record<string, unknown> {
  const out: Record<string, unknown> = { ShardId: shardIdOf(m.index) };
  if (m.parent !== undefined) out["ParentShardId"] = shardIdOf(m.parent);
  if (m.adjacentParent !== undefined) out["AdjacentParentShardId"] = shardIdOf(m.adjacentParent);
  out["HashKeyRange"] = { StartingHashKey: m.start, EndingHashKey: m.end };
  const range: Record<string, string> = { StartingSequenceNumber: s.seq(m.startCounter, m.index, m.createdAt) };
  if (m.endCounter !== undefined) range["EndingSequenceNumber"] = s.seq(m.endCounter, m.index, m.closedAt ?? m.createdAt);
  out["SequenceNumberRange"] = range;
  return out;
}

function shardOf(s: Stream, id: string): ShardMeta {
  const i = shardIndexOf(id);
  const m = i === undefined ? undefined : s.shard(i);
  if (m === undefined) throw new KinesisError("ResourceNotFoundException", `Could not find shard ${id} in stream ${s.name} under account ${ACCOUNT}.`);
  return m;
}

function openShard(s: Stream, id: string, op: string): ShardMeta {
  const m = shardOf(s, id);
  if (m.endCounter !== undefined) {
    throw new KinesisError("ResourceInUseException", `Shard ${id} in stream ${s.name} under account ${ACCOUNT} has already been merged or split, and thus is not eligible for ${op}.`);
  }
  return m;
}

function openShardTotal(ctx: OpContext): number {
  let n = 0;
  for (const s of ctx.store.streams.values()) n += s.openShards().length;
  return n;
}

function checkShardBudget(ctx: OpContext, adding: number): void {
  const open = openShardTotal(ctx);
  if (open + adding > ctx.shardLimit) {
    throw new KinesisError("LimitExceededException", `This request would exceed the shard limit for the account ${ACCOUNT} in us-east-1. Current shard count for the account: ${open}. Limit: ${ctx.shardLimit}. Number of additional shards that would have resulted from this request: ${adding}.`);
  }
}

function modeDetails(s: Stream): Record<string, string> {
  return { StreamMode: s.meta.mode };
}

const createStream: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = v.str("StreamName", { ...STREAM_NAME, required: true }) as string;
  const modeObj = body["StreamModeDetails"] as { StreamMode?: unknown } | undefined;
  const mode = modeObj?.StreamMode === "ON_DEMAND" ? "ON_DEMAND" : "PROVISIONED";
  if (modeObj !== undefined && modeObj.StreamMode !== "ON_DEMAND" && modeObj.StreamMode !== "PROVISIONED") {
    throw new KinesisError("ValidationException", `1 validation error detected: Value '${String(modeObj.StreamMode)}' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]`);
  }
  let count = v.int("ShardCount", { min: 1, max: 100000 });
  v.done();
  if (count === undefined) {
    if (mode === "PROVISIONED") throw new KinesisError("InvalidArgumentException", "ShardCount is required for PROVISIONED streams.");
    count = 4;
  }
  checkShardBudget(ctx, count);
  ctx.store.create(name, count, mode, (body["Tags"] as Record<string, string> | undefined) ?? {});
  return {};
};

const deleteStream: Operation = async (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  v.done();
  await ctx.store.delete(name);
  return {};
};

function visibleShards(s: Stream): ShardMeta[] {
  return [...s.meta.shards].sort((a, b) => a.index - b.index);
}

const describeStream: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  const limit = v.int("Limit", { min: 1, max: 10000 }) ?? 100;
  const after = v.str("ExclusiveStartShardId", { min: 1, max: 128 });
  v.done();
  const s = ctx.store.get(name);
  const afterIndex = after === undefined ? -1 : (shardIndexOf(after) ?? -1);
  const all = visibleShards(s).filter((m) => m.index > afterIndex);
  const page = all.slice(0, limit);
  return {
    StreamDescription: {
      StreamName: s.name,
      StreamARN: s.arn,
      StreamStatus: "ACTIVE",
      StreamModeDetails: modeDetails(s),
      Shards: page.map((m) => shardJson(s, m)),
      HasMoreShards: all.length > page.length,
      RetentionPeriodHours: s.meta.retentionHours,
      StreamCreationTimestamp: secs(s.meta.createdAt),
      EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
      EncryptionType: "NONE",
    },
  };
};

const describeStreamSummary: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  v.done();
  const s = ctx.store.get(name);
  return {
    StreamDescriptionSummary: {
      StreamName: s.name,
      StreamARN: s.arn,
      StreamStatus: "ACTIVE",
      StreamModeDetails: modeDetails(s),
      RetentionPeriodHours: s.meta.retentionHours,
      StreamCreationTimestamp: secs(s.meta.createdAt),
      EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
      EncryptionType: "NONE",
      OpenShardCount: s.openShards().length,
      ConsumerCount: 0,
    },
  };
};

function encodeToken(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString("base64");
}

function decodeToken<T>(t: string, what: string): T {
  try {
    return JSON.parse(Buffer.from(t, "base64").toString("utf8")) as T;
  } catch {
    throw new KinesisError("InvalidArgumentException", `Invalid ${what}.`);
  }
}

const listStreams: Operation = (ctx, body) => {
  const v = new Validator(body);
  const limit = v.int("Limit", { min: 1, max: 10000 }) ?? 100;
  let after = v.str("ExclusiveStartStreamName", STREAM_NAME);
  const token = v.str("NextToken", { min: 1, max: 1048576 });
  v.done();
  if (token !== undefined) after = decodeToken<{ after: string }>(token, "NextToken").after;
  const names = [...ctx.store.streams.keys()].sort().filter((n) => after === undefined || n > after);
  const page = names.slice(0, limit);
  const more = names.length > page.length;
  const out: Record<string, unknown> = {
    StreamNames: page,
    HasMoreStreams: more,
    StreamSummaries: page.map((n) => {
      const s = ctx.store.get(n);
      return { StreamName: n, StreamARN: s.arn, StreamStatus: "ACTIVE", StreamModeDetails: modeDetails(s), StreamCreationTimestamp: secs(s.meta.createdAt) };
    }),
  };
  if (more) out["NextToken"] = encodeToken({ after: page[page.length - 1] });
  return out;
};

interface ShardFilter {
  Type?: string;
  ShardId?: string;
  Timestamp?: number | string;
}

const FILTER_TYPES = ["AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"] as const;

function applyFilter(s: Stream, shards: ShardMeta[], f: ShardFilter | undefined, now: number): ShardMeta[] {
  if (f === undefined) return shards;
  const type = f.Type;
  if (type === undefined || !(FILTER_TYPES as readonly string[]).includes(type)) {
    throw new KinesisError("ValidationException", `1 validation error detected: Value '${String(type)}' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [${FILTER_TYPES.join(", ")}]`);
  }
  const horizon = now - s.meta.retentionHours * 3600_000;
  const ts = f.Timestamp === undefined ? undefined : typeof f.Timestamp === "number" ? f.Timestamp * 1000 : Date.parse(f.Timestamp);
  switch (type) {
    case "AFTER_SHARD_ID": {
      if (f.ShardId === undefined) throw new KinesisError("InvalidArgumentException", "Must specify ShardId for ShardFilter type AFTER_SHARD_ID.");
      const i = shardIndexOf(f.ShardId) ?? -1;
      return shards.filter((m) => m.index > i);
    }
    case "AT_LATEST":
      return shards.filter((m) => m.endCounter === undefined);
    case "AT_TRIM_HORIZON":
      // shards open at the trim horizon: created no later than it, or the originals
      return shards.filter((m) => (m.closedAt === undefined || m.closedAt >= horizon) && (m.parent === undefined || m.createdAt <= horizon));
    case "FROM_TRIM_HORIZON":
      return shards.filter((m) => m.closedAt === undefined || m.closedAt >= horizon);
    case "AT_TIMESTAMP":
    case "FROM_TIMESTAMP": {
      if (ts === undefined || Number.isNaN(ts)) throw new KinesisError("InvalidArgumentException", `Must specify Timestamp for ShardFilter type ${type}.`);
      return shards.filter((m) => (m.closedAt === undefined || m.closedAt >= ts) && (type === "FROM_TIMESTAMP" || m.createdAt <= ts || m.parent === undefined));
    }
    default:
      return shards;
  }
}

const listShards: Operation = (ctx, body) => {
  const v = new Validator(body);
  const token = v.str("NextToken", { min: 1, max: 1048576 });
  const hasName = body["StreamName"] !== undefined || body["StreamARN"] !== undefined;
  if (token !== undefined && hasName) {
    throw new KinesisError("InvalidArgumentException", "NextToken and StreamName cannot be provided together.");
  }
  const nameArg = streamName(v, body, token === undefined);
  const max = v.int("MaxResults", { min: 1, max: 10000 }) ?? 1000;
  let after = v.str("ExclusiveStartShardId", { min: 1, max: 128 });
  let filter = body["ShardFilter"] as ShardFilter | undefined;
  v.done();
  let name = nameArg;
  if (token !== undefined) {
    const t = decodeToken<{ name: string; after: string; filter?: ShardFilter; at: number }>(token, "NextToken");
    if (typeof t.at !== "number" || ctx.clock() - t.at > 300_000) {
      throw new KinesisError("ExpiredNextTokenException", "The timestamp of the last ListShard call has expired.");
    }
    name = t.name;
    after = t.after;
    filter = t.filter;
  }
  if (after !== undefined && filter !== undefined && filter.Type === "AFTER_SHARD_ID") after = undefined;
  const s = ctx.store.get(name as string);
  const afterIndex = after === undefined ? -1 : (shardIndexOf(after) ?? -1);
  const all = applyFilter(s, visibleShards(s), filter, ctx.clock()).filter((m) => m.index > afterIndex);
  const page = all.slice(0, max);
  const out: Record<string, unknown> = { Shards: page.map((m) => shardJson(s, m)) };
  if (all.length > page.length) {
    const last = page[page.length - 1] as ShardMeta;
    out["NextToken"] = encodeToken({ name: s.name, after: shardIdOf(last.index), filter, at: ctx.clock() });
  }
  return out;
};

const splitShard: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  const id = v.str("ShardToSplit", { required: true, min: 1, max: 128 }) as string;
  const key = v.str("NewStartingHashKey", { required: true, pattern: /^(0|[1-9]\d{0,38})$/ }) as string;
  v.done();
  const s = ctx.store.get(name);
  const m = openShard(s, id, "splitting");
  const at = parseHashKey(key);
  if (at === undefined || at <= BigInt(m.start) + 1n || at >= BigInt(m.end)) {
    throw new KinesisError("InvalidArgumentException", `NewStartingHashKey ${key} used in SplitShard() on shard ${id} in stream ${name} under account ${ACCOUNT} is not both greater than one plus the shard's StartingHashKey ${m.start} and less than the shard's EndingHashKey ${m.end}.`);
  }
  checkShardBudget(ctx, 1);
  s.split(m, at);
  return {};
};

const mergeShards: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  const a = v.str("ShardToMerge", { required: true, min: 1, max: 128 }) as string;
  const b = v.str("AdjacentShardToMerge", { required: true, min: 1, max: 128 }) as string;
  v.done();
  const s = ctx.store.get(name);
  const ma = openShard(s, a, "merging");
  const mb = openShard(s, b, "merging");
  const [lo, hi] = BigInt(ma.start) < BigInt(mb.start) ? [ma, mb] : [mb, ma];
  if (BigInt(lo.end) + 1n !== BigInt(hi.start)) {
    throw new KinesisError("InvalidArgumentException", `Shards ${a} and ${b} in stream ${name} under account ${ACCOUNT} are not an adjacent pair of shards eligible for merging`);
  }
  s.merge(ma, mb);
  return {};
};

const updateShardCount: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  const target = v.int("TargetShardCount", { required: true, min: 1, max: 100000 }) as number;
  v.str("ScalingType", { required: true, enum: ["UNIFORM_SCALING"] });
  v.done();
  const s = ctx.store.get(name);
  const current = s.openShards().length;
  if (target > current * 2 || target * 2 < current) {
    throw new KinesisError("InvalidArgumentException", `UpdateShardCount cannot scale up over double your current open shard count (${current}) or scale down below half your current open shard count. Requested: ${target}.`);
  }
  checkShardBudget(ctx, target - current);
  if (target !== current) s.reshard(target);
  return { StreamName: s.name, StreamARN: s.arn, CurrentShardCount: current, TargetShardCount: target };
};

function retention(increase: boolean): Operation {
  return (ctx, body) => {
    const v = new Validator(body);
    const name = streamName(v, body) as string;
    const hours = v.int("RetentionPeriodHours", { required: true, min: 1, max: 8760 }) as number;
    v.done();
    const s = ctx.store.get(name);
    const cur = s.meta.retentionHours;
    if (hours < 24) throw new KinesisError("InvalidArgumentException", `Minimum allowed retention period is 24 hours. Requested retention period (${hours} hours) is too short.`);
    if (increase && hours < cur) {
      throw new KinesisError("InvalidArgumentException", `Requested retention period (${hours} hours) for stream ${name} can not be shorter than existing retention period (${cur} hours). Use DecreaseRetentionPeriod API.`);
    }
    if (!increase && hours > cur) {
      throw new KinesisError("InvalidArgumentException", `Requested retention period (${hours} hours) for stream ${name} can not be longer than existing retention period (${cur} hours). Use IncreaseRetentionPeriod API.`);
    }
    s.meta.retentionHours = hours;
    s.persist();
    if (!increase) void s.trim();
    return {};
  };
}

const addTags: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  v.done();
  const tags = body["Tags"];
  if (typeof tags !== "object" || tags === null || Object.keys(tags).length === 0) {
    throw new KinesisError("ValidationException", "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
  }
  const s = ctx.store.get(name);
  const merged = { ...s.meta.tags, ...(tags as Record<string, string>) };
  if (Object.keys(merged).length > 50) throw new KinesisError("InvalidArgumentException", `Failed to add tags to stream ${name} under account ${ACCOUNT} because a given stream cannot have more than 50 tags associated with it.`);
  s.meta.tags = merged;
  s.persist();
  return {};
};

const removeTags: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  v.done();
  const keys = body["TagKeys"];
  if (!Array.isArray(keys)) throw new KinesisError("ValidationException", "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
  const s = ctx.store.get(name);
  for (const k of keys) delete s.meta.tags[String(k)];
  s.persist();
  return {};
};

const listTags: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  const after = v.str("ExclusiveStartTagKey", { min: 1, max: 128 });
  const limit = v.int("Limit", { min: 1, max: 50 }) ?? 50;
  v.done();
  const s = ctx.store.get(name);
  const keys = Object.keys(s.meta.tags).sort().filter((k) => after === undefined || k > after);
  const page = keys.slice(0, limit);
  return { Tags: page.map((k) => ({ Key: k, Value: s.meta.tags[k] })), HasMoreTags: keys.length > page.length };
};

/** The administrative operations by X-Amz-Target name. */
export const ADMIN_OPS: Record<string, Operation> = {
  CreateStream: createStream,
  DeleteStream: deleteStream,
  DescribeStream: describeStream,
  DescribeStreamSummary: describeStreamSummary,
  ListStreams: listStreams,
  ListShards: listShards,
  SplitShard: splitShard,
  MergeShards: mergeShards,
  UpdateShardCount: updateShardCount,
  IncreaseStreamRetentionPeriod: retention(true),
  DecreaseStreamRetentionPeriod: retention(false),
  AddTagsToStream: addTags,
  RemoveTagsFromStream: removeTags,
  ListTagsForStream: listTags,
};

export type { Body };
