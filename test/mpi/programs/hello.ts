import { COMM_WORLD as comm } from "../../../src/mpi/index.ts";
console.log(`Hello World from rank ${comm.rank} out of ${comm.size} processors.`);
const got = await comm.bcast(comm.rank === 0 ? { a: 7, b: 3.14 } : undefined, 0);
const buf = comm.rank === 0 ? Float64Array.from({ length: 100 }, (_, i) => i) : new Float64Array(100);
await comm.Bcast(buf, 0);
const total = await comm.allreduce(comm.rank, "sum");
console.log(comm.rank, JSON.stringify(got), buf[99], total, await comm.scan(comm.rank+1), await comm.exscan(comm.rank+1));
