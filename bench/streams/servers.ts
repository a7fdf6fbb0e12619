/**
 * Starts the two servers the streams benchmark compares, each in its own
 * process on 127.0.0.1 only: `shoal streams serve` (durable, default fsync
 * policy unless told otherwise) and kinesalite from its library (in-memory
 * store; its CLI would bind every interface, so it is never used).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface BenchServer {
  name: string;
  url: string;
  child: ChildProcess;
  /** Resident memory of the server process, MiB. */
  rssMiB(): number;
  stop(): Promise<void>;
}

function waitLine(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
}

function wrap(name: string, child: ChildProcess, url: string, cleanup: () => void): BenchServer {
  return {
    name,
    url,
    child,
    rssMiB() {
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        return m ? Number(m[1]) / 1024 : NaN;
      } catch {
        return NaN;
      }
    },
    async stop() {
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await done;
      cleanup();
    },
  };
}

/** `shoal streams serve` on a fresh temporary root. */
export async function startShoal(fsync = "always"): Promise<BenchServer> {
  const root = mkdtempSync(join(tmpdir(), "shoal-streams-bench-"));
  const entry = `import { run } from ${JSON.stringify(new URL("../../src/cli/streams.ts", import.meta.url).href)}; process.exitCode = await run(process.argv.slice(1));`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", entry, "serve", "--quiet", "--root", root, "--port", "0", "--fsync", fsync, "--shard-limit", "1000"], { stdio: ["ignore", "pipe", "pipe"] });
  const url = await waitLine(child, /listening on (http:\/\/\S+)/);
  return wrap(`shoal (fsync ${fsync})`, child, url, () => rmSync(root, { recursive: true, force: true }));
}

/** kinesalite from its library, bound to 127.0.0.1, in-memory, no artificial delays. */
export async function startKinesalite(): Promise<BenchServer | undefined> {
  try {
    createRequire(import.meta.url).resolve("kinesalite");
  } catch {
    return undefined;
  }
  const src = `const k = require("kinesalite"); const s = k({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
s.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + s.address().port));`;
  const child = spawn(process.execPath, ["-e", src], { stdio: ["ignore", "pipe", "pipe"] });
  const url = await waitLine(child, /listening on (http:\/\/\S+)/);
  return wrap("kinesalite 3.3.3 (memory)", child, url, () => undefined);
}
