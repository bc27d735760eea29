"""PyTorch distributed under the guard: a two-rank CPU job (gloo backend),
started once with torch.multiprocessing.spawn and once with torchrun
(python3 -m torch.distributed.run), under `trainguard run`.

Each rank runs three DistributedDataParallel steps (so the ranks really
talk), then tries to read a secret and to append to a read-only weights
file, saves its checkpoint where the policy allows, and prints its pid.
The test asserts that every rank was refused both (the secret's content is
nowhere in the output, the weights file's hash is unchanged), that each
rank's own pid left the denial records in the log, that every record of the
run carries one metadata.correlation_uid (the job id trainguard run
printed), and that both checkpoints were written.
Speaks TAP; without Debian's python3-torch it is a visible SKIP.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SOURCE_ROOT = os.environ.get('TG_SOURCE_ROOT', '')
BUILD_ROOT = os.environ.get('TG_BUILD_ROOT', '')
sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests', 'integration'))
import tglib  # noqa: E402

PYTHON = '/usr/bin/python3'

JOB = r'''
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def attempt(secret, weights):
    try:
        with open(secret) as f:
            leaked = f.read().strip()
    except OSError as e:
        leaked = f'refused:{e.errno}'
    try:
        with open(weights, 'a') as f:
            f.write('tampered\n')
        wrote = 'yes'
    except OSError as e:
        wrote = f'refused:{e.errno}'
    return leaked, wrote


def train(rank, world, secret, weights, ckpt):
    dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(8, 4)).sum().backward()
        opt.step()
    leaked, wrote = attempt(secret, weights)
    torch.save(model.module.state_dict(), os.path.join(ckpt, f'rank{rank}.pt'))
    dist.barrier()
    # One write per line: the ranks share the output pipe.
    sys.stdout.flush()
    os.write(1, f'rank={rank} pid={os.getpid()} secret={leaked} weights={wrote}\n'.encode())
    dist.destroy_process_group()


def spawned(rank, world, port, *paths):
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    train(rank, world, *paths)


if __name__ == '__main__':
    mode, port, secret, weights, ckpt = sys.argv[1:6]
    if mode == 'spawn':
        mp.spawn(spawned, args=(2, int(port), secret, weights, ckpt), nprocs=2, join=True)
    else:  # torchrun: RANK, WORLD_SIZE, MASTER_* come from the environment
        train(int(os.environ['RANK']), int(os.environ['WORLD_SIZE']), secret, weights, ckpt)
'''


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_case(t, name, root, argv_tail, env):
    cli = os.path.join(BUILD_ROOT, 'cli', 'trainguard')
    log = os.path.join(root, f'{name}.jsonl')
    ckpt = os.path.join(root, 'ckpt', name)
    os.makedirs(ckpt)
    secret = os.path.join(root, 'secret', 'token')
    weights = os.path.join(root, 'weights.bin')
    before = sha(weights)
    port = free_port()
    argv = [cli, 'run', '--policy', os.path.join(root, 'job.cfg'), '--log', log, '--'] + \
        [a.format(port=port, job=os.path.join(root, 'job.py')) for a in argv_tail] + \
        [str(port), secret, weights, ckpt]
    started = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=150, env=env,
                           cwd=root)
    except subprocess.TimeoutExpired as e:
        t.ok(False, f'{name}: the job ended within 150 s', e)
        return
    took = time.monotonic() - started
    out = r.stdout + r.stderr
    t.ok(r.returncode == 0, f'{name}: the two-rank job ran to the end (exit {r.returncode}, '
         f'{took:.0f} s)', out[-3000:])
    ranks = {int(m.group(1)): m for m in re.finditer(
        r'^(?:\[\w+\]:)?rank=(\d) pid=(\d+) secret=(\S+) weights=(\S+)$', r.stdout, re.M)}
    t.ok(sorted(ranks) == [0, 1], f'{name}: both ranks reported', r.stdout)
    with open(secret) as f:
        token = f.read().strip()
    t.ok(token not in out, f'{name}: the secret is nowhere in the output')
    t.ok(all(m.group(3) == 'refused:13' and m.group(4) == 'refused:13' for m in ranks.values()),
         f'{name}: every rank was refused the secret and the weights (EACCES)', r.stdout)
    t.ok(sha(weights) == before, f'{name}: the weights file is unchanged')
    t.ok(all(os.path.exists(os.path.join(ckpt, f'rank{i}.pt')) for i in (0, 1)),
         f'{name}: both ranks saved their checkpoint where the policy allows', os.listdir(ckpt))

    recs = []
    try:
        with open(log) as f:
            recs = [json.loads(line) for line in f]
    except (OSError, ValueError) as e:
        t.ok(False, f'{name}: the log is JSON lines', e)
    m = re.search(r'in job (\S+);', r.stderr)
    job_id = m.group(1) if m else None
    ids = {x.get('metadata', {}).get('correlation_uid') for x in recs}
    t.ok(recs and job_id and ids == {job_id},
         f'{name}: every record carries the job id {job_id} in correlation_uid', sorted(map(str, ids)))
    for i, mm in sorted(ranks.items()):
        pid = int(mm.group(2))
        denied = {x.get('file', {}).get('path') for x in recs
                  if x.get('actor', {}).get('process', {}).get('pid') == pid and
                  x.get('action_id') == 2}
        t.ok({secret, weights} <= denied,
             f'{name}: rank {i} (pid {pid}) is guarded: its own denials are in the log',
             sorted(map(str, denied)))


def main():
    t = tglib.TAP()
    r = subprocess.run([PYTHON, '-c', 'import torch; print(torch.__version__)'],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        print('1..0 # SKIP no PyTorch for /usr/bin/python3 (apt-get install python3-torch)')
        return 0
    print(f'# torch {r.stdout.strip()}')
    root = tempfile.mkdtemp(prefix='tg-torch.')
    try:
        os.makedirs(os.path.join(root, 'secret'))
        with open(os.path.join(root, 'secret', 'token'), 'w') as f:
            f.write(f'TOKEN-{os.getpid()}-{time.time_ns()}\n')
        with open(os.path.join(root, 'weights.bin'), 'w') as f:
            f.write('pretrained weights\n')
        with open(os.path.join(root, 'job.py'), 'w') as f:
            f.write(JOB)
        with open(os.path.join(root, 'job.cfg'), 'w') as f:
            f.write(f'''version = 1;
mode = "enforce";
profiles = ["base", "secrets", "python", "pytorch"];
defaults = {{ read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; }};
rules = (
  {{ id = "secret"; path = "{root}/secret/**"; deny = ["read", "write"]; }},
  {{ id = "weights"; path = "{root}/weights.bin"; allow = ["read"];
     deny = ["write", "create", "delete", "chmod"]; }},
  {{ id = "checkpoints"; path = "{root}/ckpt/**"; allow = ["read", "list", "write", "create",
     "delete"]; }},
  {{ id = "scratch"; path = ["/tmp/**", "/dev/shm/**"]; allow = ["read", "list", "write",
     "create", "delete"]; deny = ["exec"]; }}
);
''')
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('TRAINGUARD_', 'SLURM_', 'TORCHELASTIC_')) and
               k != 'LD_PRELOAD'}
        env['OMP_NUM_THREADS'] = '1'
        # torchrun keeps its run folder (torchelastic_*) in the temporary
        # folder: one below root goes with it.
        env['TMPDIR'] = os.path.join(root, 'tmp')
        os.makedirs(env['TMPDIR'])
        run_case(t, 'spawn', root, [PYTHON, '{job}', 'spawn'], env)
        # Debian's torch 1.13 on Python 3.11 cannot parse the default
        # "--redirects 0 --tee 0" (an IntFlag's 0 member is not iterated):
        # its torchrun fails with or without the guard unless both are set.
        run_case(t, 'torchrun', root, [PYTHON, '-m', 'torch.distributed.run', '--standalone',
                                       '--nproc_per_node=2', '--redirects', '1', '--tee', '1',
                                       '{job}', 'torchrun'], env)
    finally:
        if os.environ.get('KEEP') == '1':
            print(f'# kept {root}')
        else:
            shutil.rmtree(root, ignore_errors=True)
    t.done()
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main())
