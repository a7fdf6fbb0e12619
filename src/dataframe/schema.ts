/**
 * Column types, schemas and their reconciliation across partitions.
 *
 * A schema is an ordered record `column -> ColumnType`. Partitions may infer
 * different types for the same column (one block has only NA in a column,
 * another has floats where the first had ints); {@link reconcileSchemas}
 * widens them to one type per column and {@link castToSchema} brings each
 * partition to it, so a computation never fails mid-way on a type mismatch.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError } from "./errors.ts";

/** Logical column types. `null` is a column with only missing values (it widens to anything). */
export const ColumnType = {
  Null: "null",
  Bool: "bool",
  Int64: "int64",
  Float64: "float64",
  Utf8: "utf8",
} as const;
/** One of {@link ColumnType}. */
export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType];

/** Ordered mapping from column name to type. */
export type Schema = Record<string, ColumnType>;

const RANK: Record<ColumnType, number> = { null: 0, bool: 1, int64: 2, float64: 3, utf8: 4 };

/**
 * The narrowest type that holds values of both types: null→other,
 * bool+int64→int64, int64+float64→float64, anything+utf8→utf8
 * (bool+float64→float64, as pandas does when it meets both).
 */
export function widenType(a: ColumnType, b: ColumnType): ColumnType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * Widen several partition schemas into one. Columns keep the order in which
 * they are first seen; a column absent from some partitions keeps its type
 * (it will be filled with nulls by {@link castToSchema}).
 *
 * @example
 * ```ts
 * reconcileSchemas([{ a: "int64", b: "null" }, { a: "float64", b: "utf8" }]); // { a: "float64", b: "utf8" }
 * ```
 */
export function reconcileSchemas(schemas: readonly Schema[]): Schema {
  const out: Schema = {};
  for (const s of schemas) {
    for (const [name, t] of Object.entries(s)) {
      const prev = out[name];
      out[name] = prev === undefined ? t : widenType(prev, t);
    }
  }
  return out;
}

/** The polars dtype used to store a column type (null-only columns are stored as Utf8). */
export function toPolarsType(t: ColumnType): pl.DataType {
  switch (t) {
    case "int64": return pl.Int64;
    case "float64": return pl.Float64;
    case "bool": return pl.Bool;
    case "utf8": return pl.Utf8;
    case "null": return pl.Utf8;
  }
}

/** Map a polars dtype back to a logical column type (integers→int64, floats→float64, others→utf8). */
export function fromPolarsType(dtype: pl.DataType): ColumnType {
  const v = String((dtype as unknown as { variant?: string }).variant ?? dtype.toString());
  if (/^U?Int(8|16|32|64)$/.test(v)) return "int64";
  if (/^Float(32|64)$/.test(v)) return "float64";
  if (v === "Bool") return "bool";
  if (v === "Null") return "null";
  return "utf8";
}

/** True for a polars Categorical column (text stored as codes + categories; logically utf8). */
export function isCategorical(dtype: pl.DataType): boolean {
  const v = String((dtype as unknown as { variant?: string }).variant ?? dtype.toString());
  return v === "Categorical" || v === "Enum";
}

/** The logical schema of a frame. */
export function schemaOf(df: Frame): Schema {
  const out: Schema = {};
  for (const s of df.getColumns()) {
    const t = fromPolarsType(s.dtype);
    // an all-missing text column is what a null-only CSV column is stored as: it widens to anything
    out[s.name] = t === "utf8" && s.len() > 0 && s.nullCount() === s.len() ? "null" : t;
  }
  return out;
}

/**
 * Cast a frame to a (wider) schema: columns in schema order, missing columns
 * added as nulls, numeric columns widened. Narrowing is refused.
 */
export function castToSchema(df: Frame, schema: Schema): Frame {
  const have = new Set(df.columns);
  const exprs: pl.Expr[] = [];
  for (const [name, t] of Object.entries(schema)) {
    const target = toPolarsType(t);
    if (!have.has(name)) {
      exprs.push(pl.lit(null).cast(target).alias(name));
      continue;
    }
    const cur = fromPolarsType(df.getColumn(name).dtype);
    if (cur === t || (t === "null" && cur === "utf8")) { exprs.push(pl.col(name)); continue; }
    if (RANK[cur] > RANK[t] && !(cur === "utf8" && df.getColumn(name).nullCount() === df.height)) {
      throw new DataFrameArgumentError(`castToSchema: column '${name}' is ${cur}, cannot narrow it to ${t}`);
    }
    exprs.push(pl.col(name).cast(target).alias(name));
  }
  return df.select(...exprs);
}
