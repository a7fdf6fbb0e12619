/**
 * Request authentication: SigV4 or SigV2 in the Authorization header or in a
 * presigned query string, or anonymous. Produces the principal and how the
 * payload must be verified while it is read.
 */
import { S3Error } from "./errors.ts";
import {
  type EmptyValueForm,
  canonicalizedAmzHeaders,
  canonicalizedResource,
  hasEmptySubresource,
  isSigV2Authorization,
  parseAuthorizationHeaderV2,
  parseExpires,
  signV2,
  stringToSignV2,
} from "./sigv2.ts";
import {
  type QueryParam,
  SIGV4_ALGORITHM,
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  parseAmzDate,
  parseAuthorizationHeader,
  parseCredential,
  signHex,
  signaturesEqual,
  signingKey,
  stringToSign,
  uriEncode,
  safeDecode,
} from "./sigv4.ts";
import type { S3User, UserDirectory } from "./users.ts";

/** Who is making a request. */
export type Principal = { readonly type: "anonymous" } | { readonly type: "user"; readonly user: S3User };

/** The anonymous principal. */
export const ANONYMOUS: Principal = { type: "anonymous" };

/** How the request body must be checked while it is read. */
export type PayloadMode =
  | { readonly type: "unsigned" }
  | { readonly type: "sha256"; readonly hex: string }
  | { readonly type: "streaming"; readonly signed: boolean; readonly trailer: boolean };

/** What chunk-signature verification needs (seeded by the request signature). */
export interface ChunkSigningContext {
  key: Buffer;
  scope: string;
  amzDate: string;
  seedSignature: string;
}

/** Outcome of authentication. */
export interface AuthResult {
  principal: Principal;
  payload: PayloadMode;
  chunkSigning?: ChunkSigningContext;
}

/** The request facts authentication looks at. */
export interface AuthInput {
  method: string;
  rawPath: string;
  params: readonly QueryParam[];
  headers: Map<string, string[]>;
  now: number;
}

/** Largest allowed clock skew for header-signed requests. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

function header(h: Map<string, string[]>, name: string): string | undefined {
  const v = h.get(name);
  return v === undefined ? undefined : v.join(",");
}

function param(params: readonly QueryParam[], name: string): string | undefined {
  return params.find((p) => p.name === name)?.value;
}

/** Candidate canonical URIs: the path exactly as sent, and re-encoded from its decoded form. */
function canonicalUris(rawPath: string): string[] {
  const decoded = rawPath
    .split("/")
    .map((seg) => uriEncode(safeDecode(seg), false))
    .join("/");
  return decoded === rawPath ? [rawPath] : [decoded, rawPath];
}

function payloadMode(hash: string | undefined): PayloadMode {
  switch (hash) {
    case undefined:
    case "UNSIGNED-PAYLOAD":
      return { type: "unsigned" };
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
      return { type: "streaming", signed: true, trailer: false };
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
      return { type: "streaming", signed: true, trailer: true };
    case "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
      return { type: "streaming", signed: false, trailer: true };
    default:
      if (!/^[0-9a-f]{64}$/.test(hash)) {
        throw new S3Error("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex digest", {
          extra: { ArgumentName: "x-amz-content-sha256", ArgumentValue: hash },
        });
      }
      return { type: "sha256", hex: hash };
  }
}

function lookupUser(users: UserDirectory, ak: string): S3User {
  const u = users.byAccessKey(ak);
  if (u === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { extra: { AWSAccessKeyId: ak } });
  return u;
}

interface SignatureCheck {
  input: AuthInput;
  user: S3User;
  cred: { date: string; region: string; service: string; scope: string };
  amzDate: string;
  signedHeaders: string[];
  canonicalQuery: string;
  payloadHash: string;
  signature: string;
}

function checkSignature(c: SignatureCheck): Buffer {
  const key = signingKey(c.user.secretKey, c.cred.date, c.cred.region, c.cred.service);
  const ch = canonicalHeaders(c.input.headers, c.signedHeaders);
  for (const uri of canonicalUris(c.input.rawPath)) {
    const creq = canonicalRequest({
      method: c.input.method,
      canonicalUri: uri,
      canonicalQuery: c.canonicalQuery,
      canonicalHeaders: ch,
      signedHeaders: c.signedHeaders.join(";"),
      payloadHash: c.payloadHash,
    });
    if (signaturesEqual(signHex(key, stringToSign(c.amzDate, c.cred.scope, creq)), c.signature)) return key;
  }
  throw new S3Error("SignatureDoesNotMatch", undefined, { extra: { AWSAccessKeyId: c.user.accessKey } });
}

