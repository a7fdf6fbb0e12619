// Tier 2 harness: a scheduler and workers in this process, on loopback with
// ephemeral ports (real sockets, real codec; user code on real threads).
import { SchedulerServer } from "../../src/scheduler/server.ts";
import { WorkerServer } from "../../src/worker/server.ts";
import { Client } from "../../src/client/client.ts";
import type { ListenLimits } from "../../src/comm/index.ts";

export interface Harness {
  scheduler: SchedulerServer;
  workers: WorkerServer[];
  client: Client;
  close(): Promise<void>;
}

export async function startHarness(opts: { nworkers?: number; nthreads?: number; address?: string; token?: string; limits?: Partial<ListenLimits> } = {}): Promise<Harness> {
  const token = opts.token !== undefined ? { token: opts.token } : {};
  const scheduler = await new SchedulerServer({ address: opts.address ?? "tcp://127.0.0.1:0", logEvents: false, config: { validate: true }, ...token, listen: { limits: opts.limits ?? {} } }).start();
  const workers: WorkerServer[] = [];
  for (let i = 0; i < (opts.nworkers ?? 2); i++) {
    const w = new WorkerServer({ scheduler: scheduler.address, name: `w${i}`, nthreads: opts.nthreads ?? 1, validate: true, ...token });
    await w.start();
    workers.push(w);
  }
  const client = await Client.connect({ address: scheduler.address, ...token });
  return {
    scheduler,
    workers,
    client,
    async close() {
      await client.close();
      await Promise.all(workers.map((w) => w.close()));
      await scheduler.close();
    },
  };
}

/** Polls `cond` (no fixed sleeps): resolves as soon as it holds. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
