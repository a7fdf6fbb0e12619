// shoal/array vs NumPy (and dask.array when `python3 -c "import dask.array"` works),
// side by side in one run, same box, ratios printed.
//   node --import tsx bench/array/bench.ts [--n 4000] [--m 20000000] [--k 1024]
// Shoal runs in this process ("inline", one core) and on a LocalCluster of
// 2 workers x 1 thread. Each timing is the best of 2 runs (warm).
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { Client } from "../../src/client/client.ts";
import * as da from "../../src/array/index.ts";

const { values } = parseArgs({ options: { n: { type: "string", default: "4000" }, m: { type: "string", default: "20000000" }, k: { type: "string", default: "1024" } } });
const N = Number(values.n), M = Number(values.m), K = Number(values.k);

const py = `
import time, numpy as np
N, M, K = ${N}, ${M}, ${K}
rng = np.random.default_rng(0)
x = rng.standard_normal((N, N)); v = rng.standard_normal(M).reshape(-1, 1000); a = rng.standard_normal((K, K))
def best(f):
    t = []
    for _ in range(2):
        s = time.perf_counter(); f(); t.append(time.perf_counter() - s)
    return min(t)
out = {"add_T_sum": best(lambda: (x + x.T).sum(axis=0)), "mean_axis0": best(lambda: v.mean(axis=0)), "std": best(lambda: v.std()), "matmul": best(lambda: a @ a)}
try:
    import dask.array as dsa
    dx = dsa.from_array(x, chunks=(N // 4, N // 4)); dv = dsa.from_array(v, chunks=(v.shape[0] // 8, 1000)); dA = dsa.from_array(a, chunks=(K // 2, K // 2))
    out.update({"dask_add_T_sum": best(lambda: (dx + dx.T).sum(axis=0).compute(scheduler="threads")), "dask_mean_axis0": best(lambda: dv.mean(axis=0).compute(scheduler="threads")), "dask_std": best(lambda: dv.std().compute(scheduler="threads")), "dask_matmul": best(lambda: (dA @ dA).compute(scheduler="threads"))})
except ImportError:
    pass
import json; print(json.dumps(out))
`;

async function best(f: () => Promise<unknown>): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < 2; i++) {
    const s = performance.now();
    await f();
    b = Math.min(b, (performance.now() - s) / 1000);
  }
  return b;
}

const r = spawnSync("python3", ["-c", py], { encoding: "utf8", maxBuffer: 1 << 20 });
const np: Record<string, number> = r.status === 0 ? JSON.parse(r.stdout) : {};
if (r.status !== 0) console.error(`NumPy side failed: ${r.stderr}`);

const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
const x = await da.random.seed(0).normal(0, 1, [N, N], { chunks: Math.ceil(N / 4) }).persist({ client: "inline" });
const v = await da.random.seed(0).normal(0, 1, [M / 1000, 1000], { chunks: [Math.ceil(M / 1000 / 8), 1000] }).persist({ client: "inline" });
const a = await da.random.seed(0).normal(0, 1, [K, K], { chunks: Math.ceil(K / 2) }).persist({ client: "inline" });
const xc = await da.random.seed(0).normal(0, 1, [N, N], { chunks: Math.ceil(N / 4) }).persist({ client });
const vc = await da.random.seed(0).normal(0, 1, [M / 1000, 1000], { chunks: [Math.ceil(M / 1000 / 8), 1000] }).persist({ client });
const ac = await da.random.seed(0).normal(0, 1, [K, K], { chunks: Math.ceil(K / 2) }).persist({ client });
// Each run gets fresh task keys (a fused multiply by 1 + run * 2^-52), so no run reuses results the cluster still holds.
type P = { x: da.NDArray; v: da.NDArray; a: da.NDArray };
let run = 0;
const fresh = (y: da.NDArray) => y.mul(1 + ++run * 2 ** -52);
const work: [string, (p: P) => da.NDArray][] = [
  ["add_T_sum", (p) => { const y = fresh(p.x); return y.add(y.T).sum({ axis: 0 }); }],
  ["mean_axis0", (p) => fresh(p.v).mean({ axis: 0 })],
  ["std", (p) => fresh(p.v).std()],
  ["matmul", (p) => { const y = fresh(p.a); return y.matmul(y); }],
];
console.log(`N=${N} M=${M} K=${K}; times in s (best of 2); ratio = shoal / numpy`);
console.log(["workload", "numpy", "dask-threads", "shoal-inline", "shoal-2x1", "inline/np", "2x1/np"].join("\t"));
for (const [name, f] of work) {
  const ti = await best(() => f({ x, v, a }).compute({ client: "inline" }));
  const tc = await best(() => f({ x: xc, v: vc, a: ac }).compute({ client }));
  const n = np[name] ?? NaN, d = np[`dask_${name}`];
  console.log([name, n.toFixed(3), d === undefined ? "n/a" : d.toFixed(3), ti.toFixed(3), tc.toFixed(3), (ti / n).toFixed(2), (tc / n).toFixed(2)].join("\t"));
}
await client.close();