function requestTime(h: Map<string, string[]>): { amzDate: string; ms: number } {
  const amz = header(h, "x-amz-date");
  if (amz !== undefined) return { amzDate: amz, ms: parseAmzDate(amz) };
  const d = header(h, "date");
  if (d !== undefined) {
    const ms = Date.parse(d);
    return { amzDate: Number.isNaN(ms) ? d : new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""), ms };
  }
  throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
}

function authenticateHeader(input: AuthInput, users: UserDirectory, value: string): AuthResult {
  const { user, key, parsed, amzDate, payloadHash } = verifyHeaderSignature(input, users, value, () => {
    const ph = header(input.headers, "x-amz-content-sha256");
    if (ph === undefined) throw new S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
    return ph;
  });
  const payload = payloadMode(payloadHash);
  const result: AuthResult = { principal: { type: "user", user }, payload };
  if (payload.type === "streaming" && payload.signed) {
    result.chunkSigning = { key, scope: parsed.credential.scope, amzDate, seedSignature: parsed.signature };
  }
  return result;
}

const MAX_PRESIGN_EXPIRES = 604800;

function authenticateQuery(input: AuthInput, users: UserDirectory): AuthResult {
  const p = (n: string): string => {
    const v = param(input.params, n);
    if (v === undefined) throw new S3Error("AuthorizationQueryParametersError", `Query-string authentication requires ${n}`);
    return v;
  };
  if (p("X-Amz-Algorithm") !== SIGV4_ALGORITHM) {
    throw new S3Error("AuthorizationQueryParametersError", `X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}"`);
  }
  const cred = parseCredential(p("X-Amz-Credential"), "AuthorizationQueryParametersError");
  const amzDate = p("X-Amz-Date");
  const start = parseAmzDate(amzDate);
  if (Number.isNaN(start)) throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format");
  const expires = Number(p("X-Amz-Expires"));
  if (!Number.isInteger(expires)) throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Expires should be a number");
  const user = lookupUser(users, cred.accessKey);
  const payloadHash = param(input.params, "X-Amz-Content-Sha256") ?? header(input.headers, "x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD";
  checkSignature({
    input,
    user,
    cred,
    amzDate,
    signedHeaders: p("X-Amz-SignedHeaders").toLowerCase().split(";"),
    canonicalQuery: canonicalQueryString(input.params, "X-Amz-Signature"),
    payloadHash,
    signature: p("X-Amz-Signature"),
  });
  if (expires > MAX_PRESIGN_EXPIRES) {
    throw new S3Error("AccessDenied", "X-Amz-Expires must be less than a week (in seconds) that is 604800 seconds");
  }
  if (expires <= 0 || input.now > start + expires * 1000) throw new S3Error("AccessDenied", "Request has expired");
  if (start - input.now > MAX_SKEW_MS) throw new S3Error("AccessDenied", "Request is not valid yet");
  return { principal: { type: "user", user }, payload: payloadMode(payloadHash) };
}

/** The payload modes a SigV2 request may use: there is no seed signature to chain aws-chunked signatures from. */
function payloadModeV2(hash: string | undefined): PayloadMode {
  const mode = payloadMode(hash);
  if (mode.type === "streaming" && mode.signed) {
    throw new S3Error("InvalidRequest", `x-amz-content-sha256 ${hash ?? ""} requires AWS4-HMAC-SHA256 (SigV4) signing`);
  }
  return mode;
}

/** The Date position and CanonicalizedAmzHeaders of one candidate SigV2 string to sign. */
interface DateForm {
  date: string;
  amzHeaders: string;
}

interface SignatureCheckV2 {
  input: AuthInput;
  user: S3User;
  contentMd5: string;
  contentType: string;
  forms: readonly DateForm[];
  signature: string;
}

/**
 * Paths a SigV2 CanonicalizedResource may start with: those of
 * {@link canonicalUris}, and for a path-style bucket request (`/bucket`) also
 * `/bucket/`, which botocore signs (S3's resource for a bucket ends in `/`).
 */
function v2ResourcePaths(rawPath: string): string[] {
  const out: string[] = [];
  for (const p of canonicalUris(rawPath)) {
    out.push(p);
    if (/^\/[^/]+$/.test(p)) out.push(`${p}/`);
  }
  return out;
}

/**
 * Verifies a SigV2 signature. Like SigV4, the path is tried as sent and
 * re-encoded from its decoded form (both name the same object, see
 * {@link v2ResourcePaths}); a sub-resource without a value is tried as
 * `?acl` and `?acl=`. Every candidate describes the same request, so none
 * widens what a signature grants.
 */
function checkSignatureV2(c: SignatureCheckV2): void {
  const { params } = c.input;
  const empties: EmptyValueForm[] = hasEmptySubresource(params) ? ["bare", "equals"] : ["bare"];
  let first: string | undefined;
  for (const uri of v2ResourcePaths(c.input.rawPath)) {
    for (const emptyValue of empties) {
      const resource = canonicalizedResource(uri, params, { emptyValue });
      for (const f of c.forms) {
        const sts = stringToSignV2({ method: c.input.method, contentMd5: c.contentMd5, contentType: c.contentType, date: f.date, amzHeaders: f.amzHeaders, resource });
        first ??= sts;
        if (signaturesEqual(signV2(c.user.secretKey, sts), c.signature)) return;
      }
    }
  }
  throw new S3Error("SignatureDoesNotMatch", undefined, {
    extra: { AWSAccessKeyId: c.user.accessKey, StringToSign: first ?? "", SignatureProvided: c.signature },
  });
}

const DATE_REQUIRED = "AWS authentication requires a valid Date or x-amz-date header";

function authenticateHeaderV2(input: AuthInput, users: UserDirectory, value: string): AuthResult {
  const parsed = parseAuthorizationHeaderV2(value);
  const h = input.headers;
  const amzDate = header(h, "x-amz-date");
  const date = header(h, "date");
  const stamp = amzDate ?? date;
  const ms = stamp === undefined ? NaN : Date.parse(stamp);
  if (Number.isNaN(ms)) throw new S3Error("AccessDenied", DATE_REQUIRED);
  const user = lookupUser(users, parsed.accessKey);
  const payload = payloadModeV2(header(h, "x-amz-content-sha256"));
  // With x-amz-date the Date header is ignored: its position is empty and
  // x-amz-date is signed among the x-amz-* headers. AWS's own DELETE example
  // instead puts the x-amz-date value in the Date position; accept that too.
  const forms: DateForm[] =
    amzDate !== undefined
      ? [
          { date: "", amzHeaders: canonicalizedAmzHeaders(h) },
          { date: amzDate, amzHeaders: canonicalizedAmzHeaders(h, new Set(["x-amz-date"])) },
        ]
      : [{ date: date ?? "", amzHeaders: canonicalizedAmzHeaders(h) }];
  checkSignatureV2({
    input,
    user,
    contentMd5: header(h, "content-md5") ?? "",
    contentType: header(h, "content-type") ?? "",
    forms,
    signature: parsed.signature,
  });
  if (Math.abs(input.now - ms) > MAX_SKEW_MS) {
    throw new S3Error("RequestTimeTooSkewed", undefined, {
      extra: { RequestTime: stamp ?? "", ServerTime: new Date(input.now).toISOString() },
    });
  }
  return { principal: { type: "user", user }, payload };
}

/** A query parameter by case-insensitive name (presigners put `content-type`, `x-amz-*` there). */
function paramCi(params: readonly QueryParam[], name: string): string | undefined {
  return params.find((p) => p.name.toLowerCase() === name)?.value;
}

/**
 * The x-amz-* "headers" of a SigV2 presigned request: those sent as headers,
 * and those the presigner moved into the query string (botocore does) when
 * no header of that name is sent.
 */
function presignedAmzHeaders(input: AuthInput): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [name, values] of input.headers) if (name.startsWith("x-amz-")) m.set(name, values);
  const fromQuery = new Map<string, string[]>();
  for (const p of input.params) {
    const lower = p.name.toLowerCase();
    if (!lower.startsWith("x-amz-") || m.has(lower)) continue;
    const list = fromQuery.get(lower);
    if (list) list.push(p.value);
    else fromQuery.set(lower, [p.value]);
  }
  for (const [k, v] of fromQuery) m.set(k, v);
  return m;
}

