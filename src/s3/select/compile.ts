/**
 * Compiles a parsed query into closures over one input record: a WHERE
 * predicate, a projection and, for aggregate queries, accumulators. CSV
 * records are `string[]`; JSON records are parsed values.
 */
import type { Expr, PathStep, Query } from "./ast.ts";
import { positionOf, SelectError } from "./errors.ts";
import { AGGREGATES, arithmetic, cast, likeRegExp, negate, SCALAR_FUNCTIONS, trim, truth } from "./functions.ts";
import { Timestamp } from "./timestamp.ts";
import { compare, equals, fromJson, isAbsent, MISSING, toNumeric, toText, typeName, type Value } from "./values.ts";

/** A compiled expression. */
export type Fn = (row: unknown) => Value;

/** What the compiler knows about the input. */
export interface Schema {
  format: "csv" | "json";
  /** CSV column names from the header line (FileHeaderInfo USE). */
  header?: readonly string[];
  /**
   * Resolve names without a header (a trial compile before the header is
   * read, to report errors before the response starts).
   */
  lenient?: boolean;
}

/** One aggregate of the SELECT list. */
interface Accumulator {
  kind: "count" | "sum" | "avg" | "min" | "max";
  arg: Fn | undefined; // undefined: COUNT(*)
  count: number;
  value: Value; // running sum / min / max
}

/** A compiled query. */
export interface Compiled {
  where: Fn | undefined;
  /** Output column names (JSON keys). */
  names: string[];
  /** Row projection; undefined for `SELECT *`. */
  project: Fn[] | undefined;
  /** For aggregate queries: feed each matching row, then read `project` with `finish()`. */
  aggregate: { add(row: unknown): void; finish(): Value[] } | undefined;
  limit: number | undefined;
  /** CSV: how many leading fields the query reads (undefined: all of them, for `SELECT *`). */
  fieldsUsed: number | undefined;
}

const POSITIONAL = /^_(\d+)$/;

class Compiler {
  private readonly aliases = new Map<string, Expr>();
  private readonly expanding: string[] = [];
  private readonly headerExact = new Map<string, number>();
  private readonly headerLower = new Map<string, number>();
  private readonly accs: Accumulator[] = [];
  private aggMode = false;
  private fieldsUsed = 0;
  private inAgg = false;
  private readonly tableAlias: string | undefined;

  constructor(
    private readonly q: Query,
    private readonly schema: Schema,
    private readonly now: Timestamp,
  ) {
    this.tableAlias = q.from.alias?.toLowerCase();
    schema.header?.forEach((h, i) => {
      if (!this.headerExact.has(h)) this.headerExact.set(h, i);
      const l = h.toLowerCase();
      if (!this.headerLower.has(l)) this.headerLower.set(l, i);
    });
    if (q.items !== "star") for (const it of q.items) if (it.alias !== undefined) this.aliases.set(it.alias.toLowerCase(), it.expr);
  }

  private fail(code: ConstructorParameters<typeof SelectError>[0], message: string, pos: number): never {
    throw new SelectError(code, message, { position: positionOf(this.q.sql, pos) });
  }

  run(): Compiled {
    const q = this.q;
    if (q.from.steps.length > 0 && this.schema.format === "csv" && !(q.from.steps.length === 1 && q.from.steps[0]!.kind === "wildcard")) {
      this.fail("InvalidDataSource", "a path after S3Object applies only to JSON input", q.from.pos);
    }
    if (q.items === "star") {
      return { where: q.where && this.compileWhere(q.where), names: [], project: undefined, aggregate: undefined, limit: q.limit, fieldsUsed: undefined };
    }
    this.aggMode = q.items.some((it) => hasAggregate(it.expr));
    const where = q.where && this.compileWhere(q.where);
    const names = q.items.map((it, i) => it.alias ?? derivedName(it.expr) ?? `_${i + 1}`);
    const project = q.items.map((it) => {
      if (it.alias !== undefined) this.expanding.push(it.alias.toLowerCase());
      try {
        return this.expr(it.expr);
      } finally {
        if (it.alias !== undefined) this.expanding.pop();
      }
    });
    const fieldsUsed = this.fieldsUsed;
    if (!this.aggMode) return { where, names, project, aggregate: undefined, limit: q.limit, fieldsUsed };
    const accs = this.accs;
    return {
      where,
      names,
      project,
      limit: q.limit,
      fieldsUsed,
      aggregate: {
        add: (row) => {
          for (const a of accs) accumulate(a, row);
        },
        finish: () => project.map((f) => f(undefined)),
      },
    };
  }

