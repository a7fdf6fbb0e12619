"""Dask peer for bench/engine: the same workloads on a Dask LocalCluster.

Prints one JSON object: startup seconds and tasks/s for each workload.
Usage: /usr/bin/python3 dask_overhead.py --workers 2 --tasks 10000 100000 --chain 10000
"""
import argparse, json, time
from dask.distributed import Client, LocalCluster


def noop(x):
    return None


def inc(x):
    return x + 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--tasks", type=int, nargs="+", default=[10000, 100000])
    p.add_argument("--chain", type=int, default=10000)
    a = p.parse_args()
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(a.workers)
    out = {"startup_s": time.perf_counter() - t0}
    client.gather(client.map(noop, range(100), pure=False))  # warm up
    for n in a.tasks:
        t = time.perf_counter()
        fs = client.map(noop, range(n), pure=False)
        client.gather(fs)
        el = time.perf_counter() - t
        out[f"noop_{n}"] = {"seconds": el, "tasks_per_s": n / el}
        del fs
    t = time.perf_counter()
    f = client.submit(inc, 0, pure=False)
    for _ in range(a.chain - 1):
        f = client.submit(inc, f, pure=False)
    assert f.result() == a.chain
    el = time.perf_counter() - t
    out[f"chain_{a.chain}"] = {"seconds": el, "tasks_per_s": a.chain / el}
    client.close()
    cluster.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
