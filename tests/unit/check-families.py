#!/usr/bin/env python3
"""The wrapper table's family column is true (TAP): every symbol of the
generated list (build/preload/wrapped-symbols.txt, "name family" per line,
made by preload/gen-map.py from preload/wrap.h) is defined in
preload/wrap-<family>.c and in no other wrapper file, and every wrapper file
is some family's."""
import glob
import os
import re
import sys

SRC = os.environ.get('TG_SOURCE_ROOT', '.')
BUILD = os.environ.get('TG_BUILD_ROOT', 'build')
n = failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    failed += not cond
    print(f'{"ok" if cond else "not ok"} {n} - {what}', flush=True)


def defined(text, name):
    """True when TEXT defines function NAME (a definition line, or one of
    the preload's defining macros naming it first)."""
    return re.search(r'^[A-Za-z_][\w \*]*\b%s\s*\([^;]*$' % re.escape(name), text, re.M) or \
        re.search(r'^HOT_WRITE\([^,]+,\s*%s\s*,' % re.escape(name), text, re.M)


def main():
    listing = os.path.join(BUILD, 'preload', 'wrapped-symbols.txt')
    rows = [l.split() for l in open(listing) if l.strip()]
    ok(len(rows) > 100 and all(len(r) == 2 for r in rows),
       f'{listing} has one "name family" line per symbol ({len(rows)})')
    files = {os.path.basename(p)[5:-2]: open(p).read()
             for p in glob.glob(os.path.join(SRC, 'preload', 'wrap-*.c'))}
    families = {f for _, f in rows}
    for name, family in rows:
        text = files.get(family)
        where = [f for f, t in files.items() if f != family and defined(t, name)]
        ok(text is not None and defined(text, name) and not where,
           f'{name} is defined in wrap-{family}.c' + (f' (also in {where})' if where else ''))
    for f in sorted(files):
        ok(f in families, f'wrap-{f}.c is the file of family {f}')
    print(f'1..{n}')
    return 1 if failed else 0


sys.exit(main())
