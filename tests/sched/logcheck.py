"""Checks a trainguard log for the scheduler tests and prints one line of
findings: exits 0 when every record is a JSON object whose
metadata.correlation_uid is JOB_ID, at least one denial names each PATH
given with --denied, the records come from at least --pids distinct
processes, and (with --policy) every decision names that policy file in
policy.data.source and every start record in unmapped.trainguard.policy_source; else exits 1 with the reason.

    logcheck.py LOG JOB_ID [--denied PATH]... [--pids N] [--policy PATH]
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('log')
    ap.add_argument('job_id')
    ap.add_argument('--denied', action='append', default=[])
    ap.add_argument('--pids', type=int, default=1)
    ap.add_argument('--policy')
    a = ap.parse_args()
    try:
        with open(a.log, 'rb') as f:
            lines = f.read().splitlines()
    except OSError as e:
        print(f'cannot read the log: {e}')
        return 1
    if not lines:
        print('the log is empty')
        return 1
    ids, pids, denied, sources = set(), set(), set(), set()
    for n, raw in enumerate(lines, 1):
        try:
            rec = json.loads(raw)
        except ValueError as e:
            print(f'line {n} is not JSON: {e}')
            return 1
        if not isinstance(rec, dict):
            print(f'line {n} is not an object')
            return 1
        ids.add(rec.get('metadata', {}).get('correlation_uid'))
        pid = rec.get('actor', {}).get('process', {}).get('pid')
        if pid is not None:
            pids.add(pid)
        # Start and stop records (unmapped.trainguard.event) name the
        # policy under unmapped.trainguard.policy_source, not policy.
        ev = rec.get('unmapped', {}).get('trainguard', {}).get('event')
        if ev in ('start', 'unguarded'):
            sources.add(rec['unmapped']['trainguard'].get('policy_source'))
        elif ev is None:
            sources.add(rec.get('policy', {}).get('data', {}).get('source'))
        if rec.get('action_id') == 2:
            denied.add(rec.get('file', {}).get('path'))
    if ids != {a.job_id}:
        print(f'correlation_uid values {sorted(map(str, ids))}, expected only {a.job_id!r}')
        return 1
    if a.policy and sources != {a.policy}:
        print(f'policy.data.source values {sorted(map(str, sources))}, expected {a.policy!r}')
        return 1
    missing = [p for p in a.denied if p not in denied]
    if missing:
        print(f'no denial of {missing}; denied: {sorted(map(str, denied))}')
        return 1
    if len(pids) < a.pids:
        print(f'records from {len(pids)} processes, expected at least {a.pids}')
        return 1
    print(f'{len(lines)} records, job {a.job_id}, {len(pids)} processes, '
          f'denied {sorted(map(str, denied))}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
