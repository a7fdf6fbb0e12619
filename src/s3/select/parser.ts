/**
 * A hand-written recursive-descent parser for the S3 Select SQL dialect
 * (with Ceph RGW's extensions, so ceph/s3-tests' queries parse):
 *
 * ```
 * query   := SELECT (* | item (, item)*) FROM source [WHERE expr] [LIMIT int] [;]
 * item    := expr [[AS] alias]
 * source  := (S3Object | stdin) path* [[AS] alias]       path := [*] | [n] | .name
 * expr    := or;  or := and (OR and)*;  and := not (AND not)*;  not := NOT not | cmp
 * cmp     := concat ((= | != | <> | < | <= | > | >=) concat | IS [NOT] (NULL|MISSING|TRUE|FALSE)
 *            | [NOT] LIKE concat [ESCAPE concat] | [NOT] BETWEEN concat AND concat | [NOT] IN (expr, …))*
 * concat  := add (|| add)*;  add := mul ((+|-) mul)*;  mul := unary ((*|/|%) unary)*
 * unary   := (-|+) unary | primary
 * primary := literal | (expr) | CAST(expr AS type) | CASE … END | SUBSTRING(x FROM a [FOR b])
 *            | TRIM([BOTH|LEADING|TRAILING] [chars] FROM x) | EXTRACT(part FROM x) | name(args) | path
 * ```
 *
 * Errors are {@link SelectError}s with the position of the offending token.
 */
import type { BinaryOp, CastType, Expr, PathStep, Query, SelectItem } from "./ast.ts";
import { positionOf, SelectError, type SelectErrorCode } from "./errors.ts";
import { tokenize, type Token } from "./lexer.ts";
import { MISSING } from "./values.ts";

const RESERVED = new Set([
  "select", "from", "where", "limit", "as", "and", "or", "not", "like", "escape", "between", "in", "is",
  "null", "missing", "true", "false", "cast", "case", "when", "then", "else", "end",
]);

const CAST_TYPES: Record<string, CastType> = {
  int: "int", integer: "int", bigint: "int", smallint: "int", tinyint: "int",
  float: "float", real: "float", double: "float", decimal: "float", numeric: "float",
  string: "string", varchar: "string", char: "string", character: "string", text: "string",
  bool: "bool", boolean: "bool",
  timestamp: "timestamp",
};

