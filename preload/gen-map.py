#!/usr/bin/env python3
"""Writes the version script of libtrainguard.so from the wrapper table in
wrap.h: gen-map.py wrap.h OUT.map [--list]. The node is anonymous on purpose:
a named node would give the exports a version and stop interposition."""
import re
import sys


def symbols(path):
    with open(path, encoding='utf-8') as f:
        return re.findall(r'^\s*X\((\w+),\s*\w+\)', f.read(), re.M)


def main():
    names = symbols(sys.argv[1])
    if not names:
        sys.exit('gen-map.py: no TG_WRAP entries found in ' + sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[3] == '--list':
        text = ''.join(n + '\n' for n in names)
    else:
        text = '{\n  global:\n' + ''.join('    %s;\n' % n for n in names) + \
               '  local:\n    *;\n};\n'
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        f.write(text)


main()
