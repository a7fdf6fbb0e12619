/**
 * Test helpers: a server on 127.0.0.1 port 0 over a temp directory, SDK
 * clients for its users, and unique bucket names.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { type S3Server, type S3ServerOptions, startS3Server } from "../../src/s3/index.ts";

/** Three users, as s3-tests uses. */
export const USERS = {
  main: { accessKey: "AKMAINTEST000000", secretKey: "main/secret+key=0000000000000000000000", id: "main-id", displayName: "Main User" },
  alt: { accessKey: "AKALTTEST0000000", secretKey: "alt-secret-key-000000000000000000000000", id: "alt-id", displayName: "alt" },
  third: { accessKey: "AKTHIRD000000000", secretKey: "third-secret-key-0000000000000000000000", id: "third-id", displayName: "third" },
} as const;

/** A running test server and its root directory. */
export interface TestServer {
  server: S3Server;
  root: string;
  url: string;
  client(user?: keyof typeof USERS): S3Client;
  anonymous(): S3Client;
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port over a fresh temp directory. */
export async function startTestServer(opts: Partial<S3ServerOptions> = {}): Promise<TestServer> {
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), "shoal-s3-test-")));
  const server = await startS3Server({ root, host: "127.0.0.1", port: 0, users: Object.values(USERS), ...opts });
  const clients: S3Client[] = [];
  const make = (creds?: { accessKeyId: string; secretAccessKey: string }): S3Client => {
    const c = new S3Client({
      endpoint: server.url,
      region: "us-east-1",
      forcePathStyle: true,
      ...(creds ? { credentials: creds } : { credentials: { accessKeyId: "", secretAccessKey: "" }, signer: { sign: async (req) => req } }),
    });
    clients.push(c);
    return c;
  };
  return {
    server,
    root,
    url: server.url,
    client: (user = "main") => make({ accessKeyId: USERS[user].accessKey, secretAccessKey: USERS[user].secretKey }),
    anonymous: () => make(),
    close: async () => {
      for (const c of clients) c.destroy();
      await server.close();
      if (opts.root === undefined) await rm(root, { recursive: true, force: true });
    },
  };
}

/** A bucket name unique to this test run. */
export function bucketName(tag = "b"): string {
  return `${tag}-${randomBytes(6).toString("hex")}`.toLowerCase();
}

/** Reads an SDK body to a Buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray(): Promise<Uint8Array> };
  return Buffer.from(await b.transformToByteArray());
}

/** The error name/code and HTTP status of a rejected SDK call. */
export async function s3Error(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; Code?: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { code: err.Code ?? err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error("expected the S3 call to fail");
}
