"""The wrapper table as the tests see it, read in this one place.

The symbols and their families come from the list the build generates from
preload/wrap.h (preload/gen-map.py --list writes
<build>/preload/wrapped-symbols.txt, "name family" per line in table order,
the same names as the version script): no test re-parses the table.

Environment: TG_SOURCE_ROOT and TG_BUILD_ROOT (set by tests/meson.build)."""
import os

SOURCE_ROOT = os.environ.get('TG_SOURCE_ROOT', '')
BUILD_ROOT = os.environ.get('TG_BUILD_ROOT', '')
LIST = os.path.join(BUILD_ROOT, 'preload', 'wrapped-symbols.txt')

def _rows():
    try:
        with open(LIST, encoding='utf-8') as f:
            return [line.split() for line in f if line.strip()]
    except OSError as e:
        raise OSError(f'{LIST}: {e.strerror} (the build target wrapped-symbols.txt '
                      'writes it)') from e


def symbols():
    """The wrapped symbols, in table order, from the generated list.
    Raises OSError naming the file when the build has not written it."""
    return [row[0] for row in _rows()]


def families():
    """name -> family (the file preload/wrap-<family>.c that holds it)."""
    return {row[0]: row[1] for row in _rows()}


def family_file(family):
    """The source file a family's wrappers live in."""
    return os.path.join('preload', f'wrap-{family}.c')
