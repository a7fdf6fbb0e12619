/**
 * A minimal unsigned Kinesis JSON client for tests and benchmarks that need
 * many calls cheaply (the server accepts unsigned requests when it has no
 * users). Real-client coverage lives in clients.test.ts.
 */
import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Thrown for a non-2xx answer: `type` is the Kinesis `__type`. */
export class CallError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(`${type}: ${message}`);
  }
}

/** POSTs one Kinesis operation and returns the parsed JSON answer. */
export function call<T = Record<string, unknown>>(url: string, op: string, body: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  const payload = Buffer.from(JSON.stringify(body));
  const u = new URL(url);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        method: "POST",
        path: "/",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `Kinesis_20131202.${op}`, "content-length": payload.length, ...extraHeaders },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let doc: Record<string, unknown> = {};
          try {
            doc = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            reject(new CallError("BadResponse", text.slice(0, 200), res.statusCode ?? 0));
            return;
          }
          if ((res.statusCode ?? 500) >= 300) reject(new CallError(String(doc["__type"] ?? "Unknown").replace(/^.*#/, ""), String(doc["message"] ?? doc["Message"] ?? ""), res.statusCode ?? 0));
          else resolve(doc as T);
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Reads every record of every shard from TRIM_HORIZON (following no lineage; callers list all shards). */
export async function readAll(url: string, stream: string): Promise<Map<string, Array<{ SequenceNumber: string; Data: string; PartitionKey: string }>>> {
  const out = new Map<string, Array<{ SequenceNumber: string; Data: string; PartitionKey: string }>>();
  const shards = await call<{ Shards: Array<{ ShardId: string }> }>(url, "ListShards", { StreamName: stream });
  for (const s of shards.Shards) {
    const list: Array<{ SequenceNumber: string; Data: string; PartitionKey: string }> = [];
    let it: string | undefined = (await call<{ ShardIterator: string }>(url, "GetShardIterator", { StreamName: stream, ShardId: s.ShardId, ShardIteratorType: "TRIM_HORIZON" })).ShardIterator;
    while (it !== undefined) {
      const r: { Records: Array<{ SequenceNumber: string; Data: string; PartitionKey: string }>; NextShardIterator?: string; MillisBehindLatest: number } = await call(url, "GetRecords", { ShardIterator: it, Limit: 10000 });
      list.push(...r.Records);
      if (r.Records.length === 0 && r.MillisBehindLatest === 0) break;
      it = r.NextShardIterator;
    }
    out.set(s.ShardId, list);
  }
  return out;
}
