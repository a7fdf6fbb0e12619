/**
 * Writing responses: XML documents, empty responses and S3 error documents.
 */
import type { ServerResponse } from "node:http";
import { S3Error } from "./errors.ts";
import { x, xmlDocument, type XmlChild } from "./xml.ts";

/** Sends an XML document built from a root element name and children. */
export function sendXml(res: ServerResponse, status: number, root: string, children: XmlChild[], headers: Record<string, string> = {}): void {
  sendBody(res, status, xmlDocument(root, ...children), { "Content-Type": "application/xml", ...headers });
}

/** Sends a string or buffer body with headers. */
export function sendBody(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  res.writeHead(status, { ...headers, "Content-Length": String(buf.length) });
  res.end(res.req.method === "HEAD" ? undefined : buf);
}

/** Sends an empty response. */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, "Content-Length": "0" });
  res.end();
}

/** Renders an S3 error document (HEAD responses get no body). */
export function sendError(res: ServerResponse, err: S3Error, requestId: string, resource: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    x(
      "Error",
      x("Code", err.code),
      x("Message", err.message),
      Object.entries(err.extra).map(([k, v]) => x(k, v)),
      x("Resource", err.resource ?? resource),
      x("RequestId", requestId),
      x("HostId", requestId),
    ).raw;
  const headers: Record<string, string> = { ...err.headers, "Content-Type": "application/xml", "x-amz-request-id": requestId };
  if (err.status === 304) {
    res.writeHead(304, err.headers);
    res.end();
    return;
  }
  sendBody(res, err.status, body, headers);
}

/** Wraps any thrown value as an S3Error (InternalError for unexpected ones). */
export function toS3Error(e: unknown): S3Error {
  if (e instanceof S3Error) return e;
  return new S3Error("InternalError", undefined, { cause: e });
}

/** ISO-8601 timestamp with milliseconds, as S3 writes in XML. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** RFC 1123 date for HTTP headers. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
