#!/usr/bin/env python3
"""The demo (TAP): examples/demo.sh, when the project has one, runs to the
end (exit 0) and says that its attacks were refused: at least one run
(the one under the job's own policy) reports "N attacks refused, 0
succeeded". Its logs (kept with KEEP=1, removed here afterwards) must pass
the project's OCSF 1.8.0 check (tests/ocsf)."""
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402


def main():
    tap = tglib.TAP()
    demo = os.path.join(tglib.SOURCE_ROOT, 'examples', 'demo.sh')
    if not os.path.exists(demo):
        tap.skip('examples/demo.sh runs and its attacks are refused',
                 'examples/demo.sh does not exist yet')
        tap.done()
    if not tglib.prerequisites(tap):
        tap.done()
    env = tglib.base_env()
    env['KEEP'] = '1' 
    if tglib.PRELOAD_FIRST:
        env['LD_PRELOAD'] = tglib.PRELOAD_FIRST  # trainguard run appends the guard after it
    try:
        r = subprocess.run(['bash', demo, tglib.BUILD_ROOT], cwd=tglib.SOURCE_ROOT, env=env,
                           capture_output=True, text=True, timeout=240,
                           stdin=subprocess.DEVNULL, errors='replace')
        rc, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as t:
        rc, out, err = -999, str(t.stdout or ''), str(t.stderr or '') + '\n(timed out)'
    text = out + err
    tap.ok(rc == 0, 'bash examples/demo.sh $TG_BUILD_ROOT exits 0',
           f'exit {rc}\n{text[-3000:]}')
    said = re.findall(r'(?i)\b(refused|denied|blocked)\b', text)
    tap.ok(bool(said), 'the demo says its attacks were refused (refused/denied/blocked)',
           text[-3000:])
    all_refused = [int(n) for n in re.findall(r'(\d+) attacks? refused, 0 succeeded', text)]
    tap.ok(any(n > 0 for n in all_refused),
           'under the job\'s policy every attack was refused ("N attacks refused, 0 succeeded")',
           text[-3000:])
    tap.ok('demo.sh:' not in err, 'the demo reports no failure (no protected file changed, '
           'training finished)', err[-3000:])
    kept = re.search(r'^kept (/\S+)$', text, re.M)
    logs = sorted({m for m in re.findall(r'(/[^\s\'"()]+\.jsonl)', text) if os.path.isfile(m)})
    if not logs:
        tap.ok(False, 'the demo kept its logs (KEEP=1) for the OCSF 1.8.0 check',
               'no log of the demo was found')
    for log in logs:
        tglib.validate_log(tap, log, f'demo log {os.path.basename(log)}')
    if kept and os.path.basename(kept.group(1)).startswith('trainguard-demo.'):
        shutil.rmtree(kept.group(1), ignore_errors=True)
    tap.done()


if __name__ == '__main__':
    main()
