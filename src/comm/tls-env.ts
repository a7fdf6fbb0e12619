/**
 * TLS settings from the environment, so a client, worker or scheduler
 * reaches a `tls://` cluster without code changes: `SHOAL_TLS_CA`,
 * `SHOAL_TLS_CERT` and `SHOAL_TLS_KEY` name PEM files (as Dask's
 * `DASK_DISTRIBUTED__COMM__TLS__CA_FILE`, `…__CLIENT__CERT`, `…__CLIENT__KEY`).
 * Explicit options and command-line flags win over the environment.
 */
import { readFileSync } from "node:fs";
import { ShoalError } from "../utils/errors.ts";
import type { TlsOptions } from "./transport.ts";

/** A TLS variable names a file that cannot be read, or a certificate comes without its key. */
export class TlsConfigError extends ShoalError {
  override name = "TlsConfigError";
  override readonly code = "tls-config";
  override readonly retriable = false;
}

export const TLS_ENV = { ca: "SHOAL_TLS_CA", cert: "SHOAL_TLS_CERT", key: "SHOAL_TLS_KEY" } as const;

/** One line for error messages: how to give this process TLS settings. */
export const TLS_HINT = `set ${TLS_ENV.ca} to the cluster's CA certificate and ${TLS_ENV.cert}/${TLS_ENV.key} to a certificate it signed and its key (PEM files), or pass the tls option`;

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`${variable}=${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/**
 * The TLS options the environment gives, or undefined when none of the
 * variables is set. A certificate needs its key and a key its certificate;
 * a CA alone is allowed (it verifies the server; a cluster that checks
 * client certificates then refuses the connection).
 */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<TlsOptions> | undefined {
  const ca = env[TLS_ENV.ca] || undefined;
  const cert = env[TLS_ENV.cert] || undefined;
  const key = env[TLS_ENV.key] || undefined;
  if (!ca && !cert && !key) return undefined;
  if (Boolean(cert) !== Boolean(key)) {
    throw new TlsConfigError(`${cert ? TLS_ENV.cert : TLS_ENV.key} is set but ${cert ? TLS_ENV.key : TLS_ENV.cert} is not: a certificate needs its key`);
  }
  return {
    ...(ca ? { ca: readPem(TLS_ENV.ca, ca) } : {}),
    ...(cert ? { cert: readPem(TLS_ENV.cert, cert), key: readPem(TLS_ENV.key, key!) } : {}),
  };
}

/** Like {@link tlsFromEnv} for a server or worker, which needs both a certificate and a key. */
export function serverTlsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsOptions | undefined {
  const t = tlsFromEnv(env);
  if (!t) return undefined;
  if (!t.cert || !t.key) throw new TlsConfigError(`${TLS_ENV.ca} alone is not enough to serve tls://: set ${TLS_ENV.cert} and ${TLS_ENV.key} too`);
  return t as TlsOptions;
}
