// Tier 3: `shoal ssh` against real sshd servers, one per network namespace.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect as tcpConnect } from "node:net";
import { join, resolve } from "node:path";
import { Client } from "../../src/index.ts";
import { inc, pid } from "../fixtures/tasks.ts";
import { canUseNetns, createNetwork, type TestNetwork } from "./netns.ts";

let net: TestNetwork | null = null;
let cli: ChildProcess | null = null;
after(() => {
  if (cli && cli.exitCode === null) cli.kill("SIGKILL");
  net?.destroy();
});

/** Resolves once `host:port` accepts a TCP connection (a server has started listening). */
async function waitForPort(host: string, port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = tcpConnect({ host, port });
      s.once("connect", () => (s.destroy(), res(true)));
      s.once("error", () => (s.destroy(), res(false)));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${host}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const skip = canUseNetns() ?? (existsSync("/usr/sbin/sshd") ? null : "openssh-server is not installed (scripts/setup-debian.sh installs it)");

test("shoal ssh starts a scheduler and workers on three sshd hosts and stops them", { skip: skip ?? false, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-ssh-"));
  const keygen = (file: string): void => void execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, file)]);
  keygen("hostkey");
  keygen("id");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "id.pub")));
  mkdirSync("/run/sshd", { recursive: true });
  net = createNetwork(3);
  for (const h of net.hosts) {
    const conf = join(dir, `sshd-${h.name}.conf`);
    writeFileSync(conf, [
      `ListenAddress ${h.address}`, "Port 22", `HostKey ${join(dir, "hostkey")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
      `PidFile ${join(dir, `sshd-${h.name}.pid`)}`, "AcceptEnv none",
    ].join("\n") + "\n");
    net.exec(h, ["/usr/sbin/sshd", "-D", "-e", "-f", conf]);
  }
  await Promise.all(net.hosts.map((h) => waitForPort(h.address, 22, 30_000)));
  const token = "ssh-test-token";
  let out = "";
  cli = spawn(process.execPath, [resolve("bin/shoal.mjs"), "ssh", ...net.hosts.map((h) => h.address), "--ssh-key", join(dir, "id"), "--ssh-user", "root",
    "--remote-node", process.execPath, "--nworkers", "1", "--nthreads", "1", "--token", token, "--worker-ttl", "5"], {
    env: { ...process.env, SHOAL_SSH_ARGS: "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR", SHOAL_QUIET: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cli.stdout!.on("data", (d) => (out += d));
  cli.stderr!.on("data", (d) => (out += d));
  const address = `tcp://${net.hosts[0]!.address}:8786`;
  const deadline = Date.now() + 60_000;
  while ((out.match(/worker joined/g) ?? []).length < 3) {
    if (Date.now() > deadline || cli.exitCode !== null) throw new Error(`cluster did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = await Client.connect({ address, token });
  try {
    const info = await client.schedulerInfo();
    const hosts = new Set(Object.keys(info.workers).map((a) => a.replace(/^tcp:\/\/|:\d+$/g, "")));
    assert.deepEqual([...hosts].sort(), net.hosts.map((h) => h.address).sort(), "one worker on each host");
    assert.deepEqual(await client.gather(client.map(inc, [1, 2, 3, 4, 5, 6])), [2, 3, 4, 5, 6, 7]);
    const pids = await client.gather(client.map(pid, [1, 2, 3, 4, 5, 6]));
    assert.ok(new Set(pids).size >= 2, "work spread over workers");
  } finally {
    await client.close();
  }
  cli.kill("SIGINT");
  const code = await new Promise<number | null>((r) => cli!.once("exit", (c) => r(c)));
  assert.equal(code, 0);
  // every remote process is gone: nothing answers on the scheduler port any more
  await assert.rejects(Client.connect({ address, token, timeout: 2000 }));
  net.destroy();
  net = null;
  rmSync(dir, { recursive: true, force: true });
});
