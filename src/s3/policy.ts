/**
 * Bucket policies: validation when stored and evaluation per request.
 *
 * Principals: `"*"`, `{"AWS": "*"}` and `{"AWS": [...]}` whose entries name a
 * user by access key, by canonical id, or by an ARN whose last segment after
 * `user/` (or after `:`) is the user's access key, canonical id or display
 * name (e.g. `arn:aws:iam::123456789012:user/AKIDEXAMPLE`);
 * `{"CanonicalUser": id}` also works. Explicit Deny wins over Allow.
 */
import type { Principal } from "./auth.ts";
import { S3Error } from "./errors.ts";

/** Result of evaluating a policy for one request. */
export type PolicyDecision = "Allow" | "Deny" | "None";

type StrList = string | string[];

interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | Record<string, StrList>;
  NotPrincipal?: "*" | Record<string, StrList>;
  Action?: StrList;
  NotAction?: StrList;
  Resource?: StrList;
  NotResource?: StrList;
  Condition?: Record<string, Record<string, StrList | number | boolean>>;
}

/** A parsed, validated bucket policy. */
export interface BucketPolicy {
  Version?: string;
  Statement: Statement[];
}

/** Request facts the policy is evaluated against. */
export interface PolicyRequest {
  principal: Principal;
  /** e.g. `s3:GetObject`. */
  action: string;
  /** e.g. `arn:aws:s3:::bucket/key`. */
  resource: string;
  /** Condition keys (lower-case) → values. */
  context: Map<string, string[]>;
}

function list(v: StrList | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function malformed(msg: string): S3Error {
  return new S3Error("MalformedPolicy", msg);
}

function validateStatement(st: Statement, bucket: string): void {
  if (st.Effect !== "Allow" && st.Effect !== "Deny") throw malformed("Invalid effect");
  if (st.Principal === undefined && st.NotPrincipal === undefined) throw malformed("Missing required field Principal");
  if (st.NotPrincipal !== undefined && st.Effect === "Allow") throw malformed("NotPrincipal is only supported with Deny");
  const actions = [...list(st.Action), ...list(st.NotAction)];
  if (actions.length === 0) throw malformed("Missing required field Action");
  for (const a of actions) if (a !== "*" && !/^s3:/i.test(a)) throw malformed(`Policy has invalid action: ${a}`);
  const resources = [...list(st.Resource), ...list(st.NotResource)];
  if (resources.length === 0) throw malformed("Missing required field Resource");
  for (const r of resources) {
    const m = /^arn:aws:s3:::([^/]*)(\/.*)?$/.exec(r);
    if (r !== "*" && (!m || !wildcardMatch(m[1] ?? "", bucket, false))) {
      throw malformed("Policy has invalid resource");
    }
  }
}

/** Parses and validates a policy document for `bucket`; MalformedPolicy on error. */
export function parsePolicy(text: string, bucket: string): BucketPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw malformed("Policy must be a JSON object");
  const st = (doc as { Statement?: unknown }).Statement;
  const statements = (Array.isArray(st) ? st : st === undefined ? [] : [st]) as Statement[];
  if (statements.length === 0) throw malformed("Missing required field Statement");
  for (const s of statements) {
    if (typeof s !== "object" || s === null) throw malformed("Statement must be an object");
    validateStatement(s, bucket);
  }
  return { ...(doc as object), Statement: statements } as BucketPolicy;
}

/** Glob match with `*` and `?` (IAM style). */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*").replace(/\?/g, "[\\s\\S]")}$`,
    ignoreCase ? "i" : "",
  );
  return re.test(value);
}

function principalEntryMatches(entry: string, p: Principal): boolean {
  if (entry === "*") return true;
  if (p.type !== "user") return false;
  const u = p.user;
  const names = [u.accessKey, u.id, u.displayName];
  if (names.includes(entry)) return true;
  if (entry.startsWith("arn:")) {
    const tail = entry.includes(":user/") ? entry.slice(entry.lastIndexOf("/") + 1) : entry.slice(entry.lastIndexOf(":") + 1);
    return names.includes(tail);
  }
  return false;
}

function principalMatches(spec: Statement["Principal"], p: Principal): boolean {
  if (spec === undefined) return false;
  if (spec === "*") return true;
  return Object.entries(spec).some(([kind, v]) => {
    const entries = list(v);
    if (kind === "AWS") return entries.some((e) => principalEntryMatches(e, p));
    if (kind === "CanonicalUser") return p.type === "user" && entries.includes(p.user.id);
    return false;
  });
}

