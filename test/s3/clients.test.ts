/**
 * Real third-party clients against the server on loopback: the AWS CLI
 * (Debian `awscli`) running the seeds' workflow, and a boto3 script
 * (Debian `python3-boto3`). Each test skips when its client is missing.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type TestServer, USERS, bucketName, startTestServer } from "./helpers.ts";

const run = promisify(execFile);

async function available(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const AWS = existsSync("/usr/bin/aws") ? "/usr/bin/aws" : "aws";
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

describe("s3 with real clients (AWS CLI, boto3)", () => {
  let t: TestServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    t = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), "shoal-s3-clients-"));
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

  async function aws(...args: string[]): Promise<string> {
    const { stdout } = await run(AWS, ["--endpoint-url", t.url, ...args], { env, timeout: 60_000, maxBuffer: 64 << 20 });
    return stdout;
  }

  async function httpGet(url: string): Promise<{ status: number; body: Buffer }> {
    if (await available("curl", ["--version"])) {
      const { stdout } = await run("curl", ["-s", "-o", join(dir, "curl.out"), "-w", "%{http_code}", url], { timeout: 30_000 });
      return { status: Number(stdout), body: await readFile(join(dir, "curl.out")) };
    }
    const res = await fetch(url);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  it("runs the seeds' AWS CLI workflow: mb, cp, ls, presign, policy, rm, rb", async (tc) => {
    if (!(await available(AWS, ["--version"]))) {
      tc.skip("AWS CLI not installed (apt-get install awscli)");
      return;
    }
    const b = bucketName("cli");
    const small = join(dir, "small.csv");
    const big = join(dir, "big.bin");
    const bigData = randomBytes(9 * 1024 * 1024 + 123);
    await writeFile(small, "Id,CreationDate,Score\n1,2008-07-31,21\n");
    await writeFile(big, bigData);
    assert.match(await aws("s3", "mb", `s3://${b}`), /make_bucket/);
    await aws("s3", "cp", "--no-progress", small, `s3://${b}/data/small.csv`);
    await aws("s3", "cp", "--no-progress", big, `s3://${b}/data/big.bin`);
    const ls = await aws("s3", "ls", "--recursive", `s3://${b}`);
    assert.match(ls, /\s38 data\/small\.csv/);
    assert.match(ls, new RegExp(`\\s${bigData.length} data/big\\.bin`));
    const head = JSON.parse(await aws("s3api", "head-object", "--bucket", b, "--key", "data/big.bin")) as { ETag: string };
    assert.match(head.ETag, /-\d+"$/);
    await aws("s3", "cp", "--no-progress", `s3://${b}/data/big.bin`, join(dir, "big.copy"));
    assert.ok((await readFile(join(dir, "big.copy"))).equals(bigData));

    const presigned = (await aws("s3", "presign", `s3://${b}/data/small.csv`, "--expires-in", "300")).trim();
    const viaPresign = await httpGet(presigned);
    assert.equal(viaPresign.status, 200);
    assert.equal(viaPresign.body.toString(), "Id,CreationDate,Score\n1,2008-07-31,21\n");

    assert.equal((await httpGet(`${t.url}/${b}/data/small.csv`)).status, 403);
    const policy = {
      Version: "2012-10-17",
      Statement: [{ Sid: "PublicReadGetObject", Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${b}/*`] }],
    };
    await aws("s3api", "put-bucket-policy", "--bucket", b, "--policy", JSON.stringify(policy));
    const anon = await httpGet(`${t.url}/${b}/data/small.csv`);
    assert.equal(anon.status, 200);
    assert.match(anon.body.toString(), /2008-07-31/);

    await aws("s3", "rm", "--recursive", `s3://${b}`);
    assert.equal((await aws("s3", "ls", "--recursive", `s3://${b}`)).trim(), "");
    await aws("s3", "rb", `s3://${b}`);
    assert.doesNotMatch(await aws("s3", "ls"), new RegExp(b));
  });

  it("runs a boto3 workflow: put, get, list, multipart, presign, policy", async (tc) => {
    if (!(await available(PYTHON, ["-c", "import boto3"]))) {
      tc.skip("boto3 not installed for python3 (apt-get install python3-boto3)");
      return;
    }
    const script = join(import.meta.dirname, "fixtures", "boto3_workflow.py");
    const { stdout } = await run(PYTHON, [script, t.url, bucketName("boto")], { env, timeout: 90_000 });
    assert.equal(stdout.trim(), "OK");
  });
});
