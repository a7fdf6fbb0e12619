/**
 * A streaming multipart/form-data parser for browser POST uploads: text
 * fields are collected in memory; the `file` field is handed to a consumer
 * as a stream, so large uploads never sit in memory. Fields after `file`
 * are ignored, as S3 does.
 */
import { S3Error } from "./errors.ts";

/** A form field (name as sent; value decoded as UTF-8). */
export interface FormField {
  name: string;
  value: string;
}

/** The file part. */
export interface FormFile {
  filename: string;
  contentType: string | undefined;
  /** The file bytes, streamed. Must be consumed fully. */
  data: AsyncIterable<Buffer>;
}

const MAX_FIELDS_BYTES = 1024 * 1024;

/** Extracts the boundary from a multipart/form-data content type. */
export function formBoundary(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (b === undefined) throw new S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.");
  return b;
}

function malformed(): S3Error {
  return new S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.");
}

function parsePartHeaders(text: string): { name: string; filename: string | undefined; contentType: string | undefined } {
  let name: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const h = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    if (h === "content-disposition") {
      name = /\bname="([^"]*)"/i.exec(v)?.[1] ?? /\bname=([^;\s]+)/i.exec(v)?.[1];
      filename = /\bfilename="([^"]*)"/i.exec(v)?.[1];
    } else if (h === "content-type") contentType = v;
  }
  if (name === undefined) throw malformed();
  return { name, filename, contentType };
}

/**
 * Parses a form body. Calls `onFile` with the file part (once) and returns
 * the fields that preceded it.
 */
export async function parseForm(
  source: AsyncIterable<Buffer>,
  boundary: string,
  onFile: (fields: FormField[], file: FormFile) => Promise<void>,
): Promise<FormField[]> {
  const it = source[Symbol.asyncIterator]();
  const delim = Buffer.from(`\r\n--${boundary}`);
  let buf: Buffer = Buffer.from("\r\n");
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const r = await it.next();
    if (r.done === true) {
      done = true;
      return false;
    }
    buf = buf.length === 0 ? r.value : Buffer.concat([buf, r.value]);
    return true;
  };
  const fields: FormField[] = [];
  let fieldBytes = 0;
  // Skip the preamble up to the first delimiter.
  for (;;) {
    const i = buf.indexOf(delim);
    if (i >= 0) {
      buf = buf.subarray(i + delim.length);
      break;
    }
    if (!(await more())) throw malformed();
  }
  for (;;) {
    while (buf.length < 2 && (await more()));
    if (buf.subarray(0, 2).toString() === "--") return fields;
    let he: number;
    while ((he = buf.indexOf("\r\n\r\n")) < 0) {
      if (buf.length > 16384 || !(await more())) throw malformed();
    }
    const h = parsePartHeaders(buf.subarray(2, he).toString("utf8"));
    buf = buf.subarray(he + 4);
    if (h.name.toLowerCase() === "file") {
      let finished = false;
      const data = async function* (): AsyncGenerator<Buffer> {
        for (;;) {
          const i = buf.indexOf(delim);
          if (i >= 0) {
            if (i > 0) yield buf.subarray(0, i);
            buf = buf.subarray(i + delim.length);
            finished = true;
            return;
          }
          const keep = delim.length - 1;
          if (buf.length > keep) {
            const out = buf.subarray(0, buf.length - keep);
            buf = buf.subarray(buf.length - keep);
            yield out;
          }
          if (!(await more())) throw malformed();
        }
      };
      await onFile(fields, { filename: h.filename ?? "", contentType: h.contentType, data: data() });
      if (!finished) throw malformed();
      while (await more()) buf = Buffer.alloc(0);
      return fields;
    }
    let i: number;
    while ((i = buf.indexOf(delim)) < 0) {
      if (!(await more())) throw malformed();
    }
    const value = buf.subarray(0, i).toString("utf8");
    fieldBytes += value.length + h.name.length;
    if (fieldBytes > MAX_FIELDS_BYTES) throw new S3Error("MaxMessageLengthExceeded", "Your POST form fields are too large");
    fields.push({ name: h.name, value });
    buf = buf.subarray(i + delim.length);
  }
}
