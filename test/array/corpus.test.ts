// Corpus against NumPy: each expression is evaluated by NumPy (python3 on
// PATH) and by shoal/array on the same .npy inputs (odd chunkings), and the
// results compared: dtype and shape equal; integers and booleans exactly;
// floats within 4 ulp elementwise, reductions within 1e-12 (float64) and
// 2e-6 (float32, NumPy sums float32 pairwise in float32; Shoal in float64) relative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as da from "../../src/array/index.ts";
import type { NDArray, LocalArray } from "../../src/array/index.ts";

type In = Record<string, NDArray>;
type Tol = "u" | "r";
const C: [string, string, (x: In) => NDArray, Tol?][] = [
  ["add_bcast_row", "a + b", (x) => x.a!.add(x.b!)],
  ["add_bcast_col", "a + c", (x) => x.a!.add(x.c!)],
  ["outer_bcast", "c * b", (x) => x.c!.mul(x.b!)],
  ["fused_chain", "np.sqrt(np.abs(a * 2.5 - b) + 1)", (x) => x.a!.mul(2.5).sub(x.b!).abs().add(1).sqrt()],
  ["div_int", "i / j", (x) => x.i!.div(x.j!)],
  ["floordiv_int", "i // j", (x) => x.i!.floordiv(x.j!)],
  ["mod_int", "i % j", (x) => x.i!.mod(x.j!)],
  ["mod_float_neg", "a % -0.7", (x) => x.a!.mod(-0.7)],
  ["int_mul_wrap", "i * 300000000", (x) => x.i!.mul(300000000)],
  ["uint8_add_wrap", "u + u", (x) => x.u!.add(x.u!)],
  ["uint8_plus_int32", "u + i", (x) => x.u!.add(x.i!)],
  ["int32_plus_float32", "i + f", (x) => x.i!.add(x.f!)],
  ["uint8_plus_float32", "u + f", (x) => x.u!.add(x.f!)],
  ["float32_weak_scalar", "f * 1.5", (x) => x.f!.mul(1.5)],
  ["int32_weak_int", "i + 7", (x) => x.i!.add(7)],
  ["int32_weak_float", "i * 0.5", (x) => x.i!.mul(0.5)],
  ["bool_plus_int", "m + 1", (x) => x.m!.add(1)],
  ["int64_ops", "l * 3 - 5", (x) => x.l!.mul(3).sub(5)],
  ["pow_float", "np.power(p, 1.7)", (x) => x.p!.pow(1.7)],
  ["exp_log", "np.log(np.exp(a) + 1)", (x) => x.a!.exp().add(1).log()],
  ["sin_cos", "np.sin(a) * np.cos(b)", (x) => x.a!.sin().mul(x.b!.cos())],
  ["sqrt_int", "np.sqrt(j)", (x) => x.j!.sqrt()],
  ["float32_sqrt", "np.sqrt(np.abs(f))", (x) => x.f!.abs().sqrt()],
  ["compare_gt", "a > b", (x) => x.a!.gt(x.b!)],
  ["compare_eq_int", "i == j", (x) => x.i!.eq(x.j!)],
  ["logical_and", "(a > 0) & m", (x) => x.a!.gt(0).and(x.m!)],
  ["logical_not_or", "~m | (i < 0)", (x) => x.m!.not().or(x.i!.lt(0))],
  ["where", "np.where(a > 0, a, b)", (x) => da.where(x.a!.gt(0), x.a!, x.b!)],
  ["where_scalar", "np.where(m, i, -1)", (x) => da.where(x.m!, x.i!, -1)],
  ["clip", "np.clip(a, -0.5, 0.5)", (x) => x.a!.clip(-0.5, 0.5)],
  ["isnan", "np.isnan(n)", (x) => x.n!.isnan()],
  ["nan_to_num", "np.nan_to_num(n)", (x) => x.n!.nanToNum()],
  ["maximum_nan", "np.maximum(n, 0)", (x) => x.n!.maximum(0)],
  ["astype_int", "(a * 10).astype(np.int32) + 0", (x) => x.a!.mul(10).astype("int32").add(0)],
  ["sum_all", "a.sum()", (x) => x.a!.sum(), "r"],
  ["sum_axis0", "a.sum(axis=0)", (x) => x.a!.sum({ axis: 0 }), "r"],
  ["sum_axis1_keep", "a.sum(axis=1, keepdims=True)", (x) => x.a!.sum({ axis: 1, keepdims: true }), "r"],
  ["sum_int32", "i.sum(axis=0)", (x) => x.i!.sum({ axis: 0 })],
  ["sum_float32", "g.sum()", (x) => x.g!.sum(), "r"],
  ["sum_3d_axes", "t.sum(axis=(0, 2))", (x) => x.t!.sum({ axis: [0, 2] }), "r"],
  ["prod", "p.prod(axis=1)", (x) => x.p!.prod({ axis: 1 }), "r"],
  ["mean", "a.mean(axis=0)", (x) => x.a!.mean({ axis: 0 }), "r"],
  ["mean_int", "i.mean()", (x) => x.i!.mean(), "r"],
  ["std", "a.std()", (x) => x.a!.std(), "r"],
  ["var_ddof1", "a.var(axis=1, ddof=1)", (x) => x.a!.var({ axis: 1, ddof: 1 }), "r"],
  ["std_3d", "t.std(axis=1)", (x) => x.t!.std({ axis: 1 }), "r"],
  ["min_max", "a.max(axis=0) - a.min(axis=0)", (x) => x.a!.max({ axis: 0 }).sub(x.a!.min({ axis: 0 })), "r"],
  ["min_int", "i.min(axis=1)", (x) => x.i!.min({ axis: 1 })],
  ["max_nan", "n.max(axis=0)", (x) => x.n!.max({ axis: 0 })],
  ["argmin_flat", "a.argmin()", (x) => x.a!.argmin()],
  ["argmax_axis0", "a.argmax(axis=0)", (x) => x.a!.argmax({ axis: 0 })],
  ["argmax_3d", "t.argmax(axis=2)", (x) => x.t!.argmax({ axis: 2 })],
  ["any_all", "np.stack([m.any(axis=0), m.all(axis=0)])", (x) => da.stack([x.m!.any({ axis: 0 }), x.m!.all({ axis: 0 })])],
  ["nansum", "np.nansum(n, axis=1)", (x) => x.n!.nansum({ axis: 1 }), "r"],
  ["nanmean", "np.nanmean(n, axis=0)", (x) => x.n!.nanmean({ axis: 0 }), "r"],
  ["nanstd", "np.nanstd(n)", (x) => x.n!.nanstd(), "r"],
  ["nanmin_nanmax", "np.nanmax(n, axis=1) - np.nanmin(n, axis=1)", (x) => x.n!.nanmax({ axis: 1 }).sub(x.n!.nanmin({ axis: 1 })), "r"],
  ["nanargmax", "np.nanargmax(n, axis=1)", (x) => x.n!.nanargmax({ axis: 1 })],
  ["sum_empty_axis", "e.sum(axis=0)", (x) => x.e!.sum({ axis: 0 })],
  ["mean_empty_rows", "e.sum(axis=1)", (x) => x.e!.sum({ axis: 1 })],
  ["slice_steps", "a[1:6:2, ::-2]", (x) => x.a!.get("1:6:2", "::-2")],
  ["slice_negative", "a[-3:, -1]", (x) => x.a!.get("-3:", -1)],
  ["slice_int_3d", "t[2, ::-1, 1:5]", (x) => x.t!.get(2, "::-1", "1:5")],
  ["slice_empty", "a[5:2]", (x) => x.a!.get("5:2")],
  ["transpose", "a.T", (x) => x.a!.T],
  ["transpose_3d", "t.transpose(2, 0, 1)", (x) => x.t!.transpose([2, 0, 1])],
  ["swapaxes", "t.swapaxes(0, 2)", (x) => x.t!.swapaxes(0, 2)],
  ["add_T", "a[:5] + a[:5].T", (x) => x.a!.get("0:5").add(x.a!.get("0:5").T)],
  ["reshape", "t.reshape(12, 6)", (x) => x.t!.reshape([12, 6])],
  ["reshape_split", "t.reshape(2, 2, 18)", (x) => x.t!.reshape([2, 2, 18])],
  ["reshape_flat", "a.reshape(-1)", (x) => x.a!.reshape([-1])],
  ["concatenate", "np.concatenate([a, i], axis=0)", (x) => da.concatenate([x.a!, x.i!], 0)],
  ["concatenate_axis1", "np.concatenate([a, c], axis=1)", (x) => da.concatenate([x.a!, x.c!], 1)],
  ["stack_axis1", "np.stack([a, a * 2], axis=1)", (x) => da.stack([x.a!, x.a!.mul(2)], 1)],
  ["expand_squeeze", "np.squeeze(np.expand_dims(b, 0)[None], 0)", (x) => x.b!.expandDims(0).expandDims(0).squeeze(0)],
  ["matmul", "a @ s[:5]", (x) => x.a!.matmul(x.s!.get("0:5")), "r"],
  ["matmul_gram", "s.T @ s", (x) => x.s!.T.matmul(x.s!), "r"],
  ["matmul_int", "i @ j.T", (x) => x.i!.matmul(x.j!.T)],
  ["arange_linspace", "np.arange(3, 40, 3) * np.linspace(0, 1, 13)", () => da.arange(3, 40, 3, { chunks: 4 }).mul(da.linspace(0, 1, 13, { chunks: 5 }))],
  ["eye", "np.eye(5, 7, 1) + np.ones((5, 7))", () => da.eye(5, 7, 1, { chunks: 3 }).add(da.ones([5, 7], { chunks: [2, 4] }))],
  ["full_int", "np.full((3, 4), 7) - 2", () => da.full([3, 4], 7, { chunks: 2 }).sub(2)],
  ["cumsum_axis0", "a.cumsum(axis=0)", (x) => x.a!.cumsum(0), "r"],
  ["cumsum_int_axis1", "i.cumsum(axis=1)", (x) => x.i!.cumsum(1)],
  ["cumprod_flat", "p.cumprod()", (x) => x.p!.cumprod(), "r"],
  ["cumsum_3d", "t.cumsum(axis=2)", (x) => x.t!.cumsum(2), "r"],
  ["take_axis0", "a[[6, 0, 1, 1, -2]]", (x) => x.a!.take([6, 0, 1, 1, -2], 0)],
  ["take_axis2", "np.take(t, [5, 0, 2], axis=2)", (x) => x.t!.take([5, 0, 2], 2)],
  ["rechunk_sum", "a.sum(axis=0)", (x) => x.a!.rechunk([1, 2]).rechunk([5, 5]).sum({ axis: 0 }), "r"],
];

