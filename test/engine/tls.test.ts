// Tier 2: scheduler, worker and client over tls:// with a private CA (mutual TLS).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchedulerServer } from "../../src/scheduler/server.ts";
import { WorkerServer } from "../../src/worker/server.ts";
import { Client } from "../../src/client/client.ts";
import { connect } from "../../src/comm/index.ts";
import { inc, makeBytes } from "../fixtures/tasks.ts";

function makeCerts(): { cert: string; key: string; ca: string } {
  const d = mkdtempSync(join(tmpdir(), "shoal-tls-"));
  const run = (...args: string[]): void => void execFileSync("openssl", args, { cwd: d, stdio: "ignore" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=shoal-test-ca");
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1");
  run("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "node.pem", "-days", "1");
  const out = { cert: readFileSync(join(d, "node.pem"), "utf8"), key: readFileSync(join(d, "node.key"), "utf8"), ca: readFileSync(join(d, "ca.pem"), "utf8") };
  rmSync(d, { recursive: true, force: true });
  return out;
}

test("tls:// end to end, and a client without the CA is refused", async (t) => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
  } catch {
    t.skip("openssl is not installed");
    return;
  }
  const tls = makeCerts();
  const scheduler = await new SchedulerServer({ address: "tls://127.0.0.1:0", logEvents: false, listen: { tls } }).start();
  assert.match(scheduler.address, /^tls:\/\//);
  const worker = new WorkerServer({ scheduler: scheduler.address, nthreads: 1, tls });
  await worker.start();
  assert.match(worker.address, /^tls:\/\//);
  const client = await Client.connect({ address: scheduler.address, tls });
  try {
    assert.equal(await client.submit(inc, 41).result(), 42);
    const big = await client.submit(makeBytes, 50_000).result(); // fetched from the worker over tls
    assert.equal(big.length, 50_000);
    await assert.rejects(Client.connect({ address: scheduler.address, timeout: 3000 }), /cannot connect|certificate|closed/i);
    // mutual TLS: a peer that trusts the CA but has no certificate signed by it
    // is refused by the scheduler and by the worker's data port
    const other = makeCerts(); // another CA's certificate
    for (const address of [scheduler.address, worker.address]) {
      await assert.rejects(connect(address, { tls: { ca: tls.ca }, timeoutMs: 3000 }), /closed|certificate|handshake|socket/i);
      await assert.rejects(connect(address, { tls: { ca: tls.ca, cert: other.cert, key: other.key }, timeoutMs: 3000 }), /closed|certificate|handshake|socket|unknown ca/i);
    }
    const ok = await connect(worker.address, { tls, timeoutMs: 3000 });
    ok.close();
  } finally {
    await client.close();
    await worker.close();
    await scheduler.close();
  }
});
