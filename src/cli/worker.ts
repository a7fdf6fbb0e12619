/**
 * `shoal worker ADDRESS`: start worker processes connected to a scheduler,
 * supervised by this process (the nanny): a worker that dies is restarted;
 * SIGINT/SIGTERM stop them all.
 */
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { connect, HandshakeError } from "../comm/index.ts";
import { parseAddress } from "../comm/address.ts";
import type { WorkerOptions } from "../worker/server.ts";
import { engineEnv, engineThreads } from "../worker/engine-threads.ts";
import { WorkerExit } from "../worker/exit-codes.ts";
import { log } from "../utils/log.ts";
import { formatBytes, parseCount, parseMemoryLimit, runCli, tlsFromFlags, UsageError } from "./options.ts";

const USAGE = `usage: shoal worker SCHEDULER_ADDRESS [options]     (e.g. tcp://10.0.0.5:8786)

  --nworkers N           worker processes (default 1; 'auto' = one per core; negative = cores+1+N)
  --nthreads T           threads per worker (default: cores / nworkers)
  --engine-threads E     threads of each worker's polars pool, i.e. cores one
                         operation may use (default: $SHOAL_ENGINE_THREADS, else all cores)
  --memory-limit LIMIT   per worker: bytes, 4GiB, a fraction like 0.8, 'auto' (default), or 0 for none
  --name NAME            worker name (with --nworkers > 1, NAME-0, NAME-1, ...)
  --local-directory DIR  scratch space for code bundles and spilled data (default: a temp dir)
  --host HOST            address peers use to reach this worker (default: the one used to reach the scheduler)
  --worker-port PORT     data port of the first worker (default: any free port)
  --token TOKEN          cluster token (or SHOAL_TOKEN)
  --death-timeout SECS   give up when the scheduler stays unreachable this long (default 60)
  --no-nanny             do not restart workers that die
  --tls-cert FILE --tls-key FILE [--tls-ca FILE]
                         certificate and key for tls:// (to the scheduler, peers and clients);
                         default SHOAL_TLS_CERT, SHOAL_TLS_KEY, SHOAL_TLS_CA (PEM file paths)`;

const PROCESS_URL = new URL(import.meta.url.endsWith(".ts") ? "../worker/process.ts" : "../worker/process.js", import.meta.url);

