import { randomUUID } from "node:crypto";
import { clearMemoryStorage } from "../../src/storage/index.ts";
import { runConformance } from "./conformance.ts";

runConformance("memory", async () => {
  const root = `memory://conformance-${randomUUID()}/`;
  return { root, opts: {}, writable: true, cleanup: async () => clearMemoryStorage(root) };
});
