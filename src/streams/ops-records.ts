/**
 * Data-plane operations: PutRecord, PutRecords, GetShardIterator and
 * GetRecords. A put is acknowledged only after its shard log has written
 * (and, under the default fsync policy, synced) it.
 */
import { type OpContext, type Operation, RawJson } from "./context.ts";
import { KinesisError } from "./errors.ts";
import { parseHashKey, partitionKeyHash } from "./hash.ts";
import { decodeIterator, encodeIterator } from "./iterator.ts";
import { parseSequence, shardIdOf, shardIndexOf } from "./sequence.ts";
import { ACCOUNT, type ShardMeta, type Stream } from "./store.ts";
import { type Body, Validator, streamName } from "./validate.ts";

const MAX_RECORD = 1024 * 1024;
const MAX_GET_BYTES = 10 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface Entry {
  data: Buffer;
  partitionKey: string;
  hash: bigint;
}

function entry(raw: unknown, member: string): Entry {
  const r = (raw ?? {}) as Body;
  const v = new Validator(r);
  const pk = v.str("PartitionKey", { required: true, min: 1, max: 256 });
  const ehk = v.str("ExplicitHashKey", { pattern: /^(0|[1-9]\d{0,38})$/ });
  const dataStr = r["Data"];
  try {
    v.done();
  } catch (e) {
    const k = e as KinesisError;
    throw new KinesisError(k.code, k.message.replace(/at '/g, `at '${member}`));
  }
  if (typeof dataStr !== "string") {
    throw new KinesisError("ValidationException", `1 validation error detected: Value null at '${member}data' failed to satisfy constraint: Member must not be null`);
  }
  if (!BASE64.test(dataStr) || dataStr.length % 4 === 1) throw new KinesisError("SerializationException", "Base64 decoding of Data failed.");
  const data = Buffer.from(dataStr, "base64");
  if (data.length + Buffer.byteLength(pk as string) > MAX_RECORD) {
    throw new KinesisError("ValidationException", `1 validation error detected: Value at '${member}data' failed to satisfy constraint: Member must have length less than or equal to 1048576`);
  }
  let hash: bigint;
  if (ehk !== undefined) {
    const h = parseHashKey(ehk);
    if (h === undefined) {
      throw new KinesisError("InvalidArgumentException", `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${ehk}`);
    }
    hash = h;
  } else hash = partitionKeyHash(pk as string);
  return { data, partitionKey: pk as string, hash };
}

function limitKey(s: Stream, shard: number): string {
  return `${s.name}/${shard}`;
}

const putRecord: Operation = async (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  v.done();
  const e = entry(body, "");
  const s = ctx.store.get(name);
  const shard = s.route(e.hash);
  if (ctx.limiter && !ctx.limiter.tryWrite(limitKey(s, shard.index), e.data.length + e.partitionKey.length)) {
    throw new KinesisError("ProvisionedThroughputExceededException", `Rate exceeded for shard ${shardIdOf(shard.index)} in stream ${name} under account ${ACCOUNT}.`);
  }
  const [rec] = await s.append(shard.index, [e]);
  if (rec === undefined) throw new KinesisError("InternalFailure", "append returned nothing");
  return { ShardId: shardIdOf(shard.index), SequenceNumber: s.seq(rec.counter, shard.index, rec.time) };
};

const putRecords: Operation = async (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  v.done();
  const raw = body["Records"];
  if (!Array.isArray(raw)) {
    throw new KinesisError("ValidationException", "1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null");
  }
  if (raw.length < 1 || raw.length > 500) {
    throw new KinesisError("ValidationException", `1 validation error detected: Value '[${raw.length} records]' at 'records' failed to satisfy constraint: Member must have length ${raw.length < 1 ? "greater than or equal to 1" : "less than or equal to 500"}`);
  }
  const entries = raw.map((r, i) => entry(r, `records.${i + 1}.member.`));
  const total = entries.reduce((n, e) => n + e.data.length + e.partitionKey.length, 0);
  if (total > 5 * 1024 * 1024) throw new KinesisError("InvalidArgumentException", `Records size exceeds 5 MB limit`);
  const s = ctx.store.get(name);
  const results: Array<Record<string, string>> = new Array(entries.length);
  const byShard = new Map<number, Array<{ i: number; e: Entry }>>();
  entries.forEach((e, i) => {
    const shard = s.route(e.hash);
    if (ctx.limiter && !ctx.limiter.tryWrite(limitKey(s, shard.index), e.data.length + e.partitionKey.length)) {
      results[i] = {
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: `Rate exceeded for shard ${shardIdOf(shard.index)} in stream ${name} under account ${ACCOUNT}.`,
      };
      return;
    }
    let list = byShard.get(shard.index);
    if (list === undefined) byShard.set(shard.index, (list = []));
    list.push({ i, e });
  });
  await Promise.all(
    [...byShard].map(async ([shard, list]) => {
      try {
        const stored = await s.append(shard, list.map((x) => x.e));
        stored.forEach((rec, k) => {
          results[(list[k] as { i: number }).i] = { SequenceNumber: s.seq(rec.counter, shard, rec.time), ShardId: shardIdOf(shard) };
        });
      } catch (err) {
        for (const x of list) results[x.i] = { ErrorCode: "InternalFailure", ErrorMessage: `Internal service failure: ${(err as Error).message}` };
      }
    }),
  );
  return { FailedRecordCount: results.filter((r) => r["ErrorCode"] !== undefined).length, Records: results };
};

const ITERATOR_TYPES = ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] as const;

function shardOrThrow(s: Stream, id: string): ShardMeta {
  const i = shardIndexOf(id);
  const m = i === undefined ? undefined : s.shard(i);
  if (m === undefined) throw new KinesisError("ResourceNotFoundException", `Shard ${id} in stream ${s.name} under account ${ACCOUNT} does not exist`);
  return m;
}

/** The counter after the shard's last possible record (its end if closed, else the stream's next counter). */
function tip(s: Stream, m: ShardMeta): number {
  return m.endCounter !== undefined ? m.endCounter + 1 : s.nextCounter;
}

const getShardIterator: Operation = (ctx, body) => {
  const v = new Validator(body);
  const name = streamName(v, body) as string;
  const id = v.str("ShardId", { required: true, min: 1, max: 128 }) as string;
  const type = v.str("ShardIteratorType", { required: true, enum: ITERATOR_TYPES }) as (typeof ITERATOR_TYPES)[number];
  const seqStr = v.str("StartingSequenceNumber", { pattern: /^(0|[1-9]\d{0,128})$/ });
  const ts = v.time("Timestamp");
  v.done();
  const s = ctx.store.get(name);
  const m = shardOrThrow(s, id);
  const now = ctx.clock();
  let pos = 0;
  let minTime = 0;
  if (type === "AT_SEQUENCE_NUMBER" || type === "AFTER_SEQUENCE_NUMBER") {
    if (seqStr === undefined) {
      throw new KinesisError("InvalidArgumentException", `Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${type} and no StartingSequenceNumber.`);
    }
    const p = parseSequence(seqStr);
    if (p === undefined) throw new KinesisError("InvalidArgumentException", `StartingSequenceNumber ${seqStr} used in GetShardIterator on shard ${id} in stream ${name} under account ${ACCOUNT} is invalid.`);
    if (p.shardIndex !== m.index && p.counter !== m.startCounter) {
      throw new KinesisError("InvalidArgumentException", `Invalid StartingSequenceNumber. It encodes ${shardIdOf(p.shardIndex)}, while it was used in a call to a shard with ${shardIdOf(m.index)}`);
    }
    pos = type === "AT_SEQUENCE_NUMBER" ? p.counter : p.counter + 1;
  } else if (seqStr !== undefined) {
    throw new KinesisError("InvalidArgumentException", `Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${type} and also a StartingSequenceNumber.`);
  } else if (type === "LATEST") {
    pos = tip(s, m);
  } else if (type === "AT_TIMESTAMP") {
    if (ts === undefined) {
      throw new KinesisError("InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.");
    }
    const log = s.log(m.index);
    const i = log.indexOfTime(ts);
    pos = i < log.length ? log.counterAt(i) : tip(s, m);
    minTime = ts;
  } else {
    pos = m.startCounter;
  }
  return { ShardIterator: encodeIterator(ctx.iteratorKey, { stream: s.name, created: s.meta.createdAt, shard: m.index, pos, minTime, issued: now }) };
};

function childShards(s: Stream, m: ShardMeta): Array<Record<string, unknown>> {
  return s.meta.shards
    .filter((c) => c.parent === m.index || c.adjacentParent === m.index)
    .map((c) => ({
      ShardId: shardIdOf(c.index),
      ParentShards: [c.parent, c.adjacentParent].filter((x): x is number => x !== undefined).map(shardIdOf),
      HashKeyRange: { StartingHashKey: c.start, EndingHashKey: c.end },
    }));
}

const getRecords: Operation = async (ctx, body) => {
  const v = new Validator(body);
  const token = v.str("ShardIterator", { required: true, min: 1, max: 512 }) as string;
  const limit = v.int("Limit", { min: 1, max: 10000 }) ?? 10000;
  v.done();
  const now = ctx.clock();
  const it = decodeIterator(ctx.iteratorKey, token, now);
  const s = ctx.store.streams.get(it.stream);
  if (s === undefined || s.meta.createdAt !== it.created) {
    throw new KinesisError("ResourceNotFoundException", `Shard ${shardIdOf(it.shard)} in stream ${it.stream} under account ${ACCOUNT} does not exist`);
  }
  const m = shardOrThrow(s, shardIdOf(it.shard));
  const key = limitKey(s, m.index);
  if (ctx.limiter && !ctx.limiter.tryRead(key)) {
    throw new KinesisError("ProvisionedThroughputExceededException", `Rate exceeded for shard ${shardIdOf(m.index)} in stream ${s.name} under account ${ACCOUNT}.`);
  }
  const log = s.log(m.index);
  const horizon = now - s.meta.retentionHours * 3600_000;
  let i = log.indexOfCounter(it.pos);
  const minTime = Math.max(it.minTime, horizon);
  if (minTime > 0) i = Math.max(i, log.indexOfTime(minTime));
  const records = i < log.length ? await log.read(i, limit, MAX_GET_BYTES) : [];
  let bytes = 0;
  const parts: string[] = [];
  for (const r of records) {
    bytes += r.data.length;
    parts.push(`{"SequenceNumber":"${s.seq(r.counter, m.index, r.time)}","ApproximateArrivalTimestamp":${r.time / 1000},"Data":"${r.data.toString("base64")}","PartitionKey":${JSON.stringify(r.partitionKey)}}`);
  }
  ctx.limiter?.addRead(key, bytes);
  const last = records[records.length - 1];
  const pos = last !== undefined ? last.counter + 1 : it.pos;
  const next = i + records.length;
  const millisBehind = next < log.length ? Math.max(0, now - log.timeAt(next)) : 0;
  const finished = m.endCounter !== undefined && next >= log.length && (s.inflight.get(m.index) ?? 0) === 0;
  const tail = finished
    ? `"ChildShards":${JSON.stringify(childShards(s, m))}`
    : `"NextShardIterator":${JSON.stringify(encodeIterator(ctx.iteratorKey, { ...it, pos, issued: now }))}`;
  return new RawJson(`{"Records":[${parts.join(",")}],"MillisBehindLatest":${millisBehind},${tail}}`);
};

/** The record operations by X-Amz-Target name. */
export const RECORD_OPS: Record<string, Operation> = {
  PutRecord: putRecord,
  PutRecords: putRecords,
  GetShardIterator: getShardIterator,
  GetRecords: getRecords,
};

export type { OpContext };
