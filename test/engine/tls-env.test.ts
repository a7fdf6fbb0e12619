// Tier 3: a tls:// cluster reached from the environment alone (issue 25, item 8).
// Real processes: `shoal scheduler` and `shoal worker` take their certificates
// from SHOAL_TLS_CERT/KEY/CA, and a script with no TLS code reaches the
// scheduler with SHOAL_SCHEDULER_ADDRESS and the same variables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SHOAL, waitFor } from "../support/cli.ts";
import { tlsFromEnv, TlsConfigError } from "../../src/comm/index.ts";

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

function makeCertFiles(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=shoal-test-ca");
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1");
  run("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "node.pem", "-days", "1");
  return { ca: join(dir, "ca.pem"), cert: join(dir, "node.pem"), key: join(dir, "node.key") };
}

interface Proc { proc: ChildProcess; out: () => string; exit: Promise<number | null> }

function start(args: string[], env: Record<string, string>): Proc {
  let out = "";
  const proc = spawn(process.execPath, args, { env: { ...process.env, SHOAL_QUIET: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  return { proc, out: () => out, exit: new Promise((r) => proc.once("exit", (c) => r(c))) };
}

test("tlsFromEnv: nothing set, a certificate without its key, an unreadable file", () => {
  assert.equal(tlsFromEnv({}), undefined);
  assert.throws(() => tlsFromEnv({ SHOAL_TLS_CERT: "/x.pem" }), (e: unknown) => e instanceof TlsConfigError && /SHOAL_TLS_KEY is not/.test(e.message) && !e.retriable);
  assert.throws(() => tlsFromEnv({ SHOAL_TLS_CA: "/nonexistent/ca.pem" }), (e: unknown) => e instanceof TlsConfigError && /SHOAL_TLS_CA=\/nonexistent\/ca.pem.*ENOENT/.test(e.message));
});

test("scheduler, worker and a client script on tls:// configured only by SHOAL_TLS_* variables", { skip: hasOpenssl ? false : "openssl is not installed" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-tls-env-"));
  const files = makeCertFiles(dir);
  const tlsEnv = { SHOAL_TLS_CA: files.ca, SHOAL_TLS_CERT: files.cert, SHOAL_TLS_KEY: files.key };
  const scheduler = start([SHOAL, "scheduler", "--protocol", "tls", "--port", "0", "--no-dashboard"], tlsEnv);
  let worker: Proc | null = null;
  try {
    await waitFor(() => /listening at tls:\/\/\S+/.test(scheduler.out()) || scheduler.proc.exitCode !== null, "the scheduler to listen");
    assert.match(scheduler.out(), /listening at tls:\/\//, scheduler.out());
    const address = /listening at (tls:\/\/\S+)/.exec(scheduler.out())![1]!;
    worker = start([SHOAL, "worker", address, "--nthreads", "1", "--no-nanny"], tlsEnv);
    const script = join(dir, "client.mts");
    writeFileSync(script, [
      `import { Client } from ${JSON.stringify(resolve("src/index.ts"))};`,
      `import { inc } from ${JSON.stringify(resolve("test/fixtures/tasks.ts"))};`,
      `const client = await Client.connect();`,
      `await client.waitForWorkers(1);`,
      `console.log("RESULT=" + (await client.submit(inc, 41).result()));`,
      `await client.close();`,
    ].join("\n"));
    const ok = start(["--import", "tsx", script], { ...tlsEnv, SHOAL_SCHEDULER_ADDRESS: address });
    assert.equal(await ok.exit, 0, ok.out());
    assert.match(ok.out(), /^RESULT=42$/m);
    // without the variables the script fails with a message that names them, not a bare TLS error
    const bare = start(["--import", "tsx", script], { SHOAL_SCHEDULER_ADDRESS: address, SHOAL_TLS_CA: "", SHOAL_TLS_CERT: "", SHOAL_TLS_KEY: "" });
    assert.notEqual(await bare.exit, 0);
    assert.match(bare.out(), /SHOAL_TLS_CA.*SHOAL_TLS_CERT\/SHOAL_TLS_KEY/, bare.out());
  } finally {
    for (const p of [worker, scheduler]) {
      if (p && p.proc.exitCode === null) {
        p.proc.kill("SIGTERM");
        await p.exit;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
