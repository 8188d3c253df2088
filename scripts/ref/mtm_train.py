#!/usr/bin/python3
"""mtm_train.py -- PyTorch reference of mtm-train's model and training step,
for `make bench` (scripts/bench-mtm-train.sh). State-dict names match the
checkpoint names of mtm-train, so its checkpoints load here.

  /usr/bin/python3 scripts/ref/mtm_train.py --threads 1 --steps 100 SESSION...

Prints one line: steps_per_sec=<wall> cpu_steps_per_sec=<per CPU second>. Same model, batch and masking mix
(neuron, causal, intra, inter; causal attention for the causal scheme) as
`mtm-train train`, AdamW + one-cycle + clipping.
"""
import argparse, math, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import safetensors_np


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask=None):
        B, L, C = x.shape
        D = C // self.h
        q = self.q(x).view(B, L, self.h, D).transpose(1, 2)
        k = self.k(x).view(B, L, self.h, D).transpose(1, 2)
        v = self.v(x).view(B, L, self.h, D).transpose(1, 2)
        s = q @ k.transpose(-1, -2) / math.sqrt(D)
        if mask is not None:
            s = s.masked_fill(~mask, float('-inf'))
        y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, L, C)
        return self.o(y)


class MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)


class Block(nn.Module):
    def __init__(self, d, heads, hidden, dropout):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.mlp = MLP(d, hidden)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        x = x + self.drop(self.attn(self.ln1(x), mask))
        return x + self.drop(self.mlp.fc2(F.gelu(self.mlp.fc1(self.ln2(x)))))


class MtM(nn.Module):
    def __init__(self, neurons, T, d=64, layers=2, heads=4, hidden=128, dropout=0.2):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(d, d), nn.Softsign(), nn.Linear(d, d))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(T, d))
        self.prompt_embed = nn.Embedding(5, d)
        self.blocks = nn.ModuleList(Block(d, heads, hidden, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.session_embed = nn.Embedding(len(neurons), d)
        self.stitchers = nn.ModuleList(nn.Linear(n, d) for n in neurons)
        self.readouts = nn.ModuleList(nn.Linear(d, n) for n in neurons)
        L = T + 2
        i = torch.arange(L)[:, None]; j = torch.arange(L)[None, :]
        self.register_buffer('causal', (j < 2) | ((i >= 2) & (j <= i)), persistent=False)

    def forward(self, x, session, prompt):
        B = x.shape[0]
        h = self.embed(self.stitchers[session](x)) + self.pos_embed
        p = self.prompt_embed.weight[prompt].expand(B, 1, -1)
        s = self.session_embed.weight[session].expand(B, 1, -1)
        h = torch.cat([p, s, h], 1)
        mask = self.causal if prompt == 1 else None
        for b in self.blocks:
            h = b(h, mask)
        return self.readouts[session](self.ln_f(h[:, 2:]))


def draw_mask(scheme, T, N, region, nreg, rng):
    keep = np.ones((T, N), np.float32); target = np.zeros((T, N), np.float32)
    if scheme == 0:                     # neuron
        cols = rng.random(N) < 0.3
        if not cols.any(): cols[rng.integers(N)] = True
        keep[:, cols] = 0; target[:, cols] = 1
    elif scheme == 1:                   # causal
        rows = rng.random(T) < 0.6
        if not rows.any(): rows[rng.integers(T)] = True
        keep[rows] = 0; target[rows] = 1
    elif scheme == 3:                   # inter
        cols = region == rng.integers(nreg)
        keep[:, cols] = 0; target[:, cols] = 1
    else:                               # intra
        r = rng.integers(nreg); inside = region == r
        keep[:, ~inside] = 0
        cols = inside & (rng.random(N) < 0.3)
        if not cols.any(): cols[np.flatnonzero(inside)[rng.integers(inside.sum())]] = True
        keep[:, cols] = 0; target[:, cols] = 1
    return keep, target


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sessions', nargs='+')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--warmup-steps', type=int, default=10)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--dim', type=int, default=64)
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--heads', type=int, default=4)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    rng = np.random.default_rng(42)
    data = []
    for path in args.sessions:
        t = safetensors_np.load(path)
        t = t[0] if isinstance(t, tuple) else t
        reg = t['regions']; _, reg = np.unique(reg, return_inverse=True)
        data.append((torch.from_numpy(np.array(t['counts'], np.float32)), reg, reg.max() + 1))
    T = data[0][0].shape[1]
    model = MtM([d[0].shape[2] for d in data], T, args.dim, args.layers, args.heads, 2 * args.dim)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    total = args.steps + args.warmup_steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=total, pct_start=0.15)
    lossf = nn.PoissonNLLLoss(log_input=True, full=False, reduction='none')
    model.train()
    for step in range(total):
        if step == args.warmup_steps:
            t0, c0 = time.perf_counter(), time.process_time()
        s = int(rng.integers(len(data)))
        counts, region, nreg = data[s]
        scheme = [0, 1, 2, 3][int(rng.integers(4))]
        idx = rng.choice(counts.shape[0] * 4 // 5, args.batch, replace=False)
        y = counts[idx]
        masks = [draw_mask(scheme, T, y.shape[2], region, nreg, rng) for _ in idx]
        keep = torch.from_numpy(np.stack([m[0] for m in masks]))
        w = torch.from_numpy(np.stack([m[1] for m in masks]))
        out = model(y * keep, s, scheme)
        loss = (lossf(out, y) * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); sched.step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print('steps_per_sec=%.3f cpu_steps_per_sec=%.3f' % (args.steps / dt, args.steps / dc))


if __name__ == '__main__':
    main()