const QUERY_V2_REQUIRED = "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";

function authenticateQueryV2(input: AuthInput, users: UserDirectory): AuthResult {
  const ak = param(input.params, "AWSAccessKeyId");
  const signature = param(input.params, "Signature");
  const expires = param(input.params, "Expires");
  if (ak === undefined || signature === undefined || expires === undefined) throw new S3Error("AccessDenied", QUERY_V2_REQUIRED);
  const expiresMs = parseExpires(expires);
  if (Number.isNaN(expiresMs)) throw new S3Error("AccessDenied", `Invalid date (should be seconds since epoch): ${expires}`);
  const user = lookupUser(users, ak);
  const amz = presignedAmzHeaders(input);
  checkSignatureV2({
    input,
    user,
    contentMd5: header(input.headers, "content-md5") ?? paramCi(input.params, "content-md5") ?? "",
    contentType: header(input.headers, "content-type") ?? paramCi(input.params, "content-type") ?? "",
    forms: [{ date: expires, amzHeaders: canonicalizedAmzHeaders(amz) }],
    signature,
  });
  if (input.now > expiresMs) throw new S3Error("AccessDenied", "Request has expired");
  return { principal: { type: "user", user }, payload: payloadModeV2(header(amz, "x-amz-content-sha256")) };
}

