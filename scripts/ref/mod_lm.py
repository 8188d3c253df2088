#!/usr/bin/python3
"""PyTorch reference of mod-lm's Mixture-of-Depths transformer (same parameter names).

  mod_lm.py eval CKPT FILE [--router topk|aux|predictor] [--max-bytes N]
      loads a mod-lm checkpoint (safetensors, parsed by hand) and prints the
      mean validation loss in nats/byte over the same windows `mod-lm eval`
      uses (non-overlapping windows of min(ctx, n-1) + 1 bytes).
  mod_lm.py bench [--capacity F] [--layers N] [--dim C] [--heads H] [--ctx S]
                  [--batch B] [--steps N] [--threads T] [--predictor]
      times training steps (AdamW, clipping, aux + predictor losses as
      mod-lm train does) and prints tokens/s.

Model: pre-LN blocks x + attn(ln1 x) then + mlp(ln2 .); a routed block
(every route_every-th, capacity < 1) selects per sequence the top-k router
logits r = w.x, k = max(1, ceil(capacity*S)), keeps them in causal order,
runs attention (causal at the original positions) + MLP over the selected
tokens only and adds r * f to them.
"""
import argparse
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from timing import timed


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + hlen
    dtypes = {"F32": np.float32, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
    tensors = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        arr = np.frombuffer(raw[base + lo:base + hi], dtype=dtypes[e["dtype"]])
        tensors[name] = arr.reshape(e["shape"]).copy()
    return tensors, meta


class Block(nn.Module):
    def __init__(self, C, heads, hidden, routed, learned_router, predictor):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(C)
        self.attn = nn.Module()
        for n in "qkvo":
            setattr(self.attn, n, nn.Linear(C, C))
        self.ln2 = nn.LayerNorm(C)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(C, hidden)
        self.mlp.fc2 = nn.Linear(hidden, C)
        self.routed = routed
        if routed and learned_router:
            self.router = nn.Linear(C, 1, bias=False)
            if predictor:
                self.predictor = nn.Sequential(nn.Linear(C, C // 2), nn.SiLU(), nn.Linear(C // 2, 1))

    def delta(self, x, pos, rope):
        """f(x) = a + m for x (B, T, C) at integer positions pos (B, T)."""
        B, T, C = x.shape
        H, D = self.heads, C // self.heads
        h = self.ln1(x)
        q = self.attn.q(h).view(B, T, H, D)
        k = self.attn.k(h).view(B, T, H, D)
        v = self.attn.v(h).view(B, T, H, D)
        if rope:
            i = torch.arange(D // 2, dtype=torch.float64)
            ang = pos.to(torch.float64)[..., None] * torch.pow(10000.0, -2.0 * i / D)
            cos, sin = torch.cos(ang).float()[:, :, None, :], torch.sin(ang).float()[:, :, None, :]

            def rot(t):
                t0, t1 = t[..., 0::2], t[..., 1::2]
                return torch.stack((t0 * cos - t1 * sin, t0 * sin + t1 * cos), -1).flatten(-2)
            q, k = rot(q), rot(k)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))           # (B, H, T, D)
        scores = q @ k.transpose(-1, -2) / math.sqrt(D)
        allowed = pos[:, None, None, :] <= pos[:, None, :, None]   # key pos <= query pos
        scores = scores.masked_fill(~allowed, float("-inf"))
        att = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(B, T, C)
        a = self.attn.o(att)
        m = self.mlp.fc2(F.gelu(self.mlp.fc1(self.ln2(x + a))))
        return a + m


class ModLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        C = cfg["dim"]
        self.tok_emb = nn.Embedding(256, C)
        if cfg["pos"] == "learned":
            self.pos_emb = nn.Embedding(cfg["ctx"], C)
        self.blocks = nn.ModuleList()
        for l in range(cfg["layers"]):
            routed = cfg["capacity"] < 1 and l % cfg["route_every"] == cfg["route_every"] - 1
            self.blocks.append(Block(C, cfg["heads"], cfg["hidden"], routed,
                                     cfg["route"] == "learned", cfg["predictor"]))
        self.ln_f = nn.LayerNorm(C)
        self.lm_head = nn.Linear(C, 256, bias=False)

    def k_of(self, S):
        return min(S, max(1, math.ceil(self.cfg["capacity"] * S - 1e-9)))

    def forward(self, tok, router="topk"):
        """tok (B, S) -> logits (B, S, 256), aux loss, predictor loss."""
        B, S = tok.shape
        rope = self.cfg["pos"] == "rope"
        x = self.tok_emb(tok)
        if not rope:
            x = x + self.pos_emb(torch.arange(S))
        pos_all = torch.arange(S).expand(B, S)
        aux = pred = 0.0
        nrouted = 0
        for blk in self.blocks:
            if not blk.routed:
                x = x + blk.delta(x, pos_all, rope)
                continue
            nrouted += 1
            r = blk.router(x).squeeze(-1)                          # (B, S)
            p = blk.predictor(x.detach()).squeeze(-1) if hasattr(blk, "predictor") else None
            if router == "topk":
                idx = torch.topk(r, self.k_of(S), dim=1).indices.sort(dim=1).values
            else:
                assert B == 1
                dec = r if router == "aux" else p
                idx = torch.nonzero(dec[0] > 0).view(1, -1)
            member = torch.zeros(B, S)
            member.scatter_(1, idx, 1.0)
            aux = aux + F.binary_cross_entropy_with_logits(r, member)
            if p is not None:
                pred = pred + F.binary_cross_entropy_with_logits(p, member)
            if idx.shape[1] == 0:
                continue
            gidx = idx[..., None].expand(-1, -1, x.shape[-1])
            xs = torch.gather(x, 1, gidx)
            f = blk.delta(xs, idx, rope) * torch.gather(r, 1, idx)[..., None]
            x = x.scatter_add(1, gidx, f)
        logits = self.lm_head(self.ln_f(x))
        return logits, aux / max(nrouted, 1), pred / max(nrouted, 1)


def config_from_meta(meta):
    return {
        "layers": int(meta["mod-lm.layers"]), "dim": int(meta["mod-lm.dim"]),
        "heads": int(meta["mod-lm.heads"]), "ctx": int(meta["mod-lm.ctx"]),
        "hidden": int(meta["mod-lm.hidden"]), "pos": meta["mod-lm.pos"],
        "capacity": float(meta["mod-lm.capacity"]),
        "route_every": int(meta["mod-lm.route_every"]), "route": meta["mod-lm.route"],
        "predictor": int(meta["mod-lm.predictor"]),
    }


def cmd_eval(a):
    tensors, meta = load_safetensors(a.checkpoint)
    if meta.get("axon.kind") != "mod-lm":
        sys.exit("mod_lm.py: not a mod-lm checkpoint")
    model = ModLM(config_from_meta(meta))
    state = {k: torch.from_numpy(v) for k, v in tensors.items() if not k.startswith("optim.")}
    model.load_state_dict(state, strict=True)
    data = open(a.file, "rb").read()[:a.max_bytes]
    n = len(data)
    S = min(model.cfg["ctx"], n - 1)
    nwin = (n - 1) // S
    buf = torch.tensor(list(data[:nwin * S + 1]), dtype=torch.long)
    inp = buf[:-1].view(nwin, S)
    tgt = buf[1:].view(nwin, S)
    total = 0.0
    step = 16 if a.router == "topk" else 1
    with torch.no_grad():
        for w in range(0, nwin, step):
            logits, _, _ = model(inp[w:w + step], a.router)
            total += F.cross_entropy(logits.reshape(-1, 256), tgt[w:w + step].reshape(-1),
                                     reduction="sum").item()
    print("%.7f" % (total / (nwin * S)))


def cmd_bench(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = {"layers": a.layers, "dim": a.dim, "heads": a.heads, "ctx": a.ctx, "hidden": 4 * a.dim,
           "pos": "learned", "capacity": a.capacity, "route_every": 2, "route": "learned",
           "predictor": int(a.predictor)}
    model = ModLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    data = torch.randint(0, 256, (a.batch, a.ctx + 1))
    routed = cfg["capacity"] < 1

    def step():
        logits, aux, pred = model(data[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 256), data[:, 1:].reshape(-1))
        if routed:
            loss = loss + 0.01 * aux + pred
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    dt = timed(step, a.steps, 3)
    print("%.1f" % (a.steps * a.batch * a.ctx / dt))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval")
    e.add_argument("checkpoint")
    e.add_argument("file")
    e.add_argument("--router", default="topk", choices=["topk", "aux", "predictor"])
    e.add_argument("--max-bytes", type=int, default=1 << 62)
    b = sub.add_parser("bench")
    b.add_argument("--capacity", type=float, default=0.125)
    b.add_argument("--layers", type=int, default=4)
    b.add_argument("--dim", type=int, default=128)
    b.add_argument("--heads", type=int, default=4)
    b.add_argument("--ctx", type=int, default=128)
    b.add_argument("--batch", type=int, default=16)
    b.add_argument("--steps", type=int, default=10)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--predictor", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(getattr(a, "threads", 1) or 1)
    (cmd_eval if a.cmd == "eval" else cmd_bench)(a)


if __name__ == "__main__":
    main()
