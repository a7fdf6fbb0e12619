/**
 * `shoal` command-line entry: dispatches to one module per subcommand.
 * Each subcommand module exports `run(argv): Promise<number>` (the exit code)
 * and is imported lazily so that `shoal worker` never loads the S3 server.
 */

interface Subcommand {
  readonly summary: string;
  readonly load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  scheduler: { summary: "start a scheduler", load: () => import("./scheduler.ts") },
  worker: { summary: "start worker processes connected to a scheduler", load: () => import("./worker.ts") },
  mr: { summary: "run MapReduce jobs (mrjob-style job modules or Hadoop Streaming commands)", load: () => import("./mr.ts") },
  ssh: { summary: "start a scheduler and workers on several hosts over SSH", load: () => import("./ssh.ts") },
  slurm: { summary: "submit Slurm jobs that run workers (shoal slurm submit ADDRESS --jobs N)", load: () => import("./slurm.ts") },
  s3: { summary: "S3-compatible object storage server (shoal s3 serve)", load: () => import("./s3.ts") },
  streams: { summary: "Kinesis-compatible stream server (shoal streams serve)", load: () => import("./streams.ts") },
  mpirun: { summary: "run an SPMD program (shoal/mpi) on N ranks", load: () => import("./mpirun.ts") },
  datasets: { summary: "generate data sets (shoal datasets stacklite --out DIR)", load: () => import("./datasets.ts") },
};

export function usage(): string {
  const lines = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(12)} ${s.summary}`);
  return `usage: shoal <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'shoal <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    const { VERSION } = await import("../version.ts");
    console.log(VERSION);
    return 0;
  }
  const sub = SUBCOMMANDS[name];
  if (sub === undefined) {
    console.error(`shoal: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await sub.load();
  return mod.run(rest);
}
