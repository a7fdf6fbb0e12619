/**
 * Running a command on another host over SSH so that it ends with the
 * session (shared by `shoal ssh` and the SSH launcher).
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface SshOptions {
  user?: string;
  key?: string;
  port?: number;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs `argv` on `host`; the remote process ends when this session's stdin closes. */
export function sshRun(host: string, argv: string[], ssh: SshOptions): ChildProcess {
  const cmd = argv.map(quote).join(" ");
  // Background jobs of a non-interactive shell read /dev/null, so the
  // session's stdin is kept on fd 3 for the watcher.
  const remote = `sh -c ${quote(`exec 3<&0; ${cmd} </dev/null & p=$!; (cat <&3 >/dev/null; kill -TERM $p 2>/dev/null) & wait $p`)}`;
  const args = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=5"];
  if (ssh.key) args.push("-i", ssh.key);
  if (ssh.user) args.push("-l", ssh.user);
  if (ssh.port) args.push("-p", String(ssh.port));
  // extra ssh client options, e.g. "-o UserKnownHostsFile=/dev/null"
  const extra = process.env["SHOAL_SSH_ARGS"];
  if (extra) args.push(...extra.split(" ").filter(Boolean));
  args.push(host, remote);
  return spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
}
