#!/usr/bin/env python3
"""The wrapper table's family column is true (TAP).

Each wrapped symbol (the list the build generates) is defined in
preload/wrap-<family>.c, its family in preload/wrap.h, and nowhere else: a
reader who knows a symbol's family finds its wrapper by the file name. The
definitions are read from the compiled objects of the library (nm
--defined-only), so a wrapper written through a macro counts too.

And the families mean something: the rows of one family are together in
the table, a call and its descriptor or link twin share a family, the
directory walkers share one family that is not the attribute family, and
no family is called seccomp (that name belongs to the kernel fence).

The objects are meson's, under <build>/preload/libtrainguard.so.p/."""
import glob
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import tap  # noqa: E402
import wraptable  # noqa: E402

T = tap.TAP()
ok = T.ok


def defined(obj):
    out = subprocess.run(['nm', '--defined-only', obj], capture_output=True, text=True)
    if out.returncode != 0:
        raise OSError(f'nm {obj}: {out.stderr.strip()}')
    return {line.split()[-1] for line in out.stdout.splitlines()
            if len(line.split()) == 3 and line.split()[1] in 'TW'}


def source_of(obj):
    """preload/wrap-open.c for .../libtrainguard.so.p/wrap-open.c.o"""
    name = os.path.basename(obj)
    return os.path.join('preload', name[:-2] if name.endswith('.o') else name)


# A call and the twins it must sit with.
TWINS = {
    'truncate': 'ftruncate', 'truncate64': 'ftruncate64',
    'lchmod': 'chmod', 'fchmodat': 'chmod', 'lchown': 'chown', 'fchownat': 'chown',
    'lutimes': 'utimes', 'fdopen': 'fopen', 'fdopendir': 'opendir',
}
WALKERS = ['glob', 'glob64', 'nftw', 'nftw64', 'ftw', 'ftw64', 'fts_open', 'fts64_open']


def meaning(names, family):
    """The table's family column groups like with like."""
    order = [family.get(n) for n in names]
    first, last, rows = {}, {}, {}
    for i, f in enumerate(order):
        first.setdefault(f, i)
        last[f] = i
        rows[f] = rows.get(f, 0) + 1
    split = sorted(str(f) for f in rows if last[f] - first[f] + 1 != rows[f])
    strays = [f'{n} ({family.get(n)}) after {names[i - 1]} ({order[i - 1]})'
              for i, n in enumerate(names) if i and order[i] != order[i - 1] and
              order[i] in order[:i - 1]]
    ok(not split, 'the rows of each family are together in the table',
       'families split: ' + ', '.join(split) + '\n' + '\n'.join(strays))
    for call, twin in TWINS.items():
        if call in family and twin in family:
            ok(family[call] == family[twin], f'{call} sits in the family of {twin}',
               f'{call}: {family[call]}, {twin}: {family[twin]}')
    walk = {w: family.get(w) for w in WALKERS if w in family}
    ok(len(set(walk.values())) == 1 and 'meta' not in walk.values(),
       'the directory walkers share one family, not the attribute (meta) family',
       str(walk))
    ok('seccomp' not in family.values(), 'no family is called seccomp (the fence\'s name)',
       ', '.join(n for n, f in family.items() if f == 'seccomp'))


def main():
    if not shutil.which('nm'):
        T.skip_all('nm (binutils) is not installed')
    names = wraptable.symbols()
    family = wraptable.families()
    ok(set(names) == set(family), 'preload/wrap.h gives a family to every wrapped symbol',
       f'no family: {sorted(set(names) - set(family))}\n'
       f'not in the list: {sorted(set(family) - set(names))}')
    objs = sorted(glob.glob(os.path.join(wraptable.BUILD_ROOT, 'preload',
                                         'libtrainguard.so.p', '*.c.o')))
    ok(len(objs) > 1, f'the objects of libtrainguard.so are there ({len(objs)})')
    where = {}
    for obj in objs:
        for sym in defined(obj):
            where.setdefault(sym, []).append(source_of(obj))
    meaning(names, family)
    for name in names:
        want = wraptable.family_file(family.get(name, '?'))
        got = sorted(where.get(name, []))
        ok(got == [want], f'{name} is defined in {want}',
           f'defined in: {", ".join(got) or "nothing"}')
    T.done()


main()
