#!/usr/bin/env python3
"""tests/private-tmpdir, the wrapper meson runs every test through (TAP):
this test has a TMPDIR of its own, the wrapper removes what a test leaves
in it (folders without rights too) and says so, passes the exit status on,
and removes the folder of a test that was killed."""
import os
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from tap import TAP  # noqa: E402

WRAPPER = os.path.join(HERE, 'private-tmpdir')

LITTER = '''
import os, sys
tmp = os.environ["TMPDIR"]
print(tmp)
os.makedirs(tmp + "/locked/sub")
open(tmp + "/locked/sub/f", "w").close()
os.chmod(tmp + "/locked", 0)
open(tmp + "/file", "w").close()
sys.exit(7)
'''


def main():
    t = TAP()
    tmp = os.environ.get('TMPDIR', '')
    t.ok(os.path.basename(tmp).startswith('trainguard-test-') and os.path.isdir(tmp) and
         sorted(os.listdir(tmp)) == [],
         'meson runs this test with a fresh, empty TMPDIR of its own (tests/private-tmpdir)',
         f'TMPDIR={tmp!r}')
    mode = stat.S_IMODE(os.stat(tmp).st_mode) if os.path.isdir(tmp) else None
    t.ok(mode == 0o1777, 'like /tmp, anyone may enter it and create in it (tests run '
         'programs as nobody)', f'mode {mode and oct(mode)}')

    # A test run through the wrapper inside this one: it litters its TMPDIR.
    with tempfile.TemporaryDirectory() as outer:
        stale = tempfile.mkdtemp(prefix='trainguard-test-', dir=outer)
        open(os.path.join(stale, 'left'), 'w').close()
        old = time.time() - 3600
        os.utime(stale, (old, old))
        fresh = tempfile.mkdtemp(prefix='trainguard-test-', dir=outer)
        r = subprocess.run([sys.executable, WRAPPER, sys.executable, '-c', LITTER],
                           env=dict(os.environ, TMPDIR=outer), capture_output=True, text=True,
                           timeout=60)
        inner = r.stdout.strip()
        t.ok(os.path.dirname(inner) == outer and inner != outer,
             'the wrapped test gets a folder below the TMPDIR of the run', r.stdout + r.stderr)
        t.ok(r.returncode == 7, 'its exit status is passed on', f'exit {r.returncode}')
        t.ok(inner and not os.path.exists(inner),
             'its folder is removed with what it left, a folder without rights too',
             repr(os.listdir(outer)))
        t.ok('left in its TMPDIR: file, locked' in r.stderr,
             'what it left is named on standard error', r.stderr)
        t.ok(not os.path.exists(stale),
             'the folder of a killed test (no lock held, an hour old) is removed')
        t.ok(os.path.isdir(fresh), 'a folder made a moment ago is kept (it may not be locked yet)')

        r = subprocess.run([sys.executable, WRAPPER, sys.executable, '-c',
                            'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'],
                           env=dict(os.environ, TMPDIR=outer), capture_output=True, timeout=60)
        t.ok(r.returncode == -15, 'a test killed by a signal is reported killed by it',
             f'exit {r.returncode}')
        t.ok(sorted(os.listdir(outer)) == [os.path.basename(fresh)],
             'and its folder is removed too', repr(os.listdir(outer)))
    t.done()


main()
