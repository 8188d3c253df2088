"""apical-net's model in PyTorch: golden values for tests/unit/test-apical-net.c
and the reference for scripts/bench-apical-net.sh.

    /usr/bin/python3 scripts/ref/apical_net.py golden tests/ref/apical-net
        writes apical/point/concat.safetensors (blend task),
        temporal.safetensors (apical model, recurrent context) and
        conv.safetensors (apical model on the conv basal pathway): parameters,
        inputs, logits, the cross-entropy loss and every parameter gradient.
    /usr/bin/python3 scripts/ref/apical_net.py bench THREADS STEPS BATCH HIDDEN
        prints one CSV row threads,examples_per_s for the default blend
        training step (Adam, random inputs).

The equations are those of cmd/apical-net/model.c; state-dict names match the
checkpoint's tensor names.
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

PIXELS, CLASSES = 784, 10


class Layer(nn.Module):
    def __init__(self, kind, n_in, hidden, ctx_dim):
        super().__init__()
        self.kind = kind
        self.basal = nn.Linear(n_in, hidden)
        if kind in ("apical", "point"):
            self.apical = nn.Linear(ctx_dim, hidden, bias=kind == "apical")
            if kind == "apical":
                nn.init.zeros_(self.apical.bias)  # gain 1 without context

    def forward(self, h, c):
        b = self.basal(h)
        if self.kind == "apical":
            return F.relu(b) * (2 * torch.sigmoid(self.apical(c)))
        if self.kind == "point":
            return F.relu(b + self.apical(c))
        return F.relu(b)


class Context(nn.Module):
    """Encoder + GRU over the class beliefs of the frames before the target
    (from the network's own bottom-up sweep, no gradient); a belief over the
    classes from its last state."""

    def __init__(self, hidden):
        super().__init__()
        self.encoder = nn.Linear(CLASSES, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, CLASSES)

    def forward(self, beliefs):
        out, _ = self.gru(F.relu(self.encoder(beliefs)))
        return self.head(out[:, -1]).softmax(-1)


class ApicalNet(nn.Module):
    def __init__(self, kind="apical", task="blend", layers=2, hidden=256, ctx_hidden=64,
                 basal="mlp", channels=(16, 32)):
        super().__init__()
        self.kind, self.task = kind, task
        C = CLASSES
        n_features = PIXELS
        if basal == "conv":  # two conv-ReLU-maxpool stages: channels[1] maps of 7 x 7
            c1, c2 = channels
            self.features = nn.Sequential(
                nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            n_features = c2 * 7 * 7
        else:
            self.features = None
        n0 = n_features + (C if kind == "concat" else 0)
        self.layers = nn.ModuleList(
            Layer(kind, n0 if i == 0 else hidden, hidden, C) for i in range(layers))
        self.out = nn.Linear(hidden, CLASSES)
        if task == "temporal" and kind != "none":
            self.context = Context(ctx_hidden)

    def feature(self, x):
        if self.features is None:
            return x
        return self.features(x.reshape(-1, 1, 28, 28)).flatten(1)

    def bottom_up(self, x):
        """Logits without context: relu(basal) layers, then out."""
        with torch.no_grad():
            h = x = self.feature(x)
            if self.kind == "concat":
                h = torch.cat([x, x.new_zeros(x.shape[0], self.layers[0].basal.in_features
                                                - x.shape[1])], 1)
            for layer in self.layers:
                h = F.relu(layer.basal(h))
            return self.out(h)

    def forward(self, x, cue):
        c = cue
        if self.task == "temporal" and self.kind != "none":
            B, T, P = cue.shape
            p = self.bottom_up(cue[:, :-1].reshape(-1, P)).softmax(-1)
            c = self.context(p.reshape(B, T - 1, CLASSES))
        x = self.feature(x)
        h = torch.cat([x, c], 1) if self.kind == "concat" else x
        for layer in self.layers:
            h = layer(h, c)
        return self.out(h)


def golden(kind, task, path, basal="mlp"):
    torch.manual_seed(1)
    model = ApicalNet(kind, task, layers=2, hidden=16, ctx_hidden=8, basal=basal,
                      channels=(2, 3))
    with torch.no_grad():  # apical biases start at 0; test with other values
        for layer in model.layers:
            if kind == "apical":
                layer.apical.bias.uniform_(-0.5, 0.5)
    B, T = 6, 4
    x = torch.rand(B, PIXELS)
    if task == "temporal":
        cue = torch.rand(B, T, PIXELS)
    else:
        cue = torch.zeros(B, CLASSES)
        for i in range(B - 2):  # the last two rows: no context
            cue[i, (3 * i) % CLASSES] = 1.0
    y = torch.tensor([(7 * i) % CLASSES for i in range(B)], dtype=torch.int32)
    logits = model(x, cue)
    loss = F.cross_entropy(logits, y.long())
    loss.backward()
    out = {"x": x.numpy(), "cue": cue.numpy(), "y": y.numpy(),
           "logits": logits.detach().numpy(), "loss": loss.detach().reshape(1).numpy()}
    for name, p in model.named_parameters():
        out["param." + name] = p.detach().numpy()
        out["grad." + name] = p.grad.numpy()
    meta = {"kind": kind, "task": task}
    if basal != "mlp":
        meta["basal"] = basal
    safetensors_np.save(path, out, meta)


def bench(threads, steps, batch, hidden):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = ApicalNet("apical", "blend", layers=2, hidden=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, PIXELS)
    cue = F.one_hot(torch.randint(0, CLASSES, (batch,)), CLASSES).float()
    y = torch.randint(0, CLASSES, (batch,))

    def step():
        opt.zero_grad(set_to_none=False)
        F.cross_entropy(model(x, cue), y).backward()
        opt.step()

    dt = timed(step, steps, 20)
    print(f"{threads},{steps * batch / dt:.1f}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "golden":
        os.makedirs(sys.argv[2], exist_ok=True)
        for kind in ("apical", "point", "concat"):
            golden(kind, "blend", os.path.join(sys.argv[2], kind + ".safetensors"))
        golden("apical", "temporal", os.path.join(sys.argv[2], "temporal.safetensors"))
        golden("apical", "blend", os.path.join(sys.argv[2], "conv.safetensors"), "conv")
    elif len(sys.argv) == 6 and sys.argv[1] == "bench":
        bench(*(int(a) for a in sys.argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
