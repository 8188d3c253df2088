"""PyTorch reference for ssl-train (arXiv:2312.10725) and for lib's BatchNorm.

Run with Debian's interpreter (python3-torch, python3-numpy):
    /usr/bin/python3 scripts/ref/ssl_train.py golden tests/ref
writes tests/ref/ssl-train/losses.safetensors (BarlowTwins and VICReg at
A = 2 and A = 4: the views, each loss's value, terms and gradient with
respect to every view), tests/ref/ssl-train/views-a2.npy, views-a4.npy and
loss.csv (what `ssl-train loss` must print for them), and
tests/ref/lib/batchnorm.safetensors (nn.BatchNorm1d/2d in training and
evaluation mode: outputs, gradients of L = sum(out * R), running statistics).
    /usr/bin/python3 scripts/ref/ssl_train.py bench THREADS STEPS BATCH VIEWS
times pretraining steps of the same backbone, projector (D = 128) and
BarlowTwins loss on random images (augmentation not included) and prints
THREADS,images_per_s. Deterministic: fixed seeds.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np  # noqa: E402
from timing import timed  # noqa: E402


def off_diag_sq(c):
    return (c ** 2).sum() - (torch.diagonal(c) ** 2).sum()


def barlow(zs, lam):
    """Returns loss, [on, off] with loss = on + lam * off."""
    A, (N, D) = len(zs), zs[0].shape
    z = F.normalize(torch.cat(zs), dim=1)
    z = F.batch_norm(z, None, None, training=True, eps=1e-5)
    zs = z.split(N)
    if A == 2:
        ons, offs = [], []
        for i in range(2):
            c = zs[i].T @ zs[1 - i] / N
            ons.append(((torch.diagonal(c) - 1) ** 2).sum())
            offs.append(off_diag_sq(c))
        loss = 0.5 * sum(o + lam * f for o, f in zip(ons, offs))
        return loss, [0.5 * (ons[0] + ons[1]), 0.5 * (offs[0] + offs[1])]
    zbar = sum(zs) / A
    on = sum((((za * zbar).mean(0) - 1) ** 2).sum() for za in zs)
    off = off_diag_sq(zbar.T @ zbar / N)
    return on / A + lam * off, [on / A, off]


def vic_pair(z1, z2):
    N, D = z1.shape
    inv = F.mse_loss(z1, z2)
    std = lambda z: torch.sqrt(z.var(dim=0) + 1e-4)  # unbiased
    var = 0.5 * F.relu(1 - std(z1)).mean() + 0.5 * F.relu(1 - std(z2)).mean()
    cov = lambda z: off_diag_sq(torch.cov(z.T)) / D  # 1 / (N - 1)
    return inv, var, cov(z1) + cov(z2)


def vicreg(zs, lam, mu, nu):
    A = len(zs)
    if A == 2:
        inv, var, cov = vic_pair(zs[0], zs[1])
    else:
        parts = [vic_pair(zs[i], (sum(zs) - zs[i]) / (A - 1)) for i in range(A)]
        inv, var, cov = (sum(p[k] for p in parts) / A for k in range(3))
    return lam * inv + mu * var + nu * cov, [inv, var, cov]


def golden_losses(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(3)
    N, D = 8, 6
    out, rows = {}, []
    for A in (2, 4):
        views = torch.randn(A, N, D) * 1.5 + 0.3
        out[f"a{A}.views"] = views.numpy()
        np.save(os.path.join(out_dir, f"views-a{A}.npy"), views.numpy())
        for name in ("barlow", "vicreg"):
            zs = [views[a].clone().requires_grad_(True) for a in range(A)]
            loss, terms = barlow(zs, 0.05) if name == "barlow" else vicreg(zs, 25, 25, 1)
            loss.backward()
            key = f"a{A}.{name}"
            out[key + ".loss"] = loss.detach().reshape(1).numpy()
            out[key + ".terms"] = torch.stack([t.detach() for t in terms]).numpy()
            out[key + ".grad"] = torch.stack([z.grad for z in zs]).numpy()
            rows.append(f"{A},{name},{loss.item():.9g}," +
                        ",".join(f"{t.item():.9g}" for t in terms))
    safetensors_np.save(os.path.join(out_dir, "losses.safetensors"), out)
    with open(os.path.join(out_dir, "loss.csv"), "w") as f:
        f.write("views,loss_kind,loss,term1,term2,term3\n")
        for r in rows:
            f.write(r + ("," if r.count(",") == 4 else "") + "\n")


def golden_batchnorm(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(5)
    out = {}
    for name, bn, shape in (("bn2d", nn.BatchNorm2d(3), (4, 3, 5, 5)),
                            ("bn1d", nn.BatchNorm1d(4), (6, 4))):
        with torch.no_grad():
            bn.weight.copy_(torch.rand(bn.num_features) + 0.5)
            bn.bias.copy_(torch.randn(bn.num_features) * 0.1)
            bn.running_mean.copy_(torch.randn(bn.num_features) * 0.2)
            bn.running_var.copy_(torch.rand(bn.num_features) + 0.5)
        out[name + ".weight"] = bn.weight.detach().numpy().copy()
        out[name + ".bias"] = bn.bias.detach().numpy().copy()
        out[name + ".running_mean0"] = bn.running_mean.numpy().copy()
        out[name + ".running_var0"] = bn.running_var.numpy().copy()
        x = (torch.randn(*shape) * 2 + 1).requires_grad_(True)
        R = torch.randn(*shape)
        out[name + ".x"] = x.detach().numpy()
        out[name + ".R"] = R.numpy()
        for mode in ("train", "eval"):
            bn.train(mode == "train")
            x.grad = None
            bn.zero_grad()
            y = bn(x)
            (y * R).sum().backward()
            out[f"{name}.{mode}.y"] = y.detach().numpy()
            out[f"{name}.{mode}.dx"] = x.grad.numpy().copy()
            out[f"{name}.{mode}.dweight"] = bn.weight.grad.numpy().copy()
            out[f"{name}.{mode}.dbias"] = bn.bias.grad.numpy().copy()
            if mode == "train":
                out[name + ".running_mean1"] = bn.running_mean.numpy().copy()
                out[name + ".running_var1"] = bn.running_var.numpy().copy()
    safetensors_np.save(os.path.join(out_dir, "batchnorm.safetensors"), out)


class Model(nn.Module):
    """ssl-train's backbone (width w, R = 4w) and projector (D)."""

    def __init__(self, w=16, D=128):
        super().__init__()
        conv = lambda i, o: nn.Conv2d(i, o, 3, padding=1, bias=False)
        self.backbone = nn.Sequential(
            conv(1, w), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
            conv(w, 2 * w), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
            conv(2 * w, 4 * w), nn.BatchNorm2d(4 * w), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.projector = nn.Sequential(nn.Linear(4 * w, D, bias=False), nn.BatchNorm1d(D),
                                       nn.ReLU(), nn.Linear(D, D))

    def forward(self, x):
        return self.projector(self.backbone(x))


def bench(threads, steps, batch, views):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
    xs = [torch.rand(batch, 1, 28, 28) for _ in range(views)]

    def step():
        opt.zero_grad(set_to_none=False)
        loss, _ = barlow([model(x) for x in xs], 5.12 / 128)
        loss.backward()
        opt.step()

    dt = timed(step, steps, 3)
    print(f"{threads},{steps * batch / dt:.1f}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "golden":
        golden_losses(os.path.join(sys.argv[2], "ssl-train"))
        golden_batchnorm(os.path.join(sys.argv[2], "lib"))
    elif len(sys.argv) == 6 and sys.argv[1] == "bench":
        bench(*(int(a) for a in sys.argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
