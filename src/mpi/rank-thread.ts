/**
 * Entry of one rank's worker thread: leaves the rank's context where
 * `shoal/mpi` finds it, makes stdout/stderr synchronous (optionally tagged
 * `[1,rank]<stdout>:` as Open MPI's --tag-output), runs the program, then
 * flushes pending sends and reports how it ended.
 */
import { writeSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import type { RankContext } from "./index.ts";
import type { JobMemory } from "./transport.ts";

interface RankData {
  rank: number;
  mem: JobMemory;
  spinUs: number;
  program: string;
  args: string[];
  tagOutput: boolean;
}

const d = workerData as RankData;
const g = globalThis as Record<symbol, unknown>;
g[Symbol.for("shoal.mpi.context")] = { rank: d.rank, mem: d.mem, spinUs: d.spinUs } satisfies RankContext;
g[Symbol.for("shoal.mpi.abort")] = (rank: number, code: number) => {
  parentPort!.postMessage({ type: "abort", rank, code });
  // Wait here until the launcher ends the job (it terminates every thread).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
};

function syncWriter(fd: number, stream: string): (chunk: unknown, enc?: unknown, cb?: unknown) => boolean {
  let partial = "";
  const prefix = `[1,${d.rank}]<${stream}>:`;
  return (chunk, enc, cb) => {
    let text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof enc === "string" ? (enc as BufferEncoding) : "utf8");
    if (d.tagOutput) {
      text = partial + text;
      const lines = text.split("\n");
      partial = lines.pop()!;
      text = lines.map((l) => `${prefix}${l}\n`).join("");
    }
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      }
    }
    const callback = typeof enc === "function" ? enc : cb;
    if (typeof callback === "function") (callback as () => void)();
    return true;
  };
}
(process.stdout as unknown as { write: unknown }).write = syncWriter(1, "stdout");
(process.stderr as unknown as { write: unknown }).write = syncWriter(2, "stderr");
process.argv = [process.argv[0]!, d.program, ...d.args];

await import(pathToFileURL(d.program).href);
const { COMM_WORLD } = await import("./index.ts");
COMM_WORLD.ep.flush();
COMM_WORLD.ep.markDone();
