// OSU-style latency of send/recv (half round trip), bcast and allreduce, run under
// `shoal mpirun -n 2|4 bench/mpi/osu.ts`; rank 0 prints one JSON line per size.
import { COMM_WORLD as comm, Wtime } from "../../src/mpi/index.ts";

const sizes = (process.argv[2] ?? "8,1024,65536,1048576,16777216").split(",").map(Number);
function iters(n: number): number { return n <= 8192 ? 2000 : n <= 1 << 20 ? 100 : 10; }
for (const n of sizes) {
  const a = new Uint8Array(n);
  const f = new Float64Array(Math.max(1, n / 8));
  const g = new Float64Array(f.length);
  const it = iters(n);
  const res: Record<string, number> = { bytes: n };
  if (comm.size >= 2) {
    for (let w = 0; w < 2; w++) {
      await comm.Barrier();
      const t0 = Wtime();
      for (let i = 0; i < it; i++) {
        if (comm.rank === 0) { await comm.Send(a, 1, 1); await comm.Recv(a, 1, 1); }
        else if (comm.rank === 1) { await comm.Recv(a, 0, 1); await comm.Send(a, 0, 1); }
      }
      res["pingpong_us"] = ((Wtime() - t0) / it / 2) * 1e6;
    }
  }
  for (let w = 0; w < 2; w++) {
    await comm.Barrier();
    let t0 = Wtime();
    for (let i = 0; i < it; i++) await comm.Bcast(a, 0);
    res["bcast_us"] = ((Wtime() - t0) / it) * 1e6;
    await comm.Barrier();
    t0 = Wtime();
    for (let i = 0; i < it; i++) await comm.Allreduce(f, g, "sum");
    res["allreduce_us"] = ((Wtime() - t0) / it) * 1e6;
  }
  if (n === 8) {
    await comm.Barrier();
    const t0 = Wtime();
    for (let i = 0; i < it; i++) await comm.allreduce(comm.rank, "sum");
    res["allreduce_obj_us"] = ((Wtime() - t0) / it) * 1e6;
  }
  if (comm.rank === 0) console.log(JSON.stringify(res));
}
