"""Reference values for md-geom (arXiv:2305.19394): the mirror-descent step
of each potential in PyTorch (float64, torch.optim.SGD's momentum buffer),
and the dual-space test statistic in NumPy. Writes
tests/ref/md-geom/md_geom.safetensors; run from the repository root:
    /usr/bin/python3 scripts/ref/md_geom.py
The functions here are also what scripts/bench-md-geom.sh times."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402

GRID = np.linspace(-5.0, 5.0, 1000)


def parse(name):
    return ("negentropy", None) if name == "negentropy" else ("p", float(name[1:]))


def dual(name, w):
    """grad phi(w): sign(w)(log|w| + 1) or sign(w)|w|^(p-1)."""
    kind, p = parse(name)
    if kind == "negentropy":
        return torch.sign(w) * (torch.log(torch.abs(w)) + 1)
    return torch.sign(w) * torch.abs(w) ** (p - 1)


def md_step(name, w, g, buf, lr, momentum):
    """One step in place, momentum as torch.optim.SGD: buf = mu*buf + g."""
    with torch.no_grad():
        buf.mul_(momentum).add_(g)
        kind, p = parse(name)
        if kind == "negentropy":
            w.mul_(torch.exp(-lr * torch.sign(w) * buf))
        elif p == 2:
            w.sub_(lr * buf)
        else:
            z = torch.sign(w) * torch.abs(w) ** (p - 1) - lr * buf
            w.copy_(torch.sign(z) * torch.abs(z) ** (1 / (p - 1)))


def candidates():
    return ["negentropy"] + ["p%g" % (k / 10) for k in range(11, 31)]


def score(name, w0, w1):
    """(distance, rel_change, invalid) of one candidate, numpy float64."""
    w0, w1 = np.asarray(w0, np.float64), np.asarray(w1, np.float64)
    kind, p = parse(name)
    if kind == "negentropy":
        ok = (np.sign(w0) != 0) & (np.sign(w0) == np.sign(w1))
        a, b = w0[ok], w1[ok]
        g0 = np.sign(a) * (np.log(np.abs(a)) + 1)
        g1 = np.sign(b) * (np.log(np.abs(b)) + 1)
    else:
        ok = np.ones(w0.shape, bool)
        g0 = np.sign(w0) * np.abs(w0) ** (p - 1)
        g1 = np.sign(w1) * np.abs(w1) ** (p - 1)
    d = g1 - g0
    s = (d - d.mean()) / d.std()
    F = np.searchsorted(np.sort(s), GRID, side="right") / len(s)
    Phi = 0.5 * np.vectorize(__import__("math").erfc)(-GRID / np.sqrt(2))
    dist = np.trapz(np.abs(F - Phi), GRID)
    return dist, np.linalg.norm(d) / np.linalg.norm(g0), int((~ok).sum())


def main():
    out = {}
    rng = np.random.default_rng(7)
    # Steps: signs, zeros, small and large weights; three steps with momentum.
    w0 = np.array([0.5, -0.3, 0.0, 1e-3, -2.0, 0.05, 0.8, -0.01, 1.5, -0.7, 0.0, 0.2],
                  np.float32)
    gs = rng.normal(0, 1, (3, w0.size)).astype(np.float32)
    out["step.w0"] = w0
    out["step.g"] = gs
    for name in ["negentropy", "p1.5", "p2", "p3"]:
        w = torch.tensor(w0, dtype=torch.float64)
        buf = torch.zeros_like(w)
        for k in range(3):
            md_step(name, w, torch.tensor(gs[k], dtype=torch.float64), buf, 0.05, 0.9)
        out["step.%s" % name] = w.numpy().astype(np.float32)
        out["dual.%s" % name] = dual(name, torch.tensor(w0, dtype=torch.float64)).numpy()
    # Statistic: a negentropy change of log-normal weights, with three sign
    # changes and one zero that negentropy must leave out.
    n = 2000
    w0 = np.exp(np.log(0.03) + rng.normal(0, 1, n)) * rng.choice([-1, 1], n)
    w1 = np.sign(w0) * np.exp(np.log(np.abs(w0)) + 0.2 * rng.normal(0, 1, n))
    w1[:3] *= -1
    w1[3] = 0
    rows = [score(c, w0, w1) for c in candidates()]
    out["score.w0"] = w0
    out["score.w1"] = w1
    out["score.distance"] = np.array([r[0] for r in rows])
    out["score.rel_change"] = np.array([r[1] for r in rows])
    out["score.invalid"] = np.array([r[2] for r in rows], np.int32)
    path = "tests/ref/md-geom/md_geom.safetensors"
    safetensors_np.save(path, out, {"script": "scripts/ref/md_geom.py"})
    print("wrote", path)


if __name__ == "__main__":
    main()
