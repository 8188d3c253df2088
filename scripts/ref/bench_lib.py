"""PyTorch side of `make bench` for the library: the same pre-LN block and
GRU as `ax-bench block|gru`, forward + backward, same sizes.

    /usr/bin/python3 scripts/ref/bench_lib.py block|gru THREADS [ITERS]
Prints: bench,threads,ms_per_iter
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from lib_ref import Block  # noqa: E402  (same module as the golden values)

what, threads = sys.argv[1], int(sys.argv[2])
iters = int(sys.argv[3]) if len(sys.argv) > 3 else (20 if what == "block" else 10)
torch.set_num_threads(threads)
torch.manual_seed(1)

if what == "block":
    B, T, C = 8, 128, 256
    model = Block(C, 4, 4 * C)
    x = torch.randn(B, T, C)
    def step():
        xx = x.clone().requires_grad_(True)
        model(xx).mean().backward()
else:
    B, T, H = 64, 256, 64
    model = torch.nn.GRU(H, H, batch_first=True)
    x = torch.randn(B, T, H)
    def step():
        xx = x.clone().requires_grad_(True)
        model(xx)[0].mean().backward()

for _ in range(2):
    step()
t0 = time.perf_counter()
for _ in range(iters):
    step()
print(f"{what},{threads},{1e3 * (time.perf_counter() - t0) / iters:.3f}")