const CHUNKS: Record<string, (number | number[])[]> = {
  a: [3, 2], n: [[2, 5], 3], b: [2], c: [4, 1], i: [3, 4], j: [2, 5], u: [5, 2], f: [4, 3], m: [3, 3], l: [5], e: [1, 2], t: [3, 2, [1, 5]], s: [7, 2], g: [128], p: [7, 2],
};

function ulpDiff(x: number, y: number, f32: boolean): number {
  if (Number.isNaN(x) && Number.isNaN(y)) return 0;
  if (x === y) return 0;
  const eps = f32 ? 2 ** -23 : 2 ** -52;
  return Math.abs(x - y) / (Math.max(Math.abs(x), Math.abs(y), f32 ? 1.2e-38 : 2.3e-308) * eps);
}

function check(name: string, got: LocalArray, want: LocalArray, tol: Tol): void {
  assert.equal(got.dtype, want.dtype, `${name}: dtype`);
  assert.deepEqual(got.shape, want.shape, `${name}: shape (${got.shape}) vs (${want.shape})`);
  const f = got.dtype === "float64" || got.dtype === "float32";
  const f32 = got.dtype === "float32";
  for (let k = 0; k < want.data.length; k++) {
    const g = got.data[k]!, w = want.data[k]!;
    if (!f) { assert.equal(g, w, `${name}[${k}]: ${g} != ${w}`); continue; }
    const gx = g as number, wx = w as number;
    if (tol === "u") assert.ok(ulpDiff(gx, wx, f32) <= 4, `${name}[${k}]: ${gx} vs ${wx} (${ulpDiff(gx, wx, f32)} ulp)`);
    else {
      const rel = f32 ? 2e-6 : 1e-12;
      assert.ok((Number.isNaN(gx) && Number.isNaN(wx)) || Math.abs(gx - wx) <= rel * Math.max(1, Math.abs(wx)), `${name}[${k}]: ${gx} vs ${wx}`);
    }
  }
}

