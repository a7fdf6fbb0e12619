/**
 * Backend registry: which {@link StorageBackend} serves which URL scheme.
 *
 * @module
 */
import { fileBackend } from "./backends/file.ts";
import { httpBackend } from "./backends/http.ts";
import { memoryBackend } from "./backends/memory.ts";
import { s3Backend } from "./backends/s3.ts";
import { UnsupportedSchemeError } from "./errors.ts";
import type { StorageBackend } from "./types.ts";
import { schemeOf } from "./url.ts";

const backends = new Map<string, StorageBackend>();

/**
 * Register (or replace) the backend for its schemes.
 *
 * @example
 * ```ts
 * registerBackend({ ...memoryBackend, schemes: ["scratch"] });
 * await write("scratch://x", "hi");
 * ```
 */
export function registerBackend(backend: StorageBackend): void {
  for (const s of backend.schemes) backends.set(s.toLowerCase(), backend);
}

for (const b of [fileBackend, memoryBackend, httpBackend, s3Backend]) registerBackend(b);

/**
 * The backend serving `url` (a string already normalized by `urlToString`).
 *
 * @example
 * ```ts
 * backendFor("s3://b/k").schemes; // ["s3"]
 * ```
 */
export function backendFor(url: string): StorageBackend {
  const scheme = schemeOf(url);
  const b = backends.get(scheme);
  if (!b) throw new UnsupportedSchemeError(url, scheme, [...backends.keys()]);
  return b;
}
