// Helpers for tests that run the `shoal` command as real processes.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

export const SHOAL = resolve("bin/shoal.mjs");

/** Starts `shoal ...args`, collecting stdout and stderr together. */
export function startShoal(args: string[], cwd?: string): { proc: ChildProcess; output: () => string } {
  let out = "";
  const proc = spawn(process.execPath, [SHOAL, ...args], {
    ...(cwd ? { cwd } : {}),
    env: { ...process.env, SHOAL_QUIET: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  return { proc, output: () => out };
}

/** Polls `cond` until it holds (no fixed sleeps). */
export async function waitFor(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The exit code of `p`, once it has exited. */
export function exitOf(p: ChildProcess): Promise<number | null> {
  return new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once("exit", (c) => r(c))));
}
