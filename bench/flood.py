#!/usr/bin/env python3
"""What a flood of refusals costs: a program that hammers one denied path.

    bench/flood.py [--build-dir build] [--n 200000] [--runs 5] [--lib LIB]

1. tg-flood (tests/probes/flood.c) opens one denied path N times, in C:
   the CPU per refusal (median of RUNS), against the same loop unguarded
   on a missing path (the kernel's cheapest failing open), and the log the
   flood leaves: its size, its decision records and the sum of their
   counts, which must be exactly N.
2. The same from Python (100,000 refusals of one path, caught as
   OSError): wall time guarded against unguarded, in one run, A B pairs.

Targets (the events issue): under 1 MB of log for 200,000 identical
refusals, counts exact, at most 2 us of CPU per folded refusal.
Standard library only; prints a Markdown table."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent

POLICY = '''version = 1;
rules = (
  { id = "key"; path = "%s/secret/**"; deny = ["read", "write"]; }
);
'''

PY_LOOP = '''
import sys
p, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    try:
        open(p)
    except OSError:
        pass
'''


def run_flood(flood, path, n, env):
    out = subprocess.run([flood, path, str(n)], env=env, capture_output=True, text=True,
                         timeout=600).stdout
    fields = out.split()
    return float(fields[fields.index('cpu_ns_per_open') + 1]), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build-dir', default=os.environ.get('TG_BUILD_ROOT', str(SRC / 'build')))
    ap.add_argument('--n', type=int, default=200000)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--lib', help='the library to measure (default: the build folder\'s)')
    a = ap.parse_args()
    build = Path(a.build_dir)
    lib = a.lib or str(build / 'preload' / 'libtrainguard.so')
    flood = str(build / 'tests' / 'probes' / 'tg-flood')
    for f in (lib, flood):
        if not os.path.exists(f):
            sys.exit(f'flood: {f} is missing: build the project first (meson compile -C {build})')
    work = Path(tempfile.mkdtemp(prefix='tg-flood-bench-'))
    try:
        (work / 'secret').mkdir()
        secret = work / 'secret' / 'key'
        secret.write_text('secret\n')
        policy = work / 'policy.cfg'
        policy.write_text(POLICY % work)
        base = {k: v for k, v in os.environ.items()
                if not k.startswith('TRAINGUARD_') and k != 'LD_PRELOAD'}

        def guarded(log):
            return dict(base, LD_PRELOAD=lib, TRAINGUARD_POLICY=str(policy),
                        TRAINGUARD_LOG=str(log), TRAINGUARD_FENCE='none')

        bare, cpu, sizes, exact, recs = [], [], [], [], []
        for i in range(a.runs):
            bare.append(run_flood(flood, str(work / 'missing'), a.n, base)[0])
            log = work / f'flood-{i}.jsonl'
            c, out = run_flood(flood, str(secret), a.n, guarded(log))
            if f'refused {a.n}' not in out:
                sys.exit(f'flood: not every open was refused: {out}')
            cpu.append(c)
            sizes.append(log.stat().st_size)
            decisions = [json.loads(line) for line in open(log)]
            decisions = [r for r in decisions
                         if r.get('unmapped', {}).get('trainguard', {}).get('decision')]
            recs.append(len(decisions))
            exact.append(sum(r.get('count', 1) for r in decisions) == a.n)
        py_n = 100000
        script = work / 'loop.py'
        script.write_text(PY_LOOP)
        pairs = []
        for i in range(a.runs):
            times = []
            for env in (base, guarded(work / f'py-{i}.jsonl')):
                t = time.monotonic()
                subprocess.run([sys.executable, str(script), str(secret), str(py_n)], env=env,
                               check=True, timeout=600)
                times.append(time.monotonic() - t)
            pairs.append(times)
        med = statistics.median
        print('| flood | measured | target |')
        print('| --- | --- | --- |')
        print(f'| CPU per refusal, {a.n:,} refusals of one path (C, median of {a.runs}) | '
              f'{med(cpu) / 1000:.2f} us (unguarded failing open: {med(bare) / 1000:.2f} us) | '
              f'<= 2 us: {"PASS" if med(cpu) <= 2000 else "**MISS**"} |')
        print(f'| log left by the flood | {med(sizes):,.0f} bytes in {med(recs):.0f} decision '
              f'records | < 1 MB: {"PASS" if max(sizes) < 1_000_000 else "**MISS**"} |')
        print(f'| counts add up to {a.n:,} | {sum(exact)} of {a.runs} runs | every run: '
              f'{"PASS" if all(exact) else "**MISS**"} |')
        ratio = med([g / u for u, g in pairs])
        print(f'| Python, {py_n:,} refusals caught as OSError: time ratio | {ratio:.2f}x '
              f'(unguarded {med([u for u, _ in pairs]):.2f} s, guarded '
              f'{med([g for _, g in pairs]):.2f} s) | (shown) |')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
