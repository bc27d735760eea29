#!/usr/bin/env python3
"""unlink and rename from folders the guard holds (preload/open-parent.c), TAP.

The guard keeps a few O_PATH descriptors of folders per thread and checks
one with a readlink of its /proc name before acting from it. Checked: a
held folder replaced by a symlink to the dataset is seen (the unlink is
decided on the dataset file and refused, the file stays); a held folder
moved away is not acted in; a program that closes every descriptor (so
the guard's too) and reuses the numbers keeps its own descriptors (the
guard never closes a number it no longer holds); a thread's held folders
are closed when it exits; renames within a folder and across folders
land where the program asked, a rename into a folder newly kept too
(keeping it never lets go of the old name's folder the rename acts from);
the same with openat2 refused. With strace:
one extra system call per unlink and per rename in one folder.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tap  # noqa: E402
from tgbox import strace_calls  # noqa: E402

BUILD = os.environ['TG_BUILD_ROOT']
LIB = os.path.join(BUILD, 'preload', 'libtrainguard.so')
FIRST = os.environ.get('TG_PRELOAD_FIRST', '')  # the ASan runtime, in the sanitizer run
PY = os.environ.get('TG_PYTHON', '/usr/bin/python3')
HELPER = os.path.join(BUILD, 'tests', 'attacks', 'tg-attack-helper')

POLICY = '''version = 1;
defaults = {{ read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; }};
rules = (
  {{ id = "data"; path = "{root}/data/**"; allow = ["read", "list"];
     deny = ["write", "create", "delete", "chmod"]; errno = "EROFS"; }},
  {{ id = "out"; path = ["{root}/out", "{root}/out/**"];
     allow = ["read", "list", "write", "create", "delete"]; }}
);
'''

T = tap.TAP()
ok = T.ok

CODE = r'''
import errno, os, sys, threading
R = sys.argv[1]
def t(fn):
    try:
        r = fn()
        print("ok" if r is None or isinstance(r, int) else r)
    except OSError as e:
        print(errno.errorcode[e.errno])
def make(p):
    with open(p, "w") as f:
        f.write("x")
def fds():
    return len(os.listdir("/proc/self/fd"))
make(R + "/out/w/a"); make(R + "/out/w/b")
t(lambda: os.unlink(R + "/out/w/a"))                     # 1 held from now on
# out/w is moved away and replaced by a link to the dataset.
os.rename(R + "/out/w", R + "/out/moved")
os.symlink(R + "/data", R + "/out/w")
t(lambda: os.unlink(R + "/out/w/f"))                     # 2 decided on data/f: EROFS
t(lambda: os.unlink(R + "/out/w/b"))                     # 3 not in data/: ENOENT
t(lambda: os.path.exists(R + "/out/moved/b") and "kept") # 4 the moved folder untouched
os.unlink(R + "/out/w"); os.rename(R + "/out/moved", R + "/out/w")
make(R + "/out/w/c")
t(lambda: os.rename(R + "/out/w/b", R + "/out/w/b2"))    # 5 in one folder
t(lambda: os.rename(R + "/out/w/b2", R + "/out/v/b3"))   # 6 across folders
t(lambda: open(R + "/out/v/b3").read())                  # 7 it is there
t(lambda: os.rename(R + "/out/w/c", R + "/data/c"))      # 8 into the dataset: EROFS
# Every descriptor closed (the guard's included), the numbers reused.
os.closerange(3, 1024)
mine = [os.open(R + "/data/f", os.O_RDONLY) for _ in range(8)]
for i in range(6):
    os.makedirs(R + "/out/d%d" % i)
    make(R + "/out/d%d/x" % i)
    os.unlink(R + "/out/d%d/x" % i)                      # new folders held, old slots dropped
t(lambda: all(os.read(fd, 5) == b"data\n" for fd in mine) and "mine")  # 9 still open
before = fds()
def worker():
    for i in range(6):
        make(R + "/out/d%d/y" % i)
        os.unlink(R + "/out/d%d/y" % i)
th = threading.Thread(target=worker); th.start(); th.join()
import time
for _ in range(200):  # join returns before the thread's key destructors ran
    if fds() <= before:
        break
    time.sleep(0.01)
t(lambda: "closed" if fds() <= before else "leaked-%d" % (fds() - before))  # 10
# Four folders kept, the first one's slot next to go: a rename from it
# into a fifth keeps the new folder without letting the old one go.
for i in range(4):
    os.makedirs(R + "/out/f%d" % i)
    make(R + "/out/f%d/x" % i)
    os.unlink(R + "/out/f%d/x" % i)
os.makedirs(R + "/out/f4")
make(R + "/out/f0/z")
t(lambda: os.rename(R + "/out/f0/z", R + "/out/f4/z"))   # 11 both folders held
t(lambda: open(R + "/out/f4/z").read())                  # 12 it is there
'''


def run(root, policy, log, extra_prefix=()):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('TRAINGUARD_') and k != 'LD_PRELOAD'}
    env.update(LD_PRELOAD=(FIRST + ':' if FIRST else '') + LIB, TRAINGUARD_LOG=log,
               TRAINGUARD_POLICY=policy, TRAINGUARD_JOB_ID='job-held', LC_ALL='C',
               TRAINGUARD_FENCE='none')
    return subprocess.run(list(extra_prefix) + [PY, '-c', CODE, root], env=env,
                          capture_output=True, text=True, timeout=120)


def box():
    root = os.path.realpath(tempfile.mkdtemp(prefix='tg-held-'))
    for d in ('data', 'out/w', 'out/v'):
        os.makedirs(os.path.join(root, d))
    with open(os.path.join(root, 'data/f'), 'w') as f:
        f.write('data\n')
    policy = os.path.join(root, 'policy.cfg')
    with open(policy, 'w') as f:
        f.write(POLICY.format(root=root))
    return root, policy


def clear(root):
    """Removes the box and the log beside it."""
    shutil.rmtree(root, ignore_errors=True)
    if os.path.exists(root + '.log'):
        os.unlink(root + '.log')


WANT = ['ok', 'EROFS', 'ENOENT', 'kept', 'ok', 'ok', 'x', 'EROFS', 'mine', 'closed', 'ok',
        'x']


def case(name, prefix=()):
    root, policy = box()
    r = run(root, policy, root + '.log', prefix)
    got = r.stdout.split()
    ok(got == WANT, f'{name}: unlink and rename from held folders act where the program asked',
       f'got  {got}\nwant {WANT}\n{r.stderr[-2000:]}')
    ok(open(os.path.join(root, 'data/f')).read() == 'data\n' and
       not os.path.exists(os.path.join(root, 'data/c')), f'{name}: the dataset is untouched')
    clear(root)


LOOP = r'''
import os, sys
R, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = R + "/out/w/t%d" % i
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600))
    os.rename(p, p + ".done")
    os.unlink(p + ".done")
'''


def count(root, policy, n, guarded):
    setting = []
    if guarded:
        setting = [f'LD_PRELOAD={LIB}', f'TRAINGUARD_POLICY={policy}',
                   f'TRAINGUARD_LOG={root}.log', 'TRAINGUARD_FENCE=none']
    return strace_calls(['env'] + setting + [PY, '-c', LOOP, root, n],
                        root + f'.strace-{n}-{guarded}')


def case_count():
    if not shutil.which('strace') or FIRST:
        T.skip('one system call per unlink and per rename',
               'strace is not installed' if not shutil.which('strace') else
               'the sanitizer run counts its own calls')
        return
    root, policy = box()
    a = count(root, policy, 400, False) - count(root, policy, 200, False)
    g = count(root, policy, 400, True) - count(root, policy, 200, True)
    extra = (g - a) / 200
    ok(extra <= 2.05, f'create + rename in one folder + unlink: {extra:.2f} extra system calls '
       '(at most one per rename and one per unlink; 6 with the probes)')
    clear(root)


def main():
    for fn, args in ((case, ('with openat2',)),
                     (case, ('openat2 refused', (HELPER, 'no-openat2'))),
                     (case_count, ())):
        if args and len(args) > 1 and not os.path.exists(HELPER):
            T.skip(f'{args[0]}: held folders', 'tg-attack-helper (libseccomp) was not built')
            continue
        try:
            fn(*args)
        except Exception as e:  # a crash of the harness is a failure, not a skip
            ok(False, f'{fn.__name__}{args[:1]} ran to the end', repr(e))
    T.done()


main()
