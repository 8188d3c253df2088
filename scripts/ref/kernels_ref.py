#!/usr/bin/python3
"""kernels_ref.py -- PyTorch golden values for lib/kernels_*.c.

Regenerate (from the repository root, with Debian's interpreter, which has
torch 1.13 and numpy):

    /usr/bin/python3 scripts/ref/kernels_ref.py

It writes one safetensors bundle per kernel family into tests/ref/kernels/:
fixed small inputs, a fixed random cotangent R, the forward outputs, and the
gradients of L = sum(out * R). Names are "<case>.<tensor>"; each case has a
"<case>.cfg" int32 vector whose layout the C test (tests/unit/test-kernels.c)
documents next to where it reads it. Everything is seeded, so running it again
gives the same files. float32 throughout, as in the C kernels.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ref", "kernels")

DTYPES = {np.float32: "F32", np.int32: "I32", np.uint8: "U8"}


def save_bundle(name, tensors):
    """Minimal safetensors writer: 8-byte LE header size, JSON, raw data."""
    header, blobs, off = {}, [], 0
    for key, arr in tensors.items():
        if isinstance(arr, torch.Tensor):
            arr = arr.detach().cpu().numpy()
        arr = np.ascontiguousarray(arr)
        dt = DTYPES[arr.dtype.type]
        raw = arr.tobytes()
        header[key] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def grads_of(out, inputs, R):
    """Gradients of sum(out * R) w.r.t. inputs (None where not required)."""
    for t in inputs:
        if t is not None and t.grad is not None:
            t.grad = None
    (out * R).sum().backward()
    return [t.grad.clone() if t is not None else None for t in inputs]


def cfg(*v):
    return np.array(v, dtype=np.int32)


# ---- normalisation, softmax, cross-entropy ----
def norm_cases():
    t = {}
    N, C, eps = 6, 10, 1e-5
    x = (randn(N, C) * 2 + 0.5).requires_grad_()
    g = (1 + 0.3 * randn(C)).requires_grad_()
    b = (0.2 * randn(C)).requires_grad_()
    R = randn(N, C)
    y = F.layer_norm(x, (C,), g, b, eps)
    dx, dg, db = grads_of(y, [x, g, b], R)
    t.update({"ln.cfg": cfg(N, C), "ln.x": x, "ln.gamma": g, "ln.beta": b, "ln.R": R, "ln.y": y,
              "ln.dx": dx, "ln.dgamma": dg, "ln.dbeta": db})
    # rmsnorm by hand (no builtin in torch 1.13)
    x.grad = g.grad = None
    y = x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * g
    dx, dg = grads_of(y, [x, g], R)
    t.update({"rms.cfg": cfg(N, C), "rms.x": x, "rms.gamma": g, "rms.R": R, "rms.y": y,
              "rms.dx": dx, "rms.dgamma": dg})
    # softmax / log-softmax
    x = (randn(N, C) * 3).requires_grad_()
    y = torch.softmax(x, -1)
    (dx,) = grads_of(y, [x], R)
    t.update({"sm.cfg": cfg(N, C), "sm.x": x, "sm.R": R, "sm.y": y, "sm.dx": dx})
    y = torch.log_softmax(x, -1)
    (dx,) = grads_of(y, [x], R)
    t.update({"lsm.y": y, "lsm.dx": dx})
    # cross-entropy: label smoothing 0.1, ignore_index -1 on two rows
    N, V = 8, 7
    logits = (randn(N, V) * 2).requires_grad_()
    tgt = torch.randint(0, V, (N,))
    tgt[2] = -1
    tgt[5] = -1
    for name, s in (("xent", 0.1), ("xent0", 0.0)):
        logits.grad = None
        loss = F.cross_entropy(logits, tgt, ignore_index=-1, label_smoothing=s)
        loss.backward()
        t.update({name + ".cfg": cfg(N, V, -1), name + ".smoothing": np.array([s], np.float32),
                  name + ".logits": logits, name + ".targets": tgt.to(torch.int32),
                  name + ".loss": loss.reshape(1), name + ".dlogits": logits.grad.clone()})
    save_bundle("norm", t)


# ---- attention ----
def rope(x, pos, base):
    """x (B, T, H, D), pos (B, T): rotate pairs (2i, 2i+1) by pos * base^(-2i/D).
    Angles in float64 (as the C kernel does), applied in float32."""
    D = x.shape[-1]
    inv = base ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)       # (D/2)
    ang = pos.to(torch.float64)[..., None] * inv                         # (B, T, D/2)
    c = torch.cos(ang).float()[:, :, None, :]
    s = torch.sin(ang).float()[:, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y0 = x0 * c - x1 * s
    y1 = x0 * s + x1 * c
    return torch.stack([y0, y1], -1).flatten(-2)


def attention(q, k, v, a):
    """Reference for ax_attn_forward: q (B, Tq, H*D), k, v (B, Tk, H*D)."""
    B, Tq, Tk, H, D = a["B"], a["Tq"], a["Tk"], a["H"], a["D"]
    qpos = a["qpos"] if a["qpos"] is not None else (torch.arange(Tq) + Tk - Tq).expand(B, Tq)
    kpos = a["kpos"] if a["kpos"] is not None else torch.arange(Tk).expand(B, Tk)
    q = q.view(B, Tq, H, D)
    k = k.view(B, Tk, H, D)
    v = v.view(B, Tk, H, D)
    base = a["base"] or 10000.0
    if a["rope"]:
        q, k = rope(q, qpos, base), rope(k, kpos, base)
    if a["rope_v"]:
        v = rope(v, kpos, base)
    q, k, v = (t.permute(0, 2, 1, 3) for t in (q, k, v))                 # (B, H, T, D)
    scale = a["scale"] or 1.0 / math.sqrt(D)
    s = (q @ k.transpose(-1, -2)) * scale                                # (B, H, Tq, Tk)
    ok = torch.ones(B, Tq, Tk, dtype=torch.bool)
    dpos = qpos[:, :, None] - kpos[:, None, :]
    if a["causal"]:
        ok &= dpos >= 0
    if a["window"] > 0:
        ok &= dpos < a["window"]
    if a["key_pad"] is not None:
        ok &= a["key_pad"][:, None, :] == 0
    if a["mask"] is not None:
        m = a["mask"] if a["mask"].dim() == 3 else a["mask"][None]
        ok &= m != 0
    ok = ok[:, None]                                                     # (B, 1, Tq, Tk)
    anyk = ok.any(-1, keepdim=True)
    s = s.masked_fill(~ok, float("-inf")).masked_fill(~anyk, 0.0)       # no NaN rows
    p = torch.softmax(s, -1) * ok                                        # dead rows -> 0
    out = p @ v                                                          # (B, H, Tq, D)
    return out.permute(0, 2, 1, 3).reshape(B, Tq, H * D)


def attn_case(t, name, B, Tq, Tk, H, D, causal=0, window=0, key_pad=None, mask=None,
              qpos=None, kpos=None, rope_=0, rope_v=0, base=0.0, scale=0.0):
    a = dict(B=B, Tq=Tq, Tk=Tk, H=H, D=D, causal=causal, window=window, key_pad=key_pad,
             mask=mask, qpos=qpos, kpos=kpos, rope=rope_, rope_v=rope_v, base=base, scale=scale)
    q = randn(B, Tq, H * D).requires_grad_()
    k = randn(B, Tk, H * D).requires_grad_()
    v = randn(B, Tk, H * D).requires_grad_()
    R = randn(B, Tq, H * D)
    out = attention(q, k, v, a)
    assert torch.isfinite(out).all()
    dq, dk, dv = grads_of(out, [q, k, v], R)
    # cfg: B Tq Tk H D causal window rope rope_v mask_kind(0 none,1 shared,2 per batch)
    #      has_key_pad has_pos
    mk = 0 if mask is None else (1 if mask.dim() == 2 else 2)
    p = name + "."
    t.update({p + "cfg": cfg(B, Tq, Tk, H, D, causal, window, rope_, rope_v, mk,
                             key_pad is not None, qpos is not None),
              p + "fparams": np.array([scale, base], np.float32),
              p + "q": q, p + "k": k, p + "v": v, p + "R": R, p + "out": out,
              p + "dq": dq, p + "dk": dk, p + "dv": dv})
    if key_pad is not None:
        t[p + "key_pad"] = key_pad.to(torch.uint8)
    if mask is not None:
        t[p + "mask"] = mask.to(torch.uint8)
    if qpos is not None:
        t[p + "qpos"] = qpos.to(torch.int32)
        t[p + "kpos"] = kpos.to(torch.int32)


def attn_cases():
    t = {}
    attn_case(t, "causal", 2, 5, 5, 2, 4, causal=1)
    attn_case(t, "window", 2, 7, 7, 2, 4, causal=1, window=3)
    kp = torch.zeros(2, 6, dtype=torch.uint8)
    kp[0, 4:] = 1
    kp[1, 1] = 1
    kp[1, 5] = 1
    attn_case(t, "keypad", 2, 6, 6, 2, 4, key_pad=kp, scale=0.3)
    m = (torch.rand(2, 4, 6) > 0.4).to(torch.uint8)
    m[1, 2] = 0                                     # a query that sees nothing
    attn_case(t, "mask", 2, 4, 6, 2, 4, mask=m)
    m2 = (torch.rand(5, 5) > 0.3).to(torch.uint8)
    m2[0, 0] = 1
    attn_case(t, "mask2d", 2, 5, 5, 1, 4, mask=m2, causal=1)
    # cross-attention: Tq != Tk, default positions i + Tk - Tq, with padding
    kp = torch.zeros(2, 7, dtype=torch.uint8)
    kp[1, 5:] = 1
    attn_case(t, "cross", 2, 3, 7, 2, 4, key_pad=kp)
    attn_case(t, "crossc", 2, 3, 7, 2, 4, causal=1)
    # KV cache: two new queries at positions 5, 6 over 7 cached keys
    qpos = torch.tensor([[5, 6], [5, 6]])
    kpos = torch.arange(7).expand(2, 7).clone()
    attn_case(t, "kvcache", 2, 2, 7, 2, 4, causal=1, qpos=qpos, kpos=kpos)
    # routed subset: each batch row keeps its own increasing token positions;
    # query 0 of row 1 precedes every key -> fully masked
    qpos = torch.tensor([[1, 4, 6, 9], [0, 3, 5, 8]])
    kpos = torch.tensor([[1, 2, 4, 6, 9], [2, 3, 5, 6, 8]])
    attn_case(t, "routed", 2, 4, 5, 2, 4, causal=1, window=4, qpos=qpos, kpos=kpos)
    attn_case(t, "rope", 2, 6, 6, 2, 8, causal=1, rope_=1)
    attn_case(t, "ropev", 2, 4, 5, 2, 6, causal=1, rope_=1, rope_v=1, base=500.0,
              qpos=torch.tensor([[3, 7, 8, 20], [0, 1, 2, 3]]),
              kpos=torch.tensor([[1, 3, 7, 8, 20], [0, 1, 2, 3, 4]]))
    save_bundle("attn", t)


# ---- rotary on continuous time: POYO's own formulation (arXiv:2310.16046) ----
def poyo_inv_freq(dim, t_min=1e-4, t_max=4.0):
    """POYO's RotaryEmbedding buffer: the first dim/4 of the dim/2 frequencies."""
    inv_freq = torch.zeros(dim // 2, dtype=torch.float64)
    inv_freq[: dim // 4] = 2 * math.pi / (
        t_min * ((t_max / t_min) ** (torch.arange(0, dim // 2, 2, dtype=torch.float64) / (dim // 2))))
    return inv_freq


def poyo_rotate_half(x):
    x = x.unflatten(-1, (-1, 2))
    x1, x2 = x.unbind(-1)
    return torch.stack((-x2, x1), -1).flatten(-2)


def poyo_apply(freqs, x):
    """x (B, T, H, D), freqs (B, T, D) angles repeated per pair."""
    f = freqs[:, :, None, :]
    return x * f.cos().float() + poyo_rotate_half(x) * f.sin().float()


def poyo_attention(q, k, v, qt, kt, H, key_pad, rotate_value):
    """RotaryCrossAttention: rotary on q, k (and v, then out rotated back by
    minus the query angles) at the token timestamps; key padding."""
    B, Tq, C = q.shape
    Tk, D = k.shape[1], C // H
    inv = poyo_inv_freq(D)
    qf = (qt.to(torch.float64)[..., None] * inv).repeat_interleave(2, -1)   # (B, Tq, D)
    kf = (kt.to(torch.float64)[..., None] * inv).repeat_interleave(2, -1)
    q, k, v = q.view(B, Tq, H, D), k.view(B, Tk, H, D), v.view(B, Tk, H, D)
    q, k = poyo_apply(qf, q), poyo_apply(kf, k)
    if rotate_value:
        v = poyo_apply(kf, v)
    q, k, v = (x.permute(0, 2, 1, 3) for x in (q, k, v))
    s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    s = s.masked_fill(key_pad[:, None, None, :].bool(), float("-inf"))
    out = (torch.softmax(s, -1) @ v).permute(0, 2, 1, 3)                # (B, Tq, H, D)
    if rotate_value:
        out = poyo_apply(-qf, out)
    return out.reshape(B, Tq, C)


def ropetime_cases():
    """Own bundle and seed, so the other families' values do not move."""
    torch.manual_seed(4321)
    t = {}
    B, Tq, Tk, H, D = 2, 3, 6, 2, 8
    for name, rv in (("ropetime", True), ("ropetimeqk", False)):
        q = randn(B, Tq, H * D).requires_grad_()
        k = randn(B, Tk, H * D).requires_grad_()
        v = randn(B, Tk, H * D).requires_grad_()
        R = randn(B, Tq, H * D)
        qt = torch.tensor([[0.0625, 0.5, 0.9375], [0.1, 0.37, 0.8]], dtype=torch.float32)
        kt = torch.rand(B, Tk, dtype=torch.float32)
        kp = torch.zeros(B, Tk, dtype=torch.uint8)
        kp[1, 4:] = 1
        out = poyo_attention(q, k, v, qt, kt, H, kp, rv)
        dq, dk, dv = grads_of(out, [q, k, v], R)
        p = name + "."
        t.update({p + "cfg": cfg(B, Tq, Tk, H, D, int(rv)), p + "qtime": qt, p + "ktime": kt,
                  p + "key_pad": kp, p + "q": q, p + "k": k, p + "v": v, p + "R": R,
                  p + "out": out, p + "dq": dq, p + "dk": dk, p + "dv": dv})
    save_bundle("ropetime", t)


# ---- convolution, pooling ----
def conv_cases():
    t = {}
    for name, (B, Cin, H, W, Cout, K, s, p, bias) in {
        "s2p1": (2, 3, 7, 6, 4, 3, 2, 1, 1),
        "s1p0": (2, 2, 5, 5, 3, 2, 1, 0, 0),
        "k1": (2, 3, 4, 4, 5, 1, 1, 0, 1),
        "s2p2": (1, 2, 6, 6, 2, 5, 2, 2, 1),
        "s1p1": (3, 10, 6, 5, 9, 3, 1, 1, 1),  # the direct 3x3 path
    }.items():
        x = randn(B, Cin, H, W).requires_grad_()
        w = (randn(Cout, Cin, K, K) * 0.5).requires_grad_()
        b = randn(Cout).requires_grad_() if bias else None
        y = F.conv2d(x, w, b, stride=s, padding=p)
        R = randn(*y.shape)
        dx, dw, db = grads_of(y, [x, w, b], R)
        q = name + "."
        t.update({q + "cfg": cfg(B, Cin, H, W, Cout, K, K, s, p, bias), q + "x": x, q + "w": w,
                  q + "R": R, q + "y": y, q + "dx": dx, q + "dw": dw})
        if bias:
            t.update({q + "b": b, q + "db": db})
    for name, (B, C, H, W, k, s) in {"max2": (2, 3, 6, 6, 2, 2), "max3": (2, 2, 7, 6, 3, 2),
                                     "avg2": (2, 3, 6, 6, 2, 2), "avg3": (1, 2, 7, 7, 3, 1)}.items():
        x = randn(B, C, H, W).requires_grad_()
        y = (F.max_pool2d if name.startswith("max") else F.avg_pool2d)(x, k, s)
        R = randn(*y.shape)
        (dx,) = grads_of(y, [x], R)
        q = name + "."
        t.update({q + "cfg": cfg(B, C, H, W, k, s), q + "x": x, q + "R": R, q + "y": y,
                  q + "dx": dx})
    save_bundle("conv", t)


# ---- linear scan, GRU ----
def rnn_cases():
    t = {}
    B, T, D = 2, 6, 3
    a = (torch.rand(B, T, D) * 1.6 - 0.8).requires_grad_()
    b = randn(B, T, D).requires_grad_()
    h0 = randn(B, D).requires_grad_()
    hs, h = [], h0
    for i in range(T):
        h = a[:, i] * h + b[:, i]
        hs.append(h)
    hs = torch.stack(hs, 1)
    R = randn(B, T, D)
    da, db, dh0 = grads_of(hs, [a, b, h0], R)
    t.update({"scan.cfg": cfg(B, T, D), "scan.a": a, "scan.b": b, "scan.h0": h0, "scan.R": R,
              "scan.h": hs, "scan.da": da, "scan.db": db, "scan.dh0": dh0})
    for name, (B, T, I, H, with_h0) in {"gru": (3, 5, 4, 6, 1), "gru0": (2, 4, 3, 5, 0)}.items():
        gru = torch.nn.GRU(I, H, batch_first=True)
        x = randn(B, T, I).requires_grad_()
        h0 = randn(1, B, H).requires_grad_() if with_h0 else None
        hs, _ = gru(x, h0)
        R = randn(B, T, H)
        ps = [gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0]
        dx, dh0, dwi, dwh, dbi, dbh = grads_of(hs, [x, h0] + ps, R)
        q = name + "."
        t.update({q + "cfg": cfg(B, T, I, H, with_h0), q + "x": x, q + "w_ih": ps[0],
                  q + "w_hh": ps[1], q + "b_ih": ps[2], q + "b_hh": ps[3], q + "R": R,
                  q + "hs": hs, q + "dx": dx, q + "dw_ih": dwi, q + "dw_hh": dwh,
                  q + "db_ih": dbi, q + "db_hh": dbh})
        if with_h0:
            t.update({q + "h0": h0[0], q + "dh0": dh0[0]})
    save_bundle("rnn", t)


if __name__ == "__main__":
    norm_cases()
    attn_cases()
    conv_cases()
    rnn_cases()
    ropetime_cases()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {OUT} ({total} bytes)")
