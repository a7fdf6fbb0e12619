"""Dask peer of bench/engine/scale.ts (issue 16): the same two workloads on a
Dask LocalCluster (2 worker processes x 1 thread; scheduler and client in this
process, as Shoal's LocalCluster).

  map:  client.map(noop, range(n), pure=False), client.gather, then release
  tree: dask.delayed leaves leaf(i) (n/2 of them) and pairwise add up to the
        root, client.compute(root).result() (graph building is timed, as in
        scale.ts)

For each run: wall time, tasks/s, the longest stall of this process's Python
threads (a 5 ms timer thread: the longest time no Python code of this process
could run on it, i.e. the GIL held by another thread or the process not
scheduled), the scheduler's own event-loop stall (a 20 ms tornado
PeriodicCallback on the scheduler's loop, installed with run_on_scheduler:
the gap past its period, the same measure as Shoal's scheduler tick), the
peak RSS of this process (client + scheduler; sampled every 100 ms) and the
1-minute load average. Tasks per second end when the results are gathered;
the stall columns run on until the scheduler has forgotten the graph. Prints one JSON line per run and a table in the
columns of scale.ts.

  /usr/bin/python3 bench/engine/dask_scale.py [--sizes 10000,100000,200000] [--workloads map,tree] [--workers 2] [--saturation 1.1]
"""
import argparse
import gc
import json
import os
import threading
import time

import dask
import distributed
from dask.distributed import Client, LocalCluster

try:
    import psutil

    def rss_bytes():
        return psutil.Process().memory_info().rss

except ImportError:  # pragma: no cover - Linux fallback
    def rss_bytes():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


TICK_MS = 20


def noop(x):
    return None


def leaf(i):
    return 1


def add(a, b):
    return a + b


def install_tick(dask_scheduler=None):
    """Runs on the scheduler's loop: a 20 ms periodic callback that records the longest gap past its period."""
    from tornado.ioloop import PeriodicCallback

    st = {"last": time.perf_counter(), "max_ms": 0.0, "over_100": 0}

    def tick():
        now = time.perf_counter()
        stall = max(0.0, (now - st["last"]) * 1000 - TICK_MS)
        st["last"] = now
        if stall > st["max_ms"]:
            st["max_ms"] = stall
        if stall > 100:
            st["over_100"] += 1

    pc = PeriodicCallback(tick, TICK_MS)
    pc.start()
    dask_scheduler._bench_tick = (st, pc, tick)
    return True


def read_tick(dask_scheduler=None, reset=True):
    st, _pc, tick = dask_scheduler._bench_tick
    tick()  # a stall in progress up to now counts too
    r = {"max_ms": st["max_ms"], "over_100": st["over_100"]}
    if reset:
        st["max_ms"] = 0.0
        st["over_100"] = 0
    return r


def n_tasks(dask_scheduler=None):
    return len(dask_scheduler.tasks)


class StallMeter:
    """Longest gap of a 5 ms timer thread (GIL starvation or descheduling of this process)."""

    def __init__(self):
        self.max_ms = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        last = time.perf_counter()
        while not self._stop.wait(0.005):
            now = time.perf_counter()
            self.max_ms = max(self.max_ms, (now - last) * 1000)
            last = now

    def stop(self):
        self._stop.set()
        self._t.join()
        return self.max_ms


class RssMeter:
    def __init__(self):
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, rss_bytes())

    def stop(self):
        self._stop.set()
        self._t.join()
        return max(self.peak, rss_bytes())


def run_map(client, n):
    fs = client.map(noop, range(n), pure=False)
    client.gather(fs)
    del fs  # release


def run_tree(client, n):
    leaves = max(1, (n + 1) // 2)
    mk = dask.delayed(leaf, pure=False)
    plus = dask.delayed(add, pure=False)
    level = [mk(i) for i in range(leaves)]
    while len(level) > 1:
        nxt = [plus(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2 == 1:
            nxt.append(level[-1])
        level = nxt
    total = client.compute(level[0]).result()
    if total != leaves:
        raise RuntimeError(f"tree of {leaves} leaves gave {total}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000,200000")
    p.add_argument("--workloads", default="map,tree")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--saturation", default=None,
                   help="distributed.scheduler.worker-saturation (default: Dask's own, 1.1 = queuing)")
    a = p.parse_args()
    if a.saturation is not None:
        dask.config.set({"distributed.scheduler.worker-saturation": float(a.saturation)})
    cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(a.workers)
    client.run_on_scheduler(install_tick)
    shared_loop = client.loop is cluster.scheduler.loop
    client.gather(client.map(noop, range(100), pure=False))  # warm up
    rows = []
    for n in [int(s) for s in a.sizes.split(",")]:
        for w in a.workloads.split(","):
            gc.collect()
            client.run_on_scheduler(read_tick)  # reset
            stall = StallMeter()
            rss = RssMeter()
            t = time.perf_counter()
            if w == "map":
                run_map(client, n)
            elif w == "tree":
                run_tree(client, n)
            else:
                raise SystemExit(f"unknown workload {w}")
            seconds = time.perf_counter() - t
            # as scale.ts: the stall columns run on until the scheduler has forgotten the graph
            # (the futures were dropped on return; their release is sent to the scheduler)
            while client.run_on_scheduler(n_tasks) > 0:
                time.sleep(0.02)
            max_stall = stall.stop()
            tick = client.run_on_scheduler(read_tick)
            tasks = 2 * max(1, (n + 1) // 2) - 1 if w == "tree" else n
            row = {
                "engine": "dask",
                "workload": w,
                "tasks": tasks,
                "seconds": seconds,
                "tasks_per_s": tasks / seconds,
                "max_stall_ms": max_stall,
                "scheduler_stall_ms": round(tick["max_ms"]),
                "scheduler_stalls_over_100ms": tick["over_100"],
                "peak_rss_mib": rss.stop() / 2**20,
                "load": os.getloadavg()[0],
                "versions": f"dask {dask.__version__}, distributed {distributed.__version__}",
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    client.close()
    cluster.close()
    print(f"\ndask {dask.__version__}, distributed {distributed.__version__}; "
          f"client and scheduler share one event loop (thread): {shared_loop}; "
          f"worker-saturation {dask.config.get('distributed.scheduler.worker-saturation')}")
    print("workload  tasks       seconds   tasks/s   longest stall ms  scheduler stall ms (>100 ms)  peak RSS MiB  load")
    for r in rows:
        print(
            f"{r['workload']:<9} {r['tasks']:<11} {r['seconds']:<9.2f} {r['tasks_per_s']:<9.0f} "
            f"{r['max_stall_ms']:<17.0f} {str(r['scheduler_stall_ms']) + ' (' + str(r['scheduler_stalls_over_100ms']) + ')':<28} "
            f"{r['peak_rss_mib']:<13.0f} {r['load']:.2f}"
        )


if __name__ == "__main__":
    main()
