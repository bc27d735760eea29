#!/usr/bin/env python3
"""Opens through a symlinked folder (a dataset root linked into the job, a
`latest -> ckpt-0005` link re-pointed during the run), under the guard (TAP).

The guard remembers such a link and, for each open below it, reads it
again and opens the folder it names now with RESOLVE_NO_SYMLINKS (preload/
links.c). Checked: every open reaches the object the link names at that
moment (re-pointed between opens, absolute and relative texts, a link to
the secret), the decision and the record are on the real object, links
the cache does not keep (behind another link, with "..", a link below the
root) still resolve, and, with strace, one system call per file more than
the unguarded program.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tglib  # noqa: E402
from tgbox import (FIRST, POINT, PYTHON as PY, TRY_VALUE, Box, policy, run_cases,  # noqa: E402
                   strace_calls)

BUILD = tglib.BUILD_ROOT
SECRET = 'KEY-9a1e55-do-not-leak'

T = tglib.TAP()
ok = T.ok


def symroot_box():
    """real/ds/c0 and c1 with 400 samples each (the dataset, read-only),
    secret/key, out/ckpt-0005 and -0006, and the links: out/data to the
    dataset (absolute), out/latest to ckpt-0005 (relative), l1 to a target
    behind the link hop/r, out/up with ".." in it, and one below the root."""
    tree = [(f'real/ds/c{c}/s{i}.bin', f'sample {c} {i}\n') for c in (0, 1) for i in range(400)]
    tree += [('secret/key', SECRET + '\n'), ('out/ckpt-0005/model.pt', 'five\n'),
             ('out/ckpt-0006/model.pt', 'six\n'), ('hop/', '')]
    b = Box('symroot', policy(data='real'), tree=tree, job='job-symroot',
            env={'TRAINGUARD_FENCE': 'none'})
    os.symlink(b.p('real/ds'), b.p('out/data'))       # absolute text
    os.symlink('ckpt-0005', b.p('out/latest'))         # relative text
    os.symlink(b.p('real'), b.p('hop/r'))
    os.symlink(b.p('hop/r/ds'), b.p('l1'))             # its target is behind a link
    os.symlink('../real/ds', b.p('out/up'))            # ".." in the text
    os.symlink('s0.bin', b.p('real/ds/c0/alias'))      # a link below the root
    return b


def case_opens(b, prefix=(), what='with openat2'):
    code = TRY_VALUE + POINT + f'R = {b.root!r}\n' + '''
for i in range(50):
    open(R + "/out/data/c0/s%d.bin" % i).read()
t(lambda: open(R + "/out/data/c1/s7.bin").read())               # 1 through the root link
t(lambda: open(R + "/out/data/c1/s7.bin", "a"))                 # 2 decided on real/: EROFS
t(lambda: open(R + "/out/data/c1/new.bin", "w"))                # 3 a create there: EROFS
t(lambda: open(R + "/out/latest/model.pt").read())          # 4 five
t(lambda: open(R + "/out/latest/model.pt").read())          # 5 five (the link is known)
point(R + "/out/latest", "ckpt-0006")
t(lambda: open(R + "/out/latest/model.pt").read())          # 6 six, at once
t(lambda: open(R + "/out/latest/model.pt").read())          # 7 six
point(R + "/out/latest", R + "/secret")
t(lambda: open(R + "/out/latest/key").read())               # 8 the secret: EACCES
point(R + "/out/latest", "ckpt-0005")
t(lambda: open(R + "/out/latest/model.pt").read())          # 9 five again
point(R + "/out/data", R + "/secret")
t(lambda: open(R + "/out/data/key").read())                 # 10 the root re-pointed at the secret
point(R + "/out/data", R + "/real/ds")
t(lambda: open(R + "/out/data/c0/s1.bin").read())               # 11 and back
for i in range(3):
    t(lambda: open(R + "/l1/c0/s2.bin").read())             # 12-14 target behind a link
t(lambda: open(R + "/out/up/c0/s3.bin").read())             # 15 ".." in the text
t(lambda: open(R + "/out/data/c0/alias").read())                # 16 a link below the root
t(lambda: open(R + "/out/data/c0/../c1/s4.bin").read())         # 17 ".." after the link
os.unlink(R + "/out/latest")
os.mkdir(R + "/out/latest")
t(lambda: open(R + "/out/latest/model.pt").read())          # 18 no longer a link: ENOENT
fd = os.open(R + "/out/data/c1", os.O_RDONLY | os.O_DIRECTORY)
t(lambda: os.read(os.open("s5.bin", os.O_RDONLY, dir_fd=fd), 20).decode())  # 19 from its dirfd
t(lambda: os.open("s5.bin", os.O_WRONLY, dir_fd=fd))        # 20 EROFS from it
'''
    r = b.py(code, prefix=prefix)
    got = r.stdout.split('\n')[:-1]
    want = ['sample 1 7', 'EROFS', 'EROFS', 'five', 'five', 'six', 'six', 'EACCES', 'five',
            'EACCES', 'sample 0 1', 'sample 0 2', 'sample 0 2', 'sample 0 2', 'sample 0 3',
            'sample 0 0', 'sample 1 4', 'ENOENT', 'sample 1 5', 'EROFS']
    ok(got == want, f'{what}: every open through a symlinked folder reaches what the link '
       'names now',
       f'got  {got}\nwant {want}\n{r.stderr[-2000:]}')
    ok(SECRET not in r.stdout + r.stderr,
       f'{what}: the secret was not read through a re-pointed link')
    ok(not os.path.exists(b.p('real/ds/c1/new.bin')), f'{what}: nothing was created in the dataset')
    recs = [(x.get('file', {}).get('path'), tglib.tg(x).get('decision'),
             x.get('status_code')) for x in b.records()
            if tglib.tg(x).get('decision') == 'deny']
    ok((b.p('real/ds/c1/s7.bin'), 'deny', 'EROFS') in recs,
       f'{what}: the refused write is recorded on the real file, not on the link', json.dumps(recs))
    ok((b.p('secret/key'), 'deny', 'EACCES') in recs,
       f'{what}: the re-pointed link is decided and recorded on the secret', json.dumps(recs))


COUNT = '''
import sys
R, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open("%s/out/data/c%d/s%d.bin" % (R, i % 2, i // 2), "rb") as f:
        f.read()
'''


def syscalls(b, n, guarded):
    env = b.env(guarded=guarded)
    setting = [f'{k}={env[k]}' for k in env if k.startswith('TRAINGUARD_') or k == 'LD_PRELOAD']
    # strace itself runs unguarded; env puts the guard under the program only.
    return strace_calls(['env'] + setting + [PY, '-c', COUNT, b.root, n],
                        b.root + f'.strace-{n}-{guarded}', env=b.env(guarded=False))


def case_count(b):
    if not shutil.which('strace') or FIRST:
        T.skip('one system call per file through the link',
               'strace is not installed' if not shutil.which('strace') else
               'the sanitizer run counts its own calls')
        return
    a = syscalls(b, 400, False) - syscalls(b, 200, False)
    g = syscalls(b, 400, True) - syscalls(b, 200, True)
    extra = (g - a) / 200
    ok(extra <= 1.05, f'through the symlinked root: {extra:.2f} extra system calls per file '
       '(at most 1; 4 before the guard kept links)')


HELPER = os.path.join(BUILD, 'tests', 'attacks', 'tg-attack-helper')


def case_no_openat2(_):
    if not os.path.exists(HELPER):
        T.skip('openat2 refused: opens through symlinked folders',
               'tg-attack-helper (libseccomp) was not built')
        return
    with symroot_box() as b:
        case_opens(b, prefix=(HELPER, 'no-openat2'), what='openat2 refused')


def main():
    with symroot_box() as b:
        run_cases(T, (case_opens, case_count, case_no_openat2), b)
    T.done()


main()
