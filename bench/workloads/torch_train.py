"""torch_train.py CKPT_DIR [STEPS]: a small, real PyTorch training loop.

An MLP (128-256-256-10) trained with Adam on synthetic data generated here
from a fixed seed (nothing is downloaded), STEPS steps (200 by default) of
batch 64, a checkpoint of model and optimizer with torch.save every 20
steps (written to a temporary name, then renamed, as training frameworks
do), and at the end the last checkpoint loaded back with torch.load and
checked.
"""
import os
import sys

import torch


def main():
    ckpt_dir = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    torch.manual_seed(0)
    x = torch.randn(4096, 128)
    w = torch.randn(128, 10)
    y = (x @ w).argmax(dim=1)
    model = torch.nn.Sequential(
        torch.nn.Linear(128, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    last = None
    for step in range(1, steps + 1):
        i = (step * 64) % x.shape[0]
        xb, yb = x[i:i + 64], y[i:i + 64]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        if step % 20 == 0:
            last = os.path.join(ckpt_dir, "step-%04d.pt" % step)
            tmp = last + ".tmp"
            torch.save({"step": step, "model": model.state_dict(),
                        "opt": opt.state_dict(), "loss": loss.item()}, tmp)
            os.replace(tmp, last)
    if last is not None:
        state = torch.load(last, weights_only=False)
        model.load_state_dict(state["model"])
        if state["step"] != steps - steps % 20:
            sys.exit("torch_train: checkpoint step mismatch")


main()
