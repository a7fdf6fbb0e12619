/**
 * Finds the source file of a function through the V8 inspector
 * (`[[FunctionLocation]]` plus the script table). The main-thread inspector
 * session answers synchronously, so this is a plain function call.
 */
import { Session } from "node:inspector";

let session: Session | null = null;
const scripts = new Map<string, string>();
let seq = 0;

function post<T>(method: string, params?: object): T {
  let out: T | undefined;
  let error: Error | null = null;
  session!.post(method, params ?? {}, (err, res) => {
    error = err;
    out = res as T;
  });
  if (error) throw error;
  if (out === undefined) throw new Error(`inspector did not answer ${method} synchronously`);
  return out;
}

function refreshScripts(): void {
  post("Debugger.enable");
  post("Debugger.disable");
}

function ensureSession(): void {
  if (session) return;
  session = new Session();
  session.connect();
  session.on("Debugger.scriptParsed", (m) => {
    const p = m.params as { scriptId: string; url: string };
    scripts.set(p.scriptId, p.url);
  });
  refreshScripts();
}

/** The URL of the script that defines `fn` (file://… for modules), or null for eval'd/native code. */
export function locateFunction(fn: (...args: never[]) => unknown): string | null {
  try {
    ensureSession();
    const slot = `__shoal_locate_${++seq}`;
    (globalThis as Record<string, unknown>)[slot] = fn;
    try {
      const r = post<{ result: { objectId?: string } }>("Runtime.evaluate", { expression: `globalThis.${slot}` });
      const id = r.result.objectId;
      if (!id) return null;
      const props = post<{ internalProperties?: { name: string; value?: { value?: { scriptId: string } } }[] }>("Runtime.getProperties", { objectId: id, ownProperties: true });
      post("Runtime.releaseObject", { objectId: id });
      const loc = props.internalProperties?.find((p) => p.name === "[[FunctionLocation]]")?.value?.value;
      if (!loc) return null;
      let url = scripts.get(loc.scriptId);
      if (url === undefined) {
        refreshScripts();
        url = scripts.get(loc.scriptId);
      }
      return url && url !== "" ? url : null;
    } finally {
      delete (globalThis as Record<string, unknown>)[slot];
    }
  } catch {
    return null;
  }
}

/**
 * Opens the inspector session and reads the script table now (tens of ms in
 * a program that has loaded a few hundred modules), so the first
 * {@link locateFunction} does not pay for it. Never throws.
 */
export function prepareLocator(): void {
  try {
    ensureSession();
  } catch {
    /* locateFunction will try again, and fall back to shipping source */
  }
}
