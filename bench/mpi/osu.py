# The same measurements with mpi4py (buffer API) under Open MPI.
import json, sys
from mpi4py import MPI
import numpy as np
comm = MPI.COMM_WORLD
sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "8,1024,65536,1048576,16777216").split(",")]
def iters(n): return 2000 if n <= 8192 else 100 if n <= 1 << 20 else 10
for n in sizes:
    a = np.zeros(n, dtype=np.uint8); f = np.zeros(max(1, n // 8)); g = np.zeros_like(f); it = iters(n); res = {"bytes": n}
    if comm.size >= 2:
        for w in range(2):
            comm.Barrier(); t0 = MPI.Wtime()
            for i in range(it):
                if comm.rank == 0: comm.Send(a, 1, 1); comm.Recv(a, 1, 1)
                elif comm.rank == 1: comm.Recv(a, 0, 1); comm.Send(a, 0, 1)
            res["pingpong_us"] = (MPI.Wtime() - t0) / it / 2 * 1e6
    for w in range(2):
        comm.Barrier(); t0 = MPI.Wtime()
        for i in range(it): comm.Bcast(a, 0)
        res["bcast_us"] = (MPI.Wtime() - t0) / it * 1e6
        comm.Barrier(); t0 = MPI.Wtime()
        for i in range(it): comm.Allreduce(f, g, MPI.SUM)
        res["allreduce_us"] = (MPI.Wtime() - t0) / it * 1e6
    if n == 8:
        comm.Barrier(); t0 = MPI.Wtime()
        for i in range(it): comm.allreduce(comm.rank, MPI.SUM)
        res["allreduce_obj_us"] = (MPI.Wtime() - t0) / it * 1e6
    if comm.rank == 0: print(json.dumps(res), flush=True)
