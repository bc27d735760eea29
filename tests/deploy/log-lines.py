#!/usr/bin/env python3
"""Prints one line per decision record of a trainguard log, for grep:
DECISION CLASSES PATH, CLASSES the access classes
joined by commas (the job's start and stop records are left out)."""
import json
import sys

with open(sys.argv[1], encoding='utf-8') as f:
    for line in f:
        if not line.strip():
            continue
        r = json.loads(line)
        t = r.get('unmapped', {}).get('trainguard', {})
        if t.get('decision'):
            path = (r.get('file') or r.get('process', {}).get('file') or {}).get('path', '?')
            print(t['decision'], ','.join(t.get('classes') or ['?']), path)
