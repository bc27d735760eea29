#!/usr/bin/env python3
"""What lineage costs: records and bytes of log per file read, and the
SHA-256 of a large file against reading it.

    bench/lineage-cost.py [--build-dir build] [--files 256] [--epochs 3]
                          [--size-mib 1024] [--work /dev/shm/...] [--lib LIB]

1. A loop reads FILES files of 4 KiB for EPOCHS epochs in one process
   under a policy with audit = true on them; prints the records and bytes
   of log per file (all the records naming a dataset file).
2. A file of SIZE_MIB MiB on the work folder (tmpfs by default) is read
   once unguarded and once under an audit rule; the guard's digest thread
   hashes it while the program reads it, and the process waits at exit for
   what is left: the open's time is what the program waits at its first
   open, and the whole run's time against the unguarded one is the digest's
   cost to the job.
--lib measures another build of the library (the figures before a change).
Standard library only; prints a small Markdown table."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

LOOP = r'''
import sys
root, n, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(epochs):
    for i in range(n):
        with open(f'{root}/data/f{i:05d}', 'rb') as f:
            f.read()
'''

BIG = r'''
import sys, time
t0 = time.monotonic()
f = open(sys.argv[1], 'rb', buffering=0)
t1 = time.monotonic()
while f.read(1 << 20):
    pass
t2 = time.monotonic()
print(f'{t1 - t0:.4f} {t2 - t1:.4f}')
'''

POLICY = '''version = 1;
profiles = ["base"];
rules = ( { id = "dataset"; path = "%s/**"; allow = ["read", "list"]; audit = true; } );
'''


def guarded(lib, policy, log):
    env = {k: v for k, v in os.environ.items() if not k.startswith('TRAINGUARD_')}
    env.update(LD_PRELOAD=lib, TRAINGUARD_POLICY=policy, TRAINGUARD_LOG=log,
               TRAINGUARD_JOB_ID='bench-lineage', TRAINGUARD_FENCE='none')
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build-dir', default=os.environ.get('TG_BUILD_ROOT', 'build'))
    ap.add_argument('--lib')
    ap.add_argument('--files', type=int, default=256)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--size-mib', type=int, default=1024)
    ap.add_argument('--work', default=f'/dev/shm/trainguard-lineage-{os.getuid()}')
    a = ap.parse_args()
    lib = os.path.abspath(a.lib or os.path.join(a.build_dir, 'preload', 'libtrainguard.so'))
    py = '/usr/bin/python3'
    os.makedirs(a.work, exist_ok=True)
    work = tempfile.mkdtemp(dir=a.work)
    try:
        data = os.path.join(work, 'data')
        os.makedirs(data)
        for i in range(a.files):
            with open(os.path.join(data, f'f{i:05d}'), 'wb') as f:
                f.write(os.urandom(4096))
        policy = os.path.join(work, 'policy.cfg')
        with open(policy, 'w') as f:
            f.write(POLICY % data)
        log = os.path.join(work, 'loop.jsonl')
        subprocess.run([py, '-c', LOOP, work, str(a.files), str(a.epochs)], check=True,
                       env=guarded(lib, policy, log))
        lines = [ln for ln in open(log, 'rb') if (f'"{data}/').encode() in ln and
                 b'"class_uid":1001' in ln]
        print(f'| files x epochs | records | records per file | bytes per file |')
        print(f'| --- | --- | --- | --- |')
        print(f'| {a.files} x {a.epochs} | {len(lines)} | {len(lines) / a.files:.2f} | '
              f'{sum(map(len, lines)) / a.files:,.0f} |')
        big = os.path.join(data, 'big.bin')
        with open(big, 'wb') as f:
            block = os.urandom(1 << 20)
            for _ in range(a.size_mib):
                f.write(block)
        t = time.monotonic()
        plain = subprocess.run([py, '-c', BIG, big], check=True, capture_output=True,
                               text=True).stdout.split()
        plain_total = time.monotonic() - t
        log = os.path.join(work, 'big.jsonl')
        t = time.monotonic()
        audited = subprocess.run([py, '-c', BIG, big], check=True, capture_output=True,
                                 text=True, env=guarded(lib, policy, log)).stdout.split()
        total = time.monotonic() - t
        print()
        print(f'| {a.size_mib} MiB file | open (s) | read (s) | whole run (s) |')
        print('| --- | --- | --- | --- |')
        print(f'| unguarded | {float(plain[0]):.3f} | {float(plain[1]):.3f} | '
              f'{plain_total:.3f} |')
        print(f'| audit = true (digest thread) | {float(audited[0]):.3f} | '
              f'{float(audited[1]):.3f} | {total:.3f} |')
        print(f'\nSHA-256 off the program\'s thread: the run took '
              f'{(total - plain_total) / (a.size_mib / 1024):.2f} s per GiB more in all')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
