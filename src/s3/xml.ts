/**
 * Minimal XML support for the S3 protocol: an escaping serializer for
 * responses and a small, strict parser for the few request bodies S3 accepts
 * (CompleteMultipartUpload, Delete, AccessControlPolicy,
 * CreateBucketConfiguration, OwnershipControls).
 *
 * The parser is built for hostile input: it never recurses (an explicit
 * stack of open elements), runs in time linear in the input (character-code
 * scanning and `indexOf`, no regular expressions over the document, no
 * repeated string concatenation), bounds nesting depth and element count
 * ({@link XML_LIMITS}), and reports every defect as S3Error `MalformedXML`.
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

const NEEDS_ESCAPE = /[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** The escape of each ASCII character that needs one, as bytes (index: the character code). */
const ESCAPES: readonly (Buffer | undefined)[] = Array.from({ length: 128 }, (_, c) => {
  const ch = String.fromCharCode(c);
  const named: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
  const e = named[ch] ?? (NEEDS_ESCAPE.test(ch) ? `&#x${c.toString(16)};` : undefined);
  return e === undefined ? undefined : Buffer.from(e, "latin1");
});

/**
 * Escapes text for use in element content or attribute values. Linear, and
 * a few times faster than a replace callback per character on long values
 * full of special characters (a response can echo a client's key or ETag):
 * two passes over the UTF-8 bytes, every character that needs escaping
 * being ASCII.
 */
export function escapeXml(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  const src = Buffer.from(s, "utf8");
  let size = src.length;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    if (b < 128) size += (ESCAPES[b]?.length ?? 1) - 1;
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    const e = b < 128 ? ESCAPES[b] : undefined;
    if (e === undefined) out[o++] = b;
    else for (let j = 0; j < e.length; j++) out[o++] = e[j] as number;
  }
  return out.toString("utf8");
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

/** Bounds applied by {@link parseXml}; S3's request documents nest fewer than 10 levels. */
export interface XmlLimits {
  /** Deepest element nesting accepted; the root is at depth 1. */
  maxDepth: number;
  /** Most elements accepted in one document, the root included. */
  maxElements: number;
}

/**
 * Default {@link XmlLimits}: depth 32, and 100,000 elements (a
 * CompleteMultipartUpload of 10,000 parts, each with a part number, an ETag
 * and checksums, needs up to ~80,000).
 */
export const XML_LIMITS: Readonly<XmlLimits> = { maxDepth: 32, maxElements: 100_000 };

/** Most attributes on one element (S3's documents use at most three: xmlns, xmlns:xsi, xsi:type). */
const MAX_ATTRIBUTES = 64;

/** Longest character reference accepted (`&#x` + leading zeros + digits + `;`). */
const MAX_REF_LENGTH = 32;

function malformed(): S3Error {
  return new S3Error("MalformedXML");
}

function localName(qname: string): string {
  const i = qname.indexOf(":");
  return i < 0 ? qname : qname.slice(i + 1);
}

