#!/usr/bin/python3
"""poyo_train.py -- the PyTorch reference of poyo-train's model, for
`make bench` (scripts/bench-poyo-train.sh): training windows per second of
the same model and batch as `poyo-train train` with its defaults.

    /usr/bin/python3 scripts/ref/poyo_train.py --threads N --steps S SESSION...

The model (cmd/poyo-train/model.c): spike tokens UnitEmb + TypeEmb with
start/end tokens per unit, 8 latents per 0.125 s step, a rotary
cross-attention encoder (rotary on q, k, v; output turned back), depth
rotary self-attention layers, a session-embedding decoder (rotary q, k),
pre-LayerNorm GEGLU feed-forwards, Linear -> 2; POYO's time rotary on half
of each head's dims. Batches as poyo-train draws them: a session, a
training trial, a random 1 s crop, unit dropout, padding to the longest
window. LAMB (as torch_optimizer.Lamb) with weight decay 1e-4. Prints
"windows_per_sec=X steps=S threads=N" after warm-up steps.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402
from timing import timed  # noqa: E402

DIM, DEPTH, CROSS, SELF, LAT, STEPS_PER_WIN = 64, 2, 2, 2, 8, 8


def inv_freq(d, t_min=1e-4, t_max=4.0):
    f = torch.zeros(d // 2)
    f[: d // 4] = 2 * math.pi / (t_min * (t_max / t_min) ** (torch.arange(0, d // 2, 2).float() / (d // 2)))
    return f


def rotate(x, ang):
    """x (B, T, H, D); ang (B, T, D/2): pairs (2i, 2i+1) turned by ang."""
    c, s = ang.cos()[:, :, None], ang.sin()[:, :, None]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).flatten(-2)


class Attn(nn.Module):
    def __init__(self, heads, rotate_value):
        super().__init__()
        self.norm, self.context_norm = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
        self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM) for _ in range(4))
        self.h, self.rv = heads, rotate_value
        self.register_buffer("f", inv_freq(DIM // heads))

    def forward(self, x, ctx, tq, tk, pad=None):
        B, Tq, Tk, H, D = x.shape[0], x.shape[1], ctx.shape[1], self.h, DIM // self.h
        x, ctx = self.norm(x), self.context_norm(ctx)
        aq, ak = tq[..., None] * self.f, tk[..., None] * self.f
        q = rotate(self.q(x).view(B, Tq, H, D), aq)
        k = rotate(self.k(ctx).view(B, Tk, H, D), ak)
        v = self.v(ctx).view(B, Tk, H, D)
        if self.rv:
            v = rotate(v, ak)
        s = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(D)
        if pad is not None:
            s = s.masked_fill(pad[:, None, None, :], float("-inf"))
        out = torch.einsum("bhqk,bkhd->bqhd", s.softmax(-1), v)
        if self.rv:
            out = rotate(out, -aq)
        return self.o(out.reshape(B, Tq, DIM))


class FFN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(DIM), nn.Linear(DIM, 8 * DIM), nn.Identity(),
                                 nn.Linear(4 * DIM, DIM))

    def forward(self, x):
        a, g = self.net[1](self.net[0](x)).chunk(2, -1)
        return self.net[3](a * F.gelu(g))


class Poyo(nn.Module):
    def __init__(self, units, sessions):
        super().__init__()
        self.unit_emb, self.session_emb = nn.Embedding(units, DIM), nn.Embedding(sessions, DIM)
        self.token_type_emb, self.latent_emb = nn.Embedding(3, DIM), nn.Embedding(LAT, DIM)
        self.enc_atn, self.enc_ffn = Attn(CROSS, True), FFN()
        self.proc = nn.ModuleList(nn.ModuleList([Attn(SELF, True), FFN()]) for _ in range(DEPTH))
        self.dec_atn, self.dec_ffn = Attn(CROSS, False), FFN()
        self.readout = nn.Linear(DIM, 2)

    def forward(self, unit, typ, t, pad, sess, qt):
        B = unit.shape[0]
        x = self.unit_emb(unit) + self.token_type_emb(typ)
        L = LAT * STEPS_PER_WIN
        z = self.latent_emb.weight.repeat(STEPS_PER_WIN, 1)[None].expand(B, L, DIM)
        lt = ((torch.arange(L) // LAT + 0.5) / STEPS_PER_WIN)[None].expand(B, L)
        z = z + self.enc_atn(z, x, lt, t, pad)
        z = z + self.enc_ffn(z)
        for a, f in self.proc:
            z = z + a(z, z, lt, lt)
            z = z + f(z)
        y = self.session_emb(sess)[:, None].expand(B, qt.shape[1], DIM)
        y = y + self.dec_atn(y, z, qt, lt)
        y = y + self.dec_ffn(y)
        return self.readout(y)


def lamb_step(params, state, lr, wd=1e-4, b1=0.9, b2=0.999, eps=1e-6):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            m, v = state.setdefault(p, (torch.zeros_like(p), torch.zeros_like(p)))
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            u = m / (v.sqrt() + eps) + wd * p
            wn, un = p.norm().clamp(0, 10), u.norm()
            p.add_(u, alpha=-lr * (1.0 if wn == 0 or un == 0 else float(wn / un)))


def load(paths):
    out = []
    for p in paths:
        t, meta = safetensors_np.load(p)
        out.append(dict(st=t["spike_times"], su=t["spike_units"], ht=t["hand_t"], hv=t["hand_vel"],
                        ts=t["trial_start"], te=t["trial_end"], U=int(meta["units"])))
    return out


def batch(rng, ss, offsets, B):
    win = []
    for _ in range(B):
        i = rng.integers(len(ss))
        s = ss[i]
        m = rng.integers(int(round(len(s["ts"]) * 0.8)))
        t0 = s["ts"][m] + max(0.0, s["te"][m] - s["ts"][m] - 1.0) * rng.random()
        U = s["U"]
        k = int(round(U / 2 + U / 2 * math.sqrt(rng.random())))
        keep = np.zeros(U, bool)
        keep[rng.choice(U, k, replace=False)] = True
        a, e = np.searchsorted(s["st"], [t0, t0 + 1.0])
        sel = keep[s["su"][a:e]]
        ku = np.nonzero(keep)[0]
        unit = np.concatenate([ku, s["su"][a:e][sel], ku]) + offsets[i]
        typ = np.concatenate([np.ones(k), np.zeros(sel.sum()), 2 * np.ones(k)])
        tt = np.concatenate([np.zeros(k), s["st"][a:e][sel] - t0, np.ones(k)])
        qa, qe = np.searchsorted(s["ht"], [t0, min(t0 + 1.0, s["te"][m])])
        win.append((unit, typ, tt, i, s["ht"][qa:qe] - t0, s["hv"][qa:qe]))
    T, Q = max(len(w[0]) for w in win), max(len(w[4]) for w in win)
    unit, typ = np.zeros((B, T), np.int64), np.zeros((B, T), np.int64)
    t, pad = np.zeros((B, T), np.float32), np.ones((B, T), bool)
    qt, y = np.zeros((B, Q), np.float32), np.zeros((B, Q, 2), np.float32)
    for b, (u, ty, tt, i, q, v) in enumerate(win):
        n = len(u)
        unit[b, :n], typ[b, :n], t[b, :n], pad[b, :n] = u, ty, tt, False
        qt[b, :len(q)], y[b, :len(q)] = q, v
    sess = np.array([w[3] for w in win])
    return [torch.from_numpy(a) for a in (unit, typ, t, pad, sess, qt, y)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("sessions", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    ss = load(a.sessions)
    offsets = np.cumsum([0] + [s["U"] for s in ss])[:-1]
    model = Poyo(int(sum(s["U"] for s in ss)), len(ss))
    state, rng = {}, np.random.default_rng(0)

    def step():
        unit, typ, t, pad, sess, qt, y = batch(rng, ss, offsets, a.batch)
        loss = ((model(unit, typ, t, pad, sess, qt) - y * 5) ** 2).mean()
        model.zero_grad()
        loss.backward()
        lamb_step(list(model.parameters()), state, 4e-3)

    dt = timed(step, a.steps, 3)
    print(f"windows_per_sec={a.steps * a.batch / dt:.1f} steps={a.steps} threads={a.threads}")


if __name__ == "__main__":
    main()
