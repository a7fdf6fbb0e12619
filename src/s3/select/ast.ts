/**
 * The syntax tree of an S3 Select query. Every node keeps `pos`, the offset
 * of its first token in the SQL text, for error messages.
 */
import type { Value } from "./values.ts";

/** One step of a path: `.name`, `."Name"`, `[3]`, `['key']` or `[*]`. */
export type PathStep = { kind: "name"; name: string; quoted: boolean } | { kind: "index"; index: number } | { kind: "wildcard" };

/** Target types of CAST. */
export type CastType = "int" | "float" | "string" | "bool" | "timestamp";

/** Binary operators. */
export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "||" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";

/** An expression. */
export type Expr =
  | { k: "lit"; value: Value; pos: number }
  /** An identifier with an optional path: `_1`, `s._1`, `s.name`, `s.a[0].b`. */
  | { k: "path"; root: string; rootQuoted: boolean; steps: PathStep[]; pos: number }
  /** A standalone `"text"`: a column of that exact name if the CSV header has one, else a string. */
  | { k: "qident"; name: string; pos: number }
  | { k: "star"; pos: number }
  | { k: "unary"; op: "-" | "+" | "not"; arg: Expr; pos: number }
  | { k: "binary"; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { k: "like"; arg: Expr; pattern: Expr; escape: Expr | undefined; not: boolean; pos: number }
  | { k: "between"; arg: Expr; lo: Expr; hi: Expr; not: boolean; pos: number }
  | { k: "in"; arg: Expr; list: Expr[]; not: boolean; pos: number }
  | { k: "is"; arg: Expr; test: "null" | "missing" | "true" | "false"; not: boolean; pos: number }
  | { k: "cast"; arg: Expr; type: CastType; pos: number }
  /** A function or aggregate call; `name` is lower-case. */
  | { k: "call"; name: string; args: Expr[]; pos: number }
  | { k: "trim"; spec: "both" | "leading" | "trailing"; chars: Expr | undefined; arg: Expr; pos: number }
  | { k: "case"; operand: Expr | undefined; whens: { when: Expr; then: Expr }[]; else: Expr | undefined; pos: number };

/** One entry of the SELECT list. */
export interface SelectItem {
  expr: Expr;
  alias: string | undefined;
  pos: number;
}

/** A parsed query. */
export interface Query {
  /** The SELECT list, or "star" for `SELECT *`. */
  items: SelectItem[] | "star";
  from: { steps: PathStep[]; alias: string | undefined; pos: number };
  where: Expr | undefined;
  limit: number | undefined;
  /** The SQL text, for positions in later errors. */
  sql: string;
}
