#!/usr/bin/python3
"""The eight StackLite tasks (seed 003) with dask.distributed, as the seed does them.

    /usr/bin/python3 bench/stacklite/dask_tasks.py --data DIR [--workers 2] [--threads 1] [--out answers.json]

LocalCluster (processes), explicit dtypes (Dask infers from 10 rows and fails
on NA in OwnerUserId otherwise; research/baselines.md 2.4), lazy reads (each
task parses the CSV again, as the assignment's notebook does). After task 6
half of the workers are killed with SIGKILL (nanny told not to restart them),
then tasks 5 and 6 run again as tasks 7 and 8. Exact median from
value_counts (Dask has no exact median for several partitions). Top-5 ties:
key ascending, as the pandas reference.
"""
import argparse, json, os, signal, sys, time

import dask.dataframe as dd
import pandas as pd
from dask.distributed import Client, LocalCluster

from pandas_tasks import num, top  # same JSON numbers and top-5 tie-break as the reference

DTYPES_Q = {"Id": "int64", "CreationDate": "object", "ClosedDate": "object", "DeletionDate": "object",
            "Score": "int64", "OwnerUserId": "float64", "AnswerCount": "float64"}
DTYPES_T = {"Id": "int64", "Tag": "object"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    t = {}
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=a.workers, threads_per_worker=a.threads, processes=True, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(a.workers)
    t["cluster_start"] = time.perf_counter() - t0
    s = time.perf_counter()
    kw = dict(keep_default_na=False, na_values=["NA"])
    q = dd.read_csv(os.path.join(a.data, "questions*.csv"), dtype=DTYPES_Q, **kw)
    tags = dd.read_csv(os.path.join(a.data, "question_tags*.csv"), dtype=DTYPES_T, **kw)
    t["load"] = time.perf_counter() - s
    ans = {}

    def lap(name, fn):
        s = time.perf_counter()
        ans[name] = fn()
        t[name] = time.perf_counter() - s

    def task1():
        mq, mt, lq, lt = dd.compute(q.isna().sum(), tags.isna().sum(), q.shape[0], tags.shape[0])
        return {"missing_pct": {"questions": {c: num(v / lq * 100) for c, v in mq.items()},
                                "question_tags": {c: num(v / lt * 100) for c, v in mt.items()}}}

    def task2():
        sc = q["Score"]
        mean, std, mn, mx, vc = dd.compute(sc.mean(), sc.std(), sc.min(), sc.max(), sc.value_counts())
        vc = vc.sort_index()
        n = int(vc.sum())
        cum = vc.cumsum()
        lo = vc.index[(cum > (n - 1) // 2).argmax()]
        hi = vc.index[(cum > n // 2).argmax()]
        return {"mean": num(mean), "std": num(std), "median": num((lo + hi) / 2), "min": num(mn), "max": num(mx)}

    def task3():
        vc = tags.groupby("Tag").size().compute().rename("NumQuestions").reset_index()
        return {"top": [{"Tag": r.Tag, "NumQuestions": num(r.NumQuestions)} for r in top(vc, "NumQuestions", "Tag").itertuples()]}

    def task4():
        m = tags[["Id"]].merge(q[["Id"]].assign(_q=1), on="Id", how="left")
        return {"dangling": int(m["_q"].isna().sum().compute() > 0)}

    def task5():
        g = q.groupby("OwnerUserId").agg({"Score": "mean", "Id": "count", "AnswerCount": "sum"}).compute()
        g = g.rename(columns={"Score": "AverageScore", "Id": "NumQuestions", "AnswerCount": "NumAnswers"}).reset_index()
        return {"top": [{"OwnerUserId": num(r.OwnerUserId), "AverageScore": num(r.AverageScore),
                         "NumQuestions": num(r.NumQuestions), "NumAnswers": num(r.NumAnswers)}
                        for r in top(g, "NumQuestions", "OwnerUserId").itertuples()]}

    def task6():
        m = q[["Id", "Score", "AnswerCount", "OwnerUserId"]].merge(tags, on="Id")
        g = m.groupby("Tag").agg({"Score": "mean", "AnswerCount": "sum", "Id": "count", "OwnerUserId": "count"}).compute()
        g = g.rename(columns={"Score": "AverageScore", "AnswerCount": "NumAnswers", "Id": "NumQuestions", "OwnerUserId": "NumOwners"}).reset_index()
        rows = lambda d: [{"Tag": r.Tag, "AverageScore": num(r.AverageScore), "NumAnswers": num(r.NumAnswers),
                           "NumQuestions": num(r.NumQuestions), "NumOwners": num(r.NumOwners)} for r in d.itertuples()]
        return {"top_by_questions": rows(top(g, "NumQuestions", "Tag")), "top_by_answers": rows(top(g, "NumAnswers", "Tag"))}

    lap("task1", task1)
    lap("task2", task2)
    lap("task3", task3)
    lap("task4", task4)
    lap("task5", task5)
    lap("task6", task6)
    s = time.perf_counter()
    victims = list(cluster.workers.values())[a.workers - a.workers // 2:]
    for nanny in victims:
        nanny.close_gracefully()  # only a flag: do not restart the worker
        os.kill(nanny.process.pid, signal.SIGKILL)
    while len(client.scheduler_info()["workers"]) > a.workers - a.workers // 2:
        time.sleep(0.01)
    t["kill"] = time.perf_counter() - s
    lap("task7", task5)
    lap("task8", task6)
    t["total_script"] = time.perf_counter() - t0
    workers_left = len(client.scheduler_info()["workers"])
    s = time.perf_counter()
    try:
        client.close()
        cluster.close()
    except Exception:
        pass
    t["cluster_close"] = time.perf_counter() - s
    out = json.dumps({"answers": ans, "timings_s": t, "workers_after": workers_left}, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(out)
    else:
        print(out)


if __name__ == "__main__":
    main()
