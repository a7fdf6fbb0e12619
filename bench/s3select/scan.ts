/**
 * S3 Select scan rate against the GET rate of the same object on
 * `shoal s3 serve` (loopback, server in a child process).
 *
 *     node --import tsx bench/s3select/scan.ts [--size-mib 1024] [--csv /tmp/x.csv]
 *
 * Generates a CSV object (`id,score,word,value`, ~30 bytes a row) into a
 * temp file under /tmp (never into the repository), uploads it, then times
 * a streamed GET (best of three) and three SelectObjectContent queries: a selective WHERE
 * filter with a projection, a COUNT with LIKE, and `SELECT *` (every row
 * returned). Prints MB/s (object bytes / wall time), the ratio to GET, the
 * server's peak RSS (VmHWM, to show memory stays bounded) and the load
 * average.
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client, SelectObjectContentCommand } from "@aws-sdk/client-s3";

const { values } = parseArgs({ options: { "size-mib": { type: "string", default: "1024" }, csv: { type: "string" } } });
const sizeMiB = Number(values["size-mib"]);
const dir = await mkdtemp(join(tmpdir(), "shoal-s3select-bench-"));

async function generate(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  let written = 0;
  let id = 0;
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed;
  };
  out.write("id,score,word,value\n");
  while (written < bytes) {
    let s = "";
    for (let i = 0; i < 20_000; i++) s += `${id++},${rnd() % 1000},${words[rnd() % 8]},${(rnd() % 100000) / 100}\n`;
    written += s.length;
    if (!out.write(s)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

const csvPath = values.csv ?? join(dir, "data.csv");
if (values.csv === undefined) {
  const t = performance.now();
  await generate(csvPath, sizeMiB * (1 << 20));
  console.log(`generated ${csvPath} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
const size = (await stat(csvPath)).size;

const entry = `import { run } from ${JSON.stringify(new URL("../../src/cli/s3.ts", import.meta.url).href)}; process.exitCode = await run(process.argv.slice(1));`;
const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", entry, "serve", "--root", join(dir, "root"), "--port", "0", "--user", "BENCH:benchsecret", "--quiet"], {
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
const peakRss = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};

const s3 = new S3Client({ endpoint: url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "BENCH", secretAccessKey: "benchsecret" } });
await s3.send(new CreateBucketCommand({ Bucket: "bench" }));
await s3.send(new PutObjectCommand({ Bucket: "bench", Key: "data.csv", Body: createReadStream(csvPath), ContentLength: size }));
const afterPut = peakRss();

const MB = 1e6;
let t0 = 0;
console.log(`object: ${(size / MB).toFixed(0)} MB CSV; server peak RSS after PUT ${afterPut.toFixed(0)} MiB`);
// GET three times and keep the best: on a shared machine one read is noisy.
let getS = Infinity;
for (let i = 0; i < 3; i++) {
  t0 = performance.now();
  const got = await s3.send(new GetObjectCommand({ Bucket: "bench", Key: "data.csv" }));
  let n = 0;
  for await (const c of got.Body as AsyncIterable<Uint8Array>) n += c.length;
  if (n !== size) throw new Error(`GET returned ${n} of ${size} bytes`);
  getS = Math.min(getS, (performance.now() - t0) / 1000);
}
const getRate = size / MB / getS;
console.log(`${"GET (best of 3)".padEnd(58)} ${getRate.toFixed(0).padStart(6)} MB/s  (${getS.toFixed(2)} s)`);

const queries: [string, string][] = [
  ["WHERE filter + projection (~1% of rows)", "SELECT s.id, s.word FROM S3Object s WHERE CAST(s.score AS INT) >= 990"],
  ["COUNT(*) with LIKE", "SELECT COUNT(*) FROM S3Object s WHERE s.word LIKE 'ch%'"],
  ["SELECT * (every row returned)", "SELECT * FROM S3Object"],
];
for (const [label, sql] of queries) {
  t0 = performance.now();
  const res = await s3.send(
    new SelectObjectContentCommand({
      Bucket: "bench",
      Key: "data.csv",
      ExpressionType: "SQL",
      Expression: sql,
      InputSerialization: { CSV: { FileHeaderInfo: "USE" } },
      OutputSerialization: { CSV: {} },
    }),
  );
  let returned = 0;
  let scanned = 0;
  for await (const ev of res.Payload!) {
    if (ev.Records?.Payload) returned += ev.Records.Payload.length;
    if (ev.Stats?.Details) scanned = ev.Stats.Details.BytesScanned ?? 0;
  }
  const s = (performance.now() - t0) / 1000;
  const rate = size / MB / s;
  console.log(`${`select: ${label}`.padEnd(58)} ${rate.toFixed(0).padStart(6)} MB/s  (${s.toFixed(2)} s, ${(returned / MB).toFixed(1)} MB returned, scanned ${(scanned / MB).toFixed(0)} MB)  ratio to GET ${(rate / getRate).toFixed(3)}`);
}
console.log(`server peak RSS over the run: ${peakRss().toFixed(0)} MiB; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);

child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
await rm(dir, { recursive: true, force: true });