  private compileWhere(e: Expr): Fn {
    if (hasAggregate(e)) this.fail("UnsupportedSqlOperation", "aggregate functions are not allowed in WHERE", e.pos);
    const saved = this.aggMode;
    this.aggMode = false;
    try {
      return this.expr(e);
    } finally {
      this.aggMode = saved;
    }
  }

  expr(e: Expr): Fn {
    switch (e.k) {
      case "lit": {
        const v = e.value;
        return () => v;
      }
      case "path":
        return this.path(e);
      case "qident":
        if (this.schema.format === "csv" && this.headerExact.has(e.name)) return this.column(e.name, true, [], e.pos);
        return ((s: string) => () => s)(e.name);
      case "star":
        return this.fail("ParseUnsupportedSyntax", "* is allowed only as the whole SELECT list or in COUNT(*)", e.pos);
      case "unary": {
        const a = this.expr(e.arg);
        if (e.op === "not") {
          return (r) => {
            const t = truth(a(r));
            return t === null ? null : !t;
          };
        }
        return e.op === "-" ? (r) => negate(a(r)) : a;
      }
      case "binary":
        return this.binary(e);
      case "like":
        return this.like(e);
      case "between": {
        const a = this.expr(e.arg);
        const lo = this.expr(e.lo);
        const hi = this.expr(e.hi);
        const not = e.not;
        return (r) => {
          const v = a(r);
          const c1 = compare(v, lo(r));
          const c2 = compare(v, hi(r));
          if (c1 === undefined || c2 === undefined) return null;
          return (c1 >= 0 && c2 <= 0) !== not;
        };
      }
      case "in": {
        const a = this.expr(e.arg);
        const list = e.list.map((x) => this.expr(x));
        const not = e.not;
        return (r) => {
          const v = a(r);
          if (isAbsent(v)) return null;
          let sawNull = false;
          for (const f of list) {
            const eq = equals(v, f(r));
            if (eq === true) return !not;
            if (eq === null) sawNull = true;
          }
          return sawNull ? null : not;
        };
      }
      case "is": {
        const a = this.expr(e.arg);
        const not = e.not;
        switch (e.test) {
          case "null":
            return (r) => isAbsent(a(r)) !== not;
          case "missing":
            return (r) => (a(r) === MISSING) !== not;
          case "true":
            return (r) => (a(r) === true) !== not;
          case "false":
            return (r) => (a(r) === false) !== not;
        }
      }
      case "cast": {
        const a = this.expr(e.arg);
        const type = e.type;
        return (r) => cast(a(r), type);
      }
      case "trim": {
        const a = this.expr(e.arg);
        const chars = e.chars && this.expr(e.chars);
        const spec = e.spec;
        return (r) => trim(a(r), spec, chars?.(r));
      }
      case "case":
        return this.caseExpr(e);
      case "call":
        return this.call(e);
    }
  }

