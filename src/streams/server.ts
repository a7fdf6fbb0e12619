/**
 * The Kinesis-compatible HTTP server: HTTP/1.1 and cleartext HTTP/2 (h2c
 * with prior knowledge, as `@aws-sdk/client-kinesis` speaks it) on one port,
 * `POST /` with `X-Amz-Target: Kinesis_20131202.<Operation>` and an
 * `application/x-amz-json-1.1` body, SigV4-verified with `src/s3`'s
 * implementation when users are configured.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer as createHttp1 } from "node:http";
import { type Http2ServerRequest, type Http2ServerResponse, createServer as createHttp2 } from "node:http2";
import { type AddressInfo, type Socket, createServer as createNet } from "node:net";
import { join } from "node:path";
import { verifySigV4Header } from "../s3/auth.ts";
import { S3Error } from "../s3/errors.ts";
import { parseQuery, sha256Hex } from "../s3/sigv4.ts";
import { type S3UserInput, UserDirectory } from "../s3/users.ts";
import { type OpContext, type Operation, RawJson } from "./context.ts";
import { KinesisError } from "./errors.ts";
import { AWS_LIMITS, type Limits, Limiter } from "./limits.ts";
import { ADMIN_OPS } from "./ops-admin.ts";
import { RECORD_OPS } from "./ops-records.ts";
import type { FsyncPolicy } from "./segment.ts";
import { StreamStore } from "./store.ts";

/** One request, for logging. */
export interface StreamsRequestLog {
  operation: string;
  status: number;
  ms: number;
  error?: string;
}

/** Options of {@link startStreamsServer}. */
export interface StreamsServerOptions {
  /** Folder for stream data (created if missing). */
  root: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 4567; 0 picks a free one). */
  port?: number;
  /** Users whose SigV4 signatures are verified; with none, any request is accepted unsigned. */
  users?: S3UserInput[];
  /** When appends reach stable storage before the ack: `always` (default, fdatasync per group commit), `interval` (every 100 ms), `never`. */
  fsync?: FsyncPolicy;
  /** Segment size before rolling (default 64 MiB). */
  segmentBytes?: number;
  /** Enforce AWS's per-shard quotas (default off), or custom ones. */
  enforceLimits?: boolean | Limits;
  /** Most open shards across streams (default 500, AWS's default account quota). */
  shardLimit?: number;
  /** Serve HTTP/2 (h2c) beside HTTP/1.1 on the same port (default true). */
  http2?: boolean;
  /** Clock in ms (tests inject one to exercise retention and iterator expiry). */
  clock?: () => number;
  /** Called after each request. */
  onRequest?: (log: StreamsRequestLog) => void;
}

/** A running server. */
export interface StreamsServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly store: StreamStore;
  /** Applies retention now (it also runs every minute). */
  trim(): Promise<void>;
  /** Stops listening, waits for writes in flight and closes the logs. */
  close(): Promise<void>;
}

const TARGET_PREFIX = "Kinesis_20131202.";
const MAX_BODY = 16 * 1024 * 1024;

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

