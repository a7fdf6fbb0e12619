/**
 * `shoal mr`: runs an mrjob-style job module (`shoal mr job.ts INPUT...`) or
 * a Hadoop Streaming job (`shoal mr --mapper CMD --reducer CMD INPUT...`).
 * See docs/mapreduce.md.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { FnRef } from "../code/fnref.ts";
import { MR_USAGE, MrUsageError, parseMrArgs, reportError, runParsed } from "../mapreduce/cli-job.ts";
import type { JobClass } from "../mapreduce/job.ts";
import { jobClassRef } from "../mapreduce/runner.ts";

function isJobClass(v: unknown): v is JobClass {
  return typeof v === "function" && typeof (v as { prototype?: { steps?: unknown } }).prototype?.steps === "function" && "INPUT_PROTOCOL" in v;
}

/** Loads a job module and picks its job class (by `--job NAME`, the default export, or the only exported job). */
export async function loadJob(file: string, name?: string): Promise<{ cls: JobClass; ref: FnRef }> {
  const path = resolve(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new MrUsageError(`cannot load job module ${file}: ${(err as Error).message}`);
  }
  const jobs = Object.entries(mod).filter(([, v]) => isJobClass(v));
  let pick: [string, unknown] | undefined;
  if (name) pick = jobs.find(([k, v]) => k === name || (v as JobClass).name === name);
  else if (jobs.length === 1) pick = jobs[0];
  else pick = jobs.find(([k]) => k === "default");
  if (!pick) {
    const names = jobs.map(([k]) => k).join(", ");
    throw new MrUsageError(jobs.length === 0 ? `${file} exports no MRJob class` : `${file} exports several jobs (${names}); choose one with --job NAME`);
  }
  const cls = pick[1] as JobClass;
  return { cls, ref: jobClassRef(cls, path, pick[0]) };
}

/** Entry point of `shoal mr`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    const args = parseMrArgs(argv);
    if (args.help) {
      console.log(MR_USAGE);
      return 0;
    }
    if (args.mapper !== undefined || args.reducer !== undefined) return await runParsed(args, null);
    const file = args.positionals.shift();
    if (!file) throw new MrUsageError("give a job module (job.ts) or --mapper CMD");
    const { cls, ref } = await loadJob(file, args.job);
    return await runParsed(args, cls, ref);
  } catch (err) {
    return reportError(err);
  }
}
