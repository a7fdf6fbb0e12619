/**
 * Command-line front end shared by `shoal mr` and `MyJob.run()`: parses
 * runner options and the job's passthrough options, runs the job, prints
 * the output (without `-o`) on stdout and a summary with counters on stderr.
 *
 * @module
 */
import { parseBytes } from "../utils/bytes.ts";
import type { FnRef } from "../code/fnref.ts";
import { JobDefinitionError, MapReduceTaskError } from "./errors.ts";
import type { JobClass, OptionSpec } from "./job.ts";
import { formatSummary, runJob, runStreaming, type JobResult, type RunJobOptions, type RunnerName } from "./runner.ts";

/** Thrown for bad command lines (exit code 2). */
export class MrUsageError extends Error {
  override readonly name = "MrUsageError";
}

/** Parsed command line of `shoal mr`. */
export interface MrArgs {
  runner: RunnerName;
  output?: string;
  reducers?: number;
  scheduler?: string;
  blocksize?: number;
  nworkers?: number;
  mapper?: string;
  combiner?: string;
  reducer?: string;
  env: Record<string, string>;
  positionals: string[];
  passthrough: Record<string, string | true>;
  quiet: boolean;
  /** `--progress`: bars per task group on stderr (local and cluster runners). */
  progress: boolean;
  help: boolean;
  job?: string;
}

const WITH_VALUE: Record<string, keyof MrArgs | "D" | "cmdenv"> = {
  "-r": "runner", "--runner": "runner", "-o": "output", "--output": "output", "--output-dir": "output",
  "--reducers": "reducers", "--num-reducers": "reducers", "--numReduceTasks": "reducers", "--scheduler": "scheduler",
  "--blocksize": "blocksize", "--nworkers": "nworkers", "--num-cores": "nworkers", "--mapper": "mapper", "--combiner": "combiner", "--reducer": "reducer",
  "-D": "D", "--jobconf": "D", "--cmdenv": "cmdenv", "--job": "job",
};

/** Parses `argv` (flags and passthrough `--name value` options anywhere). */
export function parseMrArgs(argv: readonly string[]): MrArgs {
  const a: MrArgs = { runner: "inline", env: {}, positionals: [], passthrough: {}, quiet: false, progress: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    if (arg === "--") {
      a.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") {
      a.help = true;
      continue;
    }
    if (arg === "-q" || arg === "--quiet") {
      a.quiet = true;
      continue;
    }
    if (arg === "--progress") {
      a.progress = true;
      continue;
    }
    let value: string | undefined;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const field = WITH_VALUE[arg];
    if (field !== undefined) {
      value ??= argv[++i];
      if (value === undefined) throw new MrUsageError(`${arg} needs a value`);
      switch (field) {
        case "runner":
          if (value !== "inline" && value !== "local" && value !== "cluster") throw new MrUsageError(`-r must be inline, local or cluster, got '${value}'`);
          a.runner = value;
          break;
        case "reducers":
        case "nworkers": {
          const n = Number(value);
          if (!Number.isInteger(n) || n < 0) throw new MrUsageError(`${arg} must be a non-negative integer, got '${value}'`);
          a[field] = n;
          break;
        }
        case "blocksize":
          try {
            a.blocksize = parseBytes(value, "--blocksize");
          } catch (err) {
            throw new MrUsageError((err as Error).message);
          }
          break;
        case "D":
        case "cmdenv": {
          const e = value.indexOf("=");
          if (e <= 0) throw new MrUsageError(`${arg} expects NAME=VALUE, got '${value}'`);
          a.env[value.slice(0, e).replace(/\./g, "_")] = value.slice(e + 1);
          break;
        }
        default:
          (a as unknown as Record<string, string>)[field] = value;
      }
      continue;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const name = arg.slice(2);
      const next = argv[i + 1];
      if (value !== undefined) a.passthrough[name] = value;
      else if (next !== undefined && !next.startsWith("-")) a.passthrough[name] = argv[++i]!;
      else a.passthrough[name] = true;
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") throw new MrUsageError(`unknown option ${arg}`);
    a.positionals.push(arg);
  }
  return a;
}

/** Converts passthrough strings to the job's declared option types. */
export function jobOptions(specs: Record<string, OptionSpec>, given: Record<string, string | true>, positionals: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [raw, v] of Object.entries(given)) {
    const name = raw in specs ? raw : raw.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const spec = specs[name] ?? specs[raw];
    if (!spec) throw new MrUsageError(`unknown option --${raw}${Object.keys(specs).length > 0 ? ` (the job accepts: ${Object.keys(specs).map((k) => `--${k}`).join(", ")})` : ""}`);
    const key = specs[raw] ? raw : name;
    if (spec.type === "boolean") {
      if (v !== true && v !== "true" && v !== "false") {
        // `--flag input.txt`: the word after a boolean flag is a positional.
        positionals.unshift(v);
        out[key] = true;
      } else out[key] = v === true || v === "true";
    } else if (v === true) {
      throw new MrUsageError(`--${raw} needs a value`);
    } else if (spec.type === "number") {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new MrUsageError(`--${raw} must be a number, got '${v}'`);
      out[key] = n;
    } else out[key] = v;
  }
  return out;
}

