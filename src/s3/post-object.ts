/**
 * Browser-based uploads: POST /bucket with multipart/form-data and an
 * optional signed policy.
 */
import { unlink } from "node:fs/promises";
import { Readable } from "node:stream";
import { aclFromHeaders, cannedAcl } from "./acl.ts";
import { authorize } from "./access.ts";
import { ANONYMOUS, type Principal } from "./auth.ts";
import { receiveToFile } from "./body.ts";
import type { S3Request, ServerContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { type FormField, type FormFile, formBoundary, parseForm } from "./form-data.ts";
import { validateKey } from "./keys.ts";
import { STORED_HEADERS } from "./object-meta.ts";
import { type PostPolicy, checkPostPolicy, checkPostSize, parsePostPolicy, sizeRange, verifyPostSignature } from "./post-policy.ts";
import { sendBody, sendEmpty } from "./respond.ts";
import type { Bucket, ObjectMeta } from "./store.ts";
import { x } from "./xml.ts";

function fieldMap(fields: readonly FormField[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of fields) {
    const k = f.name.toLowerCase();
    if (!m.has(k)) m.set(k, f.value);
  }
  return m;
}

/** UTF-8 text re-expressed as latin1 so it survives as an HTTP header value. */
function headerSafe(v: string): string {
  return Buffer.from(v, "utf8").toString("latin1");
}

function formMeta(form: Map<string, string>, file: FormFile): Pick<ObjectMeta, "contentType" | "headers" | "userMeta"> {
  const headers: Record<string, string> = {};
  const userMeta: Record<string, string> = {};
  for (const [k, v] of form) {
    if ((STORED_HEADERS as readonly string[]).includes(k)) headers[k] = headerSafe(v);
    if (k.startsWith("x-amz-meta-")) userMeta[k.slice("x-amz-meta-".length)] = headerSafe(v);
  }
  return { contentType: form.get("content-type") ?? file.contentType ?? "binary/octet-stream", headers, userMeta };
}

interface Authed {
  principal: Principal;
  policy: PostPolicy | undefined;
}

function authenticateForm(ctx: ServerContext, form: Map<string, string>, bucket: string, now: number): Authed {
  const policyB64 = form.get("policy");
  if (policyB64 === undefined) return { principal: ANONYMOUS, policy: undefined };
  const principal = verifyPostSignature(form, policyB64, ctx.users);
  const policy = parsePostPolicy(policyB64);
  checkPostPolicy(policy, form, bucket, now);
  return { principal, policy };
}

async function storeUpload(ctx: ServerContext, r: S3Request, b: Bucket, fields: FormField[], file: FormFile): Promise<ObjectMeta> {
  const form = fieldMap(fields);
  const rawKey = form.get("key");
  if (rawKey !== undefined) form.set("key", rawKey.replace(/\$\{filename\}/g, file.filename));
  const { principal, policy } = authenticateForm(ctx, form, b.meta.name, r.now);
  r.auth = { principal, payload: { type: "unsigned" } };
  const key = form.get("key");
  if (key === undefined) throw new S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.", { extra: { ArgumentName: "key" } });
  validateKey(key);
  r.key = key;
  authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
  const owner = r.callerId ?? b.meta.acl.owner;
  const acl = aclFromHeaders((h) => form.get(h), owner, ctx.users, b.meta.acl.owner) ?? cannedAcl("private", owner);
  const range = sizeRange(policy);
  const got = await receiveToFile(Readable.from(file.data), ctx.store.tempPath("post"), {
    payload: { type: "unsigned" },
    ...(range ? { maxSize: range.max } : {}),
  });
  try {
    checkPostSize(got.size, range);
  } catch (e) {
    await unlink(got.path).catch(() => undefined);
    throw e;
  }
  return ctx.store.commitObject(
    b.meta.name,
    { key, size: got.size, etag: got.md5.toString("hex"), lastModified: Date.now(), ...formMeta(form, file), acl },
    got.path,
  );
}

function respond(r: S3Request, b: Bucket, form: Map<string, string>, m: ObjectMeta): void {
  const etag = `"${m.etag}"`;
  const redirect = form.get("success_action_redirect") ?? form.get("redirect");
  if (redirect !== undefined && redirect !== "") {
    const q = `bucket=${encodeURIComponent(b.meta.name)}&key=${encodeURIComponent(m.key)}&etag=${encodeURIComponent(etag)}`;
    sendEmpty(r.res, 303, { Location: `${redirect}${redirect.includes("?") ? "&" : "?"}${q}`, ETag: etag });
    return;
  }
  const status = form.get("success_action_status");
  if (status === "200") return sendEmpty(r.res, 200, { ETag: etag });
  if (status === "201") {
    const location = `http://${r.header("host") ?? "localhost"}/${b.meta.name}/${encodeURIComponent(m.key)}`;
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n${x("PostResponse", x("Location", location), x("Bucket", b.meta.name), x("Key", m.key), x("ETag", etag)).raw}`;
    return sendBody(r.res, 201, body, { "Content-Type": "application/xml", ETag: etag, Location: location });
  }
  sendEmpty(r.res, 204, { ETag: etag, Location: `/${b.meta.name}/${encodeURIComponent(m.key)}` });
}

/** POST /bucket (multipart/form-data). */
export async function postObject(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  const boundary = formBoundary(r.header("content-type") ?? "");
  let stored: { meta: ObjectMeta; form: Map<string, string> } | undefined;
  await parseForm(r.req as AsyncIterable<Buffer>, boundary, async (fields, file) => {
    stored = { meta: await storeUpload(ctx, r, b, fields, file), form: fieldMap(fields) };
  });
  if (stored === undefined) throw new S3Error("InvalidArgument", "POST requires exactly one file upload per request.", { extra: { ArgumentName: "file" } });
  respond(r, b, stored.form, stored.meta);
}