  private binary(e: Extract<Expr, { k: "binary" }>): Fn {
    const l = this.expr(e.left);
    const r = this.expr(e.right);
    switch (e.op) {
      case "and":
        return (row) => {
          const a = truth(l(row));
          if (a === false) return false;
          const b = truth(r(row));
          if (b === false) return false;
          return a === null || b === null ? null : true;
        };
      case "or":
        return (row) => {
          const a = truth(l(row));
          if (a === true) return true;
          const b = truth(r(row));
          if (b === true) return true;
          return a === null || b === null ? null : false;
        };
      case "=":
        return (row) => equals(l(row), r(row));
      case "!=":
        return (row) => {
          const v = equals(l(row), r(row));
          return v === null ? null : !v;
        };
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const op = e.op;
        return (row) => {
          const c = compare(l(row), r(row));
          if (c === undefined || Number.isNaN(c)) return null;
          return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
        };
      }
      case "||":
        return (row) => {
          const a = l(row);
          const b = r(row);
          return isAbsent(a) || isAbsent(b) ? null : toText(a) + toText(b);
        };
      default: {
        const op = e.op;
        return (row) => arithmetic(op, l(row), r(row));
      }
    }
  }

  private like(e: Extract<Expr, { k: "like" }>): Fn {
    const a = this.expr(e.arg);
    const not = e.not;
    const esc = e.escape && this.expr(e.escape);
    if (e.pattern.k === "lit" && typeof e.pattern.value === "string" && (e.escape === undefined || e.escape.k === "lit")) {
      const escText = e.escape?.k === "lit" ? toText(e.escape.value) : undefined;
      const re = likeRegExp(e.pattern.value, escText);
      // A pattern with only a trailing % is a prefix test.
      const prefix = /^[^%_[\]]*%$/.test(e.pattern.value) && escText === undefined ? e.pattern.value.slice(0, -1) : undefined;
      if (prefix !== undefined) {
        return (r) => {
          const v = a(r);
          return isAbsent(v) ? null : toText(v).startsWith(prefix) !== not;
        };
      }
      return (r) => {
        const v = a(r);
        return isAbsent(v) ? null : re.test(toText(v)) !== not;
      };
    }
    const p = this.expr(e.pattern);
    let lastKey = "";
    let lastRe: RegExp | undefined;
    return (r) => {
      const v = a(r);
      const pat = p(r);
      const ev = esc?.(r);
      if (isAbsent(v) || isAbsent(pat) || (ev !== undefined && isAbsent(ev))) return null;
      const key = `${toText(pat)}\u0000${ev === undefined ? "" : toText(ev)}`;
      if (lastRe === undefined || key !== lastKey) {
        lastRe = likeRegExp(toText(pat), ev === undefined ? undefined : toText(ev));
        lastKey = key;
      }
      return lastRe.test(toText(v)) !== not;
    };
  }

  private caseExpr(e: Extract<Expr, { k: "case" }>): Fn {
    const operand = e.operand && this.expr(e.operand);
    const whens = e.whens.map((w) => [this.expr(w.when), this.expr(w.then)] as const);
    const otherwise = e.else && this.expr(e.else);
    return (r) => {
      const v = operand?.(r);
      for (const [w, t] of whens) {
        const hit = operand === undefined ? truth(w(r)) === true : equals(v!, w(r)) === true;
        if (hit) return t(r);
      }
      return otherwise ? otherwise(r) : null;
    };
  }

  private call(e: Extract<Expr, { k: "call" }>): Fn {
    if (AGGREGATES.has(e.name)) return this.aggregateCall(e);
    const def = SCALAR_FUNCTIONS[e.name];
    if (def === undefined) this.fail("UnsupportedFunction", `unknown function ${e.name.toUpperCase()}`, e.pos);
    const [min, max, impl] = def;
    if (e.args.length < min || e.args.length > max) {
      this.fail("IncorrectSqlFunctionArgumentType", `${e.name.toUpperCase()} takes ${min === max ? min : `${min} to ${max}`} argument(s), not ${e.args.length}`, e.pos);
    }
    const args = e.args.map((a) => this.expr(a));
    const now = this.now;
    if (args.length === 0) return () => impl([], now);
    if (args.length === 1) {
      const a0 = args[0]!;
      return (r) => impl([a0(r)], now);
    }
    return (r) => impl(args.map((f) => f(r)), now);
  }

  private aggregateCall(e: Extract<Expr, { k: "call" }>): Fn {
    if (!this.aggMode) this.fail("UnsupportedSqlOperation", `${e.name.toUpperCase()} is not allowed here`, e.pos);
    if (this.inAgg) this.fail("UnsupportedSqlOperation", "aggregate functions cannot be nested", e.pos);
    if (e.args.length !== 1) this.fail("IncorrectSqlFunctionArgumentType", `${e.name.toUpperCase()} takes one argument`, e.pos);
    const argExpr = e.args[0]!;
    let arg: Fn | undefined;
    if (argExpr.k === "star") {
      if (e.name !== "count") this.fail("ParseUnsupportedSyntax", `${e.name.toUpperCase()}(*) is not allowed; only COUNT(*)`, e.pos);
    } else {
      this.inAgg = true;
      try {
        arg = this.expr(argExpr);
      } finally {
        this.inAgg = false;
      }
    }
    const acc: Accumulator = { kind: e.name as Accumulator["kind"], arg, count: 0, value: null };
    this.accs.push(acc);
    return () => result(acc);
  }

  private path(e: Extract<Expr, { k: "path" }>): Fn {
    const root = e.root.toLowerCase();
    if (this.aggMode && !this.inAgg && !(e.steps.length === 0 && this.aliases.has(root))) {
      this.fail("UnsupportedSqlOperation", `column ${e.root} must be inside an aggregate function in an aggregate query`, e.pos);
    }
    let steps = e.steps;
    let viaTable = false;
    if (steps.length > 0 && (root === this.tableAlias || root === "s3object" || (this.schema.format === "json" && root === "_1"))) {
      viaTable = true;
    } else if (steps.length === 0 && this.aliases.has(root) && !this.expanding.includes(root)) {
      return this.aliasRef(root, e);
    } else if (steps.length === 0 && this.expanding.includes(root) && this.expanding[this.expanding.length - 1] !== root && !this.isColumn(root, false)) {
      const cycle = [...this.expanding.slice(this.expanding.indexOf(root)), root].join(" -> ");
      this.fail("CyclicAliasReference", `cyclic reference to alias ${root} (${cycle}); number of calls exceed maximum size, probably a cyclic reference to alias`, e.pos);
    }
    if (!viaTable) steps = [{ kind: "name", name: e.root, quoted: e.rootQuoted }, ...steps];
    if (this.schema.format === "json") return jsonPath(steps);
    if (steps.length === 0) return this.fail("ParseUnsupportedSyntax", `${e.root} alone is not a column; write ${e.root}._1 or ${e.root}.name`, e.pos);
    const first = steps[0]!;
    if (first.kind !== "name") return this.fail("InvalidColumnIndex", "a CSV column is named _N or by its header name", e.pos);
    return this.column(first.name, first.quoted, steps.slice(1), e.pos);
  }

  private isColumn(name: string, quoted: boolean): boolean {
    return quoted ? this.headerExact.has(name) : this.headerLower.has(name.toLowerCase());
  }

  private aliasRef(name: string, e: Extract<Expr, { k: "path" }>): Fn {
    if (this.schema.format === "csv" && this.isColumn(name, false)) {
      this.fail("AmbiguousFieldName", `${name} is both a column and an alias (multiple definition of column {${name}} as schema-column and alias)`, e.pos);
    }
    this.expanding.push(name);
    try {
      if (this.expanding.length > 64) this.fail("CyclicAliasReference", "number of calls exceed maximum size, probably a cyclic reference to alias", e.pos);
      const target = this.aliases.get(name)!;
      const saved = this.inAgg;
      // An alias inside an aggregate query's item (a3 = a1 + a2) may itself be an aggregate.
      const f = this.expr(target);
      this.inAgg = saved;
      return f;
    } finally {
      this.expanding.pop();
    }
  }

  private column(name: string, quoted: boolean, rest: PathStep[], pos: number): Fn {
    let index: number | undefined;
    const m = POSITIONAL.exec(name);
    if (m !== null && !this.isColumn(name, quoted)) index = Number(m[1]) - 1;
    else index = quoted ? this.headerExact.get(name) : this.headerLower.get(name.toLowerCase());
    if (index === undefined || index < 0) {
      if (this.schema.lenient) return () => MISSING;
      if (index !== undefined) this.fail("InvalidColumnIndex", `column index ${name} is not valid; columns are numbered from _1`, pos);
      this.fail(
        "EvaluatorBindingDoesNotExist",
        this.schema.header === undefined
          ? `column ${name} does not exist: without FileHeaderInfo USE, columns are _1, _2, …`
          : `column ${name} does not exist in the CSV header (ProcessingTimeError: alias {${name}} or column not exist in schema)`,
        pos,
      );
    }
    const i = index;
    this.fieldsUsed = Math.max(this.fieldsUsed, i + 1);
    if (rest.length > 0) return () => MISSING;
    return (row) => {
      const v = (row as string[])[i];
      return v === undefined ? MISSING : v;
    };
  }
}