/** The code point of the numeric character reference `s[from, to)` (`#x41`, `#65`), or -1 when invalid. */
function charRef(s: string, from: number, to: number): number {
  const hexRef = s.charCodeAt(from + 1) === 0x78; /* x */
  const start = from + (hexRef ? 2 : 1);
  if (to <= start) return -1;
  let v = 0;
  for (let i = start; i < to; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (hexRef && c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (hexRef && c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    v = v * (hexRef ? 16 : 10) + d;
    if (v > 0x10ffff) return -1;
  }
  return v;
}

/**
 * Decodes the reference `&...;` starting at `s[amp]` onto `out` and returns
 * where it ends (one past its `;`); MalformedXML if it is not a well-formed
 * reference ending before `to`. The five predefined entities are matched in
 * place, without slicing.
 */
function reference(s: string, amp: number, to: number, out: string[]): number {
  let v: string | undefined;
  let end = amp;
  switch (s.charCodeAt(amp + 1)) {
    case 0x61 /* a */:
      if (s.startsWith("amp;", amp + 1)) {
        v = "&";
        end = amp + 5;
      } else if (s.startsWith("apos;", amp + 1)) {
        v = "'";
        end = amp + 6;
      }
      break;
    case 0x6c /* l */:
      if (s.startsWith("lt;", amp + 1)) {
        v = "<";
        end = amp + 4;
      }
      break;
    case 0x67 /* g */:
      if (s.startsWith("gt;", amp + 1)) {
        v = ">";
        end = amp + 4;
      }
      break;
    case 0x71 /* q */:
      if (s.startsWith("quot;", amp + 1)) {
        v = '"';
        end = amp + 6;
      }
      break;
    case 0x23 /* # */: {
      const semi = s.indexOf(";", amp + 2);
      if (semi < 0 || semi - amp > MAX_REF_LENGTH) break;
      const cp = charRef(s, amp + 1, semi);
      if (cp >= 0) {
        v = String.fromCodePoint(cp);
        end = semi + 1;
      }
      break;
    }
  }
  if (v === undefined || end > to) throw malformed();
  out.push(v);
  return end;
}

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f /* _ */ || c === 0x3a; /* : */
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d /* - */ || c === 0x2e; /* . */
}

/** An element still open, with the text pieces seen so far. */
interface OpenElement {
  el: XmlElement;
  qname: string;
  text: string[];
}

/** A single-pass, non-recursive parser over one document string. */
class Parser {
  private pos = 0;
  private elements = 0;
  private readonly stack: OpenElement[] = [];
  private root: XmlElement | undefined;
  /** Position of the next `&` at or after the last search (`s.length` when none): searches only move forward. */
  private amp = -1;

  constructor(
    private readonly s: string,
    private readonly limits: XmlLimits,
  ) {}

  parseDocument(): XmlElement {
    if (this.s.charCodeAt(0) === 0xfeff) this.pos = 1; // byte order mark
    this.skipMisc();
    if (this.s.charCodeAt(this.pos) !== 0x3c /* < */) throw malformed();
    this.startTag();
    this.content();
    this.skipMisc();
    if (this.pos !== this.s.length || this.root === undefined) throw malformed();
    return this.root;
  }

  /** Whitespace, comments and processing instructions outside the root. DOCTYPE is refused. */
  private skipMisc(): void {
    const s = this.s;
    for (;;) {
      while (this.pos < s.length && isXmlSpace(s.charCodeAt(this.pos))) this.pos++;
      if (s.startsWith("<?", this.pos)) this.skipPast("?>", this.pos + 2);
      else if (s.startsWith("<!--", this.pos)) this.skipPast("-->", this.pos + 4);
      else return;
    }
  }

  private skipPast(end: string, from: number): void {
    const i = this.s.indexOf(end, from);
    if (i < 0) throw malformed();
    this.pos = i + end.length;
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.s.length && isXmlSpace(this.s.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  private name(): string {
    const s = this.s;
    const start = this.pos;
    if (!isNameStart(s.charCodeAt(start))) throw malformed();
    let i = start + 1;
    while (i < s.length && isNameChar(s.charCodeAt(i))) i++;
    this.pos = i;
    return s.slice(start, i);
  }

  /**
   * Parses `<name attrs>` or `<name attrs/>` at `pos` (which is at `<`),
   * attaches the element to its parent (or makes it the root) and, unless
   * it is self-closing, pushes it on the stack of open elements.
   */
  private startTag(): void {
    this.pos++;
    const qname = this.name();
    if (++this.elements > this.limits.maxElements) throw malformed();
    const el: XmlElement = { name: localName(qname), attrs: {}, children: [], text: "" };
    this.attributes(el);
    const parent = this.stack[this.stack.length - 1];
    if (parent !== undefined) parent.el.children.push(el);
    else this.root = el;
    if (this.s.startsWith("/>", this.pos)) {
      this.pos += 2;
      return;
    }
    if (this.s.charCodeAt(this.pos) !== 0x3e /* > */) throw malformed();
    this.pos++;
    if (this.stack.length >= this.limits.maxDepth) throw malformed();
    this.stack.push({ el, qname, text: [] });
  }

  private attributes(el: XmlElement): void {
    const s = this.s;
    let seen: Set<string> | undefined;
    for (;;) {
      const spaced = this.skipSpace();
      const c = s.charCodeAt(this.pos);
      if (c === 0x3e /* > */ || c === 0x2f /* / */ || Number.isNaN(c)) return;
      seen ??= new Set();
      if (!spaced || seen.size >= MAX_ATTRIBUTES) throw malformed();
      const qname = this.name();
      if (seen.has(qname)) throw malformed();
      seen.add(qname);
      this.skipSpace();
      if (s.charCodeAt(this.pos) !== 0x3d /* = */) throw malformed();
      this.pos++;
      this.skipSpace();
      const q = s.charCodeAt(this.pos);
      if (q !== 0x22 /* " */ && q !== 0x27 /* ' */) throw malformed();
      const end = s.indexOf(q === 0x22 ? '"' : "'", this.pos + 1);
      if (end < 0) throw malformed();
      for (let i = this.pos + 1; i < end; i++) if (s.charCodeAt(i) === 0x3c /* < */) throw malformed();
      el.attrs[localName(qname)] = this.decodeText(this.pos + 1, end);
      this.pos = end + 1;
    }
  }

  /** The next `&` at or after `from`; `from` never decreases between calls, so all searches together scan the input once. */
  private nextAmp(from: number): number {
    if (this.amp < from) {
      const i = this.s.indexOf("&", from);
      this.amp = i < 0 ? this.s.length : i;
    }
    return this.amp;
  }

  /**
   * Decodes entity and character references in `s[from, to)`. A `&` that
   * does not start a well-formed reference, an unknown entity and a code
   * point past U+10FFFF are MalformedXML. Linear: one pass, pieces joined once.
   */
  private decodeText(from: number, to: number): string {
    const s = this.s;
    let amp = this.nextAmp(from);
    if (amp >= to) return s.slice(from, to);
    const out: string[] = [];
    let pos = from;
    while (amp < to) {
      if (amp > pos) out.push(s.slice(pos, amp));
      pos = reference(s, amp, to, out);
      amp = this.nextAmp(pos);
    }
    if (to > pos) out.push(s.slice(pos, to));
    return out.join("");
  }

  /** Everything from the root's start tag to its end tag, with an explicit stack. */
  private content(): void {
    const s = this.s;
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) return;
      const lt = s.indexOf("<", this.pos);
      if (lt < 0) throw malformed();
      if (lt > this.pos) top.text.push(this.decodeText(this.pos, lt));
      this.pos = lt;
      const next = s.charCodeAt(lt + 1);
      if (next === 0x2f /* / */) this.endTag(top);
      else if (next === 0x21 /* ! */) {
        if (s.startsWith("<!--", lt)) this.skipPast("-->", lt + 4);
        else if (s.startsWith("<![CDATA[", lt)) {
          const end = s.indexOf("]]>", lt + 9);
          if (end < 0) throw malformed();
          top.text.push(s.slice(lt + 9, end));
          this.pos = end + 3;
        } else throw malformed();
      } else if (next === 0x3f /* ? */) this.skipPast("?>", lt + 2);
      else this.startTag();
    }
  }

  private endTag(top: OpenElement): void {
    this.pos += 2;
    if (!this.s.startsWith(top.qname, this.pos)) throw malformed();
    this.pos += top.qname.length;
    if (isNameChar(this.s.charCodeAt(this.pos))) throw malformed();
    this.skipSpace();
    if (this.s.charCodeAt(this.pos) !== 0x3e /* > */) throw malformed();
    this.pos++;
    top.el.text = top.text.join("");
    this.stack.pop();
  }
}

/**
 * Parses an XML document; throws S3Error MalformedXML when it is not
 * well-formed or exceeds `limits` (defaults {@link XML_LIMITS}). DOCTYPE
 * declarations are refused (no entity expansion). Runs in time linear in the
 * body's length and uses no recursion, so hostile bodies cannot overflow the
 * stack or hold the event loop for long; callers bound the body's size
 * before reading it into memory (see `readXmlBody` in bucket-ops.ts).
 *
 * @example
 * const doc = parseXml("<Delete><Object><Key>a</Key></Object></Delete>");
 * childText(doc.children[0]!, "Key"); // "a"
 */
export function parseXml(body: string | Buffer, limits: Partial<XmlLimits> = {}): XmlElement {
  const s = typeof body === "string" ? body : body.toString("utf8");
  return new Parser(s, { ...XML_LIMITS, ...limits }).parseDocument();
}
