import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformance } from "./conformance.ts";

runConformance("file (plain paths)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-storage-"));
  return { root: `${dir}/`, opts: {}, writable: true, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

runConformance("file (file:// URLs)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-storage-url-"));
  return { root: `file://${dir}/`, opts: {}, writable: true, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