const py = spawnSync("python3", ["-c", "import numpy; print(numpy.__version__)"], { encoding: "utf8" });
const numpyVersion = py.status === 0 ? py.stdout.trim() : null;

test(`shoal/array corpus of ${C.length} expressions equals NumPy`, { skip: numpyVersion ? false : "python3 with NumPy is not on PATH" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-array-corpus-"));
  writeFileSync(join(dir, "corpus.json"), JSON.stringify(C.map(([n, p]) => [n, p])));
  const here = dirname(fileURLToPath(import.meta.url));
  const r = spawnSync("python3", [join(here, "numpy_corpus.py"), dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const x: In = {};
  for (const [k, ch] of Object.entries(CHUNKS)) x[k] = (await da.fromNpy(join(dir, `${k}.npy`))).rechunk(ch);
  const failures: string[] = [];
  for (const [name, , build, tol] of C) {
    try {
      const want = await (await da.fromNpy(join(dir, "out", `${name}.npy`))).compute({ client: "inline" });
      const got = await build(x).compute({ client: "inline" });
      check(name, got, want, tol ?? "u");
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${C.length} differ from NumPy ${numpyVersion}`);
});

test("elementwise chains fuse into one task per chunk, and into the reduction's partial tasks", () => {
  const x = da.ones([10, 10], { chunks: 5 });
  const y = x.mul(2.5).sub(1).abs().add(x).sqrt();
  const b = y.blocks();
  assert.equal(b.length, 4);
  for (const d of b) assert.ok(d.inputs.every((i) => i.key.startsWith("array_create-")), "one fused task over the creation chunks");
  const s = y.sum({ splitEvery: 2 });
  const keys = new Set<string>();
  const walk = (d: (typeof b)[number]): void => { keys.add(d.key.split("-")[0]!); d.inputs.forEach((i) => walk(i as never)); };
  s.blocks().forEach(walk);
  assert.deepEqual([...keys].sort(), ["array_create", "array_reduce_agg", "array_reduce_chunk", "array_reduce_combine"]);
});
