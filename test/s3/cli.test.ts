/**
 * `shoal s3 serve` as a process: flag errors, the listening line, serving a
 * request, and a clean exit on SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { run } from "../../src/cli/s3.ts";

const ENTRY = `import { run } from ${JSON.stringify(new URL("../../src/cli/s3.ts", import.meta.url).href)}; process.exitCode = await run(process.argv.slice(1));`;

describe("shoal s3 serve (CLI)", () => {
  it("rejects bad flags with an actionable message and exit code 2", async () => {
    assert.equal(await run(["serve"]), 2);
    assert.equal(await run(["serve", "--root", "/tmp/x", "--port", "99999"]), 2);
    assert.equal(await run(["serve", "--root", "/tmp/x", "--user", "nocolon"]), 2);
    assert.equal(await run(["serve", "--root", "/tmp/x", "--bogus"]), 2);
    assert.equal(await run(["frobnicate"]), 2);
    assert.equal(await run(["serve", "--help"]), 0);
  });

  it("serves on an ephemeral port with users from flags, config and env, and exits 0 on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-s3-cli-"));
    const config = join(dir, "users.json");
    await writeFile(config, JSON.stringify({ users: [{ accessKey: "CFGKEY", secretKey: "cfgsecret" }] }));
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", ENTRY, "serve", "--root", join(dir, "data"), "--port", "0", "--user", "AK1:SK1", "--config", config, "--quiet"], {
      env: { ...process.env, SHOAL_S3_USERS: "AK2:SK2,AK3:SK:3" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+) .*4 user\(s\)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.once("exit", (c) => reject(new Error(`exited ${c}: ${out}`)));
      });
      const res = await fetch(`${url}/no-such-bucket`);
      assert.equal(res.status, 404);
      const exit = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      child.kill("SIGTERM");
      assert.equal(await exit, 0);
    } finally {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