export async function run(argv: string[]): Promise<number> {
  return runCli("worker", USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        nworkers: { type: "string" },
        nthreads: { type: "string" },
        "engine-threads": { type: "string" },
        "memory-limit": { type: "string" },
        name: { type: "string" },
        "local-directory": { type: "string" },
        host: { type: "string" },
        "worker-port": { type: "string" },
        token: { type: "string" },
        "death-timeout": { type: "string" },
        "no-nanny": { type: "boolean" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "the scheduler address is required" : `expected one scheduler address, got ${positionals.length}`);
    const scheduler = positionals[0]!.includes("://") ? positionals[0]! : `tcp://${positionals[0]!}`;
    parseAddress(scheduler);
    const cores = Math.max(1, os.availableParallelism());
    let nworkers = values.nworkers === "auto" ? cores : parseCount(values.nworkers, "--nworkers", 1);
    if (nworkers < 0) nworkers = cores + 1 + nworkers;
    if (nworkers < 1) throw new UsageError(`--nworkers must leave at least one worker, got ${values.nworkers}`);
    const nthreads = parseCount(values.nthreads, "--nthreads", 0) || Math.max(1, Math.floor(cores / nworkers));
    if (nthreads < 1) throw new UsageError(`--nthreads must be a positive integer`);
    const pool = parseCount(values["engine-threads"], "--engine-threads", 0);
    if (values["engine-threads"] !== undefined && pool < 1) throw new UsageError(`--engine-threads must be a positive integer`);
    const poolEnv = engineEnv(engineThreads(pool || undefined));
    const memoryLimit = parseMemoryLimit(values["memory-limit"] ?? "auto", nworkers);
    const deathTimeout = values["death-timeout"] === undefined ? 60 : Number(values["death-timeout"]);
    if (!(deathTimeout > 0)) throw new UsageError("--death-timeout must be a positive number of seconds");
    const token = values.token ?? process.env["SHOAL_TOKEN"];
    const basePort = values["worker-port"] === undefined ? 0 : parseCount(values["worker-port"], "--worker-port", 0);

    const tls = tlsFromFlags(values);
    if (parseAddress(scheduler).scheme === "tls" && !tls) throw new UsageError("a tls:// scheduler needs --tls-cert and --tls-key (and usually --tls-ca), or SHOAL_TLS_CERT, SHOAL_TLS_KEY and SHOAL_TLS_CA");

    await waitForScheduler(scheduler, deathTimeout, token, tls);

    // one scratch folder for all workers; a temporary one is removed at exit
    const ownDir = values["local-directory"] ? null : mkdtempSync(join(os.tmpdir(), "shoal-worker-"));
    const baseDir = values["local-directory"] ?? ownDir!;
    const exitNow = (code: number): never => {
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      process.exit(code);
    };
    const children = new Map<number, ChildProcess>();
    let stopping = false;
    /** A worker exited because it gave up on the scheduler: the nanny's exit code says so when the last one is gone. */
    let gaveUp = false;
    const nameOf = (i: number): string => (values.name ? (nworkers > 1 ? `${values.name}-${i}` : values.name) : `${os.hostname()}-${process.pid}-${i}`);
    const spawnOne = (i: number): void => {
      const opts: WorkerOptions = {
        scheduler,
        name: nameOf(i),
        nthreads,
        memoryLimit,
        deathTimeout,
        ...(values.host ? { host: values.host } : {}),
        ...(basePort > 0 ? { port: basePort + i } : {}),
        localDirectory: join(baseDir, `worker-${i}`),
        ...(token ? { token } : {}),
        ...(tls ? { tls } : {}),
      };
      const child = fork(fileURLToPath(PROCESS_URL), [JSON.stringify(opts)], {
        execArgv: [...(PROCESS_URL.href.endsWith(".ts") ? ["--import", "tsx"] : []), "--expose-gc"],
        env: { ...process.env, ...poolEnv },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      children.set(i, child);
      child.on("exit", (code, signal) => {
        if (children.get(i) === child) children.delete(i);
        if (stopping) return;
        if (values["no-nanny"]) {
          log("nanny", `worker ${nameOf(i)} exited (${signal ?? code}); not restarting (--no-nanny)`);
          if (code === WorkerExit.schedulerLost) gaveUp = true;
          if (children.size === 0) exitNow(gaveUp ? WorkerExit.schedulerLost : (code ?? 1));
          return;
        }
        if (code === WorkerExit.cannotStart) {
          log("nanny", `worker ${nameOf(i)} could not start; not restarting`);
          if (children.size === 0) exitNow(1);
          return;
        }
        if (code === WorkerExit.schedulerLost) {
          // a fresh process would find the same scheduler gone (or the same refusal)
          log("nanny", `worker ${nameOf(i)} gave up on the scheduler; not restarting`);
          gaveUp = true;
          if (children.size === 0) exitNow(WorkerExit.schedulerLost);
          return;
        }
        log("nanny", `worker ${nameOf(i)} died (${signal ?? `exit code ${code}`}); restarting`);
        setTimeout(() => !stopping && spawnOne(i), 500);
      });
    };
    log("nanny", `starting ${nworkers} worker(s) with ${nthreads} thread(s) and ${formatBytes(memoryLimit)} each, scheduler ${scheduler}`);
    for (let i = 0; i < nworkers; i++) spawnOne(i);

    await new Promise<void>((resolve) => {
      const stop = (sig: string): void => {
        if (stopping) return;
        stopping = true;
        log("nanny", `${sig}: stopping ${children.size} worker(s)`);
        const waits = [...children.values()].map((c) => new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once("exit", () => r());
          c.kill("SIGTERM");
        }));
        const force = setTimeout(() => {
          for (const c of children.values()) c.kill("SIGKILL");
        }, 5000);
        void Promise.all(waits).then(() => {
          clearTimeout(force);
          resolve();
        });
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    return 0;
  });
}

async function waitForScheduler(address: string, timeoutSeconds: number, token: string | undefined, tls?: { cert: string; key: string; ca?: string }): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastLog = 0;
  for (;;) {
    try {
      const c = await connect(address, { timeoutMs: Math.min(5000, timeoutSeconds * 1000), ...(tls ? { tls } : {}), token, role: "worker" });
      c.close();
      return;
    } catch (err) {
      // a refused token or another protocol version: waiting will not help
      if (err instanceof HandshakeError && !err.retriable) throw err;
      if (Date.now() >= deadline) {
        throw new Error(`${(err as Error).message}. Is 'shoal scheduler' running there, and is the port open between the machines? (gave up after ${timeoutSeconds} s; see --death-timeout)`);
      }
      if (Date.now() - lastLog > 5000) {
        log("nanny", `waiting for the scheduler: ${(err as Error).message}`);
        lastLog = Date.now();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
