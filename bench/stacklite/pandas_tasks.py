#!/usr/bin/python3
"""Reference answers for the eight StackLite tasks (seed 003) with plain pandas.

    /usr/bin/python3 bench/stacklite/pandas_tasks.py --data DIR [--out answers.json]

Reads DIR/questions*.csv and DIR/question_tags*.csv (one or several files),
keep_default_na=False, na_values=["NA"] (the data set's only missing token).
Tasks 7 and 8 repeat 5 and 6 (no cluster here). Top-5 ties: key ascending.
"""
import argparse, glob, json, math, os, sys, time

import pandas as pd


def load(pattern):
    files = sorted(glob.glob(pattern))
    if not files:
        sys.exit(f"no files match {pattern}")
    frames = [pd.read_csv(f, keep_default_na=False, na_values=["NA"]) for f in files]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def num(x):
    """JSON number: integral values as int (pandas makes NA-holding int columns float)."""
    if x is None:
        return None
    x = float(x) if not isinstance(x, int) else x
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if x.is_integer() and abs(x) < 2**53:
            return int(x)
    return x


def top(df, by, key, n=5):
    return df.sort_values([by, key], ascending=[False, True], kind="mergesort").head(n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    t = {}
    t0 = time.perf_counter()
    q = load(os.path.join(a.data, "questions*.csv"))
    tags = load(os.path.join(a.data, "question_tags*.csv"))
    t["load"] = time.perf_counter() - t0
    ans = {}

    s = time.perf_counter()
    ans["task1"] = {"missing_pct": {
        "questions": {c: num(v) for c, v in (q.isna().sum() / len(q) * 100).items()},
        "question_tags": {c: num(v) for c, v in (tags.isna().sum() / len(tags) * 100).items()},
    }}
    t["task1"] = time.perf_counter() - s

    s = time.perf_counter()
    sc = q["Score"]
    ans["task2"] = {"mean": num(sc.mean()), "std": num(sc.std()), "median": num(sc.median()),
                    "min": num(sc.min()), "max": num(sc.max())}
    t["task2"] = time.perf_counter() - s

    s = time.perf_counter()
    vc = tags.groupby("Tag").size().rename("NumQuestions").reset_index()
    ans["task3"] = {"top": [{"Tag": r.Tag, "NumQuestions": num(r.NumQuestions)}
                            for r in top(vc, "NumQuestions", "Tag").itertuples()]}
    t["task3"] = time.perf_counter() - s

    s = time.perf_counter()
    ans["task4"] = {"dangling": int((~tags["Id"].isin(q["Id"])).any())}
    t["task4"] = time.perf_counter() - s

    def task5():
        g = q.groupby("OwnerUserId").agg(AverageScore=("Score", "mean"), NumQuestions=("Id", "count"),
                                         NumAnswers=("AnswerCount", "sum")).reset_index()
        return {"top": [{"OwnerUserId": num(r.OwnerUserId), "AverageScore": num(r.AverageScore),
                         "NumQuestions": num(r.NumQuestions), "NumAnswers": num(r.NumAnswers)}
                        for r in top(g, "NumQuestions", "OwnerUserId").itertuples()]}

    def task6():
        m = q.merge(tags, on="Id")
        g = m.groupby("Tag").agg(AverageScore=("Score", "mean"), NumAnswers=("AnswerCount", "sum"),
                                 NumQuestions=("Id", "count"), NumOwners=("OwnerUserId", "count")).reset_index()
        rows = lambda d: [{"Tag": r.Tag, "AverageScore": num(r.AverageScore), "NumAnswers": num(r.NumAnswers),
                           "NumQuestions": num(r.NumQuestions), "NumOwners": num(r.NumOwners)} for r in d.itertuples()]
        return {"top_by_questions": rows(top(g, "NumQuestions", "Tag")), "top_by_answers": rows(top(g, "NumAnswers", "Tag"))}

    for name, fn in (("task5", task5), ("task6", task6), ("task7", task5), ("task8", task6)):
        s = time.perf_counter()
        ans[name] = fn()
        t[name] = time.perf_counter() - s
    t["total"] = time.perf_counter() - t0
    out = json.dumps({"answers": ans, "timings_s": t}, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(out)
    else:
        print(out)


if __name__ == "__main__":
    main()