/** Usage text of `shoal mr`. */
export const MR_USAGE = `usage:
  shoal mr JOB.ts INPUT... [-r inline|local|cluster] [-o OUTPUT] [--reducers N] [--scheduler ADDRESS] [--job CLASS] [--OPTION VALUE...]
  shoal mr --mapper CMD [--combiner CMD] [--reducer CMD] [--reducers N] INPUT... [-o OUTPUT] [-r RUNNER] [-D name=value] [--cmdenv name=value]

options:
  -r, --runner       inline (default: this process), local (all cores), cluster (a scheduler)
  -o, --output       output directory (local path or URL): part-00000... and _SUCCESS; default: stdout
  --reducers N       reduce tasks (streaming default 1; jobs default: map tasks, at most the cores; 0 = map-only streaming job)
  --scheduler ADDR   scheduler address for -r cluster (default SHOAL_SCHEDULER_ADDRESS)
  --blocksize SIZE   bytes per input split (default 64MiB)
  --nworkers N       worker processes for -r local (default: cores)
  --progress         progress bars per task group on stderr (-r local / cluster; one summary line every 2 s when stderr is not a terminal)
  -q, --quiet        no summary on stderr`;

async function finishRun(result: JobResult, quiet: boolean): Promise<void> {
  if (result.output !== null) {
    await new Promise<void>((resolve, reject) => process.stdout.write(result.output!, (err) => (err ? reject(err) : resolve())));
  }
  if (!quiet) console.error(formatSummary(result));
}

/** `--progress`: draws the job's task groups while it runs (the dashboard's terminal bars, loaded only when asked for). */
async function progressWatch(args: MrArgs): Promise<RunJobOptions["watch"]> {
  if (!args.progress) return undefined;
  if (args.runner === "inline") throw new MrUsageError("--progress needs -r local or -r cluster (the inline runner runs in this process, one task at a time)");
  const { progress } = await import("../dashboard/progress.ts");
  return (client, run) => progress(run, { client });
}

/** Runs a parsed command line against a job class; the exit code. */
export async function runParsed(args: MrArgs, cls: JobClass | null, jobRef?: FnRef): Promise<number> {
  if (args.positionals.length === 0) throw new MrUsageError("no input files given");
  const watch = await progressWatch(args);
  const common = {
    runner: args.runner,
    inputs: args.positionals,
    ...(args.output !== undefined ? { output: args.output } : {}),
    ...(args.reducers !== undefined ? { reducers: args.reducers } : {}),
    ...(args.scheduler !== undefined ? { scheduler: args.scheduler } : {}),
    ...(args.blocksize !== undefined ? { blocksize: args.blocksize } : {}),
    ...(args.nworkers !== undefined ? { cluster: { nworkers: args.nworkers } } : {}),
    ...(watch ? { watch } : {}),
  };
  if (cls === null) {
    if (!args.mapper) throw new MrUsageError("streaming mode needs --mapper CMD");
    const result = await runStreaming({ mapper: args.mapper, ...(args.combiner ? { combiner: args.combiner } : {}), ...(args.reducer ? { reducer: args.reducer } : {}), env: args.env }, common);
    await finishRun(result, args.quiet);
    return 0;
  }
  const positionals = [...args.positionals];
  const options = jobOptions(cls.OPTIONS ?? {}, args.passthrough, positionals);
  const result = await runJob(cls, { ...common, inputs: positionals, options, ...(jobRef ? { jobRef } : {}) });
  await finishRun(result, args.quiet);
  return 0;
}

/** Reports an error the way the CLI does; the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof MrUsageError) {
    console.error(`shoal mr: ${err.message}\n\n${MR_USAGE}`);
    return 2;
  }
  const e = err as Error;
  const kind = err instanceof MapReduceTaskError || err instanceof JobDefinitionError ? "" : `${e.name}: `;
  console.error(`shoal mr: job failed: ${kind}${e.message}`);
  return 1;
}

/** `MyJob.run(argv)`: the job's own command line (like running an mrjob script). */
export async function runJobCli(cls: JobClass, argv: readonly string[]): Promise<number> {
  try {
    const args = parseMrArgs(argv);
    if (args.help) {
      console.log(`usage: ${cls.name} INPUT... [-r inline|local|cluster] [-o OUTPUT] [--reducers N] [--scheduler ADDRESS] [--progress]${Object.keys(cls.OPTIONS ?? {}).map((k) => ` [--${k} ${cls.OPTIONS[k]!.type.toUpperCase()}]`).join("")}`);
      return 0;
    }
    return await runParsed(args, cls);
  } catch (err) {
    return reportError(err);
  }
}
