// The output commit of the multi-part writers (issue 25, item 9.1) against
// real storage: Bag toTextFiles/toJsonLines and MapReduce output, on local
// disk and on Shoal's own S3 server on loopback; DataFrame toCsv to s3:// on
// a LocalCluster whose workers find the server through the AWS_* variables.
// A write with one failing partition leaves no part and no _SUCCESS; a
// successful one leaves every part, _SUCCESS and nothing under _temporary/.
// The protocol itself (moves, stale parts, attempts) is in conformance.ts.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { Bag, BagTaskError } from "../../src/bag/index.ts";
import { Client } from "../../src/client/client.ts";
import { TaskError } from "../../src/client/errors.ts";
import { readCsv } from "../../src/dataframe/frame-read.ts";
import { MapReduceTaskError } from "../../src/mapreduce/errors.ts";
import { runJob, runStreaming } from "../../src/mapreduce/runner.ts";
import { startS3Server } from "../../src/s3/index.ts";
import * as storage from "../../src/storage/index.ts";
import { closeS3Clients, type StorageBackend, type StorageOptions } from "../../src/storage/index.ts";
import { memoryBackend } from "../../src/storage/backends/memory.ts";
import { boom } from "../bag/fns.ts";
import { Failing, WordCount } from "../mapreduce/jobs.ts";

const inline = { client: "inline" as const };
const local = mkdtempSync(join(tmpdir(), "shoal-commit-"));
const ACCESS = "shoalcommit";
const SECRET = "shoalcommit-secret-key";
let s3: StorageOptions;
let bucket = "";
let closeServer: () => Promise<void> = async () => {};

before(async () => {
  const root = mkdtempSync(join(tmpdir(), "shoal-commit-s3-"));
  const srv = await startS3Server({ root, host: "127.0.0.1", port: 0, users: [{ accessKey: ACCESS, secretKey: SECRET }], region: "us-east-1" });
  s3 = { s3: { endpoint: srv.url, region: "us-east-1", credentials: { accessKeyId: ACCESS, secretAccessKey: SECRET } } };
  bucket = `commit-${randomBytes(4).toString("hex")}`;
  await storage.s3Client(s3).send(new CreateBucketCommand({ Bucket: bucket }));
  closeServer = async () => {
    closeS3Clients();
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  };
});
after(async () => {
  await closeServer();
  rmSync(local, { recursive: true, force: true });
});

/** Every object below `url`, relative to it, sorted. */
async function objects(url: string, opts: StorageOptions = {}): Promise<string[]> {
  if (!url.startsWith("s3://") && !existsSync(url)) return [];
  return (await storage.list(url, { ...opts, recursive: true })).map((e) => e.url.slice(url.length)).sort();
}
const parts = (n: number, ext = ""): string[] => Array.from({ length: n }, (_, i) => `part-${String(i).padStart(5, "0")}${ext}`);

for (const where of ["local", "s3"] as const) {
  describe(`Bag and MapReduce writers on ${where} storage`, () => {
    const root = (): string => (where === "local" ? `${local}/${where}/` : `s3://${bucket}/${where}/`);
    const opts = (): StorageOptions => (where === "local" ? {} : s3);

    it("Bag.toTextFiles with one failing partition leaves nothing; a successful one every part and _SUCCESS", async () => {
      const out = `${root()}bag-text/`;
      const nums = Bag.fromSequence([...Array(50).keys()], { npartitions: 5 }); // 7 is in partition 0
      await assert.rejects(nums.map(boom).toTextFiles(out, { ...inline, storage: opts() }), (err: unknown) => {
        assert.ok(err instanceof BagTaskError);
        assert.match(err.message, /map function 'boom' failed on partition 0: RangeError: seven is not allowed/);
        return true;
      });
      assert.deepEqual(await objects(out, opts()), []); // partitions 1-4 were written, under _temporary/, and removed
      const urls = await nums.toTextFiles(out, { ...inline, storage: opts() });
      assert.deepEqual(urls, parts(5).map((p) => `${out}${p}`));
      assert.deepEqual(await objects(out, opts()), ["_SUCCESS", ...parts(5)]);
      assert.equal((await storage.read(`${out}part-00004`, opts())).toString(), [40, 41, 42, 43, 44, 45, 46, 47, 48, 49].join("\n") + "\n");
      // a failed rewrite keeps the committed output as it was
      await assert.rejects(nums.map(boom).toJsonLines(out, { ...inline, storage: opts() }), BagTaskError);
      assert.deepEqual(await objects(out, opts()), ["_SUCCESS", ...parts(5)]);
    });

    it("MapReduce: a job with a failing map task leaves the output directory as it was; a successful one replaces it", async () => {
      const inputs = [0, 1, 2, 3].map((i) => `${local}/mr-in-${where}-${i}.txt`);
      inputs.forEach((f, i) => writeFileSync(f, `a b c\nline ${i}\n${i === 2 ? "BOOM\n" : ""}`));
      const out = `${root()}mr/`;
      // map-only streaming job: three splits write their part, the fourth exits 3
      const mapper = "awk '/BOOM/ { exit 3 } { print }'";
      await assert.rejects(runStreaming({ mapper, env: {} }, { inputs, output: out, reducers: 0, storage: opts() }), MapReduceTaskError);
      assert.deepEqual(await objects(out, opts()), []);
      await runStreaming({ mapper: "cat", env: {} }, { inputs, output: out, reducers: 0, storage: opts() });
      assert.deepEqual(await objects(out, opts()), ["_SUCCESS", ...parts(4)]);
      await assert.rejects(runJob(Failing, { inputs, output: out, reducers: 2, storage: opts() }), MapReduceTaskError);
      assert.deepEqual(await objects(out, opts()), ["_SUCCESS", ...parts(4)]);
      const r = await runJob(WordCount, { inputs: inputs.slice(0, 2), output: out, reducers: 2, storage: opts() });
      assert.deepEqual(r.parts, parts(2).map((p) => `${out}${p}`));
      assert.deepEqual(await objects(out, opts()), ["_SUCCESS", ...parts(2)]); // part-00002 and -00003 of the earlier job are gone
    });
  });
}

