"""PyTorch reference of agent-probe's policy (cmd/agent-probe/model.c): the
same equations and state-dict names, so a checkpoint loads here as it is.

  /usr/bin/python3 scripts/ref/agent_probe.py --threads 1 --steps 100
      behaviour-cloning steps (batch 16 episodes x 32 steps of random one-hot
      observations and actions: the expert data's mean length; the C trainer
      also builds its expert episodes inside each step, about 2 ms of it);
      prints steps_per_sec=<wall> cpu_steps_per_sec=<per CPU second>.
  /usr/bin/python3 scripts/ref/agent_probe.py --golden tests/ref/agent-probe
      writes a tiny model's weights (weights.safetensors), observations
      (obs.npy) and logits and attention probabilities (logits.npy,
      probs.npy) for the unit test.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402

OBS, NACT, TMAX = 203, 5, 40


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, band):
        B, T, C = x.shape
        H, D = self.heads, C // self.heads
        q, k, v = (f(x).view(B, T, H, D).transpose(1, 2) for f in (self.q, self.k, self.v))
        s = q @ k.transpose(-1, -2) / math.sqrt(D)
        p = torch.softmax(s.masked_fill(~band, float('-inf')), -1)
        self.probs = p
        return self.o((p @ v).transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn, self.mlp = Attention(d, heads), MLP(d, 4 * d)

    def forward(self, x, band):
        x = x + self.attn(self.ln1(x), band)
        return x + self.mlp(self.ln2(x))


class Policy(nn.Module):
    def __init__(self, memory=32, dim=64, layers=2, heads=4):
        super().__init__()
        self.memory = memory
        self.embed = nn.Linear(OBS, dim)
        self.pos = nn.Parameter(torch.randn(TMAX, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, NACT)

    def forward(self, obs):
        T = obs.shape[1]
        t = torch.arange(T)
        band = (t[None, :] <= t[:, None]) & (t[:, None] - t[None, :] < self.memory)
        x = self.embed(obs) + self.pos[:T]
        for b in self.blocks:
            x = b(x, band)
        return self.head(self.ln_f(x))


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    m = Policy()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    B, T = 16, 32
    g = torch.Generator().manual_seed(1)
    cells = torch.randint(0, 8, (B, T, 25), generator=g)
    obs = torch.cat([F.one_hot(cells, 8).view(B, T, 200).float(),
                     F.one_hot(torch.randint(0, 3, (B, T), generator=g), 3).float()], -1)
    act = torch.randint(0, NACT, (B * T,), generator=g)
    for i in range(args.steps + 5):
        if i == 5:
            t0, c0 = time.perf_counter(), time.process_time()
        loss = F.cross_entropy(m(obs).view(-1, NACT), act)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print('steps_per_sec=%.3f cpu_steps_per_sec=%.3f' % (args.steps / dt, args.steps / dc))


def golden(out):
    torch.manual_seed(3)
    m = Policy(memory=5, dim=16, layers=2, heads=2)
    with torch.no_grad():
        for p in m.parameters():   # away from the defaults: LN gains and biases too
            p.copy_(torch.randn_like(p) * 0.3 + (1 if p.dim() == 1 and p.shape[0] == 16 else 0))
    N, T = 2, 12
    obs = (torch.rand(N, T, OBS) < 0.1).float()
    with torch.no_grad():
        logits = m(obs)
    probs = torch.stack([b.attn.probs for b in m.blocks])   # (L, N, H, T, T)
    os.makedirs(out, exist_ok=True)
    safetensors_np.save(os.path.join(out, 'weights.safetensors'),
                        {k: v.numpy() for k, v in m.state_dict().items()})
    np.save(os.path.join(out, 'obs.npy'), obs.numpy())
    np.save(os.path.join(out, 'logits.npy'), logits.numpy())
    np.save(os.path.join(out, 'probs.npy'), probs.numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--golden')
    args = ap.parse_args()
    if args.golden:
        golden(args.golden)
    else:
        bench(args)


if __name__ == '__main__':
    main()
