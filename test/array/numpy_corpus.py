# Evaluates the corpus expressions with NumPy on the same .npy inputs.
# Usage: python3 numpy_corpus.py DIR  (DIR has corpus.json and the inputs; writes DIR/out/NAME.npy)
import json, os, sys
import numpy as np

d = sys.argv[1]
rng = np.random.default_rng(17)
def nanify(x):
    x = x.copy(); x[rng.random(x.shape) < 0.2] = np.nan; return x
inputs = {
    "a": rng.standard_normal((7, 5)),
    "n": nanify(rng.standard_normal((7, 5))),
    "b": rng.standard_normal(5),
    "c": rng.standard_normal((7, 1)),
    "i": rng.integers(-10, 10, (7, 5)).astype(np.int32),
    "j": rng.integers(1, 6, (7, 5)).astype(np.int32),
    "u": rng.integers(0, 256, (7, 5)).astype(np.uint8),
    "f": rng.standard_normal((7, 5)).astype(np.float32),
    "m": rng.random((7, 5)) < 0.5,
    "l": rng.integers(-1000, 1000, 13).astype(np.int64),
    "e": np.zeros((0, 5)),
    "t": rng.standard_normal((4, 3, 6)),
    "s": rng.standard_normal((40, 3)),
    "g": rng.standard_normal(1000).astype(np.float32),
    "p": rng.random((7, 5)) + 0.5,
}
for k, v in inputs.items():
    np.save(os.path.join(d, k + ".npy"), v)
corpus = json.load(open(os.path.join(d, "corpus.json")))
os.makedirs(os.path.join(d, "out"), exist_ok=True)
with np.errstate(all="ignore"):
    for name, expr in corpus:
        r = np.asarray(eval(expr, {"np": np, **inputs}))
        np.save(os.path.join(d, "out", name + ".npy"), r.copy(order="C"))
print(np.__version__)
