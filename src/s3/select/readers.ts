/**
 * Streaming record readers: text arrives in chunks of any size and whole
 * records come out; only an incomplete record is held between chunks (at
 * most {@link MAX_RECORD} characters for CSV and JSON LINES,
 * {@link MAX_DOCUMENT} for one JSON document).
 */
import { SelectError } from "./errors.ts";
import type { CsvInput } from "./request.ts";

/** Longest CSV or JSON LINES record (S3's limit is 1 MB). */
export const MAX_RECORD = 1 << 20;
/** Longest top-level JSON DOCUMENT value. */
export const MAX_DOCUMENT = 64 << 20;

/** Splits CSV text into records and fields. */
export class CsvReader {
  private carry = "";
  private readonly rd: string;
  private readonly fd: string;
  private readonly quote: string;
  private readonly esc: string;
  private readonly comment: string;
  private readonly allowQuotedRd: boolean;
  /** Fields the query reads; the rest of a record is not split (`String.split`'s limit). */
  fieldLimit: number | undefined;

  constructor(opts: CsvInput) {
    this.rd = opts.recordDelimiter;
    this.fd = opts.fieldDelimiter;
    this.quote = opts.quoteCharacter;
    this.esc = opts.quoteEscapeCharacter === opts.quoteCharacter ? "" : opts.quoteEscapeCharacter;
    this.comment = opts.comments;
    this.allowQuotedRd = opts.allowQuotedRecordDelimiter && opts.quoteCharacter !== "";
  }

  /**
   * Feeds text; calls `emit` with each complete record's fields (and, for a
   * record without quotes or escapes, its raw text). `emit`
   * returning false stops reading (LIMIT reached). `last` marks the end of
   * input, where a record without a trailing delimiter still counts.
   */
  feed(text: string, last: boolean, emit: (fields: string[], raw?: string) => boolean): boolean {
    const s = this.carry.length === 0 ? text : this.carry + text;
    const rd = this.rd;
    if ((this.quote === "" || s.indexOf(this.quote) < 0) && (this.esc === "" || s.indexOf(this.esc) < 0)) return this.feedPlain(s, last, emit);
    let pos = 0;
    for (;;) {
      let nl = s.indexOf(rd, pos);
      if (this.allowQuotedRd && nl >= 0 && s.lastIndexOf(this.quote, nl) >= pos) nl = this.quotedEnd(s, pos, nl);
      if (nl < 0) {
        if (!last) {
          this.carry = s.slice(pos);
          if (this.carry.length > MAX_RECORD) throw new SelectError("OverMaxRecordSize", `a CSV record is longer than ${MAX_RECORD} characters`);
          return true;
        }
        nl = s.length;
      }
      const rec = s.slice(pos, nl);
      pos = nl + rd.length;
      if (rec.length > 0 && !(this.comment !== "" && rec.startsWith(this.comment))) {
        if (!emit(this.fields(rec))) {
          this.carry = "";
          return false;
        }
      }
      if (pos >= s.length) {
        this.carry = "";
        return true;
      }
    }
  }

  /** A block without quote or escape characters: native splits only. */
  private feedPlain(s: string, last: boolean, emit: (fields: string[], raw?: string) => boolean): boolean {
    const rd = this.rd;
    const end = last ? s.length : s.lastIndexOf(rd);
    if (end < 0) {
      this.carry = s;
      if (s.length > MAX_RECORD) throw new SelectError("OverMaxRecordSize", `a CSV record is longer than ${MAX_RECORD} characters`);
      return true;
    }
    this.carry = last ? "" : s.slice(end + rd.length);
    const recs = s.slice(0, end).split(rd);
    const fd = this.fd;
    const comment = this.comment.length === 1 ? this.comment.charCodeAt(0) : -1;
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]!;
      if (rec.length === 0 || rec.charCodeAt(0) === comment) continue;
      if (rec.length > MAX_RECORD) throw new SelectError("OverMaxRecordSize", `a CSV record is longer than ${MAX_RECORD} characters`);
      if (!emit(this.fieldLimit === undefined ? rec.split(fd) : rec.split(fd, this.fieldLimit), rec)) {
        this.carry = "";
        return false;
      }
    }
    return true;
  }

  /** With AllowQuotedRecordDelimiter: the first record delimiter after `pos` outside quotes, or -1. */
  private quotedEnd(s: string, pos: number, firstNl: number): number {
    const q = this.quote;
    const esc = this.esc;
    let inQ = false;
    for (let i = pos; i < s.length; i++) {
      const c = s[i];
      if (esc !== "" && c === esc) {
        i++;
        continue;
      }
      if (c === q) {
        if (inQ && s[i + 1] === q) i++;
        else inQ = !inQ;
      } else if (!inQ && i >= firstNl && s.startsWith(this.rd, i)) return i;
    }
    return -1;
  }

  /** Splits one record into fields, removing quotes and escapes. */
  fields(rec: string): string[] {
    const q = this.quote;
    const esc = this.esc;
    if ((q === "" || rec.indexOf(q) < 0) && (esc === "" || rec.indexOf(esc) < 0)) return rec.split(this.fd);
    const out: string[] = [];
    const fd = this.fd;
    let cur = "";
    let inQ = false;
    for (let i = 0; i < rec.length; i++) {
      const c = rec[i]!;
      if (esc !== "" && c === esc && i + 1 < rec.length) {
        cur += rec[++i];
      } else if (c === q) {
        if (inQ && rec[i + 1] === q) {
          cur += q;
          i++;
        } else inQ = !inQ;
      } else if (!inQ && c === fd) {
        out.push(cur);
        cur = "";
      } else cur += c;
    }
    out.push(cur);
    return out;
  }
}

