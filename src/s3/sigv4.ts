/**
 * AWS Signature Version 4 for S3: canonical requests, signing keys, and the
 * parsing of credentials from the Authorization header and from presigned
 * query strings. Pure functions; request verification lives in auth.ts.
 */
import { createHash, createHmac } from "node:crypto";
import { S3Error } from "./errors.ts";

/** The algorithm name used by SigV4. */
export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";

/** SHA-256 of the empty string, hex. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Hex SHA-256 of a string or buffer. */
export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

const keyCache = new Map<string, Buffer>();

/** Derives (and caches) the SigV4 signing key for a secret, date, region and service. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let k = keyCache.get(id);
  if (k === undefined) {
    k = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(id, k);
  }
  return k;
}

/** Hex HMAC-SHA256 of a string with a signing key. */
export function signHex(key: Buffer, stringToSign: string): string {
  return createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
}

/** URI-encodes per the SigV4 rules: everything but A-Z a-z 0-9 - _ . ~ (and `/` when allowed). */
export function uriEncode(s: string, keepSlash: boolean): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Decodes a percent-encoded component, tolerating malformed escapes. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** One query parameter as sent: raw (encoded) and decoded name and value. */
export interface QueryParam {
  name: string;
  value: string;
}

/** Parses a raw query string into decoded name/value pairs, in order. `+` is kept literally. */
export function parseQuery(raw: string): QueryParam[] {
  if (raw === "") return [];
  return raw
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const i = p.indexOf("=");
      const name = i < 0 ? p : p.slice(0, i);
      const value = i < 0 ? "" : p.slice(i + 1);
      return { name: safeDecode(name), value: safeDecode(value) };
    });
}

/** The canonical query string: each name and value URI-encoded, sorted by name then value. */
export function canonicalQueryString(params: readonly QueryParam[], exclude?: string): string {
  return params
    .filter((p) => p.name !== exclude)
    .map((p) => [uriEncode(p.name, false), uriEncode(p.value, false)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Groups raw headers by lowercase name (values in order). */
export function headerMap(rawHeaders: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? "").toLowerCase();
    const list = m.get(name);
    if (list) list.push(rawHeaders[i + 1] ?? "");
    else m.set(name, [rawHeaders[i + 1] ?? ""]);
  }
  return m;
}

/** The canonical headers block (each `name:value\n`) for the signed header names. */
export function canonicalHeaders(headers: Map<string, string[]>, signed: readonly string[]): string {
  return signed
    .map((name) => {
      const values = (headers.get(name) ?? []).map((v) => v.trim().replace(/\s+/g, " "));
      return `${name}:${values.join(",")}\n`;
    })
    .join("");
}

/** Inputs for a canonical request. */
export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  canonicalHeaders: string;
  signedHeaders: string;
  payloadHash: string;
}

/** Joins the six parts of a canonical request. */
export function canonicalRequest(p: CanonicalRequestParts): string {
  return [p.method, p.canonicalUri, p.canonicalQuery, p.canonicalHeaders, p.signedHeaders, p.payloadHash].join("\n");
}

/** The SigV4 string to sign for a canonical request. */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

/** Credential scope parsed from `AK/yyyymmdd/region/service/aws4_request`. */
export interface Credential {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  scope: string;
}

/** Parses a SigV4 credential string. */
export function parseCredential(s: string, code: "AuthorizationHeaderMalformed" | "AuthorizationQueryParametersError"): Credential {
  const parts = s.split("/");
  if (parts.length < 5 || parts[parts.length - 1] !== "aws4_request") {
    throw new S3Error(code, `Error parsing the X-Amz-Credential parameter: '${s}'`);
  }
  const service = parts[parts.length - 2] ?? "";
  const region = parts[parts.length - 3] ?? "";
  const date = parts[parts.length - 4] ?? "";
  const accessKey = parts.slice(0, parts.length - 4).join("/");
  if (!/^\d{8}$/.test(date)) throw new S3Error(code, `Invalid credential date '${date}'`);
  return { accessKey, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

/** A parsed `Authorization: AWS4-HMAC-SHA256 ...` header. */
export interface ParsedAuthHeader {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
}

/** Parses a SigV4 Authorization header value. */
export function parseAuthorizationHeader(value: string): ParsedAuthHeader {
  if (!value.startsWith(`${SIGV4_ALGORITHM} `)) {
    throw new S3Error("InvalidArgument", "Unsupported Authorization Type (only AWS4-HMAC-SHA256 is supported)", {
      extra: { ArgumentName: "Authorization", ArgumentValue: value.slice(0, 64) },
    });
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(SIGV4_ALGORITHM.length + 1).split(",")) {
    const i = part.indexOf("=");
    if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const cred = fields.get("Credential");
  const sh = fields.get("SignedHeaders");
  const sig = fields.get("Signature");
  if (cred === undefined || sh === undefined || sig === undefined) {
    throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed.");
  }
  return {
    credential: parseCredential(cred, "AuthorizationHeaderMalformed"),
    signedHeaders: sh.split(";").map((h) => h.toLowerCase()),
    signature: sig,
  };
}

/** Parses an ISO-8601 basic date-time (`20130524T000000Z`) to epoch ms, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Formats epoch ms as `yyyymmddThhmmssZ`. */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** Constant-time-ish comparison of two hex signatures. */
export function signaturesEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}
