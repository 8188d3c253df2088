"""Golden values for libaxon's layer and optimiser tests (tests/unit/test-nn.c).

Run with Debian's interpreter (python3-torch, python3-numpy):
    /usr/bin/python3 scripts/ref/lib_ref.py tests/ref/lib
Writes block.safetensors (a pre-LN transformer block: inputs, parameters,
output and every gradient of L = sum(out * R)), gru.safetensors (nn.GRU the
same way) and optim.safetensors (SGD/Adam/AdamW trajectories, schedules).
Deterministic: fixed seeds; the committed files are what the tests read.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np  # noqa: E402



class Attention(nn.Module):
    """Separate q, k, v, o projections, heads side by side in channels."""

    def __init__(self, C, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(C, C) for _ in range(4))

    def forward(self, x, causal=True):
        B, T, C = x.shape
        H, D = self.heads, C // self.heads
        q = self.q(x).view(B, T, H, D).transpose(1, 2)
        k = self.k(x).view(B, T, H, D).transpose(1, 2)
        v = self.v(x).view(B, T, H, D).transpose(1, 2)
        s = q @ k.transpose(-1, -2) / math.sqrt(D)
        if causal:
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
        return self.o(y)


class MLP(nn.Module):
    def __init__(self, C, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(C, hidden), nn.Linear(hidden, C)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-LN: x + attn(ln1(x)), then + mlp(ln2(x)) — as ax_nn_block."""

    def __init__(self, C, heads, hidden):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(C), Attention(C, heads)
        self.ln2, self.mlp = nn.LayerNorm(C), MLP(C, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def golden(module, x, name, out_dir, extra_inputs=()):
    x = x.clone().requires_grad_(True)
    out = module(x, *extra_inputs)
    if isinstance(out, tuple):
        out = out[0]
    R = torch.randn_like(out)
    (out * R).sum().backward()
    t = {"x": x.detach(), "R": R, "out": out.detach(), "grad.x": x.grad}
    for pname, p in module.named_parameters():
        # LayerNorm/GRU params get perturbed so the test is not trivially 1/0.
        t["param." + pname] = p.detach()
        t["grad." + pname] = p.grad
    safetensors_np.save(os.path.join(out_dir, name),
                        {k: v.numpy().astype("float32") for k, v in t.items()})


def lamb_run(p0, grads, lr, wd, sparse, b1=0.9, b2=0.999, eps=1e-6, clamp=10.0):
    p, m, v = p0.clone(), torch.zeros_like(p0), torch.zeros_like(p0)
    for g in grads:
        rows = (g != 0).any(-1) if sparse else torch.ones(g.shape[0], dtype=torch.bool)
        m[rows] = b1 * m[rows] + (1 - b1) * g[rows]
        v[rows] = b2 * v[rows] + (1 - b2) * g[rows] * g[rows]
        step = m[rows] / (v[rows].sqrt() + eps) + wd * p[rows]
        wn, sn = p[rows].norm().clamp(0, clamp), step.norm()
        trust = 1.0 if wn == 0 or sn == 0 else wn / sn
        p[rows] = p[rows] - lr * trust * step
    return p


def main():
    torch.manual_seed(0)
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/ref/lib"
    os.makedirs(out_dir, exist_ok=True)
    block = Block(16, 4, 32)
    with torch.no_grad():
        for n, p in block.named_parameters():
            if n.startswith("ln"):
                p.add_(0.1 * torch.randn_like(p))
    golden(block, torch.randn(2, 6, 16), "block.safetensors", out_dir)

    gru = nn.GRU(5, 7, batch_first=True)
    golden(gru, torch.randn(3, 9, 5), "gru.safetensors", out_dir)

    # Optimisers: 6 steps on a fixed gradient sequence.
    p0 = torch.randn(10)
    grads = torch.randn(6, 10)
    traj = {"p0": p0, "grads": grads}
    for name, make in [
        ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01)),
        ("adam", lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.01)),
        ("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1)),
    ]:
        p = nn.Parameter(p0.clone())
        opt = make([p])
        for g in grads:
            p.grad = g.clone()
            opt.step()
        traj[name] = p.detach()

    # Schedules: OneCycleLR (cosine, 2 phases) over 40 steps.
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=40, pct_start=0.15,
                                                div_factor=25, final_div_factor=1e4)
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    traj["onecycle"] = torch.tensor(lrs)

    # LAMB (You et al. 2019) as torch_optimizer.Lamb (no debiasing, weight
    # norm clamped at 10), written out here; "sparse" updates only the rows
    # whose gradient is not all zero (POYO's SparseLamb for embeddings).
    lp0 = torch.randn(4, 5)
    lgrads = torch.randn(6, 4, 5)
    lgrads[1:4, 2] = 0
    traj["lamb_p0"], traj["lamb_grads"] = lp0, lgrads
    for name, sparse in (("lamb", False), ("lamb_sparse", True)):
        traj[name] = lamb_run(lp0, lgrads, lr=0.02, wd=0.01, sparse=sparse)
    safetensors_np.save(os.path.join(out_dir, "optim.safetensors"),
                        {k: v.numpy().astype("float32") for k, v in traj.items()})
    print("wrote", out_dir)


if __name__ == "__main__":
    main()
