/**
 * SelectObjectContent through real Python clients: boto3's
 * `select_object_content` (which sends `?select&select-type=2` without a
 * content type) and the AWS CLI's `s3api select-object-content` — both
 * the CLI first on PATH (v1 here) and Debian's /usr/bin/aws (v2), when
 * present. Each test skips when its client is missing.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { bucketName, startTestServer, type TestServer, USERS } from "./helpers.ts";

const run = promisify(execFile);

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

describe("S3 Select with boto3 and the AWS CLI", () => {
  let t: TestServer;
  let dir: string;
  const bucket = bucketName("selcli");
  let env: NodeJS.ProcessEnv;

  before(async () => {
    t = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), "shoal-select-cli-"));
    const s3 = t.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "cities.csv", Body: "city,country,pop\nOslo,NO,0.7\nRome,IT,2.8\nLima,PE,10.1\n" }));
    env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: USERS.main.accessKey,
      AWS_SECRET_ACCESS_KEY: USERS.main.secretKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
      AWS_CONFIG_FILE: join(dir, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    };
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const python of [...new Set(["python3", ...(existsSync("/usr/bin/python3") ? ["/usr/bin/python3"] : [])])]) {
    it(`boto3 (${python}) decodes records, stats, progress and errors`, async (tc) => {
      if (!(await works(python, ["-c", "import boto3"]))) return tc.skip(`boto3 not installed for ${python} (apt-get install python3-boto3)`);
      const script = join(import.meta.dirname, "fixtures", "select_boto3.py");
      const { stdout } = await run(python, [script, t.url, USERS.main.accessKey, USERS.main.secretKey, bucket], { timeout: 60_000 });
      const r = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
      assert.equal(r.filter!.records, "b\nc\n");
      assert.deepEqual(r.filter!.kinds, ["Records", "Stats", "End"]);
      assert.equal(r.agg_json!.records, '{"total":356,"n":3}\n');
      assert.deepEqual(r.agg_json!.kinds, ["Records", "Progress", "Stats", "End"]);
      assert.equal(r.quoted_out!.records, '"a";"1"\n');
      assert.equal(r.jsonl!.records, '{"k":"a","first":1}\n{"k":"b","first":3}\n');
      // "k|v\n#skip\na|1\nb|22\n": b|22 starts at byte 14.
      assert.equal(r.scan_range!.records, "b\n");
      assert.deepEqual(r.syntax, { error: "ParseExpectedExpression", status: 400, message: "expected an expression but found 'FROM' at line 1, column 8" });
      assert.equal(r.bad_type!.error, "InvalidFileHeaderInfo");
      assert.deepEqual(r.cast_fail, { stream_error: "CastFailed" });
    });
  }

  const clis = [...new Set(["aws", ...(existsSync("/usr/bin/aws") ? ["/usr/bin/aws"] : [])])];
  for (const aws of clis) {
    it(`the AWS CLI (${aws}) s3api select-object-content writes the records to a file`, async (tc) => {
      if (!(await works(aws, ["--version"]))) return tc.skip(`${aws} is not installed (apt-get install awscli)`);
      const out = join(dir, `out-${clis.indexOf(aws)}.csv`);
      await run(
        aws,
        [
          "--endpoint-url", t.url, "s3api", "select-object-content",
          "--bucket", bucket, "--key", "cities.csv",
          "--expression", "SELECT s.city, s.country FROM S3Object s WHERE CAST(s.pop AS FLOAT) > 1",
          "--expression-type", "SQL",
          "--input-serialization", '{"CSV": {"FileHeaderInfo": "USE"}, "CompressionType": "NONE"}',
          "--output-serialization", '{"CSV": {}}',
          out,
        ],
        { env, timeout: 60_000 },
      );
      assert.equal(await readFile(out, "utf8"), "Rome,IT\nLima,PE\n");
      const bad = await run(aws, ["--endpoint-url", t.url, "s3api", "select-object-content", "--bucket", bucket, "--key", "cities.csv", "--expression", "SELECT nope( FROM S3Object", "--expression-type", "SQL", "--input-serialization", '{"CSV": {}}', "--output-serialization", '{"CSV": {}}', out], { env, timeout: 60_000 }).then(
        () => "",
        (e: { stderr: string }) => e.stderr,
      );
      assert.match(bad, /ParseExpectedExpression|ParseUnexpectedToken/);
    });
  }
});
