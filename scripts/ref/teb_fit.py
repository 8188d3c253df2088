"""PyTorch reference for teb-fit: the loss terms' golden values and the model
for benchmarks (same architecture, names and batch as cmd/teb-fit/model.c).

Run with Debian's interpreter (python3-torch, python3-numpy):
    /usr/bin/python3 scripts/ref/teb_fit.py refs tests/ref/teb-fit
        writes terms.safetensors: the Gaussian NLL (F.gaussian_nll_loss,
        mean, without the constant) and the diagonal-Gaussian KL
        (torch.distributions, summed over the last axis, mean over rows) with
        their values and every input's gradient.
    /usr/bin/python3 scripts/ref/teb_fit.py bench --threads N --steps N
        trains the Y module and TEB jointly on lingauss windows (history 8,
        horizon 1, latent 16, width 64, batch 128, Adam 1e-3) and prints
        "steps_per_sec=... cpu_steps_per_sec=...".
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

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np  # noqa: E402


def gauss_nll(mu, lv, y):
    # 0.5 * (log var + (y - mu)^2 / var), mean: ax_gaussian_nll.
    return F.gaussian_nll_loss(mu, y, lv.exp(), full=False, eps=0.0, reduction="mean")


def kl_diag(mu1, lv1, mu2, lv2):
    p = torch.distributions.Normal(mu1, (0.5 * lv1).exp())
    q = torch.distributions.Normal(mu2, (0.5 * lv2).exp())
    return torch.distributions.kl_divergence(p, q).sum(-1).mean()


def refs(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(15)
    t = {}
    names = ["mu", "lv", "y", "m1", "l1", "m2", "l2"]
    for n in names:
        t[n] = (torch.randn(4, 6, generator=g, dtype=torch.float64) * 0.8).requires_grad_()
    nll = gauss_nll(t["mu"], t["lv"], t["y"])
    kl = kl_diag(t["m1"], t["l1"], t["m2"], t["l2"])
    kl0 = kl_diag(t["m1"], t["l1"], torch.zeros(4, 6, dtype=torch.float64),
                  torch.zeros(4, 6, dtype=torch.float64))
    (nll + kl + 2 * kl0).backward()
    save = {n: t[n].detach().float().numpy() for n in names}
    save.update({"grad_" + n: t[n].grad.float().numpy() for n in names})
    save["nll"] = np.array([nll.item()], np.float32)
    save["kl"] = np.array([kl.item()], np.float32)
    save["kl_std"] = np.array([kl0.item()], np.float32)
    safetensors_np.save(os.path.join(out, "terms.safetensors"), save,
                        {"loss": "nll + kl + 2 * kl_std"})


def mlp(i, w, o):
    return nn.Sequential(nn.Linear(i, w), nn.SiLU(), nn.Linear(w, w), nn.SiLU(), nn.Linear(w, o))


class TEB(nn.Module):
    """As cmd/teb-fit/model.c (learned variance)."""

    def __init__(self, L, H, dx, dy, K, W, beta, beta_y):
        super().__init__()
        self.K, self.n = K, H * dy
        self.kappa, self.kappa_y = beta * H * dy, beta_y * H * dy
        self.y_enc, self.y_dec = mlp(L * dy, W, 2 * K), mlp(K, W, 2 * H * dy)
        self.x_enc, self.te_dec = mlp(L * dx, W, 2 * K), mlp(K, W, 2 * H * dy)
        with torch.no_grad():
            self.x_enc[4].weight.zero_()
            self.x_enc[4].bias[:K] = 0
            self.x_enc[4].bias[K:] = math.log(1e-7)
            self.te_dec.load_state_dict(self.y_dec.state_dict())

    def forward(self, yh, xh, yf):
        K, n = self.K, self.n
        hc = self.y_enc(yh)
        mu_c, lv_c = hc[:, :K], hc[:, K:]
        c = mu_c + (0.5 * lv_c).exp() * torch.randn_like(mu_c)
        d = self.y_dec(c)
        nll_y = gauss_nll(d[:, :n], d[:, n:], yf)
        loss_y = self.kappa_y * nll_y + kl_diag(mu_c, lv_c, torch.zeros_like(mu_c),
                                                torch.zeros_like(lv_c))
        mc, lc = mu_c.detach(), lv_c.detach()
        hx = self.x_enc(xh)
        mu_e = mc + hx[:, :K]
        lv_e = torch.log(lc.exp() + hx[:, K:].exp())
        z = mu_e + (0.5 * lv_e).exp() * torch.randn_like(mu_e)
        d = self.te_dec(z)
        nll_te = gauss_nll(d[:, :n], d[:, n:], yf)
        loss_te = self.kappa * nll_te + kl_diag(mu_e, lv_e, mc, lc)
        return loss_y + loss_te


def bench(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    L, H, B, T = 8, 1, 128, 20000
    rng = np.random.default_rng(1)
    x = rng.standard_normal(T).astype(np.float32)
    y = np.zeros(T, np.float32)
    e = rng.standard_normal(T).astype(np.float32)
    for t in range(T - 1):
        y[t + 1] = 0.5 * y[t] + x[t] + e[t]
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    m = TEB(L, H, 1, 1, 16, 64, 1000.0, 1000.0)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    idx = torch.arange(L)

    def step():
        t = torch.randint(L - 1, T - H, (B,))
        win = (t[:, None] - L + 1) + idx[None, :]
        loss = m(y[win], x[win], y[t + 1][:, None])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        step()
    t1, c1 = time.perf_counter(), time.process_time()
    print("steps_per_sec=%.2f cpu_steps_per_sec=%.2f" % (a.steps / (t1 - t0), a.steps / (c1 - c0)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["refs", "bench"])
    p.add_argument("out", nargs="?", default="tests/ref/teb-fit")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=500)
    a = p.parse_args()
    if a.mode == "refs":
        refs(a.out)
    else:
        bench(a)


if __name__ == "__main__":
    main()
