/**
 * Tokens of the S3 Select SQL dialect. Identifiers are case-insensitive
 * unless double-quoted; `'…'` is a string (`''` escapes a quote); `"…"` is a
 * quoted identifier, which the parser may read as a string (Ceph's dialect
 * writes string literals that way).
 */
import { positionOf, SelectError } from "./errors.ts";

/** One token and where it starts in the SQL text. */
export interface Token {
  kind: "ident" | "qident" | "string" | "int" | "float" | "op" | "eof";
  /** Identifier (as written), string contents, number text or operator. */
  text: string;
  offset: number;
}

const OPS = ["<>", "!=", "<=", ">=", "==", "||", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".", "[", "]", ";"];

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Splits SQL text into tokens; an unterminated string or unknown character is a ParseUnexpectedToken. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) {
      i++;
      continue;
    }
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      // -- comment to end of line
      while (i < n && sql.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(sql.charCodeAt(i))) i++;
      out.push({ kind: "ident", text: sql.slice(start, i), offset: start });
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      let float = false;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      if (sql.charCodeAt(i) === 46 && isDigit(sql.charCodeAt(i + 1))) {
        float = true;
        i++;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
      } else if (sql.charCodeAt(i) === 46 && !isIdentStart(sql.charCodeAt(i + 1))) {
        float = true; // "1."
        i++;
      }
      const e = sql.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        if (sql[j] === "+" || sql[j] === "-") j++;
        if (isDigit(sql.charCodeAt(j))) {
          float = true;
          i = j;
          while (i < n && isDigit(sql.charCodeAt(i))) i++;
        }
      }
      out.push({ kind: float ? "float" : "int", text: sql.slice(start, i), offset: start });
      continue;
    }
    if (c === 39 || c === 34) {
      const q = sql[i]!;
      let text = "";
      i++;
      for (;;) {
        const j = sql.indexOf(q, i);
        if (j < 0) throw new SelectError("ParseUnexpectedToken", `unterminated ${q === "'" ? "string" : "quoted identifier"}`, { position: positionOf(sql, start) });
        text += sql.slice(i, j);
        if (sql[j + 1] === q) {
          text += q;
          i = j + 2;
          continue;
        }
        i = j + 1;
        break;
      }
      out.push({ kind: q === "'" ? "string" : "qident", text, offset: start });
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    if (op === undefined) throw new SelectError("ParseUnexpectedToken", `unexpected character '${sql[i]}'`, { position: positionOf(sql, start) });
    out.push({ kind: "op", text: op, offset: start });
    i += op.length;
  }
  out.push({ kind: "eof", text: "", offset: n });
  return out;
}
