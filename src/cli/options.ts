/** Parsing helpers shared by the subcommands: sizes, counts, errors in one style. */
import os from "node:os";
import { readFileSync } from "node:fs";
import { parseBytes as parseByteSize } from "../utils/bytes.ts";
import { serverTlsFromEnv } from "../comm/tls-env.ts";

export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses "4GiB", "500 MB", "123456" into bytes (a {@link UsageError} when it cannot). */
export function parseBytes(text: string, what: string): number {
  try {
    return parseByteSize(text, what);
  } catch (err) {
    throw err instanceof RangeError ? new UsageError(err.message) : err;
  }
}

/**
 * `--memory-limit` with Dask's meanings: bytes or a size string, a fraction
 * of total memory (0 < x <= 1), `auto` (total / workers), or 0 for none.
 */
export function parseMemoryLimit(text: string, nworkers: number): number {
  const t = text.trim().toLowerCase();
  const total = os.totalmem();
  if (t === "auto") return Math.floor(total / Math.max(1, nworkers));
  if (t === "0" || t === "none") return 0;
  if (/^[0-9]*\.[0-9]+$/.test(t) || t === "1") {
    const f = Number(t);
    if (f > 0 && f <= 1) return Math.floor(total * f);
  }
  return parseBytes(text, "--memory-limit");
}

export function parseCount(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${what} must be an integer, got '${text}'`);
  return n;
}

export function formatBytes(n: number): string {
  if (n <= 0) return "no limit";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** Runs a subcommand body, turning UsageError into a message and exit code 2. */
export async function runCli(name: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`shoal ${name}: ${e.message}\n\n${usage}`);
      return 2;
    }
    console.error(`shoal ${name}: ${e.message}`);
    return 1;
  }
}

/**
 * Certificate, key and CA of a server or worker: from --tls-cert/--tls-key/--tls-ca,
 * else from SHOAL_TLS_CERT/SHOAL_TLS_KEY/SHOAL_TLS_CA; undefined when neither is given.
 */
export function tlsFromFlags(values: { "tls-cert"?: string | undefined; "tls-key"?: string | undefined; "tls-ca"?: string | undefined }): { cert: string; key: string; ca?: string } | undefined {
  if (values["tls-cert"] || values["tls-key"]) {
    if (!values["tls-cert"] || !values["tls-key"]) throw new UsageError("tls needs both --tls-cert and --tls-key");
    return {
      cert: readFileSync(values["tls-cert"], "utf8"),
      key: readFileSync(values["tls-key"], "utf8"),
      ...(values["tls-ca"] ? { ca: readFileSync(values["tls-ca"], "utf8") } : {}),
    };
  }
  const env = serverTlsFromEnv();
  if (!env) return undefined;
  const ca = values["tls-ca"] ? readFileSync(values["tls-ca"], "utf8") : env.ca?.toString("utf8");
  return { cert: env.cert.toString("utf8"), key: env.key.toString("utf8"), ...(ca ? { ca } : {}) };
}
