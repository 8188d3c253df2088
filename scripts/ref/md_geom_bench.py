"""NumPy/PyTorch side of scripts/bench-md-geom.sh: the same score and
train step as md-geom, timed on this machine.
    md_geom_bench.py score W0.npy W1.npy     -> weights_per_sec=...
    md_geom_bench.py train D N STEPS POT THREADS -> steps_per_sec=...
score: md_geom.score (NumPy float64, sort + searchsorted) for the 21
default candidates. train: full-batch MSE gradient and one mirror-descent
step (momentum 0.9) in float32 torch, as md-geom train does per step."""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import md_geom  # noqa: E402


def bench_score(p0, p1):
    w0, w1 = np.load(p0).ravel(), np.load(p1).ravel()
    t = time.perf_counter()
    for c in md_geom.candidates():
        md_geom.score(c, w0, w1)
    dt = time.perf_counter() - t
    print("weights_per_sec=%.4g seconds=%.3f" % (w0.size / dt, dt))


def bench_train(D, N, steps, pot, threads):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    X = torch.randn(N, D, generator=g)
    y = torch.sign(torch.randn(N, generator=g))
    w = torch.randn(D, generator=g) / D ** 0.5
    buf = torch.zeros(D)
    lr = 1e-4
    t = time.perf_counter()
    for _ in range(steps):
        r = X @ w - y
        grad = (2.0 / N) * (X.t() @ r)
        md_geom.md_step(pot, w, grad, buf, lr, 0.9)
    dt = time.perf_counter() - t
    print("steps_per_sec=%.4g loss=%.4g" % (steps / dt, float(((X @ w - y) ** 2).mean())))


if __name__ == "__main__":
    if sys.argv[1] == "score":
        bench_score(sys.argv[2], sys.argv[3])
    else:
        bench_train(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
                    int(sys.argv[6]))
