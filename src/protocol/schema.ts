/**
 * A tiny schema language for wire messages: each schema is a checker and,
 * through {@link Infer}, a TypeScript type, so a message's type and its
 * validation are written once.
 *
 * Written by hand rather than taken from a library (zod, typebox) because it
 * runs on every message of the control plane — tens of thousands a second —
 * and must know the wire's {@link Payload} boxes: a check here is a handful of
 * `typeof` tests with no allocation on success (~50 ns for a typical
 * message), and the error names the field path (`tasks[3].deps[0]`).
 */
import { isPayload } from "./wire.ts";
import type { Payload } from "./serialize.ts";

/**
 * A checker. `ok` is the fast path run on every message (no strings built);
 * only when it fails does `check` run to say what was expected at which path.
 */
export interface Schema<T> {
  readonly describe: string;
  /** @internal */ ok(v: unknown, depth: number): boolean;
  /** @internal */ check(v: unknown, path: string, depth: number): string | null;
  /** Type carrier only; never set. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Nesting deeper than this (error causes, records) is refused. */
const MAX_DEPTH = 64;

function leaf<T>(describe: string, ok: (v: unknown) => boolean): Schema<T> {
  return { describe, ok, check: (v, path) => (ok(v) ? null : `${path} must be ${describe}, got ${what(v)}`) };
}

function what(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (isPayload(v)) return "binary data";
  if (typeof v === "string") return v.length > 40 ? "a string" : `the string ${JSON.stringify(v)}`;
  if (typeof v === "number") return `the number ${v}`;
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

export const str: Schema<string> = leaf("a string", (v) => typeof v === "string");
export const num: Schema<number> = leaf("a number", (v) => typeof v === "number");
export const int: Schema<number> = leaf("an integer", (v) => Number.isSafeInteger(v));
export const bool: Schema<boolean> = leaf("a boolean", (v) => typeof v === "boolean");
export const payload: Schema<Payload> = leaf("binary data (a payload)", isPayload);
export const unknownValue: Schema<unknown> = { describe: "anything", ok: () => true, check: () => null };

export function literal<const L extends string>(value: L): Schema<L> {
  return leaf(JSON.stringify(value), (v) => v === value);
}

export function oneOf<const L extends string>(...values: L[]): Schema<L> {
  const set = new Set<unknown>(values);
  return leaf(`one of ${values.map((v) => JSON.stringify(v)).join(", ")}`, (v) => set.has(v));
}

export function arr<T>(item: Schema<T>): Schema<T[]> {
  return {
    describe: `an array of ${item.describe}`,
    ok(v, depth) {
      if (!Array.isArray(v) || depth > MAX_DEPTH) return false;
      for (let i = 0; i < v.length; i++) if (!item.ok(v[i], depth + 1)) return false;
      return true;
    },
    check(v, path, depth) {
      if (!Array.isArray(v)) return `${path} must be an array, got ${what(v)}`;
      if (depth > MAX_DEPTH) return `${path} is nested too deeply`;
      for (let i = 0; i < v.length; i++) {
        const e = item.check(v[i], `${path}[${i}]`, depth + 1);
        if (e !== null) return e;
      }
      return null;
    },
  };
}

export function tuple<const T extends readonly Schema<unknown>[]>(...items: T): Schema<{ [K in keyof T]: Infer<T[K]> }> {
  return {
    describe: `a tuple of ${items.length}`,
    ok(v, depth) {
      if (!Array.isArray(v) || v.length !== items.length) return false;
      for (let i = 0; i < items.length; i++) if (!items[i]!.ok(v[i], depth + 1)) return false;
      return true;
    },
    check(v, path, depth) {
      if (!Array.isArray(v) || v.length !== items.length) return `${path} must be an array of ${items.length} items, got ${what(v)}`;
      for (let i = 0; i < items.length; i++) {
        const e = items[i]!.check(v[i], `${path}[${i}]`, depth + 1);
        if (e !== null) return e;
      }
      return null;
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isPayload(v);
}

/** A map with string keys and values of one schema. */
export function rec<T>(value: Schema<T>): Schema<Record<string, T>> {
  return {
    describe: `a map of ${value.describe}`,
    ok(v, depth) {
      if (!isRecord(v) || depth > MAX_DEPTH) return false;
      for (const k in v) if (!value.ok(v[k], depth + 1)) return false;
      return true;
    },
    check(v, path, depth) {
      if (!isRecord(v)) return `${path} must be a map, got ${what(v)}`;
      if (depth > MAX_DEPTH) return `${path} is nested too deeply`;
      for (const k in v) {
        const e = value.check(v[k], `${path}.${k}`, depth + 1);
        if (e !== null) return e;
      }
      return null;
    },
  };
}

const OPTIONAL = Symbol("optional");
type Optional<T> = Schema<T> & { readonly [OPTIONAL]: true };

/** A field that may be absent (or null/undefined). */
export function opt<T>(s: Schema<T>): Optional<T | undefined> {
  return {
    [OPTIONAL]: true,
    describe: `${s.describe} (optional)`,
    ok: (v, depth) => v === undefined || v === null || s.ok(v, depth),
    check: (v, path, depth) => (v === undefined || v === null ? null : s.check(v, path, depth)),
  };
}

type Fields = Record<string, Schema<unknown>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends { readonly [OPTIONAL]: true } ? K : never }[keyof F];
type Obj<F extends Fields> = { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> };

/** An object with these fields; fields not named are allowed and not checked (newer peers may add some). */
export function obj<const F extends Fields>(fields: F): Schema<{ [K in keyof Obj<F>]: Obj<F>[K] }> {
  const entries = Object.entries(fields);
  const schemas = entries.map((e) => e[1]);
  const names = entries.map((e) => e[0]);
  return {
    describe: "an object",
    ok(v, depth) {
      if (!isRecord(v) || depth > MAX_DEPTH) return false;
      for (let i = 0; i < names.length; i++) if (!schemas[i]!.ok(v[names[i]!], depth + 1)) return false;
      return true;
    },
    check(v, path, depth) {
      if (!isRecord(v)) return `${path} must be an object, got ${what(v)}`;
      if (depth > MAX_DEPTH) return `${path} is nested too deeply`;
      for (const [k, s] of entries) {
        const e = s.check(v[k], path === "" ? k : `${path}.${k}`, depth + 1);
        if (e !== null) return e;
      }
      return null;
    },
  };
}

/** A schema that refers to itself (e.g. an error and its cause). */
export function lazy<T>(get: () => Schema<T>): Schema<T> {
  return {
    describe: "a nested value",
    ok: (v, depth) => depth <= MAX_DEPTH && get().ok(v, depth + 1),
    check: (v, path, depth) => (depth > MAX_DEPTH ? `${path} is nested too deeply` : get().check(v, path, depth + 1)),
  };
}

/** Checks a value; null when it fits, else the first problem found. */
export function validate(s: Schema<unknown>, v: unknown, path = ""): string | null {
  return s.ok(v, 0) ? null : (s.check(v, path, 0) ?? `${path || "the value"} does not fit`);
}