/** Splits JSON LINES text into parsed values. */
export class JsonLinesReader {
  private carry = "";

  feed(text: string, last: boolean, emit: (doc: unknown) => boolean): boolean {
    const s = this.carry.length === 0 ? text : this.carry + text;
    let pos = 0;
    for (;;) {
      let nl = s.indexOf("\n", pos);
      if (nl < 0) {
        if (!last) {
          this.carry = s.slice(pos);
          if (this.carry.length > MAX_RECORD) throw new SelectError("OverMaxRecordSize", `a JSON line is longer than ${MAX_RECORD} characters`);
          return true;
        }
        nl = s.length;
      }
      const line = s.slice(pos, nl).trim();
      pos = nl + 1;
      if (line.length > 0 && !emit(parseJson(line))) return false;
      if (pos >= s.length) {
        this.carry = "";
        return true;
      }
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SelectError("JSONParsingError", `invalid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Splits a JSON DOCUMENT stream (one or more top-level values, separated
 * by whitespace) into parsed values. The scanner keeps its state between
 * chunks and looks at each character once; the text of a value that spans
 * chunks is kept as pieces and joined once, when the value ends.
 */
export class JsonDocumentReader {
  private pieces: string[] = []; // earlier chunks' parts of the value in progress
  private held = 0; // their total length
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false;
  private inValue = false;

  feed(text: string, last: boolean, emit: (doc: unknown) => boolean): boolean {
    let start = this.inValue ? 0 : -1; // start of the value in progress within `text`
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92) this.escaped = true;
        else if (c === 34) {
          this.inString = false;
          if (this.depth === 0 && !this.emitValue(text, start, i + 1, emit)) return false;
        }
        continue;
      }
      if (this.scalar) {
        if (c === 32 || c === 10 || c === 13 || c === 9 || c === 123 || c === 91 || c === 44) {
          this.scalar = false;
          if (!this.emitValue(text, start, i, emit)) return false;
          i--; // look at this character again
        }
        continue;
      }
      switch (c) {
        case 32:
        case 10:
        case 13:
        case 9:
        case 44: // commas between top-level values are tolerated
          if (this.depth === 0) break;
          break;
        case 34:
          if (this.depth === 0) start = this.begin(i);
          this.inString = true;
          break;
        case 123:
        case 91:
          if (this.depth === 0) start = this.begin(i);
          this.depth++;
          break;
        case 125:
        case 93:
          this.depth--;
          if (this.depth < 0) throw new SelectError("JSONParsingError", "unbalanced ']' or '}' in the JSON document");
          if (this.depth === 0 && !this.emitValue(text, start, i + 1, emit)) return false;
          break;
        default:
          if (this.depth === 0) {
            start = this.begin(i);
            this.scalar = true;
          }
      }
      if (!this.inValue) start = -1;
    }
    if (last) {
      if (this.scalar) {
        this.scalar = false;
        if (!this.emitValue(text, start, text.length, emit)) return false;
      }
      if (this.depth !== 0 || this.inString) throw new SelectError("TruncatedInput", "the JSON document ended inside a value");
      return true;
    }
    if (this.inValue) {
      const part = text.slice(Math.max(0, start));
      this.pieces.push(part);
      this.held += part.length;
      if (this.held > MAX_DOCUMENT) throw new SelectError("OverMaxRecordSize", `a JSON value is longer than ${MAX_DOCUMENT} characters`);
    }
    return true;
  }

  private begin(i: number): number {
    this.inValue = true;
    return i;
  }

  private emitValue(text: string, start: number, end: number, emit: (doc: unknown) => boolean): boolean {
    const tail = text.slice(Math.max(0, start), end);
    const whole = this.pieces.length === 0 ? tail : this.pieces.join("") + tail;
    this.pieces = [];
    this.held = 0;
    this.inValue = false;
    return emit(parseJson(whole));
  }
}
