"""The wrapper table as the tests see it, read in this one place.

The symbol names come from the list the build generates from preload/wrap.h
(preload/gen-map.py --list writes <build>/preload/wrapped-symbols.txt, the
same names as the version script): a test never re-parses the table to learn
what the library wraps. Only the family column, which the build does not
write out, is read from wrap.h, here.

Environment: TG_SOURCE_ROOT and TG_BUILD_ROOT (set by tests/meson.build)."""
import os
import re

SOURCE_ROOT = os.environ.get('TG_SOURCE_ROOT', '')
BUILD_ROOT = os.environ.get('TG_BUILD_ROOT', '')
LIST = os.path.join(BUILD_ROOT, 'preload', 'wrapped-symbols.txt')
WRAP_H = os.path.join(SOURCE_ROOT, 'preload', 'wrap.h')

# One table line: X(name, family)
ENTRY = re.compile(r'^\s*X\(\s*(\w+)\s*,\s*(\w+)\s*\)', re.M)


def symbols():
    """The wrapped symbols, in table order, from the generated list.
    Raises OSError naming the file when the build has not written it."""
    try:
        with open(LIST, encoding='utf-8') as f:
            return [line.strip() for line in f if line.strip()]
    except OSError as e:
        raise OSError(f'{LIST}: {e.strerror} (the build target wrapped-symbols.txt '
                      'writes it)') from e


def families():
    """name -> family (the file preload/wrap-<family>.c that holds it),
    from the table's family column."""
    with open(WRAP_H, encoding='utf-8') as f:
        return dict(ENTRY.findall(f.read()))


def family_file(family):
    """The source file a family's wrappers live in."""
    return os.path.join('preload', f'wrap-{family}.c')