describe("DataFrame toCsv to s3:// on a LocalCluster", () => {
  let client: Client;
  const saved: Record<string, string | undefined> = {};
  const env = (): Record<string, string> => ({
    AWS_ENDPOINT_URL_S3: s3.s3!.endpoint!,
    AWS_ACCESS_KEY_ID: ACCESS,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_REGION: "us-east-1",
  });
  before(async () => {
    for (const [k, v] of Object.entries(env())) {
      saved[k] = process.env[k];
      process.env[k] = v; // the workers inherit them
    }
    client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  });
  after(async () => {
    await client.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("one failing partition: no object under the output prefix; a success: every part, then _SUCCESS", async () => {
    const lines = ["a,b"];
    for (let i = 0; i < 13_000; i++) lines.push(i === 12_500 ? "x,1" : `${i},${i}`); // past the schema sample
    const file = join(local, "df.csv");
    writeFileSync(file, lines.join("\n") + "\n");
    const bad = await readCsv(file, { blocksize: 10_000, dtypes: { a: "int64" } });
    const n = bad.npartitions;
    assert.ok(n >= 5, `${n} partitions`);
    const out = `s3://${bucket}/df/out/`;
    await assert.rejects(bad.toCsv(out, {}, client), (err: unknown) => err instanceof TaskError && err.remoteName === "CsvParseError");
    assert.deepEqual(await objects(out, s3), []);
    const good = await readCsv(file, { blocksize: 10_000 });
    await good.toCsv(out, {}, client);
    assert.deepEqual(await objects(out, s3), ["_SUCCESS", ...parts(good.npartitions, ".csv")]);
    assert.equal(await (await readCsv(out)).len().compute(client), 13_000);
  });
});

describe("a failed write whose cleanup fails too", () => {
  // memory:// under another scheme, except that nothing can be deleted
  const stuck: StorageBackend = {
    ...memoryBackend,
    schemes: ["stuck"],
    stat: (u, o) => memoryBackend.stat(toMem(u), o).then((i) => ({ ...i, url: u })),
    readRange: (u, s, e, o) => memoryBackend.readRange(toMem(u), s, e, o),
    openReadStream: (u, s, e, o) => memoryBackend.openReadStream(toMem(u), s, e, o),
    write: (u, src, o) => memoryBackend.write(toMem(u), src, o).then((r) => ({ ...r, url: u })),
    list: async (u, o) => (await memoryBackend.list(toMem(u), o)).map((e) => ({ ...e, url: `stuck://${e.url.slice("memory://".length)}` })),
    delete: async (u) => {
      throw new storage.StorageError(`${u}: delete refused`, { url: u, code: "AccessDenied" });
    },
  };
  function toMem(u: string): string {
    return `memory://${u.slice("stuck://".length)}`;
  }
  delete (stuck as { copy?: unknown }).copy;
  storage.registerBackend(stuck);

  it("throws OutputCommitError ERR_OUTPUT_CLEANUP naming what is left, with the task's error as cause", async () => {
    const out = `stuck://c-${randomBytes(3).toString("hex")}/out/`;
    const nums = Bag.fromSequence([...Array(50).keys()], { npartitions: 5 });
    await assert.rejects(nums.map(boom).toTextFiles(out, inline), (err: unknown) => {
      assert.ok(err instanceof storage.OutputCommitError, String(err));
      assert.equal(err.code, storage.OutputCommitCode.CleanupFailed);
      assert.ok(err.cause instanceof BagTaskError);
      assert.equal(err.leftover.length, 4); // partitions 1-4, written before the failure
      assert.ok(err.leftover.every((u) => u.startsWith(`${out}_temporary/`)));
      assert.match(err.message, /^map function 'boom' failed on partition 0: RangeError: seven is not allowed — and removing the temporary parts of the failed write to stuck:\/\/\S+ failed too: .*readers skip _temporary\//s);
      return true;
    });
    assert.deepEqual(await storage.expandPaths(`${out}**`).catch((e: unknown) => (e as Error).name), "NoMatchesError"); // readers see nothing
  });
});
