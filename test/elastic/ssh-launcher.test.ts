// The SSH launcher against a real sshd on loopback: scale up, compute, scale down, close.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../../src/index.ts";
import { ElasticCluster } from "../../src/elastic/cluster.ts";
import { SshLauncher } from "../../src/elastic/launcher.ts";
import { square } from "./fixtures.ts";

const skip = !existsSync("/usr/sbin/sshd") ? "openssh-server is not installed (scripts/setup-debian.sh installs it)" : process.getuid?.() !== 0 ? "needs root to run sshd with key login" : false;
let sshd: ChildProcess | null = null;
const dir = mkdtempSync(join(tmpdir(), "shoal-sshl-"));
after(() => {
  sshd?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test("SshLauncher: ElasticCluster.scale(2) over ssh to 127.0.0.1, compute, scale(1), close", { skip, timeout: 90_000 }, async () => {
  for (const f of ["hostkey", "id"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, f)]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "id.pub")));
  mkdirSync("/run/sshd", { recursive: true });
  const port = await freePort();
  const conf = join(dir, "sshd.conf");
  writeFileSync(conf, [`ListenAddress 127.0.0.1`, `Port ${port}`, `HostKey ${join(dir, "hostkey")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PermitRootLogin yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", `PidFile ${join(dir, "sshd.pid")}`].join("\n") + "\n");
  sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", conf], { stdio: "ignore" });
  process.env["SHOAL_SSH_ARGS"] = "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR";
  const token = "ssh-launcher-token";
  let lines = "";
  const cluster = await ElasticCluster.start({
    token,
    launcher: (scheduler, tok) => new SshLauncher({ hosts: ["127.0.0.1"], scheduler, ...(tok ? { token: tok } : {}), port, key: join(dir, "id"), user: "root", remoteNode: process.execPath, nthreads: 1, onLine: (_w, l) => (lines += l + "\n") }),
  });
  try {
    // sshd may need a moment to listen: the launcher's first sessions retry until it does
    const deadline = Date.now() + 60_000;
    while (cluster.scheduler.state.workers.size < 2) {
      if (cluster.launcher.status().length < 2) await cluster.scale(2);
      if (Date.now() > deadline) throw new Error(`two ssh workers did not register:\n${lines}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const client = await Client.connect(cluster);
    assert.deepEqual(await client.gather(client.map(square, [1, 2, 3, 4])), [1, 4, 9, 16]);
    await cluster.scale(1);
    assert.equal(cluster.scheduler.state.workers.size, 1);
    assert.equal(cluster.launcher.status().length, 1);
    assert.equal(await client.submit(square, 5).result(), 25);
    await client.close();
  } finally {
    await cluster.close();
  }
  assert.equal(cluster.launcher.status().length, 0);
});
