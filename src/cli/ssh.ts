/**
 * `shoal ssh HOST...`: start a scheduler on the first host and workers on
 * every host over SSH, like `dask ssh`. Shoal must be installed at the same
 * path on every host (or give --remote-shoal). Stopping this command (Ctrl-C)
 * stops everything it started: each remote command watches its SSH session's
 * stdin and is terminated when the session ends.
 */
import { parseArgs } from "node:util";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { log } from "../utils/log.ts";
import { parseCount, runCli, UsageError } from "./options.ts";

const USAGE = `usage: shoal ssh HOST [HOST...] [options]
  The scheduler runs on the first host; workers run on all hosts.

  --nworkers N           worker processes per host (default 1)
  --nthreads T           threads per worker (default: the remote cores / nworkers)
  --memory-limit LIMIT   per worker (default auto)
  --scheduler-port PORT  default 8786
  --token TOKEN          cluster token (default: a random one, printed)
  --ssh-user USER        remote user (default: your ssh config)
  --ssh-key FILE         private key for ssh -i
  --ssh-port PORT        remote ssh port (default 22)
  --remote-node PATH     node on the remote hosts (default: node)
  --remote-shoal PATH    shoal CLI entry on the remote hosts (default: this installation's path)
  --worker-ttl SECONDS   scheduler heartbeat TTL`;

const LOCAL_SHOAL = resolve(fileURLToPath(new URL("../../bin/shoal.mjs", import.meta.url)));

export { sshRun, type SshOptions } from "../elastic/ssh.ts";
import { sshRun, type SshOptions } from "../elastic/ssh.ts";

function prefixLines(p: ChildProcess, label: string, onLine?: (line: string) => void): void {
  for (const s of [p.stdout!, p.stderr!]) {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        process.stderr.write(`[${label}] ${line}\n`);
        onLine?.(line);
      }
    });
  }
}

export async function run(argv: string[]): Promise<number> {
  return runCli("ssh", USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        nworkers: { type: "string" },
        nthreads: { type: "string" },
        "memory-limit": { type: "string" },
        "scheduler-port": { type: "string" },
        token: { type: "string" },
        "ssh-user": { type: "string" },
        "ssh-key": { type: "string" },
        "ssh-port": { type: "string" },
        "remote-node": { type: "string" },
        "remote-shoal": { type: "string" },
        "worker-ttl": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError("give at least one host");
    const ssh: SshOptions = {
      ...(values["ssh-user"] ? { user: values["ssh-user"] } : {}),
      ...(values["ssh-key"] ? { key: values["ssh-key"] } : {}),
      ...(values["ssh-port"] ? { port: parseCount(values["ssh-port"], "--ssh-port", 22) } : {}),
    };
    const node = values["remote-node"] ?? "node";
    const shoal = values["remote-shoal"] ?? LOCAL_SHOAL;
    const port = parseCount(values["scheduler-port"], "--scheduler-port", 8786);
    const token = values.token ?? process.env["SHOAL_TOKEN"] ?? randomBytes(16).toString("hex");
    const schedHost = positionals[0]!;
    const procs: ChildProcess[] = [];
    const stopAll = async (): Promise<void> => {
      for (const p of procs) p.stdin?.end();
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((r) => {
              if (p.exitCode !== null || p.signalCode !== null) return r();
              const t = setTimeout(() => {
                p.kill("SIGKILL");
                r();
              }, 8000);
              p.once("exit", () => {
                clearTimeout(t);
                r();
              });
            }),
        ),
      );
    };

    const sched = sshRun(schedHost, [node, shoal, "scheduler", "--host", "0.0.0.0", "--port", String(port), "--token", token, ...(values["worker-ttl"] ? ["--worker-ttl", values["worker-ttl"]] : [])], ssh);
    procs.push(sched);
    let listening = false;
    prefixLines(sched, `scheduler ${schedHost}`, (line) => {
      if (/listening at/.test(line)) listening = true;
    });
    const started = await new Promise<boolean>((res) => {
      const t = setInterval(() => {
        if (listening) {
          clearInterval(t);
          res(true);
        } else if (sched.exitCode !== null) {
          clearInterval(t);
          res(false);
        }
      }, 50);
    });
    if (!started) {
      throw new Error(`the scheduler on ${schedHost} did not start (ssh exit code ${sched.exitCode}); check that ssh ${ssh.user ? ssh.user + "@" : ""}${schedHost} works without a password and that '${node} ${shoal}' exists there`);
    }
    const address = `tcp://${schedHost}:${port}`;
    for (const host of positionals) {
      const w = sshRun(
        host,
        [node, shoal, "worker", address, "--token", token,
          ...(values.nworkers ? ["--nworkers", values.nworkers] : []),
          ...(values.nthreads ? ["--nthreads", values.nthreads] : []),
          ...(values["memory-limit"] ? ["--memory-limit", values["memory-limit"]] : []),
          "--host", host],
        ssh,
      );
      procs.push(w);
      prefixLines(w, `worker ${host}`);
    }
    log("ssh", `cluster starting: scheduler ${address}, workers on ${positionals.length} host(s); SHOAL_SCHEDULER_ADDRESS=${address} SHOAL_TOKEN=${token}`);
    await new Promise<void>((resolveStop) => {
      const stop = (why: string): void => {
        log("ssh", `${why}: stopping the cluster`);
        resolveStop();
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
      sched.once("exit", () => stop("the scheduler exited"));
    });
    await stopAll();
    return 0;
  });
}
