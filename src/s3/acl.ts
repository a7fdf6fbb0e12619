/**
 * Access control lists: canned ACLs, x-amz-grant-* headers, the
 * AccessControlPolicy XML document, and the permission check.
 */
import type { Principal } from "./auth.ts";
import { S3Error } from "./errors.ts";
import type { UserDirectory } from "./users.ts";
import { type Xml, type XmlElement, child, childText, childrenNamed, x, xa } from "./xml.ts";

/** An ACL permission. */
export type Permission = "FULL_CONTROL" | "READ" | "WRITE" | "READ_ACP" | "WRITE_ACP";

const PERMISSIONS: readonly Permission[] = ["FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP"];

/** Predefined groups. */
export const GROUPS = {
  AllUsers: "http://acs.amazonaws.com/groups/global/AllUsers",
  AuthenticatedUsers: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
  LogDelivery: "http://acs.amazonaws.com/groups/s3/LogDelivery",
} as const;

/** Who a grant is for. */
export type Grantee =
  | { readonly type: "user"; readonly id: string }
  | { readonly type: "group"; readonly uri: string }
  | { readonly type: "email"; readonly email: string };

/** One grant. */
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

/** An access control list: an owner (canonical id) and grants. */
export interface Acl {
  owner: string;
  grants: Grant[];
}

/** The canned ACL names accepted in x-amz-acl. */
export const CANNED_ACLS = [
  "private",
  "public-read",
  "public-read-write",
  "authenticated-read",
  "bucket-owner-read",
  "bucket-owner-full-control",
  "log-delivery-write",
  "aws-exec-read",
] as const;

const userGrant = (id: string, permission: Permission): Grant => ({ grantee: { type: "user", id }, permission });
const groupGrant = (uri: string, permission: Permission): Grant => ({ grantee: { type: "group", uri }, permission });

/**
 * Expands a canned ACL. Group grants come first and the owner's
 * FULL_CONTROL last, as S3 lists them.
 */
export function cannedAcl(name: string, owner: string, bucketOwner?: string): Acl {
  const own = userGrant(owner, "FULL_CONTROL");
  const bo = bucketOwner ?? owner;
  switch (name) {
    case "private":
    case "aws-exec-read":
      return { owner, grants: [own] };
    case "public-read":
      return { owner, grants: [groupGrant(GROUPS.AllUsers, "READ"), own] };
    case "public-read-write":
      return { owner, grants: [groupGrant(GROUPS.AllUsers, "READ"), groupGrant(GROUPS.AllUsers, "WRITE"), own] };
    case "authenticated-read":
      return { owner, grants: [groupGrant(GROUPS.AuthenticatedUsers, "READ"), own] };
    case "bucket-owner-read":
      return { owner, grants: bo === owner ? [own] : [own, userGrant(bo, "READ")] };
    case "bucket-owner-full-control":
      return { owner, grants: bo === owner ? [own] : [own, userGrant(bo, "FULL_CONTROL")] };
    case "log-delivery-write":
      return { owner, grants: [groupGrant(GROUPS.LogDelivery, "WRITE"), groupGrant(GROUPS.LogDelivery, "READ_ACP"), own] };
    default:
      throw new S3Error("InvalidArgument", `invalid canned ACL '${name}'`, { extra: { ArgumentName: "x-amz-acl", ArgumentValue: name } });
  }
}

const GRANT_HEADERS: ReadonlyArray<readonly [string, Permission]> = [
  ["x-amz-grant-full-control", "FULL_CONTROL"],
  ["x-amz-grant-read", "READ"],
  ["x-amz-grant-write", "WRITE"],
  ["x-amz-grant-read-acp", "READ_ACP"],
  ["x-amz-grant-write-acp", "WRITE_ACP"],
];

/** E-mail grantees are stored as the user they name, as S3 does. */
function resolveEmail(email: string, users: UserDirectory): Grantee {
  const u = users.byEmail(email);
  if (u === undefined) {
    throw new S3Error("UnresolvableGrantByEmailAddress", "The e-mail address you provided does not match any account on record.", { extra: { EmailAddress: email } });
  }
  return { type: "user", id: u.id };
}

function parseGranteeSpec(spec: string, users: UserDirectory): Grantee {
  const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(spec);
  if (!m) throw new S3Error("InvalidArgument", `invalid grantee '${spec}'`);
  const kind = (m[1] ?? "").toLowerCase();
  const value = m[2] ?? "";
  if (kind === "id") {
    if (users.byCanonicalId(value) === undefined) throw new S3Error("InvalidArgument", `Invalid id '${value}'`);
    return { type: "user", id: value };
  }
  if (kind === "uri") return { type: "group", uri: value };
  return resolveEmail(value, users);
}

/**
 * The ACL from x-amz-acl or x-amz-grant-* headers, or undefined when neither
 * is present. Both at once is InvalidRequest, as in S3.
 */
