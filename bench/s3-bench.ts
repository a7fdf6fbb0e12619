/**
 * Throughput of `shoal s3 serve` on loopback: one large object PUT and GET
 * (default 1 GiB) and small-object (4 KiB) PUT/GET operations per second
 * with many concurrent clients.
 *
 *     node --import tsx bench/s3-bench.ts [--size-mib 1024] [--ops 4000] [--concurrency 64]
 *
 * The server runs in a child process so it does not share the client's
 * event loop. Data lives in a temp directory that is removed afterwards.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const { values } = parseArgs({
  options: { "size-mib": { type: "string", default: "1024" }, ops: { type: "string", default: "4000" }, concurrency: { type: "string", default: "64" } },
});
const sizeMiB = Number(values["size-mib"]);
const ops = Number(values.ops);
const concurrency = Number(values.concurrency);

const dir = await mkdtemp(join(tmpdir(), "shoal-s3-bench-"));
const entry = `import { run } from ${JSON.stringify(new URL("../src/cli/s3.ts", import.meta.url).href)}; process.exitCode = await run(process.argv.slice(1));`;
const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", entry, "serve", "--root", join(dir, "data"), "--port", "0", "--user", "BENCH:benchsecret", "--quiet"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const url = await new Promise<string>((resolve) => {
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m?.[1]) resolve(m[1]);
  });
});

const s3 = new S3Client({
  endpoint: url,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "BENCH", secretAccessKey: "benchsecret" },
  requestHandler: new NodeHttpHandler({ httpAgent: { maxSockets: concurrency, keepAlive: true } }),
});
const bucket = "bench";
await s3.send(new CreateBucketCommand({ Bucket: bucket }));

function rate(label: string, n: number, unit: string, ms: number): void {
  console.log(`${label.padEnd(28)} ${(n / (ms / 1000)).toFixed(1).padStart(10)} ${unit}  (${(ms / 1000).toFixed(2)} s)`);
}

// Large object: multipart PUT (lib-storage, 16 MiB parts, 4 in flight) from a generator, then a streamed GET.
const chunk = randomBytes(1 << 20);
let t0 = performance.now();
const body = Readable.from((function* () {
  for (let i = 0; i < sizeMiB; i++) yield chunk;
})());
await new Upload({ client: s3, params: { Bucket: bucket, Key: "large", Body: body }, partSize: 16 << 20, queueSize: 4 }).done();
rate(`PUT ${sizeMiB} MiB object`, sizeMiB, "MiB/s", performance.now() - t0);
t0 = performance.now();
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "large" }));
let bytes = 0;
for await (const c of got.Body as AsyncIterable<Uint8Array>) bytes += c.length;
rate(`GET ${sizeMiB} MiB object`, bytes / (1 << 20), "MiB/s", performance.now() - t0);

// Small objects: 4 KiB PUT then GET, `concurrency` requests in flight.
const small = randomBytes(4096);
async function pool(fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ops) await fn(next++);
  }));
  return performance.now() - start;
}
rate(`PUT 4 KiB x${ops} (c=${concurrency})`, ops, "ops/s", await pool((i) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `small/${i}`, Body: small })).then(() => undefined)));
rate(`GET 4 KiB x${ops} (c=${concurrency})`, ops, "ops/s", await pool(async (i) => {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `small/${i}` }));
  await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
}));

s3.destroy();
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
await rm(dir, { recursive: true, force: true });