/**
 * Authenticates a request. Requests with neither an Authorization header nor
 * presigned query parameters are anonymous; a bad signature is an error, never
 * a silent downgrade to anonymous.
 */
export function authenticate(input: AuthInput, users: UserDirectory): AuthResult {
  const authz = header(input.headers, "authorization");
  if (authz !== undefined && authz !== "") {
    return isSigV2Authorization(authz) ? authenticateHeaderV2(input, users, authz) : authenticateHeader(input, users, authz);
  }
  if (param(input.params, "X-Amz-Algorithm") !== undefined || param(input.params, "X-Amz-Signature") !== undefined) {
    return authenticateQuery(input, users);
  }
  if (param(input.params, "AWSAccessKeyId") !== undefined || param(input.params, "Signature") !== undefined) {
    return authenticateQueryV2(input, users);
  }
  const ph = header(input.headers, "x-amz-content-sha256");
  return { principal: ANONYMOUS, payload: payloadMode(ph) };
}

/**
 * Verifies a header-signed SigV4 request whose payload hash the caller
 * computed from the body: services such as Kinesis sign the body's SHA-256
 * but send no `x-amz-content-sha256` header. Shared with `src/streams`.
 * Returns the user; throws {@link S3Error} (`InvalidAccessKeyId`,
 * `SignatureDoesNotMatch`, `RequestTimeTooSkewed`, `AuthorizationHeaderMalformed`,
 * `AccessDenied`, `InvalidArgument`), which the caller maps to its own codes.
 */
export function verifySigV4Header(input: AuthInput, users: UserDirectory, authorization: string, payloadHash: string): S3User {
  return verifyHeaderSignature(input, users, authorization, () => payloadHash).user;
}

/**
 * The one check of a header-signed SigV4 request: parse the header, find the
 * user, verify the signature over the payload hash (asked for once the user
 * is known, so a missing-hash error comes after the credential errors, as
 * AWS orders them), then the clock skew.
 */
function verifyHeaderSignature(input: AuthInput, users: UserDirectory, authorization: string, payloadHashOf: () => string) {
  const parsed = parseAuthorizationHeader(authorization);
  const { amzDate, ms } = requestTime(input.headers);
  if (Number.isNaN(ms)) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  const user = lookupUser(users, parsed.credential.accessKey);
  const payloadHash = payloadHashOf();
  const key = checkSignature({
    input,
    user,
    cred: parsed.credential,
    amzDate,
    signedHeaders: parsed.signedHeaders,
    canonicalQuery: canonicalQueryString(input.params),
    payloadHash,
    signature: parsed.signature,
  });
  if (Math.abs(input.now - ms) > MAX_SKEW_MS) {
    throw new S3Error("RequestTimeTooSkewed", undefined, {
      extra: { RequestTime: amzDate, ServerTime: new Date(input.now).toISOString() },
    });
  }
  return { user, key, parsed, amzDate, payloadHash };
}
