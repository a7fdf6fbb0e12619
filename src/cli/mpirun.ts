/** `shoal mpirun -n N [--tag-output] [--deadlock-timeout S] prog.ts|prog.js [args...]` */
import { runCli, UsageError } from "./options.ts";

const USAGE = `usage: shoal mpirun -n N [--tag-output] [--deadlock-timeout SECONDS] prog.ts|prog.js [args...]

Runs N ranks of an SPMD program (shoal/mpi) as threads of one process that
talk through shared memory. The exit code is the first failing rank's.
  -n, -np N               number of ranks
  --tag-output            prefix each line with [1,RANK]<stdout>: as Open MPI does
  --deadlock-timeout S    end the job when every rank has waited S seconds with
                          nothing moving (default 60, 0 = never)`;

export async function run(argv: string[]): Promise<number> {
  return runCli("mpirun", USAGE, async () => {
    let np: number | undefined;
    let tagOutput = false;
    let deadlock = 60;
    let i = 0;
    for (; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === "-h" || a === "--help") {
        console.log(USAGE);
        return 0;
      } else if (a === "-n" || a === "-np" || a === "--np") np = Number(argv[++i]);
      else if (a === "--tag-output") tagOutput = true;
      else if (a === "--deadlock-timeout") deadlock = Number(argv[++i]);
      else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'`);
      else break;
    }
    const program = argv[i];
    if (program === undefined) throw new UsageError("no program given");
    if (np === undefined || !Number.isInteger(np) || np < 1) throw new UsageError("-n must be a positive integer");
    if (!Number.isFinite(deadlock) || deadlock < 0) throw new UsageError("--deadlock-timeout must be a number of seconds >= 0");
    const { mpirun } = await import("../mpi/launcher.ts");
    return mpirun({ np, program, args: argv.slice(i + 1), tagOutput, deadlockTimeoutMs: deadlock * 1000 });
  });
}
