/**
 * Starts a worker thread on one of Shoal's own modules. From compiled code
 * that is the `.js` file; from TypeScript sources (tests, development) the
 * thread first registers tsx, then imports the `.ts` module.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";
import { fileURLToPath } from "node:url";

export function startModuleThread(url: URL, opts: WorkerOptions): Worker {
  if (url.href.endsWith(".ts")) {
    const api = import.meta.resolve("tsx/esm/api");
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    return new Worker(code, { ...opts, eval: true });
  }
  return new Worker(fileURLToPath(url), opts);
}
