#!/usr/bin/env python3
"""The wrapper table against the library and against real programs (TAP).

1. libtrainguard.so exports exactly the wrapped symbols (the list the build
   generates from preload/wrap.h, read through tests/wraptable.py).
2. python3, libstdc++ and (when installed) libtorch_cpu.so import no libc
   function that takes a path (or writes through a descriptor) which the
   table lacks, except the few left out on purpose, listed here with why.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import tap  # noqa: E402
import wraptable  # noqa: E402

BUILD = os.environ['TG_BUILD_ROOT']
LIB = os.path.join(BUILD, 'preload', 'libtrainguard.so')

# glibc 2.36 functions that reach a file by name, or write through a
# descriptor (research/interposition.md §3).
PATH_TAKING = set('''
open open64 openat openat64 __open_2 __open64_2 __openat_2 __openat64_2 creat creat64
open_by_handle_at name_to_handle_at fopen fopen64 freopen freopen64 fdopen tmpfile tmpfile64
mkstemp mkstemp64 mkostemp mkostemp64 mkstemps mkstemps64 mkostemps mkostemps64 mkdtemp
mktemp tmpnam tmpnam_r tempnam stat stat64 lstat lstat64 fstatat fstatat64 __xstat __xstat64
__lxstat __lxstat64 __fxstatat __fxstatat64 statx statfs statfs64 statvfs statvfs64 mknod
mknodat __xmknod __xmknodat mkfifo mkfifoat rename renameat renameat2 unlink unlinkat remove
rmdir mkdir mkdirat link linkat symlink symlinkat readlink readlinkat truncate truncate64
chmod fchmod fchmodat lchmod chown fchown lchown fchownat access faccessat eaccess euidaccess
utime utimes utimensat futimesat lutimes futimens futimes setxattr lsetxattr fsetxattr
removexattr lremovexattr fremovexattr getxattr lgetxattr listxattr llistxattr opendir
fdopendir scandir scandir64 scandirat scandirat64 nftw nftw64 ftw ftw64 glob glob64 fts_open
fts64_open realpath canonicalize_file_name chdir fchdir chroot execve execv execvp execvpe
execl execle execlp fexecve execveat posix_spawn posix_spawnp system popen dlopen pathconf
__realpath_chk __readlink_chk __readlinkat_chk write pwrite pwrite64 writev pwritev pwritev64
pwritev2 pwritev64v2 ftruncate ftruncate64 fallocate fallocate64 posix_fallocate
posix_fallocate64 copy_file_range sendfile sendfile64 close dup2 dup3 close_range closefrom
'''.split())

# Left out on purpose; SECURITY.md says the same.
NOT_WRAPPED = {
    'readlink': 'reads a link\'s text, no file content',
    'readlinkat': 'reads a link\'s text, no file content',
    '__readlink_chk': 'reads a link\'s text, no file content',
    '__readlinkat_chk': 'reads a link\'s text, no file content',
    'realpath': 'resolves a name, opens nothing',
    '__realpath_chk': 'resolves a name, opens nothing',
    'canonicalize_file_name': 'resolves a name, opens nothing',
    'getxattr': 'reads metadata', 'lgetxattr': 'reads metadata',
    'listxattr': 'reads metadata', 'llistxattr': 'reads metadata',
    'statfs': 'file-system metadata', 'statfs64': 'file-system metadata',
    'statvfs': 'file-system metadata', 'statvfs64': 'file-system metadata',
    'pathconf': 'file-system limits',
    'mktemp': 'makes a name, creates nothing', 'tmpnam': 'makes a name, creates nothing',
    'tmpnam_r': 'makes a name, creates nothing', 'tempnam': 'makes a name, creates nothing',
    'chroot': 'needs CAP_SYS_CHROOT; not a file access',
    'open_by_handle_at': 'needs CAP_DAC_READ_SEARCH; the kernel fence will refuse it',
    'name_to_handle_at': 'paired with open_by_handle_at',
}

T = tap.TAP()
ok = T.ok


def table():
    return set(wraptable.symbols())


def defined_exports(path):
    out = subprocess.run(['nm', '-D', '--defined-only', path], capture_output=True,
                         text=True, check=True).stdout
    return {l.split()[-1].split('@')[0] for l in out.splitlines() if l.strip()}


def libc_imports(path):
    out = subprocess.run(['objdump', '-T', path], capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        if '*UND*' in line and 'GLIBC_' in line:
            names.add(line.split()[-1])
    return names


def main():
    wrapped = table()
    ok(len(wrapped) > 100, f'the wrapper table lists {len(wrapped)} symbols')
    exports = defined_exports(LIB)
    ok(exports == wrapped, 'libtrainguard.so exports exactly the table',
       f'exported, not in the table: {sorted(exports - wrapped)}\n'
       f'in the table, not exported: {sorted(wrapped - exports)}')
    ok(not (set(NOT_WRAPPED) & wrapped), 'nothing is both wrapped and listed as left out',
       str(sorted(set(NOT_WRAPPED) & wrapped)))

    import glob as g
    targets = ['/usr/bin/python3.11']
    targets += sorted(g.glob('/usr/lib/x86_64-linux-gnu/libstdc++.so.6*'))[:1]
    torch = sorted(g.glob('/usr/lib/python3/dist-packages/torch/lib/libtorch_cpu.so*')) + \
        sorted(g.glob('/usr/lib/x86_64-linux-gnu/libtorch_cpu.so*'))
    skip_torch = not torch
    targets += torch[:1]
    for t in targets:
        real = os.path.realpath(t)
        if not os.path.exists(real):
            T.skip(f'{t}', 'not installed')
            continue
        missing = sorted((libc_imports(real) & PATH_TAKING) - wrapped - set(NOT_WRAPPED))
        ok(not missing, f'{os.path.basename(real)} imports no unwrapped path-taking libc function',
           'missing: ' + ' '.join(missing))
    if skip_torch:
        T.skip('libtorch_cpu.so', 'python3-torch is not installed')

    T.done()


main()