type Cmp = (want: string, got: string) => boolean;

const STRING_OPS: Record<string, Cmp> = {
  stringequals: (w, g) => w === g,
  stringnotequals: (w, g) => w !== g,
  stringequalsignorecase: (w, g) => w.toLowerCase() === g.toLowerCase(),
  stringnotequalsignorecase: (w, g) => w.toLowerCase() !== g.toLowerCase(),
  stringlike: (w, g) => wildcardMatch(w, g, false),
  stringnotlike: (w, g) => !wildcardMatch(w, g, false),
  numericequals: (w, g) => Number(g) === Number(w),
  numericnotequals: (w, g) => Number(g) !== Number(w),
  numericlessthan: (w, g) => Number(g) < Number(w),
  numericlessthanequals: (w, g) => Number(g) <= Number(w),
  numericgreaterthan: (w, g) => Number(g) > Number(w),
  numericgreaterthanequals: (w, g) => Number(g) >= Number(w),
  bool: (w, g) => w.toLowerCase() === g.toLowerCase(),
  ipaddress: (w, g) => ipInCidr(g, w),
  notipaddress: (w, g) => !ipInCidr(g, w),
};

const NEGATED = new Set(["stringnotequals", "stringnotequalsignorecase", "stringnotlike", "numericnotequals", "notipaddress"]);

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip.replace(/^::ffff:/, ""));
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [base = "", bitsText] = cidr.split("/");
  const a = ipv4ToInt(ip);
  const b = ipv4ToInt(base);
  if (a === undefined || b === undefined) return ip === base;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

function conditionHolds(opName: string, key: string, wants: string[], ctx: Map<string, string[]>): boolean {
  let op = opName.toLowerCase();
  const ifExists = op.endsWith("ifexists");
  if (ifExists) op = op.slice(0, -"ifexists".length);
  if (op === "null") {
    const present = ctx.has(key.toLowerCase());
    return wants.some((w) => (w.toLowerCase() === "true") === !present);
  }
  const cmp = STRING_OPS[op];
  if (cmp === undefined) return false;
  const got = ctx.get(key.toLowerCase());
  if (got === undefined) return ifExists || NEGATED.has(op);
  if (NEGATED.has(op)) return got.every((g) => wants.every((w) => cmp(w, g)));
  return got.some((g) => wants.some((w) => cmp(w, g)));
}

function conditionsHold(cond: Statement["Condition"], ctx: Map<string, string[]>): boolean {
  if (cond === undefined) return true;
  return Object.entries(cond).every(([op, kv]) =>
    Object.entries(kv).every(([k, v]) => conditionHolds(op, k, list(typeof v === "string" || Array.isArray(v) ? v : String(v)).map(String), ctx)),
  );
}

function statementApplies(st: Statement, req: PolicyRequest): boolean {
  const principalOk = st.Principal !== undefined ? principalMatches(st.Principal, req.principal) : !principalMatches(st.NotPrincipal, req.principal);
  if (!principalOk) return false;
  const actionOk = st.Action !== undefined
    ? list(st.Action).some((a) => wildcardMatch(a, req.action, true))
    : !list(st.NotAction).some((a) => wildcardMatch(a, req.action, true));
  if (!actionOk) return false;
  const resOk = st.Resource !== undefined
    ? list(st.Resource).some((r) => wildcardMatch(r, req.resource, false))
    : !list(st.NotResource).some((r) => wildcardMatch(r, req.resource, false));
  return resOk && conditionsHold(st.Condition, req.context);
}

/** Evaluates a policy: Deny if any Deny statement applies, else Allow if any Allow applies, else None. */
export function evaluatePolicy(policy: BucketPolicy, req: PolicyRequest): PolicyDecision {
  let allowed = false;
  for (const st of policy.Statement) {
    if (!statementApplies(st, req)) continue;
    if (st.Effect === "Deny") return "Deny";
    allowed = true;
  }
  return allowed ? "Allow" : "None";
}

/** Whether a policy allows anything to everyone (for GetBucketPolicyStatus). */
export function policyIsPublic(policy: BucketPolicy): boolean {
  return policy.Statement.some(
    (st) => st.Effect === "Allow" && st.Condition === undefined && (st.Principal === "*" || list((st.Principal as Record<string, StrList> | undefined)?.["AWS"]).includes("*")),
  );
}
