/**
 * S3 users (access key pairs) and where they come from: `--user AK:SK`
 * flags, a JSON config file, and the SHOAL_S3_USERS environment variable.
 */
import { readFileSync } from "node:fs";

/** One user of the S3 server. */
export interface S3User {
  /** Access key id (what clients send in the credential scope). */
  accessKey: string;
  /** Secret access key. */
  secretKey: string;
  /** Canonical user id used in ACLs and owner fields (default: the access key). */
  id: string;
  /** Display name used in owner fields (default: the access key). */
  displayName: string;
  /** E-mail address, for ACL grants by e-mail (optional). */
  email?: string;
}

/** A user as given in configuration: id and display name are optional. */
export interface S3UserInput {
  accessKey: string;
  secretKey: string;
  id?: string;
  displayName?: string;
  email?: string;
}

/** Fills in defaults and validates one user. */
export function normalizeUser(u: S3UserInput): S3User {
  if (typeof u.accessKey !== "string" || u.accessKey === "" || /[\s/:]/.test(u.accessKey)) {
    throw new TypeError(`S3 user access key must be a non-empty string without spaces, '/' or ':' (got ${JSON.stringify(u.accessKey)})`);
  }
  if (typeof u.secretKey !== "string" || u.secretKey === "") {
    throw new TypeError(`S3 user ${u.accessKey}: secret key must be a non-empty string`);
  }
  return {
    accessKey: u.accessKey,
    secretKey: u.secretKey,
    id: u.id ?? u.accessKey,
    displayName: u.displayName ?? u.accessKey,
    ...(u.email !== undefined ? { email: u.email } : {}),
  };
}

/** Parses `ACCESS:SECRET` (the secret may itself contain ':'). */
export function parseUserSpec(spec: string): S3UserInput {
  const i = spec.indexOf(":");
  if (i <= 0 || i === spec.length - 1) {
    throw new TypeError(`user must look like ACCESS_KEY:SECRET_KEY (got '${spec}')`);
  }
  return { accessKey: spec.slice(0, i), secretKey: spec.slice(i + 1) };
}

/** Parses `SHOAL_S3_USERS="AK:SK,AK2:SK2"`. */
export function parseUsersEnv(value: string | undefined): S3UserInput[] {
  if (value === undefined || value.trim() === "") return [];
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(parseUserSpec);
}

/**
 * Reads a JSON config file: `{"users": [{"accessKey", "secretKey", "id"?, "displayName"?}],
 * "region"?: string}`.
 */
export function readUsersConfig(path: string): { users: S3UserInput[]; region?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new TypeError(`cannot read S3 config ${path}: ${(e as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as { users?: unknown }).users)) {
    throw new TypeError(`S3 config ${path} must be a JSON object with a "users" array`);
  }
  const d = doc as { users: S3UserInput[]; region?: unknown };
  return typeof d.region === "string" ? { users: d.users, region: d.region } : { users: d.users };
}

/** Users indexed by access key and by canonical id. */
export class UserDirectory {
  private readonly byKey = new Map<string, S3User>();
  private readonly byId = new Map<string, S3User>();

  constructor(users: readonly S3UserInput[]) {
    for (const input of users) {
      const u = normalizeUser(input);
      if (this.byKey.has(u.accessKey)) throw new TypeError(`duplicate S3 access key ${u.accessKey}`);
      this.byKey.set(u.accessKey, u);
      this.byId.set(u.id, u);
    }
  }

  /** The user with this access key. */
  byAccessKey(ak: string): S3User | undefined {
    return this.byKey.get(ak);
  }

  /** The user with this canonical id. */
  byCanonicalId(id: string): S3User | undefined {
    return this.byId.get(id);
  }

  /** The user with this e-mail address. */
  byEmail(email: string): S3User | undefined {
    const e = email.toLowerCase();
    for (const u of this.byKey.values()) if (u.email?.toLowerCase() === e) return u;
    return undefined;
  }

  /** Number of users. */
  get size(): number {
    return this.byKey.size;
  }
}
