/**
 * Minimal XML support for the S3 protocol: an escaping serializer for
 * responses and a small, strict parser for the few request bodies S3 accepts
 * (CompleteMultipartUpload, Delete, AccessControlPolicy,
 * CreateBucketConfiguration).
 */
import { S3Error } from "./errors.ts";

/** S3 XML namespace used on every response root element. */
export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** An already-serialized XML fragment (never escaped again). */
export class Xml {
  constructor(readonly raw: string) {}
  toString(): string {
    return this.raw;
  }
}

/** A child of {@link x}: text (escaped), a fragment, or nothing. */
export type XmlChild = Xml | string | number | boolean | undefined | null | readonly XmlChild[];

/** Escapes text for use in element content or attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      case "'":
        return "&apos;";
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

function appendChild(out: string[], c: XmlChild): void {
  if (c === undefined || c === null) return;
  if (c instanceof Xml) out.push(c.raw);
  else if (Array.isArray(c)) for (const d of c as readonly XmlChild[]) appendChild(out, d);
  else out.push(escapeXml(String(c)));
}

/**
 * Builds an element. Strings are escaped; `undefined` children are skipped,
 * so optional elements can be written inline.
 *
 * @example
 * x("Contents", x("Key", key), x("Size", 12)).raw  // "<Contents><Key>..."
 */
export function x(name: string, ...children: XmlChild[]): Xml {
  const out: string[] = [];
  for (const c of children) appendChild(out, c);
  return new Xml(`<${name}>${out.join("")}</${name}>`);
}

/** Builds an element with attributes (values escaped). */
export function xa(name: string, attrs: Record<string, string>, ...children: XmlChild[]): Xml {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join("");
  const out: string[] = [];
  for (const c of children) appendChild(out, c);
  return new Xml(`<${name}${a}>${out.join("")}</${name}>`);
}

/** Optional element: `undefined` when value is undefined. */
export function xo(name: string, value: string | number | boolean | undefined): Xml | undefined {
  return value === undefined ? undefined : x(name, value);
}

/** A complete document with the XML declaration and the S3 namespace on the root. */
export function xmlDocument(root: string, ...children: XmlChild[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xa(root, { xmlns: S3_NS }, ...children).raw}`;
}

/** A parsed element: local name (namespace prefix removed), attributes, children and text. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** First child element with this local name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** All child elements with this local name. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** Text of the first child with this name, or undefined. */
export function childText(el: XmlElement, name: string): string | undefined {
  return child(el, name)?.text;
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw malformed();
    return v;
  });
}

function malformed(): S3Error {
  return new S3Error("MalformedXML");
}

function localName(qname: string): string {
  const i = qname.indexOf(":");
  return i < 0 ? qname : qname.slice(i + 1);
}

const NAME_RE = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ATTR_RE = /^\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/;

class Parser {
  private pos = 0;
  constructor(private readonly s: string) {}

  parseDocument(): XmlElement {
    this.skipMisc();
    const root = this.parseElement();
    this.skipMisc();
    if (this.pos !== this.s.length) throw malformed();
    return root;
  }

  private skipMisc(): void {
    for (;;) {
      const rest = this.s.slice(this.pos);
      const ws = /^\s+/.exec(rest);
      if (ws) {
        this.pos += ws[0].length;
        continue;
      }
      if (rest.startsWith("<?")) this.skipPast("?>");
      else if (rest.startsWith("<!--")) this.skipPast("-->");
      else if (rest.startsWith("<!DOCTYPE")) throw malformed();
      else return;
    }
  }

  private skipPast(end: string): void {
    const i = this.s.indexOf(end, this.pos);
    if (i < 0) throw malformed();
    this.pos = i + end.length;
  }

  private parseElement(): XmlElement {
    if (this.s[this.pos] !== "<") throw malformed();
    this.pos++;
    const m = NAME_RE.exec(this.s.slice(this.pos));
    if (!m) throw malformed();
    const qname = m[0];
    this.pos += qname.length;
    const el: XmlElement = { name: localName(qname), attrs: {}, children: [], text: "" };
    this.parseAttrs(el);
    if (this.s.startsWith("/>", this.pos)) {
      this.pos += 2;
      return el;
    }
    if (this.s[this.pos] !== ">") throw malformed();
    this.pos++;
    this.parseContent(el, qname);
    return el;
  }

  private parseAttrs(el: XmlElement): void {
    for (;;) {
      const a = ATTR_RE.exec(this.s.slice(this.pos, this.pos + 4096));
      if (!a) break;
      el.attrs[localName(a[1] ?? "")] = decodeEntities(a[3] ?? a[4] ?? "");
      this.pos += a[0].length;
    }
    const ws = /^\s*/.exec(this.s.slice(this.pos, this.pos + 256));
    this.pos += ws ? ws[0].length : 0;
  }

  private parseContent(el: XmlElement, qname: string): void {
    const text: string[] = [];
    for (;;) {
      const lt = this.s.indexOf("<", this.pos);
      if (lt < 0) throw malformed();
      text.push(decodeEntities(this.s.slice(this.pos, lt)));
      this.pos = lt;
      if (this.s.startsWith("</", lt)) {
        const end = this.s.indexOf(">", lt);
        if (end < 0 || this.s.slice(lt + 2, end).trim() !== qname) throw malformed();
        this.pos = end + 1;
        el.text = text.join("");
        return;
      }
      if (this.s.startsWith("<!--", lt)) this.skipPast("-->");
      else if (this.s.startsWith("<![CDATA[", lt)) {
        const end = this.s.indexOf("]]>", lt);
        if (end < 0) throw malformed();
        text.push(this.s.slice(lt + 9, end));
        this.pos = end + 3;
      } else if (this.s.startsWith("<?", lt)) this.skipPast("?>");
      else el.children.push(this.parseElement());
    }
  }
}

/**
 * Parses an XML document; throws S3Error MalformedXML when it is not
 * well-formed. DOCTYPE declarations are refused (no entity expansion).
 */
export function parseXml(body: string | Buffer): XmlElement {
  const s = typeof body === "string" ? body : body.toString("utf8");
  if (s.trim() === "") throw malformed();
  return new Parser(s).parseDocument();
}
