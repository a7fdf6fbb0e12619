/**
 * Glob patterns for storage URLs: `*`, `?`, `**`, `[abc]`, `[!abc]`, `[a-z]`,
 * `{a,b}` and `\` escapes. `*`, `?` and classes never match `/`; `**` as a
 * whole path segment matches any number of segments (including none).
 *
 * @module
 */

const GLOB_CHARS = new Set(["*", "?", "[", "{"]);

/**
 * Index of the first unescaped glob character in `s`, or -1.
 *
 * @example
 * ```ts
 * firstGlobIndex("s3://b/x-*.csv"); // 9
 * ```
 */
export function firstGlobIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") {
      i++;
      continue;
    }
    if (GLOB_CHARS.has(c)) return i;
  }
  return -1;
}

/**
 * Whether `s` contains glob syntax.
 *
 * @example
 * ```ts
 * hasGlob("data/*.csv"); // true
 * hasGlob("data/a.csv"); // false
 * ```
 */
export function hasGlob(s: string): boolean {
  return firstGlobIndex(s) >= 0;
}

/**
 * Split a pattern into the literal directory to list and whether listing must
 * be recursive (the wildcard part spans `/` or uses `**`).
 *
 * @example
 * ```ts
 * globBase("s3://b/logs/2024-*.csv");  // { base: "s3://b/logs/", recursive: false }
 * globBase("data/**\/part-*.csv");      // { base: "data/", recursive: true }
 * ```
 */
export function globBase(pattern: string): { base: string; recursive: boolean } {
  const i = firstGlobIndex(pattern);
  if (i < 0) return { base: pattern, recursive: false };
  const slash = pattern.lastIndexOf("/", i);
  const base = pattern.slice(0, slash + 1);
  const rest = pattern.slice(slash + 1);
  return { base, recursive: rest.includes("/") || rest.includes("**") };
}

/**
 * Remove `\` escapes from a literal part of a pattern.
 *
 * @example
 * ```ts
 * unescapeGlob("data/\\*.csv"); // "data/*.csv"
 * ```
 */
export function unescapeGlob(s: string): string {
  return s.replace(/\\(.)/g, "$1");
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function findClassEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === "!" || p[j] === "^") j++;
  if (p[j] === "]") j++;
  while (j < p.length && p[j] !== "]") j++;
  return j < p.length ? j : -1;
}

function findBraceEnd(p: string, i: number): number {
  let depth = 0;
  for (let j = i; j < p.length; j++) {
    const c = p[j];
    if (c === "\\") j++;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return j;
  }
  return -1;
}

function classToRe(body: string): string {
  let neg = false;
  let b = body;
  if (b.startsWith("!") || b.startsWith("^")) {
    neg = true;
    b = b.slice(1);
  }
  const inner = b.replace(/[\\\]^]/g, (c) => `\\${c}`);
  return neg ? `[^/${inner}]` : `(?!/)[${inner}]`;
}

function translate(p: string, inBrace: boolean): string {
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\" && i + 1 < p.length) {
      out += escapeRe(p[++i]!);
    } else if (c === "*") {
      if (p[i + 1] === "*") {
        const atSegStart = i === 0 || p[i - 1] === "/";
        i++;
        if (atSegStart && p[i + 1] === "/") {
          out += "(?:[^/]*/)*";
          i++;
        } else out += ".*";
      } else out += "[^/]*";
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const end = findClassEnd(p, i);
      if (end < 0) out += "\\[";
      else {
        out += classToRe(p.slice(i + 1, end));
        i = end;
      }
    } else if (c === "{") {
      const end = findBraceEnd(p, i);
      if (end < 0) out += "\\{";
      else {
        out += `(?:${translate(p.slice(i + 1, end), true)})`;
        i = end;
      }
    } else if (c === "," && inBrace) {
      out += "|";
    } else out += escapeRe(c);
  }
  return out;
}

/**
 * Compile a glob pattern to a RegExp that matches whole URLs.
 *
 * @example
 * ```ts
 * globToRegExp("s3://b/{a,b}/*.csv").test("s3://b/a/x.csv"); // true
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern, false)}$`, "u");
}
