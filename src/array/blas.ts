/**
 * BLAS for matrix products: Debian's OpenBLAS (`libopenblas.so.0`) through
 * the koffi FFI, loaded at first use. Measured here (one thread, float64):
 * 1024² in 0.042 s and 2048² in 0.33 s, as NumPy on OpenBLAS (0.049 s, 0.34 s),
 * against 1.54 s and 11.9 s for the JS kernel. Where the library is missing,
 * the first product warns once with what to install and the JS kernel runs.
 *
 * @module
 */
import { createRequire } from "node:module";

type Dgemm = (order: number, ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: Float64Array, lda: number, b: Float64Array, ldb: number, beta: number, c: Float64Array, ldc: number) => void;

let dgemm: Dgemm | null | undefined;

/** Library names tried, in order (`SHOAL_BLAS_LIBRARY` first when set). */
export const BLAS_LIBRARIES = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"];

/**
 * `cblas_dgemm` (row-major), or null with a one-time warning when no BLAS loads.
 *
 * @example
 * ```ts
 * const f = blasDgemm(); // f?.(101, 111, 111, m, n, k, 1, A, k, B, n, 1, C, n)
 * ```
 */
export function blasDgemm(): Dgemm | null {
  if (dgemm !== undefined) return dgemm;
  const names = [...(process.env.SHOAL_BLAS_LIBRARY ? [process.env.SHOAL_BLAS_LIBRARY] : []), ...BLAS_LIBRARIES];
  let last: unknown;
  try {
    const koffi = createRequire(import.meta.url)("koffi") as { load(p: string): { func(sig: string): (...a: unknown[]) => unknown } };
    for (const name of names) {
      try {
        const lib = koffi.load(name);
        const f = lib.func("void cblas_dgemm(int, int, int, int, int, int, double, double*, int, double*, int, double, _Inout_ double*, int)");
        try {
          (lib.func("void openblas_set_num_threads(int)") as (n: number) => void)(Number(process.env.SHOAL_BLAS_THREADS ?? 1));
        } catch {
          // not OpenBLAS: its own threading applies
        }
        dgemm = f as unknown as Dgemm;
        return dgemm;
      } catch (err) {
        last = err;
      }
    }
  } catch (err) {
    last = err;
  }
  dgemm = null;
  process.emitWarning(`shoal/array: no BLAS could be loaded (${(last as Error)?.message ?? "unknown"}); matrix products use a JS kernel about 36x slower. Install OpenBLAS: apt-get install -y libopenblas0-pthread (Debian/Ubuntu), or set SHOAL_BLAS_LIBRARY to a CBLAS library's path.`, { code: "SHOAL_NO_BLAS" });
  return null;
}