function readBody(req: Req): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new KinesisError("SerializationException", `Request body exceeds ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function headerMapOf(req: Req): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? "").toLowerCase();
    const list = m.get(name);
    if (list) list.push(raw[i + 1] ?? "");
    else m.set(name, [raw[i + 1] ?? ""]);
  }
  const authority = m.get(":authority");
  if (!m.has("host") && authority !== undefined) m.set("host", authority);
  return m;
}

function authError(e: S3Error): KinesisError {
  switch (e.code) {
    case "InvalidAccessKeyId":
      return new KinesisError("UnrecognizedClientException", "The security token included in the request is invalid.");
    case "SignatureDoesNotMatch":
      return new KinesisError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
    case "RequestTimeTooSkewed":
      return new KinesisError("InvalidSignatureException", "Signature expired: the request time is too far from the server time (15 minutes allowed).");
    default:
      return new KinesisError("IncompleteSignatureException", e.message);
  }
}

function loadKey(root: string): Buffer {
  const p = join(root, "iterator.key");
  if (existsSync(p)) return readFileSync(p);
  const k = randomBytes(32);
  writeFileSync(p, k, { mode: 0o600 });
  return k;
}

/**
 * Starts a Kinesis-compatible server.
 *
 * @example
 * const srv = await startStreamsServer({ root: "./streams-data", port: 0 });
 * // boto3.client("kinesis", endpoint_url=srv.url, region_name="us-east-1", ...)
 * await srv.close();
 */
export async function startStreamsServer(opts: StreamsServerOptions): Promise<StreamsServer> {
  mkdirSync(opts.root, { recursive: true });
  const clock = opts.clock ?? Date.now;
  const store = new StreamStore({ root: opts.root, fsync: opts.fsync ?? "always", segmentBytes: opts.segmentBytes ?? 64 * 1024 * 1024, clock });
  const users = new UserDirectory(opts.users ?? []);
  const limits = opts.enforceLimits === true ? AWS_LIMITS : opts.enforceLimits === false || opts.enforceLimits === undefined ? undefined : opts.enforceLimits;
  const ctx: OpContext = {
    store,
    clock,
    iteratorKey: loadKey(opts.root),
    limiter: limits === undefined ? undefined : new Limiter(limits, clock),
    shardLimit: opts.shardLimit ?? 500,
  };
  const ops: Record<string, Operation> = { ...ADMIN_OPS, ...RECORD_OPS };

  async function handle(req: Req, res: Res): Promise<void> {
    const t0 = performance.now();
    const target = String(req.headers["x-amz-target"] ?? "");
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
    let status = 200;
    let payload: Record<string, unknown> | RawJson;
    let errType: string | undefined;
    try {
      if (req.method === "GET" && op === "") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("healthy: shoal streams\n");
        return;
      }
      const body = await readBody(req);
      if (users.size > 0) {
        const headers = headerMapOf(req);
        const authz = headers.get("authorization")?.join(",");
        if (authz === undefined || authz === "") throw new KinesisError("MissingAuthenticationTokenException", "Missing Authentication Token");
        try {
          const [path, query = ""] = (req.url ?? "/").split("?", 2) as [string, string?];
          verifySigV4Header(
            { method: req.method ?? "POST", rawPath: path, params: parseQuery(query), headers, now: Date.now() },
            users,
            authz,
            sha256Hex(body),
          );
        } catch (e) {
          if (e instanceof S3Error) throw authError(e);
          throw e;
        }
      }
      const handler = ops[op];
      if (handler === undefined) throw new KinesisError("UnknownOperationException", op === "" ? "Missing X-Amz-Target" : `Unknown operation ${op}`);
      const ct = String(req.headers["content-type"] ?? "");
      if (ct.includes("cbor")) throw new KinesisError("SerializationException", "application/x-amz-cbor-1.1 is not supported by this server; use application/x-amz-json-1.1 (AWS_CBOR_DISABLE=1 for the Java SDK)");
      let parsed: unknown;
      try {
        parsed = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
      } catch {
        throw new KinesisError("SerializationException", "Body is not valid JSON");
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new KinesisError("SerializationException", "Body must be a JSON object");
      payload = await handler(ctx, parsed as Record<string, unknown>);
    } catch (e) {
      const k = e instanceof KinesisError ? e : new KinesisError("InternalFailure", (e as Error).message ?? String(e), { cause: e });
      status = k.status;
      errType = k.code;
      payload = { __type: k.code, message: k.message };
    }
    const text = payload instanceof RawJson ? payload.text : JSON.stringify(payload);
    if (!res.headersSent) {
      res.writeHead(status, {
        "content-type": "application/x-amz-json-1.1",
        "content-length": Buffer.byteLength(text),
        "x-amzn-requestid": randomUUID(),
        ...(errType !== undefined ? { "x-amzn-errortype": errType } : {}),
      });
    }
    res.end(text);
    opts.onRequest?.({ operation: op, status, ms: performance.now() - t0, ...(errType !== undefined ? { error: errType } : {}) });
  }

  const onRequest = (req: Req, res: Res): void => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const h1 = createHttp1({ keepAliveTimeout: 65_000 }, onRequest);
  const h2 = opts.http2 === false ? undefined : createHttp2({}, onRequest);
  const sockets = new Set<Socket>();
  const front = createNet((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.once("readable", () => {
      const head = sock.read(3) as Buffer | null;
      if (head !== null) sock.unshift(head);
      if (h2 !== undefined && head !== null && head.toString("latin1") === "PRI") h2.emit("connection", sock);
      else h1.emit("connection", sock);
    });
  });
  front.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(opts.port ?? 4567, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (front.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";
  const trim = async (): Promise<void> => {
    for (const s of store.streams.values()) await s.trim();
  };
  const timer = setInterval(() => void trim(), 60_000);
  timer.unref();
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    store,
    trim,
    async close() {
      clearInterval(timer);
      await new Promise<void>((r) => {
        front.close(() => r());
        for (const s of sockets) s.destroy();
      });
      h1.close();
      h2?.close();
      await store.close();
    },
  };
}