function jsonPath(steps: readonly PathStep[]): Fn {
  if (steps.length === 1 && steps[0]!.kind === "name") {
    const s = steps[0]!;
    return (row) => fromJson(getKey(row, s.name, s.quoted));
  }
  return (row) => {
    let v: unknown = row;
    for (const s of steps) {
      if (s.kind === "name") v = getKey(v, s.name, s.quoted);
      else if (s.kind === "index") v = Array.isArray(v) ? v[s.index] : undefined;
      else return MISSING;
      if (v === undefined) return MISSING;
    }
    return fromJson(v);
  };
}

function getKey(v: unknown, name: string, quoted: boolean): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (Object.hasOwn(o, name)) return o[name];
  if (quoted) return undefined;
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

function accumulate(a: Accumulator, row: unknown): void {
  if (a.arg === undefined) {
    a.count++;
    return;
  }
  const v = a.arg(row);
  if (isAbsent(v)) return;
  a.count++;
  switch (a.kind) {
    case "count":
      return;
    case "sum":
    case "avg": {
      const n = toNumeric(v);
      if (n === undefined) throw new SelectError("InvalidDataType", `${a.kind.toUpperCase()} needs numbers, not ${typeName(v)}${typeof v === "string" ? ` '${v.slice(0, 40)}'` : ""}`);
      const cur = a.value;
      if (cur === null) a.value = a.kind === "avg" ? Number(n) : n;
      else if (typeof cur === "bigint" && typeof n === "bigint") a.value = cur + n;
      else a.value = Number(cur) + Number(n);
      return;
    }
    case "min":
    case "max": {
      if (a.value === null) {
        a.value = v;
        return;
      }
      const c = compare(v, a.value);
      if (c !== undefined && (a.kind === "min" ? c < 0 : c > 0)) a.value = v;
    }
  }
}