export function aclFromHeaders(
  get: (name: string) => string | undefined,
  owner: string,
  users: UserDirectory,
  bucketOwner?: string,
): Acl | undefined {
  const canned = get("x-amz-acl");
  const grants: Grant[] = [];
  for (const [h, permission] of GRANT_HEADERS) {
    const v = get(h);
    if (v === undefined) continue;
    for (const spec of v.split(",")) grants.push({ grantee: parseGranteeSpec(spec, users), permission });
  }
  if (canned !== undefined && grants.length > 0) {
    throw new S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed");
  }
  if (canned !== undefined) return cannedAcl(canned, owner, bucketOwner);
  if (grants.length > 0) return { owner, grants };
  return undefined;
}

function granteeXml(g: Grantee, users: UserDirectory): Xml {
  const ns = { "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance" };
  switch (g.type) {
    case "user":
      return xa("Grantee", { ...ns, "xsi:type": "CanonicalUser" }, x("ID", g.id), x("DisplayName", users.byCanonicalId(g.id)?.displayName ?? g.id));
    case "group":
      return xa("Grantee", { ...ns, "xsi:type": "Group" }, x("URI", g.uri));
    case "email":
      return xa("Grantee", { ...ns, "xsi:type": "AmazonCustomerByEmail" }, x("EmailAddress", g.email));
  }
}

/** An element naming a user by ID and DisplayName (Owner, Initiator). */
export function userXml(tag: string, id: string, users: UserDirectory): Xml {
  return x(tag, x("ID", id), x("DisplayName", users.byCanonicalId(id)?.displayName ?? id));
}

/** Owner element (ID and DisplayName). */
export function ownerXml(id: string, users: UserDirectory): Xml {
  return userXml("Owner", id, users);
}

/** The children of an AccessControlPolicy document. */
export function aclXml(acl: Acl, users: UserDirectory): Xml[] {
  return [
    ownerXml(acl.owner, users),
    x(
      "AccessControlList",
      // Group grants first, then users (stable), as S3 lists canned ACLs.
      [...acl.grants.filter((g) => g.grantee.type === "group"), ...acl.grants.filter((g) => g.grantee.type !== "group")].map((g) => x("Grant", granteeXml(g.grantee, users), x("Permission", g.permission))),
    ),
  ];
}

function parseGrantee(el: XmlElement, users: UserDirectory): Grantee {
  const type = el.attrs["type"];
  const id = childText(el, "ID");
  const uri = childText(el, "URI");
  const email = childText(el, "EmailAddress");
  if ((type === "CanonicalUser" || type === undefined) && id !== undefined) {
    if (users.byCanonicalId(id) === undefined) throw new S3Error("InvalidArgument", `Invalid id '${id}'`);
    return { type: "user", id };
  }
  if ((type === "Group" || type === undefined) && uri !== undefined) return { type: "group", uri };
  if (email !== undefined) return resolveEmail(email, users);
  throw new S3Error("MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema");
}

/** Parses an AccessControlPolicy request body. */
export function aclFromXml(root: XmlElement, users: UserDirectory, currentOwner: string): Acl {
  if (root.name !== "AccessControlPolicy") throw new S3Error("MalformedACLError", "expected AccessControlPolicy");
  const ownerEl = child(root, "Owner");
  const owner = ownerEl ? childText(ownerEl, "ID") ?? currentOwner : currentOwner;
  if (owner !== currentOwner) throw new S3Error("AccessDenied", "Cannot change the owner with an ACL");
  const list = child(root, "AccessControlList");
  const grants: Grant[] = [];
  for (const g of list ? childrenNamed(list, "Grant") : []) {
    const granteeEl = child(g, "Grantee");
    const permission = childText(g, "Permission") as Permission | undefined;
    if (granteeEl === undefined || permission === undefined || !PERMISSIONS.includes(permission)) {
      throw new S3Error("MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema");
    }
    grants.push({ grantee: parseGrantee(granteeEl, users), permission });
  }
  return { owner, grants };
}

function granteeMatches(g: Grantee, p: Principal): boolean {
  if (g.type === "group") {
    if (g.uri === GROUPS.AllUsers) return true;
    if (g.uri === GROUPS.AuthenticatedUsers) return p.type === "user";
    return false;
  }
  if (g.type === "user") return p.type === "user" && p.user.id === g.id;
  return false;
}

/**
 * Whether the ACL grants `perm` to the principal. FULL_CONTROL implies every
 * permission; the ACL owner always has READ_ACP and WRITE_ACP.
 */
export function aclAllows(acl: Acl, p: Principal, perm: Permission): boolean {
  if (p.type === "user" && p.user.id === acl.owner && (perm === "READ_ACP" || perm === "WRITE_ACP")) return true;
  return acl.grants.some((g) => (g.permission === perm || g.permission === "FULL_CONTROL") && granteeMatches(g.grantee, p));
}
