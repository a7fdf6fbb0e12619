/**
 * Per-server and per-request context shared by the operation handlers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthResult, Principal } from "./auth.ts";
import type { MultipartStore } from "./multipart.ts";
import type { QueryParam } from "./sigv4.ts";
import type { Store } from "./store.ts";
import type { UserDirectory } from "./users.ts";

/** Everything a handler may need that lives as long as the server. */
export interface ServerContext {
  store: Store;
  uploads: MultipartStore;
  users: UserDirectory;
  region: string;
  /** Smallest size of every part but the last in CompleteMultipartUpload. */
  minPartSize: number;
}

/** One parsed request. */
export class S3Request {
  /** Decoded bucket name from the path, if any. */
  bucket: string | undefined;
  /** Decoded object key from the path, if any. */
  key: string | undefined;
  auth!: AuthResult;

  constructor(
    readonly id: string,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly method: string,
    readonly rawPath: string,
    readonly params: readonly QueryParam[],
    readonly headers: Map<string, string[]>,
    readonly now: number,
  ) {}

  /** A header value (duplicates joined by `,`), or undefined. */
  header(name: string): string | undefined {
    const v = this.headers.get(name);
    return v === undefined ? undefined : v.join(",");
  }

  /** Whether a query parameter is present (with or without a value). */
  has(name: string): boolean {
    return this.params.some((p) => p.name === name);
  }

  /** A decoded query parameter value, or undefined. */
  q(name: string): string | undefined {
    return this.params.find((p) => p.name === name)?.value;
  }

  /** The authenticated principal. */
  get principal(): Principal {
    return this.auth.principal;
  }

  /** Canonical id of the caller, or undefined for anonymous requests. */
  get callerId(): string | undefined {
    return this.auth.principal.type === "user" ? this.auth.principal.user.id : undefined;
  }

  /** `/bucket/key` for error documents. */
  get resource(): string {
    return this.key !== undefined ? `/${this.bucket}/${this.key}` : this.bucket !== undefined ? `/${this.bucket}` : "/";
  }
}
