/**
 * The HTTP server: parses each request (path-style `/bucket/key`),
 * authenticates it, routes it, and renders errors as S3 XML documents.
 */
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { authenticate } from "./auth.ts";
import { S3Request, type ServerContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { decodeKey } from "./keys.ts";
import { MultipartStore } from "./multipart.ts";
import { sendError, toS3Error } from "./respond.ts";
import { route } from "./router.ts";
import { headerMap, parseQuery } from "./sigv4.ts";
import { Store } from "./store.ts";
import { type S3UserInput, UserDirectory } from "./users.ts";

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /** Directory holding buckets and objects (created if missing). */
  root: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 9000; 0 picks a free one). */
  port?: number;
  /** Users allowed to sign requests. */
  users?: readonly S3UserInput[];
  /** Region reported by the server and used in GetBucketLocation (default us-east-1). */
  region?: string;
  /** Smallest size of every part but the last (default 5 MiB). */
  minPartSize?: number;
  /** Called once per request after the response is sent. */
  onRequest?: (info: RequestLog) => void;
}

/** One access-log record. */
export interface RequestLog {
  id: string;
  method: string;
  url: string;
  status: number;
  ms: number;
  error?: S3Error;
}

/** A running server. */
export interface S3Server {
  /** Base URL, e.g. `http://127.0.0.1:9000`. */
  url: string;
  port: number;
  /** Stops accepting connections, closes open ones and resolves when done. */
  close(): Promise<void>;
}

/** Splits `/bucket/key...` into decoded bucket and key. */
export function splitPath(rawPath: string): { bucket: string | undefined; key: string | undefined } {
  const p = rawPath.startsWith("/") ? rawPath.slice(1) : rawPath;
  if (p === "") return { bucket: undefined, key: undefined };
  const i = p.indexOf("/");
  if (i < 0) return { bucket: decodeKey(p), key: undefined };
  const bucket = decodeKey(p.slice(0, i));
  const rest = p.slice(i + 1);
  return { bucket, key: rest === "" ? undefined : decodeKey(rest) };
}

function newRequestId(): string {
  return randomBytes(8).toString("hex").toUpperCase();
}

async function handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, log: S3ServerOptions["onRequest"]): Promise<void> {
  const started = Date.now();
  const id = newRequestId();
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const r = new S3Request(id, req, res, (req.method ?? "GET").toUpperCase(), rawPath, parseQuery(q < 0 ? "" : url.slice(q + 1)), headerMap(req.rawHeaders), started);
  res.setHeader("x-amz-request-id", id);
  res.setHeader("x-amz-id-2", id);
  res.setHeader("Server", "Shoal");
  let error: S3Error | undefined;
  try {
    const { bucket, key } = splitPath(rawPath);
    r.bucket = bucket;
    r.key = key;
    if (r.method === "OPTIONS") throw new S3Error("BadRequest", "Insufficient information. Origin request header needed.");
    r.auth = authenticate({ method: r.method, rawPath, params: r.params, headers: r.headers, now: started }, ctx.users);
    await route(ctx, r);
  } catch (e) {
    error = req.readableAborted && !(e instanceof S3Error) ? new S3Error("IncompleteBody", undefined, { cause: e }) : toS3Error(e);
    if (error.code === "InternalError") console.error(`[shoal s3] ${r.method} ${url}:`, e);
    sendError(res, error, id, r.resource);
  }
  if (log) {
    const status = () => log({ id, method: r.method, url, status: res.statusCode, ms: Date.now() - started, ...(error ? { error } : {}) });
    if (res.writableFinished) status();
    else res.once("finish", status);
  }
}

/**
 * Starts an S3-compatible server storing under `root`.
 *
 * @example
 * const s3 = await startS3Server({ root: "/tmp/s3", port: 0, users: [{ accessKey: "AK", secretKey: "SK" }] });
 * console.log(s3.url); // http://127.0.0.1:PORT
 * await s3.close();
 */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const root = resolve(opts.root);
  await mkdir(root, { recursive: true });
  const store = await Store.open(root);
  const ctx: ServerContext = {
    store,
    uploads: await MultipartStore.open(store),
    users: new UserDirectory(opts.users ?? []),
    region: opts.region ?? "us-east-1",
    minPartSize: opts.minPartSize ?? 5 * 1024 * 1024,
  };
  const server: Server = createServer({ keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    void handle(ctx, req, res, opts.onRequest);
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 9000, host, () => {
      server.off("error", reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
