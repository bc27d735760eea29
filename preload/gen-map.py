#!/usr/bin/env python3
"""Writes the version script of libtrainguard.so from the wrapper table in
wrap.h: gen-map.py wrap.h OUT.map [--list]. The node is anonymous on purpose:
a named node would give the exports a version and stop interposition.

With --list it writes the table instead, one "name family" line per wrapped
symbol in table order (family: the wrap-<family>.c file that defines it), for
the tests to read rather than parse wrap.h again."""
import re
import sys


def rows(path):
    with open(path, encoding='utf-8') as f:
        return re.findall(r'^\s*X\((\w+),\s*(\w+)\)', f.read(), re.M)


def main():
    table = rows(sys.argv[1])
    if not table:
        sys.exit('gen-map.py: no X(name, family) rows found in ' + sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[3] == '--list':
        text = ''.join('%s %s\n' % row for row in table)
    else:
        text = '{\n  global:\n' + ''.join('    %s;\n' % n for n, _ in table) + \
               '  local:\n    *;\n};\n'
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        f.write(text)


main()