const COMPARE: Record<string, BinaryOp> = { "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };

class Parser {
  private i = 0;
  private readonly toks: Token[];

  constructor(private readonly sql: string) {
    this.toks = tokenize(sql);
  }

  private get t(): Token {
    return this.toks[this.i]!;
  }

  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }

  private fail(code: SelectErrorCode, message: string, tok: Token = this.t): never {
    throw new SelectError(code, message, { position: positionOf(this.sql, tok.offset) });
  }

  private describe(tok: Token): string {
    if (tok.kind === "eof") return "end of query";
    if (tok.kind === "string") return `'${tok.text}'`;
    return `'${tok.text}'`;
  }

  private isKw(kw: string, tok: Token = this.t): boolean {
    return tok.kind === "ident" && tok.text.toLowerCase() === kw;
  }

  private acceptKw(kw: string): boolean {
    if (!this.isKw(kw)) return false;
    this.i++;
    return true;
  }

  private expectKw(kw: string): Token {
    const tok = this.t;
    if (!this.isKw(kw)) this.fail("ParseExpectedKeyword", `expected ${kw.toUpperCase()} but found ${this.describe(tok)}`);
    this.i++;
    return tok;
  }

  private isOp(op: string, tok: Token = this.t): boolean {
    return tok.kind === "op" && tok.text === op;
  }

  private acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }

  private expectOp(op: string): Token {
    const tok = this.t;
    if (!this.isOp(op)) this.fail("ParseUnexpectedToken", `expected '${op}' but found ${this.describe(tok)}`);
    this.i++;
    return tok;
  }

  parseQuery(): Query {
    this.expectKw("select");
    let items: SelectItem[] | "star";
    if (this.isOp("*")) {
      this.i++;
      items = "star";
    } else {
      items = [this.selectItem()];
      while (this.acceptOp(",")) items.push(this.selectItem());
      if (items.length === 1 && items[0]!.expr.k === "star" && items[0]!.alias === undefined) items = "star"; // SELECT s.*
    }
    this.expectKw("from");
    const from = this.source();
    const where = this.acceptKw("where") ? this.expr() : undefined;
    let limit: number | undefined;
    if (this.acceptKw("limit")) {
      const tok = this.t;
      if (tok.kind !== "int") this.fail("ParseUnexpectedToken", `LIMIT takes a non-negative integer, not ${this.describe(tok)}`);
      limit = Number(tok.text);
      this.i++;
    }
    this.acceptOp(";");
    if (this.t.kind !== "eof") this.fail("ParseUnexpectedToken", `unexpected ${this.describe(this.t)}`);
    return { items, from, where, limit, sql: this.sql };
  }

  private selectItem(): SelectItem {
    const pos = this.t.offset;
    const expr = this.expr();
    let alias: string | undefined;
    if (this.acceptKw("as")) alias = this.aliasName();
    else if ((this.t.kind === "ident" && !RESERVED.has(this.t.text.toLowerCase())) || this.t.kind === "qident") alias = this.aliasName();
    return { expr, alias, pos };
  }

  private aliasName(): string {
    const tok = this.t;
    if (tok.kind === "qident") {
      this.i++;
      return tok.text;
    }
    if (tok.kind !== "ident" || RESERVED.has(tok.text.toLowerCase())) this.fail("ParseUnexpectedToken", `expected an alias but found ${this.describe(tok)}`);
    this.i++;
    return tok.text.toLowerCase();
  }

  private source(): Query["from"] {
    const tok = this.t;
    const name = tok.kind === "ident" ? tok.text.toLowerCase() : "";
    if (name !== "s3object" && name !== "stdin") this.fail("InvalidDataSource", `the FROM clause must name S3Object, not ${this.describe(tok)}`);
    this.i++;
    const steps = this.pathSteps(true);
    let alias: string | undefined;
    if (this.acceptKw("as")) alias = this.aliasName();
    else if (this.t.kind === "ident" && !RESERVED.has(this.t.text.toLowerCase())) alias = this.aliasName();
    return { steps, alias, pos: tok.offset };
  }

  private pathSteps(allowWildcard: boolean): PathStep[] {
    const steps: PathStep[] = [];
    for (;;) {
      if (this.isOp(".")) {
        const next = this.peek();
        if (next.kind === "ident") steps.push({ kind: "name", name: next.text, quoted: false });
        else if (next.kind === "qident") steps.push({ kind: "name", name: next.text, quoted: true });
        else if (this.isOp("*", next) && allowWildcard) steps.push({ kind: "wildcard" });
        else if (this.isOp("*", next)) return steps; // alias.* handled by the caller
        else this.fail("ParseUnexpectedToken", `expected a name after '.' but found ${this.describe(next)}`, next);
        this.i += 2;
      } else if (this.isOp("[")) {
        const next = this.peek();
        if (this.isOp("*", next)) {
          if (!allowWildcard) this.fail("ParseUnsupportedSyntax", "[*] is allowed only in the FROM clause", next);
          steps.push({ kind: "wildcard" });
        } else if (next.kind === "int") steps.push({ kind: "index", index: Number(next.text) });
        else if (next.kind === "string" || next.kind === "qident") steps.push({ kind: "name", name: next.text, quoted: true });
        else this.fail("ParseUnexpectedToken", `expected an index, a key or * in [] but found ${this.describe(next)}`, next);
        this.i += 2;
        this.expectOp("]");
      } else return steps;
    }
  }

  expr(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKw("or")) {
      const pos = this.t.offset;
      this.i++;
      left = { k: "binary", op: "or", left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKw("and")) {
      const pos = this.t.offset;
      this.i++;
      left = { k: "binary", op: "and", left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.isKw("not")) {
      const pos = this.t.offset;
      this.i++;
      return { k: "unary", op: "not", arg: this.not(), pos };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    let left = this.concat();
    let predicate = false; // LIKE / BETWEEN / IN do not chain
    for (;;) {
      const tok = this.t;
      if (tok.kind === "op" && COMPARE[tok.text] !== undefined) {
        this.i++;
        left = { k: "binary", op: COMPARE[tok.text]!, left, right: this.concat(), pos: tok.offset };
        predicate = false;
        continue;
      }
      if (this.isKw("is")) {
        this.i++;
        const not = this.acceptKw("not");
        const w = this.t;
        const test = w.kind === "ident" ? w.text.toLowerCase() : "";
        if (test !== "null" && test !== "missing" && test !== "true" && test !== "false") this.fail("ParseExpectedKeyword", `expected NULL, MISSING, TRUE or FALSE after IS but found ${this.describe(w)}`);
        this.i++;
        left = { k: "is", arg: left, test, not, pos: tok.offset };
        continue;
      }
      const negated = this.isKw("not") && (this.isKw("like", this.peek()) || this.isKw("between", this.peek()) || this.isKw("in", this.peek()));
      const kwTok = negated ? this.peek() : tok;
      if (this.isKw("like", kwTok) || this.isKw("between", kwTok) || this.isKw("in", kwTok)) {
        if (predicate) this.fail("ParseUnsupportedSyntax", `${kwTok.text.toUpperCase()} cannot follow another LIKE, BETWEEN or IN; use parentheses`, kwTok);
        this.i += negated ? 2 : 1;
        const kw = kwTok.text.toLowerCase();
        if (kw === "like") {
          const pattern = this.concat();
          const escape = this.acceptKw("escape") ? this.concat() : undefined;
          left = { k: "like", arg: left, pattern, escape, not: negated, pos: kwTok.offset };
        } else if (kw === "between") {
          const lo = this.concat();
          this.expectKw("and");
          const hi = this.concat();
          left = { k: "between", arg: left, lo, hi, not: negated, pos: kwTok.offset };
        } else {
          this.expectOp("(");
          const list = [this.expr()];
          while (this.acceptOp(",")) list.push(this.expr());
          this.expectOp(")");
          left = { k: "in", arg: left, list, not: negated, pos: kwTok.offset };
        }
        predicate = true;
        continue;
      }
      return left;
    }
  }

  private concat(): Expr {
    let left = this.additive();
    while (this.isOp("||")) {
      const pos = this.t.offset;
      this.i++;
      left = { k: "binary", op: "||", left, right: this.additive(), pos };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isOp("+") || this.isOp("-")) {
      const tok = this.t;
      this.i++;
      left = { k: "binary", op: tok.text as BinaryOp, left, right: this.multiplicative(), pos: tok.offset };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
      const tok = this.t;
      this.i++;
      left = { k: "binary", op: tok.text as BinaryOp, left, right: this.unary(), pos: tok.offset };
    }
    return left;
  }

  private unary(): Expr {
    const tok = this.t;
    if (this.isOp("-") || this.isOp("+")) {
      this.i++;
      const arg = this.unary();
      if (tok.text === "-" && arg.k === "lit" && (typeof arg.value === "bigint" || typeof arg.value === "number")) {
        return { k: "lit", value: -arg.value, pos: tok.offset };
      }
      return { k: "unary", op: tok.text as "-" | "+", arg, pos: tok.offset };
    }
    return this.primary();
  }

  private primary(): Expr {
    const tok = this.t;
    const pos = tok.offset;
    switch (tok.kind) {
      case "int":
        this.i++;
        return { k: "lit", value: BigInt(tok.text), pos };
      case "float":
        this.i++;
        return { k: "lit", value: Number(tok.text), pos };
      case "string":
        this.i++;
        return { k: "lit", value: tok.text, pos };
      case "qident":
        this.i++;
        return { k: "qident", name: tok.text, pos };
      case "eof":
        return this.fail("ParseExpectedExpression", "expected an expression but the query ended");
      case "op":
        if (tok.text === "(") {
          this.i++;
          const e = this.expr();
          this.expectOp(")");
          return e;
        }
        if (tok.text === "*") return this.fail("ParseUnsupportedSyntax", "* is allowed only as the whole SELECT list or in COUNT(*)");
        return this.fail("ParseExpectedExpression", `expected an expression but found ${this.describe(tok)}`);
      case "ident":
        return this.identifier(tok);
    }
  }

  private identifier(tok: Token): Expr {
    const lower = tok.text.toLowerCase();
    const pos = tok.offset;
    switch (lower) {
      case "null":
        this.i++;
        return { k: "lit", value: null, pos };
      case "missing":
        this.i++;
        return { k: "lit", value: MISSING, pos };
      case "true":
      case "false":
        this.i++;
        return { k: "lit", value: lower === "true", pos };
      case "cast":
        return this.cast();
      case "case":
        return this.caseExpr();
      default:
        break;
    }
    if (RESERVED.has(lower)) this.fail("ParseExpectedExpression", `expected an expression but found '${tok.text.toUpperCase()}'`);
    if (this.isOp("(", this.peek())) return this.call(tok);
    this.i++;
    const steps = this.pathSteps(false);
    if (this.isOp(".") && this.isOp("*", this.peek())) {
      this.i += 2;
      return { k: "star", pos };
    }
    return { k: "path", root: tok.text, rootQuoted: false, steps, pos };
  }

  private cast(): Expr {
    const pos = this.t.offset;
    this.i++;
    this.expectOp("(");
    const arg = this.expr();
    this.expectKw("as");
    const tt = this.t;
    const type = tt.kind === "ident" ? CAST_TYPES[tt.text.toLowerCase()] : undefined;
    if (type === undefined) this.fail("ParseInvalidTypeParam", `unknown type ${this.describe(tt)} in CAST`);
    this.i++;
    if (tt.text.toLowerCase() === "double") this.acceptKw("precision");
    if (this.acceptOp("(")) {
      // DECIMAL(10, 2), VARCHAR(20): the size is accepted and ignored
      while (!this.isOp(")") && this.t.kind !== "eof") this.i++;
      this.expectOp(")");
    }
    this.expectOp(")");
    return { k: "cast", arg, type, pos };
  }

  private caseExpr(): Expr {
    const pos = this.t.offset;
    this.i++;
    const operand = this.isKw("when") ? undefined : this.expr();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.acceptKw("when")) {
      const when = this.expr();
      this.expectKw("then");
      whens.push({ when, then: this.expr() });
    }
    if (whens.length === 0) this.fail("ParseExpectedKeyword", `expected WHEN but found ${this.describe(this.t)}`);
    const otherwise = this.acceptKw("else") ? this.expr() : undefined;
    this.expectKw("end");
    return { k: "case", operand, whens, else: otherwise, pos };
  }

  private call(nameTok: Token): Expr {
    const name = nameTok.text.toLowerCase();
    const pos = nameTok.offset;
    this.i += 2; // name (
    if (name === "substring") return this.substring(pos);
    if (name === "trim") return this.trim(pos);
    if (name === "extract") {
      const part = this.datePart();
      this.expectKw("from");
      const arg = this.expr();
      this.expectOp(")");
      return { k: "call", name, args: [part, arg], pos };
    }
    const args: Expr[] = [];
    if (name === "date_add" || name === "date_diff") {
      args.push(this.datePart());
      this.expectOp(",");
    }
    if (!this.isOp(")")) {
      if (this.isOp("*") && this.isOp(")", this.peek())) {
        args.push({ k: "star", pos: this.t.offset });
        this.i++;
      } else {
        args.push(this.expr());
        while (this.acceptOp(",")) args.push(this.expr());
      }
    }
    this.expectOp(")");
    return { k: "call", name, args, pos };
  }

  private datePart(): Expr {
    const tok = this.t;
    const part = tok.kind === "ident" || tok.kind === "string" ? tok.text.toLowerCase() : "";
    if (!["year", "month", "day", "hour", "minute", "second", "timezone_hour", "timezone_minute"].includes(part)) {
      this.fail("ParseExpectedExpression", `expected a date part (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND, TIMEZONE_HOUR, TIMEZONE_MINUTE) but found ${this.describe(tok)}`);
    }
    this.i++;
    return { k: "lit", value: part, pos: tok.offset };
  }

  private substring(pos: number): Expr {
    const arg = this.expr();
    const args = [arg];
    if (this.acceptKw("from")) {
      args.push(this.expr());
      if (this.acceptKw("for")) args.push(this.expr());
    } else if (this.acceptOp(",")) {
      args.push(this.expr());
      if (this.acceptOp(",")) args.push(this.expr());
    } else this.fail("ParseUnexpectedToken", `expected FROM or ',' in SUBSTRING but found ${this.describe(this.t)}`);
    this.expectOp(")");
    return { k: "call", name: "substring", args, pos };
  }

  private trim(pos: number): Expr {
    let spec: "both" | "leading" | "trailing" = "both";
    let explicitSpec = false;
    for (const s of ["both", "leading", "trailing"] as const) {
      if (this.acceptKw(s)) {
        spec = s;
        explicitSpec = true;
        break;
      }
    }
    if (explicitSpec && this.acceptKw("from")) {
      const arg = this.expr();
      this.expectOp(")");
      return { k: "trim", spec, chars: undefined, arg, pos };
    }
    const first = this.expr();
    if (this.acceptKw("from")) {
      const arg = this.expr();
      this.expectOp(")");
      return { k: "trim", spec, chars: first, arg, pos };
    }
    if (explicitSpec) this.fail("ParseExpectedKeyword", `expected FROM in TRIM but found ${this.describe(this.t)}`);
    this.expectOp(")");
    return { k: "trim", spec, chars: undefined, arg: first, pos };
  }
}

/**
 * Parses an S3 Select query.
 *
 * @example
 * const q = parseQuery("SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 30 LIMIT 5");
 * q.limit; // 5
 */
export function parseQuery(sql: string): Query {
  return new Parser(sql).parseQuery();
}

/** Parses one expression (used by tests and tools). */
export function parseExpression(sql: string): Expr {
  const q = parseQuery(`SELECT ${sql} FROM S3Object`);
  if (q.items === "star" || q.items.length !== 1) throw new SelectError("ParseUnsupportedSyntax", "expected one expression");
  return q.items[0]!.expr;
}
