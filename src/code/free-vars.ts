/**
 * Free-variable analysis of a function's source text (acorn), used to refuse
 * inline functions that capture outer variables: their text alone would not
 * run on a worker.
 */
import type * as acorn from "acorn";
import { createRequire } from "node:module";

// loaded on first use: every executor thread that imports `shoal` loads this file
const requireAcorn = createRequire(import.meta.url);
let parser: typeof acorn | null = null;

type Node = acorn.Node & Record<string, unknown>;

/** Names that every worker thread has, so an inline function may use them freely. */
const GLOBALS = new Set(
  Object.getOwnPropertyNames(globalThis).concat([
    "undefined", "NaN", "Infinity", "arguments", "this", "globalThis", "require", "module", "exports",
    "__dirname", "__filename", "process", "Buffer", "console", "fetch", "structuredClone", "queueMicrotask",
    "setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "clearImmediate",
    "TextEncoder", "TextDecoder", "URL", "URLSearchParams", "AbortController", "performance", "crypto",
    "__name", // esbuild/tsx keepNames helper; worker threads define it
  ]),
);

/** Parses `source` (a function expression, arrow or method) and returns its free identifiers that are not globals. */
export function freeVariables(source: string): string[] {
  const ast = parseFunction(source);
  const free = new Set<string>();
  walkScope(ast, [new Set()], free);
  return [...free].filter((n) => !GLOBALS.has(n)).sort();
}

function parseFunction(source: string): Node {
  const attempts = [`(${source})`, `({${source}})`, `(function ${source})`];
  let lastErr: unknown;
  for (const text of attempts) {
    try {
      parser ??= requireAcorn("acorn") as typeof acorn;
      return parser.parse(text, { ecmaVersion: "latest", sourceType: "module" }) as unknown as Node;
    } catch (err) {
      lastErr = err;
    }
  }
  throw new SyntaxError(`cannot parse function source: ${(lastErr as Error).message}`);
}

function declarePattern(p: Node | null | undefined, scope: Set<string>): void {
  if (!p) return;
  switch (p.type) {
    case "Identifier": scope.add(p["name"] as string); break;
    case "ObjectPattern":
      for (const prop of p["properties"] as Node[]) declarePattern((prop.type === "RestElement" ? prop["argument"] : prop["value"]) as Node, scope);
      break;
    case "ArrayPattern": for (const e of p["elements"] as (Node | null)[]) declarePattern(e, scope); break;
    case "RestElement": declarePattern(p["argument"] as Node, scope); break;
    case "AssignmentPattern": declarePattern(p["left"] as Node, scope); break;
  }
}

/** Collects declarations hoisted to the function scope (var, function) and block-level ones of this block. */
function hoist(body: Node[], scope: Set<string>, fnLevel: boolean): void {
  const visit = (n: Node | null | undefined, top: boolean): void => {
    if (!n || typeof n.type !== "string") return;
    if (n.type === "VariableDeclaration") {
      if (n["kind"] === "var" ? fnLevel : top) for (const d of n["declarations"] as Node[]) declarePattern(d["id"] as Node, scope);
      if (n["kind"] === "var" && fnLevel) for (const d of n["declarations"] as Node[]) void d;
      return;
    }
    if (n.type === "FunctionDeclaration" || n.type === "ClassDeclaration") {
      if (top && n["id"]) scope.add((n["id"] as Node)["name"] as string);
      return;
    }
    if (n.type.startsWith("Function") || n.type === "ArrowFunctionExpression" || n.type === "ClassExpression") return;
    if (fnLevel) for (const k of ["body", "consequent", "alternate", "block", "handler", "finalizer", "init", "cases"]) {
      const c = n[k];
      if (Array.isArray(c)) for (const x of c as Node[]) visit(x, false);
      else if (c && typeof c === "object") visit(c as Node, false);
    }
  };
  for (const n of body) visit(n, true);
}

function walkScope(node: Node, scopes: Set<string>[], free: Set<string>): void {
  const isDeclared = (name: string): boolean => scopes.some((s) => s.has(name));
  const visit = (n: unknown, parent: Node | null, key: string): void => {
    if (!n || typeof n !== "object") return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x, parent, key);
      return;
    }
    const node = n as Node;
    if (typeof node.type !== "string") return;
    switch (node.type) {
      case "Identifier": {
        if (parent && (parent.type === "MemberExpression" && key === "property" && !parent["computed"])) return;
        if (parent && (parent.type === "Property" || parent.type === "MethodDefinition" || parent.type === "PropertyDefinition") && key === "key" && !parent["computed"]) return;
        if (parent && (parent.type === "LabeledStatement" || parent.type === "BreakStatement" || parent.type === "ContinueStatement")) return;
        const name = node["name"] as string;
        if (!isDeclared(name)) free.add(name);
        return;
      }
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression": {
        const s = new Set<string>();
        if (node.type === "FunctionExpression" && node["id"]) s.add((node["id"] as Node)["name"] as string);
        for (const p of node["params"] as Node[]) declarePattern(p, s);
        scopes.push(s);
        for (const p of node["params"] as Node[]) visitPatternDefaults(p);
        const body = node["body"] as Node;
        if (body.type === "BlockStatement") hoist(body["body"] as Node[], s, true);
        visit(body, node, "body");
        scopes.pop();
        return;
      }
      case "BlockStatement":
      case "Program": {
        const s = new Set<string>();
        hoist(node["body"] as Node[], s, node.type === "Program");
        scopes.push(s);
        visit(node["body"], node, "body");
        scopes.pop();
        return;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement": {
        const s = new Set<string>();
        const init = (node["init"] ?? node["left"]) as Node | null;
        if (init && init.type === "VariableDeclaration") for (const d of init["declarations"] as Node[]) declarePattern(d["id"] as Node, s);
        scopes.push(s);
        for (const k of ["init", "left", "test", "update", "right", "body"]) visit(node[k], node, k);
        scopes.pop();
        return;
      }
      case "CatchClause": {
        const s = new Set<string>();
        declarePattern(node["param"] as Node, s);
        scopes.push(s);
        visit(node["body"], node, "body");
        scopes.pop();
        return;
      }
      case "VariableDeclarator":
        visitPatternDefaults(node["id"] as Node);
        visit(node["init"], node, "init");
        return;
      case "ClassDeclaration":
      case "ClassExpression": {
        const s = new Set<string>();
        if (node["id"]) s.add((node["id"] as Node)["name"] as string);
        scopes.push(s);
        visit(node["superClass"], node, "superClass");
        visit(node["body"], node, "body");
        scopes.pop();
        return;
      }
      case "MetaProperty":
        return;
      default:
        for (const [k, v] of Object.entries(node)) {
          if (k === "type" || k === "start" || k === "end" || k === "loc") continue;
          visit(v, node, k);
        }
    }
  };
  const visitPatternDefaults = (p: Node | null | undefined): void => {
    if (!p) return;
    if (p.type === "AssignmentPattern") visit(p["right"], p, "right");
    if (p.type === "ObjectPattern") for (const prop of p["properties"] as Node[]) {
      if (prop.type === "Property" && prop["computed"]) visit(prop["key"], prop, "key");
      visitPatternDefaults((prop.type === "RestElement" ? prop["argument"] : prop["value"]) as Node);
    }
    if (p.type === "ArrayPattern") for (const e of p["elements"] as (Node | null)[]) visitPatternDefaults(e);
  };
  visit(node, null, "");
}
