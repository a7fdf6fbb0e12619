import { COMM_WORLD as comm } from "../../../src/mpi/index.ts";
if (comm.rank === 1) throw new Error("boom on purpose");
await comm.recv(1, 0); // rank 0 and 2 wait for a message that never comes
