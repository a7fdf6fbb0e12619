// A real single-node Slurm for tests: munged, slurmctld and slurmd from Debian's slurm-wlm, started in a
// temp folder with a generated slurm.conf on loopback ports. `startSlurm()` returns null with a reason when it cannot run.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, hostname, tmpdir } from "node:os";
import { join } from "node:path";

export interface TestSlurm {
  dir: string;
  conf: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Why Slurm cannot run here, or null. */
export function slurmSkipReason(): string | null {
  for (const b of ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"]) {
    if (!existsSync(b)) return `${b} is missing: scripts/setup-debian.sh installs slurm-wlm and munge`;
  }
  if (process.getuid?.() !== 0) return "slurmd must run as root to start jobs (the test runs its own daemons)";
  return null;
}

function pidOf(file: string): number | null {
  try {
    return Number.parseInt(readFileSync(file, "utf8"), 10);
  } catch {
    return null;
  }
}

export async function startSlurm(): Promise<TestSlurm> {
  const dir = mkdtempSync(join(tmpdir(), "shoal-slurm-"));
  for (const d of ["state", "spool", "logs"]) mkdirSync(join(dir, d));
  writeFileSync(join(dir, "munge.key"), Buffer.alloc(1024, 7), { mode: 0o600 });
  const sock = join(dir, "munge.sock");
  execFileSync("/usr/sbin/munged", ["-f", `--socket=${sock}`, `--key-file=${join(dir, "munge.key")}`, `--pid-file=${join(dir, "munged.pid")}`,
    `--log-file=${join(dir, "munged.log")}`, `--seed-file=${join(dir, "munged.seed")}`]);
  const host = hostname().split(".")[0]!;
  const [ctld, slurmd] = [await freePort(), await freePort()];
  const conf = join(dir, "slurm.conf");
  writeFileSync(conf, [
    "ClusterName=shoaltest", `SlurmctldHost=${host}(127.0.0.1)`, `SlurmctldPort=${ctld}`, `SlurmdPort=${slurmd}`,
    "SlurmUser=root", "SlurmdUser=root", "AuthType=auth/munge", `AuthInfo=socket=${sock}`, "CredType=cred/munge",
    `StateSaveLocation=${join(dir, "state")}`, `SlurmdSpoolDir=${join(dir, "spool")}`,
    `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`, `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
    `SlurmctldLogFile=${join(dir, "slurmctld.log")}`, `SlurmdLogFile=${join(dir, "slurmd.log")}`,
    "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
    "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core", "MpiDefault=none", "ReturnToService=2", "SchedulerType=sched/builtin",
    "InactiveLimit=0", "KillWait=2", "MinJobAge=2",
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${availableParallelism()} RealMemory=4000 State=UNKNOWN`,
    "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4",
  ].join("\n") + "\n");
  process.env["SLURM_CONF"] = conf;
  const stop = async (): Promise<void> => {
    const pids: number[] = [];
    for (const p of ["slurmd", "slurmctld", "munged"]) {
      const pid = pidOf(join(dir, `${p}.pid`));
      if (pid) try { process.kill(pid, "SIGTERM"); pids.push(pid); } catch { /* gone */ }
    }
    const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const end = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync("/usr/sbin/slurmctld", ["-f", conf]);
    execFileSync("/usr/sbin/slurmd", ["-f", conf]);
    const end = Date.now() + 30_000;
    for (;;) {
      const r = spawnSync("sinfo", ["-h", "-o", "%t"], { encoding: "utf8" });
      if (r.status === 0 && /^idle|^mix|^alloc/m.test(r.stdout)) break;
      if (Date.now() > end) throw new Error(`slurm node did not come up: sinfo says '${r.stdout.trim()}' ${r.stderr}\n${readFileSync(join(dir, "slurmd.log"), "utf8").slice(-2000)}`);
      await new Promise((r2) => setTimeout(r2, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, conf, stop };
}