function result(a: Accumulator): Value {
  switch (a.kind) {
    case "count":
      return BigInt(a.count);
    case "avg":
      return a.count === 0 || a.value === null ? null : Number(a.value) / a.count;
    default:
      return a.value;
  }
}

function hasAggregate(e: Expr): boolean {
  switch (e.k) {
    case "call":
      return AGGREGATES.has(e.name) || e.args.some(hasAggregate);
    case "unary":
    case "cast":
      return hasAggregate(e.arg);
    case "binary":
      return hasAggregate(e.left) || hasAggregate(e.right);
    case "like":
      return hasAggregate(e.arg) || hasAggregate(e.pattern) || (e.escape !== undefined && hasAggregate(e.escape));
    case "between":
      return hasAggregate(e.arg) || hasAggregate(e.lo) || hasAggregate(e.hi);
    case "in":
      return hasAggregate(e.arg) || e.list.some(hasAggregate);
    case "is":
      return hasAggregate(e.arg);
    case "trim":
      return hasAggregate(e.arg) || (e.chars !== undefined && hasAggregate(e.chars));
    case "case":
      return (e.operand !== undefined && hasAggregate(e.operand)) || e.whens.some((w) => hasAggregate(w.when) || hasAggregate(w.then)) || (e.else !== undefined && hasAggregate(e.else));
    default:
      return false;
  }
}

function derivedName(e: Expr): string | undefined {
  if (e.k !== "path") return undefined;
  const last = e.steps[e.steps.length - 1];
  if (last === undefined) return e.root;
  return last.kind === "name" ? last.name : undefined;
}

/**
 * Compiles a query for one input schema. `now` is UTCNOW() for the whole
 * query.
 *
 * @example
 * const c = compileQuery(parseQuery("SELECT _2 FROM S3Object WHERE _1 = 'a'"), { format: "csv" }, new Timestamp(Date.now()));
 * c.where!(["a", "b"]); // true
 */
export function compileQuery(q: Query, schema: Schema, now: Timestamp): Compiled {
  return new Compiler(q, schema, now).run();
}
