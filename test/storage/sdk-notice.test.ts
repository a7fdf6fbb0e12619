// Issue 25 item 6: the AWS SDK's Node 20 notice is silenced by default;
// the SDK's own variable set to false still shows it. A real process each
// time (the SDK prints once per process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
const s3 = fileURLToPath(new URL("../../src/storage/backends/s3.ts", import.meta.url));
const script = `const m = await import(${JSON.stringify(s3)}); m.s3Client({ s3: { endpoint: "http://127.0.0.1:9", region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } } }); await new Promise((r) => setTimeout(r, 100));`;

async function stderrOf(env: Record<string, string>): Promise<string> {
  const e: Record<string, string | undefined> = { ...process.env, ...env };
  if (!("AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED" in env)) delete e["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"];
  const { stderr } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { env: e, timeout: 60_000 });
  return stderr;
}

test("the SDK's Node version notice is silent by default and shown when its variable says false", { skip: Number(process.versions.node.split(".")[0]) >= 22 ? "the SDK prints its notice only on Node < 22" : false }, async () => {
  assert.doesNotMatch(await stderrOf({}), /NodeVersionSupportWarning/);
  assert.match(await stderrOf({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" }), /NodeVersionSupportWarning/);
});
