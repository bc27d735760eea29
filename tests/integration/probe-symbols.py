#!/usr/bin/env python3
"""Every wrapped libc entry point, allowed and denied (TAP).

Reads the wrapped symbols (the list the build generates from
preload/wrap.h) and fails for any
symbol without both an allowed and a denied case here. Each case runs
tg-probe in a fresh sandbox:

    data/    read-only dataset (rule "dataset": deny write, create, delete,
             chmod, exec)
    out/     writable (rule "out")
    hidden/  hidden from reads (rule "hidden": deny read and list, ENOENT)
    /tmp/*   no new names directly in /tmp (rule "tmp-top", for tmpfile)

and asserts the return value and errno the probe printed, that the
protected folders are byte-for-byte untouched by a denied call, the
record of the denial (op, decision, errno, rule, path, classes, mode, job,
pid), and that the log passes the project's OCSF 1.8.0 check (tests/ocsf)."""
import os
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import PROBE, Sandbox  # noqa: E402

SH_REAL = os.path.realpath('/bin/sh')
TRUE = shutil.which('true') or '/bin/true'
PROBE_DIR = os.path.dirname(os.path.realpath(PROBE))

POLICY = '''version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
rules = (
  { id = "dataset"; path = "{root}/data/**"; allow = ["read", "list"];
    deny = ["write", "create", "delete", "chmod", "exec"]; },
  { id = "out"; path = "{root}/out/**";
    allow = ["read", "list", "write", "create", "delete", "chmod", "exec"]; },
  { id = "hidden"; path = "{root}/hidden/**"; deny = ["read", "list"]; errno = "ENOENT"; }%s
);
'''
TMP_TOP = ''',
  { id = "tmp-top"; path = "/tmp/*"; deny = ["create"]; }'''
NO_SHELL = ''',
  { id = "no-shell"; path = ["%s"]; deny = ["exec"]; }''' % SH_REAL

POLICIES = {
    'main': POLICY % TMP_TOP,
    'plain': POLICY % '',
    'noshell': POLICY % NO_SHELL,
}

EXEC_OPS = {'execve', 'execv', 'execvp', 'execvpe', 'execl', 'execlp', 'execle', 'fexecve',
            'execveat', 'posix_spawn', 'posix_spawnp', 'system', 'popen'}


def setup(sb):
    sb.write('data/f', b'dataset bytes\n')
    sb.write('data/sub/g', b'dataset g\n')
    sb.mkdir('data/emptydir', 'out/emptydir', 'out/sub')
    shutil.copy(TRUE, sb.p('data', 'true'))
    os.chmod(sb.p('data', 'true'), 0o755)
    sb.write('out/f', b'out bytes\n')
    sb.write('out/src', b'source bytes\n')
    sb.write('hidden/f', b'hidden bytes\n')
    for rel in ('data/f', 'out/f'):
        try:
            os.setxattr(sb.p(rel), 'user.tg', b'1')
        except OSError:
            pass
    # Old times, so that a time change shows in the snapshot.
    for top in ('data', 'hidden'):
        for dirpath, dirnames, filenames in os.walk(sb.p(top), topdown=False):
            for name in filenames + dirnames:
                os.utime(os.path.join(dirpath, name), (1000000000, 1000000000),
                         follow_symlinks=False)


class Case:
    def __init__(self, sym, kind, args, *, ret=None, errno=None, path=None, classes=None,
                 uid=None, policy='main', env=None, record_op=None, record=True,
                 effect=None, line_check=None, cwd=None, rec_errno=None):
        self.sym, self.kind, self.args = sym, kind, args
        self.ret, self.errno, self.path, self.classes = ret, errno, path, classes
        self.uid, self.policy, self.env = uid, policy, env
        self.record_op, self.record = record_op or sym, record
        self.effect, self.line_check, self.cwd = effect, line_check, cwd
        # errno of the record: REC_ERRNO, else the call's, else EACCES
        self.rec_errno = rec_errno or (errno if errno not in (None, '0', 'any') else 'EACCES')


def A(sym, *args, **kw):
    return Case(sym, 'allow', list(args), **kw)


def D(sym, *args, **kw):
    return Case(sym, 'deny', list(args), **kw)


def exists(rel):
    def f(sb, res):
        return os.path.lexists(sb.p(rel)), f'{rel} exists'
    return f


def gone(rel):
    def f(sb, res):
        return not os.path.lexists(sb.p(rel)), f'{rel} is gone'
    return f


def content(rel, data):
    def f(sb, res):
        try:
            with open(sb.p(rel), 'rb') as fh:
                got = fh.read()
        except OSError as e:
            got = repr(e)
        return got == data, f'{rel} holds {data!r} (got {got!r})'
    return f


def size(rel, n):
    def f(sb, res):
        got = os.path.getsize(sb.p(rel))
        return got == n, f'{rel} is {n} bytes (got {got})'
    return f


def mode_is(rel, m):
    def f(sb, res):
        got = tglib.file_mode(sb.p(rel))
        return got == m, f'{rel} has mode {m:04o} (got {got:04o})'
    return f


def child_ran(sb, res):
    return 'errno-at-main ret=0 errno=0' in res.out, 'the child tg-probe ran (errno-at-main line)'


def log_still_open(sb, res):
    ln = res.lines[0] if res.lines else {}
    return ln.get('log') == 'open', 'the log descriptor is still open'


def open_is_default(sb, res):
    ln = res.line('dlopen')
    return bool(ln) and ln.get('open_is_default') == 1, \
        'dlopen("libc.so.6") gives the global handle (its open is the guarded one)'


PATH_DATA = {'PATH': '{root}/data:/usr/bin:/bin'}
PATH_PROBE = {'PATH': PROBE_DIR + ':/usr/bin:/bin'}
W, C, R, D_, X, CH, L = 'write', 'create', 'read', 'delete', 'exec', 'chmod', 'list'
DENY_OPEN = ['+', 'open', '{root}/data/f', 'O_WRONLY']
HID = dict(errno='ENOENT', uid='hidden')
UID, GID = str(os.getuid()), str(os.getgid())  # a chown anyone may make

CASES = [
    # open family
    A('open', '{root}/out/new', 'O_WRONLY|O_CREAT|O_TRUNC', '0644', effect=exists('out/new')),
    D('open', '{root}/data/f', 'O_WRONLY|O_TRUNC', path='data/f', classes=[W]),
    A('open64', '{root}/out/f', 'O_RDWR'),
    D('open64', '{root}/data/new', 'O_WRONLY|O_CREAT', '0644', path='data/new', classes=[W, C]),
    A('openat', '{root}/out', 'new', 'O_WRONLY|O_CREAT|O_EXCL', '0600', effect=exists('out/new')),
    D('openat', '{root}/data', 'f', 'O_WRONLY|O_APPEND', path='data/f', classes=[W]),
    A('openat64', 'AT_FDCWD', 'out/f', 'O_WRONLY'),
    D('openat64', 'AT_FDCWD', 'data/f', 'O_RDWR|O_TRUNC', path='data/f', classes=[R, W]),
    A('__open_2', '{root}/out/f', 'O_WRONLY|O_TRUNC', effect=size('out/f', 0)),
    D('__open_2', '{root}/data/f', 'O_WRONLY', path='data/f', classes=[W]),
    A('__open64_2', '{root}/out/f', 'O_RDWR'),
    D('__open64_2', '{root}/data/f', 'O_RDWR', path='data/f', classes=[R, W]),
    A('__openat_2', '{root}/out', 'f', 'O_WRONLY'),
    D('__openat_2', '{root}/data', 'f', 'O_WRONLY|O_TRUNC', path='data/f', classes=[W]),
    A('__openat64_2', '{root}/out', 'f', 'O_WRONLY|O_APPEND'),
    D('__openat64_2', '{root}/data', 'sub/g', 'O_WRONLY|O_APPEND', path='data/sub/g',
      classes=[W]),
    A('creat', '{root}/out/c', '0644', effect=exists('out/c')),
    D('creat', '{root}/data/c', '0644', path='data/c', classes=[W, C]),
    A('creat64', '{root}/out/f', '0644', effect=size('out/f', 0)),
    D('creat64', '{root}/data/f', '0644', path='data/f', classes=[W, C]),
    # stdio
    A('fopen', '{root}/out/w', 'w', effect=exists('out/w')),
    D('fopen', '{root}/data/f', 'w', path='data/f', classes=[W, C]),
    A('fopen64', '{root}/out/f', 'a'),
    D('fopen64', '{root}/data/f', 'a', path='data/f', classes=[W, C]),
    A('freopen', '{root}/out/f', 'r+'),
    D('freopen', '{root}/data/f', 'r+', path='data/f', classes=[R, W]),
    A('freopen64', '{root}/out/n', 'w', effect=exists('out/n')),
    D('freopen64', '{root}/data/n', 'w', path='data/n', classes=[W, C]),
    A('fdopen', '{root}/out/f', 'O_WRONLY', 'w'),
    D('fdopen', '{root}/data/f', 'O_WRONLY', 'w', path='data/f', classes=[W]),
    # temp files: decided on the template
    A('mkstemp', '{root}/out/tXXXXXX'),
    D('mkstemp', '{root}/data/tXXXXXX', path='data/tXXXXXX', classes=[R, W, C]),
    A('mkstemp64', '{root}/out/tXXXXXX'),
    D('mkstemp64', '{root}/data/tXXXXXX', path='data/tXXXXXX', classes=[R, W, C]),
    A('mkostemp', '{root}/out/tXXXXXX', 'O_CLOEXEC'),
    D('mkostemp', '{root}/data/tXXXXXX', 'O_CLOEXEC', path='data/tXXXXXX', classes=[R, W, C]),
    A('mkostemp64', '{root}/out/tXXXXXX', 'O_CLOEXEC'),
    D('mkostemp64', '{root}/data/tXXXXXX', 'O_CLOEXEC', path='data/tXXXXXX',
      classes=[R, W, C]),
    A('mkstemps', '{root}/out/tXXXXXX.pt', '3'),
    D('mkstemps', '{root}/data/tXXXXXX.pt', '3', path='data/tXXXXXX.pt', classes=[R, W, C]),
    A('mkstemps64', '{root}/out/tXXXXXX.pt', '3'),
    D('mkstemps64', '{root}/data/tXXXXXX.pt', '3', path='data/tXXXXXX.pt', classes=[R, W, C]),
    A('mkostemps', '{root}/out/tXXXXXX.pt', '3', 'O_CLOEXEC'),
    D('mkostemps', '{root}/data/tXXXXXX.pt', '3', 'O_CLOEXEC', path='data/tXXXXXX.pt',
      classes=[R, W, C]),
    A('mkostemps64', '{root}/out/tXXXXXX.pt', '3', 'O_CLOEXEC'),
    D('mkostemps64', '{root}/data/tXXXXXX.pt', '3', 'O_CLOEXEC', path='data/tXXXXXX.pt',
      classes=[R, W, C]),
    A('mkdtemp', '{root}/out/dXXXXXX', ret=0),
    D('mkdtemp', '{root}/data/dXXXXXX', path='data/dXXXXXX', classes=[C]),
    A('tmpfile', policy='plain'),
    D('tmpfile', path=lambda p: p.startswith('/tmp/') and p.count('/') == 2, uid='tmp-top'),
    A('tmpfile64', policy='plain'),
    D('tmpfile64', path=lambda p: p.startswith('/tmp/') and p.count('/') == 2, uid='tmp-top'),
    # names
    A('unlink', '{root}/out/f', ret=0, effect=gone('out/f')),
    D('unlink', '{root}/data/f', path='data/f', classes=[D_]),
    A('unlinkat', '{root}/out', 'emptydir', 'AT_REMOVEDIR', ret=0, effect=gone('out/emptydir')),
    D('unlinkat', '{root}/data', 'f', path='data/f', classes=[D_]),
    A('remove', '{root}/out/f', ret=0, effect=gone('out/f')),
    D('remove', '{root}/data/emptydir', path='data/emptydir', classes=[D_]),
    A('rmdir', '{root}/out/emptydir', ret=0, effect=gone('out/emptydir')),
    D('rmdir', '{root}/data/emptydir', path='data/emptydir', classes=[D_]),
    A('mkdir', '{root}/out/nd', '0755', ret=0, effect=exists('out/nd')),
    D('mkdir', '{root}/data/nd', '0755', path='data/nd', classes=[C]),
    A('mkdirat', '{root}/out', 'nd', '0755', ret=0, effect=exists('out/nd')),
    D('mkdirat', '{root}/data', 'nd', '0755', path='data/nd', classes=[C]),
    A('rename', '{root}/out/f', '{root}/out/f2', ret=0, effect=exists('out/f2')),
    D('rename', '{root}/data/f', '{root}/out/f3', path='data/f', classes=[D_]),
    A('renameat', '{root}/out', 'f', '{root}/out', 'g', ret=0, effect=exists('out/g')),
    D('renameat', '{root}/out', 'f', '{root}/data', 'h', path='data/h', classes=[C, D_]),
    A('renameat2', '{root}/out', 'f', '{root}/out', 'g', 'RENAME_NOREPLACE', ret=0,
      effect=exists('out/g')),
    D('renameat2', '{root}/out', 'f', '{root}/data', 'h', 'RENAME_NOREPLACE', path='data/h',
      classes=[C]),
    # exec and spawn: the allowed child is tg-probe errno-at-main
    A('execve', PROBE, 'errno-at-main', effect=child_ran),
    D('execve', '{root}/data/true', path='data/true', classes=[X]),
    A('execv', PROBE, 'errno-at-main', effect=child_ran),
    D('execv', '{root}/data/true', path='data/true', classes=[X]),
    A('execvp', 'tg-probe', 'errno-at-main', env=PATH_PROBE, effect=child_ran),
    D('execvp', 'true', env=PATH_DATA, path='data/true', classes=[X]),
    A('execvpe', 'tg-probe', 'errno-at-main', env=PATH_PROBE, effect=child_ran),
    D('execvpe', 'true', env=PATH_DATA, path='data/true', classes=[X]),
    A('execl', PROBE, 'errno-at-main', effect=child_ran),
    D('execl', '{root}/data/true', path='data/true', classes=[X]),
    A('execlp', 'tg-probe', 'errno-at-main', env=PATH_PROBE, effect=child_ran),
    D('execlp', 'true', env=PATH_DATA, path='data/true', classes=[X]),
    A('execle', PROBE, 'errno-at-main', effect=child_ran),
    D('execle', '{root}/data/true', path='data/true', classes=[X]),
    A('fexecve', PROBE, 'errno-at-main', effect=child_ran),
    D('fexecve', '{root}/data/true', path='data/true', classes=[X]),
    A('execveat', 'AT_FDCWD', PROBE, 'errno-at-main', effect=child_ran),
    D('execveat', '{root}/data', 'true', path='data/true', classes=[X]),
    A('posix_spawn', PROBE, 'errno-at-main', ret=0, effect=child_ran),
    D('posix_spawn', '{root}/data/true', ret=13, path='data/true', classes=[X]),
    A('posix_spawnp', 'tg-probe', 'errno-at-main', env=PATH_PROBE, ret=0, effect=child_ran),
    A('posix_spawn_file_actions_addopen', '{root}/out/new', 'O_WRONLY|O_CREAT', ret=0,
      record=False),
    D('posix_spawn_file_actions_addopen', '{root}/data/f', 'O_WRONLY|O_TRUNC', ret=13,
      path='data/f', classes=[W]),
    D('posix_spawnp', 'true', env=PATH_DATA, ret=13, path='data/true', classes=[X]),
    A('system', 'exit 0', ret=0),
    D('system', 'exit 0', policy='noshell', path=SH_REAL, uid='no-shell', classes=[X]),
    A('popen', 'echo popen-child-ran',
      effect=lambda sb, res: ('popen-child-ran' in res.out, 'the shell ran')),
    D('popen', 'echo popen-child-ran', policy='noshell', path=SH_REAL, uid='no-shell',
      classes=[X]),
    # writes through a descriptor the guard never saw (copy_file_range and
    # sendfile return the 13 bytes of out/src)
    A('write', '{root}/out/f', 'XYZ', ret=3, effect=content('out/f', b'XYZ bytes\n')),
    D('write', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('pwrite', '{root}/out/f', 'XYZ', ret=3, effect=content('out/f', b'XYZ bytes\n')),
    D('pwrite', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('pwrite64', '{root}/out/f', 'XYZ', ret=3),
    D('pwrite64', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('writev', '{root}/out/f', 'XYZ', ret=3),
    D('writev', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('pwritev', '{root}/out/f', 'XYZ', ret=3),
    D('pwritev', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('pwritev64', '{root}/out/f', 'XYZ', ret=3),
    D('pwritev64', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('pwritev2', '{root}/out/f', 'XYZ', ret=3),
    D('pwritev2', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('pwritev64v2', '{root}/out/f', 'XYZ', ret=3),
    D('pwritev64v2', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('ftruncate', '{root}/out/f', '0', ret=0, effect=size('out/f', 0)),
    D('ftruncate', '{root}/data/f', '0', path='data/f', classes=[W]),
    A('ftruncate64', '{root}/out/f', '0', ret=0, effect=size('out/f', 0)),
    D('ftruncate64', '{root}/data/f', '0', path='data/f', classes=[W]),
    A('fallocate', '{root}/out/f', '4096', ret=0, effect=size('out/f', 4096)),
    D('fallocate', '{root}/data/f', '4096', path='data/f', classes=[W]),
    A('fallocate64', '{root}/out/f', '4096', ret=0, effect=size('out/f', 4096)),
    D('fallocate64', '{root}/data/f', '4096', path='data/f', classes=[W]),
    A('posix_fallocate', '{root}/out/f', '4096', ret=0, effect=size('out/f', 4096)),
    D('posix_fallocate', '{root}/data/f', '4096', ret=13, path='data/f', classes=[W]),
    A('posix_fallocate64', '{root}/out/f', '4096', ret=0, effect=size('out/f', 4096)),
    D('posix_fallocate64', '{root}/data/f', '4096', ret=13, path='data/f', classes=[W]),
    A('copy_file_range', '{root}/out/src', '{root}/out/f', ret=13,
      effect=content('out/f', b'source bytes\n')),
    D('copy_file_range', '{root}/out/src', '{root}/data/f', path='data/f', classes=[W]),
    A('sendfile', '{root}/out/f', '{root}/out/src', ret=13,
      effect=content('out/f', b'source bytes\n')),
    D('sendfile', '{root}/data/f', '{root}/out/src', path='data/f', classes=[W]),
    A('sendfile64', '{root}/out/f', '{root}/out/src', ret=13),
    D('sendfile64', '{root}/data/f', '{root}/out/src', path='data/f', classes=[W]),
    # descriptors: the guard's log is not the program's to close; a
    # violation after the call is still recorded in the log file
    A('close', 'NEW', ret=0),
    D('close', 'LOG', *DENY_OPEN, errno='EBADF', rec_errno='EACCES', record_op='open',
      path='data/f',
      line_check=log_still_open),
    A('dup2', 'NEW', '100', ret=100),
    D('dup2', 'LOG', '100', *DENY_OPEN, errno='EBADF', rec_errno='EACCES', record_op='open',
      path='data/f',
      line_check=log_still_open),
    A('dup3', 'NEW', '101', ret=101),
    D('dup3', 'LOG', '101', *DENY_OPEN, errno='EBADF', rec_errno='EACCES', record_op='open',
      path='data/f',
      line_check=log_still_open),
    A('close_range', '3', 'MAX', ret=0, line_check=log_still_open),
    D('close_range', '3', 'MAX', *DENY_OPEN, ret=0, errno='0', record_op='open', path='data/f',
      line_check=log_still_open),
    A('closefrom', '3', ret=0, line_check=log_still_open),
    D('closefrom', '3', *DENY_OPEN, ret=0, errno='0', record_op='open', path='data/f',
      line_check=log_still_open),
    # attributes
    A('truncate', '{root}/out/f', '0', ret=0, effect=size('out/f', 0)),
    D('truncate', '{root}/data/f', '0', path='data/f', classes=[W]),
    A('truncate64', '{root}/out/f', '0', ret=0, effect=size('out/f', 0)),
    D('truncate64', '{root}/data/f', '0', path='data/f', classes=[W]),
    A('chmod', '{root}/out/f', '0600', ret=0, effect=mode_is('out/f', 0o600)),
    D('chmod', '{root}/data/f', '0777', path='data/f', classes=[CH]),
    A('fchmod', '{root}/out/f', '0600', ret=0, effect=mode_is('out/f', 0o600)),
    D('fchmod', '{root}/data/f', '0777', path='data/f', classes=[CH]),
    A('fchmodat', '{root}/out', 'f', '0600', ret=0, effect=mode_is('out/f', 0o600)),
    D('fchmodat', '{root}/data', 'f', '0777', path='data/f', classes=[CH]),
    A('lchmod', '{root}/out/f', '0600', ret=0, effect=mode_is('out/f', 0o600)),
    D('lchmod', '{root}/data/f', '0777', path='data/f', classes=[CH]),
    A('chown', '{root}/out/f', UID, GID, ret=0),
    D('chown', '{root}/data/f', UID, GID, path='data/f', classes=[CH]),
    A('fchown', '{root}/out/f', UID, GID, ret=0),
    D('fchown', '{root}/data/f', UID, GID, path='data/f', classes=[CH]),
    A('lchown', '{root}/out/f', UID, GID, ret=0),
    D('lchown', '{root}/data/f', UID, GID, path='data/f', classes=[CH]),
    A('fchownat', '{root}/out', 'f', UID, GID, ret=0),
    D('fchownat', '{root}/data', 'f', UID, GID, path='data/f', classes=[CH]),
    # new names
    A('link', '{root}/out/src', '{root}/out/l', ret=0, effect=exists('out/l')),
    D('link', '{root}/out/src', '{root}/data/l', path='data/l', classes=[C]),
    A('linkat', '{root}/out', 'src', '{root}/out', 'l', ret=0, effect=exists('out/l')),
    D('linkat', '{root}/out', 'src', '{root}/data', 'l', path='data/l', classes=[C]),
    A('symlink', '/etc/hostname', '{root}/out/sl', ret=0, effect=exists('out/sl')),
    D('symlink', '/etc/hostname', '{root}/data/sl', path='data/sl', classes=[C]),
    A('symlinkat', '/etc/hostname', '{root}/out', 'sl', ret=0, effect=exists('out/sl')),
    D('symlinkat', '/etc/hostname', '{root}/data', 'sl', path='data/sl', classes=[C]),
    A('mknod', '{root}/out/nod', '0644', ret=0, effect=exists('out/nod')),
    D('mknod', '{root}/data/nod', '0644', path='data/nod', classes=[C]),
    A('mknodat', '{root}/out', 'nod', '0644', ret=0, effect=exists('out/nod')),
    D('mknodat', '{root}/data', 'nod', '0644', path='data/nod', classes=[C]),
    A('mkfifo', '{root}/out/fifo', '0644', ret=0, effect=exists('out/fifo')),
    D('mkfifo', '{root}/data/fifo', '0644', path='data/fifo', classes=[C]),
    A('mkfifoat', '{root}/out', 'fifo', '0644', ret=0, effect=exists('out/fifo')),
    D('mkfifoat', '{root}/data', 'fifo', '0644', path='data/fifo', classes=[C]),
    A('__xmknod', '{root}/out/nod', '0644', ret=0, effect=exists('out/nod')),
    D('__xmknod', '{root}/data/nod', '0644', path='data/nod', classes=[C]),
    A('__xmknodat', '{root}/out', 'nod', '0644', ret=0, effect=exists('out/nod')),
    D('__xmknodat', '{root}/data', 'nod', '0644', path='data/nod', classes=[C]),
    # folders: hidden/ is denied for list, with ENOENT
    A('opendir', '{root}/out'),
    D('opendir', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('fdopendir', '{root}/out'),
    D('fdopendir', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('scandir', '{root}/out'),
    D('scandir', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('scandir64', '{root}/out'),
    D('scandir64', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('scandirat', '{root}', 'out'),
    D('scandirat', '{root}', 'hidden', path='hidden', classes=[L], **HID),
    A('scandirat64', '{root}', 'out'),
    D('scandirat64', '{root}', 'hidden', path='hidden', classes=[L], **HID),
    # the stat family shows nothing of a hidden path
    A('stat', '{root}/out/f', ret=0),
    D('stat', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('stat64', '{root}/out/f', ret=0),
    D('stat64', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('lstat', '{root}/out/f', ret=0),
    D('lstat', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('lstat64', '{root}/out/f', ret=0),
    D('lstat64', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('fstatat', '{root}/out', 'f', ret=0),
    D('fstatat', '{root}/hidden', 'f', path='hidden/f', classes=[R], **HID),
    A('fstatat64', '{root}/out', 'f', ret=0),
    D('fstatat64', '{root}/hidden', 'f', path='hidden/f', classes=[R], **HID),
    A('statx', 'AT_FDCWD', '{root}/out/f', ret=0),
    D('statx', 'AT_FDCWD', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('access', '{root}/out/f', 'F_OK', ret=0),
    D('access', '{root}/hidden/f', 'F_OK', path='hidden/f', classes=[R], **HID),
    A('faccessat', '{root}', 'out/f', 'F_OK', ret=0),
    D('faccessat', '{root}', 'hidden/f', 'F_OK', path='hidden/f', classes=[R], **HID),
    A('__xstat', '{root}/out/f', ret=0),
    D('__xstat', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('__xstat64', '{root}/out/f', ret=0),
    D('__xstat64', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('__lxstat', '{root}/out/f', ret=0),
    D('__lxstat', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('__lxstat64', '{root}/out/f', ret=0),
    D('__lxstat64', '{root}/hidden/f', path='hidden/f', classes=[R], **HID),
    A('__fxstatat', '{root}/out', 'f', ret=0),
    D('__fxstatat', '{root}/hidden', 'f', path='hidden/f', classes=[R], **HID),
    A('__fxstatat64', '{root}/out', 'f', ret=0),
    D('__fxstatat64', '{root}/hidden', 'f', path='hidden/f', classes=[R], **HID),
    A('euidaccess', '{root}/out/f', 'F_OK', ret=0),
    D('euidaccess', '{root}/hidden/f', 'F_OK', path='hidden/f', classes=[R], **HID),
    A('eaccess', '{root}/out/f', 'F_OK', ret=0),
    D('eaccess', '{root}/hidden/f', 'F_OK', path='hidden/f', classes=[R], **HID),
    # the working directory: a relative path is decided from the new one
    A('chdir', '{root}/out', '+', 'open', 'f', 'O_WRONLY', ret=0,
      line_check=lambda sb, res: (bool(res.line('open')) and res.line('open').ret >= 0,
                                  'the relative open after it is allowed')),
    D('chdir', '{root}/data', '+', 'open', 'f', 'O_WRONLY', ret=0, errno='0', record_op='open',
      path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'the relative open after it is denied')),
    A('fchdir', '{root}/out', '+', 'open', 'f', 'O_WRONLY', ret=0,
      line_check=lambda sb, res: (bool(res.line('open')) and res.line('open').ret >= 0,
                                  'the relative open after it is allowed')),
    D('fchdir', '{root}/data', '+', 'open', 'f', 'O_WRONLY', ret=0, errno='0',
      record_op='open', path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'the relative open after it is denied')),
    # times and extended attributes (class chmod)
    A('utime', '{root}/out/f', ret=0),
    D('utime', '{root}/data/f', path='data/f', classes=[CH]),
    A('utimes', '{root}/out/f', ret=0),
    D('utimes', '{root}/data/f', path='data/f', classes=[CH]),
    A('lutimes', '{root}/out/f', ret=0),
    D('lutimes', '{root}/data/f', path='data/f', classes=[CH]),
    A('utimensat', '{root}/out', 'f', ret=0),
    D('utimensat', '{root}/data', 'f', path='data/f', classes=[CH]),
    A('futimesat', '{root}/out', 'f', ret=0),
    D('futimesat', '{root}/data', 'f', path='data/f', classes=[CH]),
    A('futimens', '{root}/out/f', ret=0),
    D('futimens', '{root}/data/f', path='data/f', classes=[CH]),
    A('futimes', '{root}/out/f', ret=0),
    D('futimes', '{root}/data/f', path='data/f', classes=[CH]),
    A('setxattr', '{root}/out/f', 'user.x', 'v', ret=0),
    D('setxattr', '{root}/data/f', 'user.x', 'v', path='data/f', classes=[CH]),
    A('lsetxattr', '{root}/out/f', 'user.x', 'v', ret=0),
    D('lsetxattr', '{root}/data/f', 'user.x', 'v', path='data/f', classes=[CH]),
    A('fsetxattr', '{root}/out/f', 'user.x', 'v', ret=0),
    D('fsetxattr', '{root}/data/f', 'user.x', 'v', path='data/f', classes=[CH]),
    A('removexattr', '{root}/out/f', 'user.tg', ret=0),
    D('removexattr', '{root}/data/f', 'user.tg', path='data/f', classes=[CH]),
    A('lremovexattr', '{root}/out/f', 'user.tg', ret=0),
    D('lremovexattr', '{root}/data/f', 'user.tg', path='data/f', classes=[CH]),
    A('fremovexattr', '{root}/out/f', 'user.tg', ret=0),
    D('fremovexattr', '{root}/data/f', 'user.tg', path='data/f', classes=[CH]),
    # folder walkers (class list on the folder they start in); glob
    # answers GLOB_ABORTED (2)
    A('glob', '{root}/out/*', ret=0),
    D('glob', '{root}/hidden/*', ret=2, errno='any', rec_errno='ENOENT', uid='hidden',
      path='hidden', classes=[L]),
    A('glob64', '{root}/out/*', ret=0),
    D('glob64', '{root}/hidden/*', ret=2, errno='any', rec_errno='ENOENT', uid='hidden',
      path='hidden', classes=[L]),
    A('nftw', '{root}/out', ret=0),
    D('nftw', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('nftw64', '{root}/out', ret=0),
    D('nftw64', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('ftw', '{root}/out', ret=0),
    D('ftw', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('ftw64', '{root}/out', ret=0),
    D('ftw64', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('fts_open', '{root}/out', ret=0),
    D('fts_open', '{root}/hidden', path='hidden', classes=[L], **HID),
    A('fts64_open', '{root}/out', ret=0),
    D('fts64_open', '{root}/hidden', path='hidden', classes=[L], **HID),
    # the program's own seccomp filter (it kills openat2): the guard makes
    # no openat2 of its own afterwards, and still decides
    A('prctl', 'seccomp', '+', 'open', '{root}/out/f', 'O_WRONLY', ret=0,
      line_check=lambda sb, res: (bool(res.line('open')) and res.line('open').ret >= 0,
                                  'an allowed open after the filter works (no kill)')),
    D('prctl', 'seccomp', '+', 'open', '{root}/data/f', 'O_WRONLY', ret=0, errno='0',
      record_op='open', path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'a denied open after the filter is still denied (no kill)')),
    A('syscall', 'seccomp', '+', 'open', '{root}/out/f', 'O_WRONLY', ret=0,
      line_check=lambda sb, res: (bool(res.line('open')) and res.line('open').ret >= 0,
                                  'an allowed open after the filter works (no kill)')),
    D('syscall', 'seccomp', '+', 'open', '{root}/data/f', 'O_WRONLY', ret=0, errno='0',
      record_op='open', path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'a denied open after the filter is still denied (no kill)')),
    # glibc's exported aliases, reached by name (dlsym(RTLD_DEFAULT))
    A('__open', '{root}/out/f', 'O_WRONLY'),
    D('__open', '{root}/data/f', 'O_WRONLY', path='data/f', classes=[W]),
    A('__open64', '{root}/out/f', 'O_WRONLY'),
    D('__open64', '{root}/data/f', 'O_WRONLY', path='data/f', classes=[W]),
    A('__open_nocancel', '{root}/out/f', 'O_WRONLY'),
    D('__open_nocancel', '{root}/data/f', 'O_WRONLY', path='data/f', classes=[W]),
    A('__open64_nocancel', '{root}/out/f', 'O_WRONLY'),
    D('__open64_nocancel', '{root}/data/f', 'O_WRONLY', path='data/f', classes=[W]),
    A('__write', '{root}/out/f', 'XYZ', ret=3, effect=content('out/f', b'XYZ bytes\n')),
    D('__write', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('__write_nocancel', '{root}/out/f', 'XYZ', ret=3),
    D('__write_nocancel', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('__pwrite64', '{root}/out/f', 'XYZ', ret=3),
    D('__pwrite64', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('__libc_pwrite', '{root}/out/f', 'XYZ', ret=3),
    D('__libc_pwrite', '{root}/data/f', 'XYZ', path='data/f', classes=[W]),
    A('__libc_system', 'exit 0', ret=0),
    D('__libc_system', 'exit 0', policy='noshell', path=SH_REAL, uid='no-shell', classes=[X]),
    # closedir(fdopendir()) closes behind the guard: the number, reused by
    # a raw open of data/, is judged as data/ (not as the old out/)
    A('closedir', '{root}/out', '{root}/out', 'f', ret=0),
    D('closedir', '{root}/out', '{root}/data', 'f', ret=0, errno='0', record_op='openat',
      path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('openat')) and res.line('openat').errno == 'EACCES',
          'the reused descriptor is judged as data/')),
    # libm's view of libc (a handle whose lookup lands in libc)
    A('dlsym', 'libm.so.6', 'open', '{root}/out/f', ret=0),
    D('dlsym', 'libm.so.6', 'open', '{root}/data/f', ret=0, errno='0', record_op='open',
      path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'dlsym(libm, "open") is the guarded open')),
    A('dlvsym', 'libm.so.6', 'open', '{root}/out/f', 'GLIBC_2.2.5', ret=0),
    D('dlvsym', 'libm.so.6', 'open', '{root}/data/f', 'GLIBC_2.2.5', ret=0, errno='0',
      record_op='open', path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'dlvsym(libm, "open") is the guarded open')),
    # a second namespace has a libc of its own, without the guard
    A('dlmopen', 'BASE', 'libm.so.6', ret=0),
    D('dlmopen', 'NEW', 'libm.so.6', errno='EACCES', record=False),
    # fts moves the working directory: a relative name is judged where it is
    A('fts_read', '{root}/out', 'f', ret=0),
    D('fts_read', '{root}/data', 'f', ret=0, errno='0', record_op='open', path='data/f',
      classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'a relative open during the walk is judged in data/')),
    A('fts64_read', '{root}/out', 'f', ret=0),
    D('fts64_read', '{root}/data', 'f', ret=0, errno='0', record_op='open', path='data/f',
      classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'a relative open during the walk is judged in data/')),
    A('fts_close', '{root}/out', 'out/f', ret=0),
    D('fts_close', '{root}/out', 'data/f', ret=0, errno='0', record_op='open', path='data/f',
      classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'after the walk a relative name is judged from the restored folder')),
    A('fts64_close', '{root}/out', 'out/f', ret=0),
    D('fts64_close', '{root}/out', 'data/f', ret=0, errno='0', record_op='open',
      path='data/f', classes=[W], line_check=lambda sb, res: (
          bool(res.line('open')) and res.line('open').errno == 'EACCES',
          'after the walk a relative name is judged from the restored folder')),
    # dlopen of libc by name gives the global handle: its open is guarded
    A('dlopen', 'libm.so.6', ret=0),
    D('dlopen', 'libc.so.6', '{root}/data/f', ret=0, errno='0', record_op='open',
      path='data/f', classes=[W], line_check=open_is_default),
]

def expand(v, sb):
    return v.replace('{root}', sb.root) if isinstance(v, str) else v


def run_case(tap, c):
    title = f'{c.sym} {c.kind}'
    with Sandbox(tap, c.sym) as sb:
        setup(sb)
        policy = sb.write_policy(POLICIES[c.policy], f'policy-{c.policy}.cfg')
        env = {k: expand(v, sb) for k, v in (c.env or {}).items()}
        guarded = {'data': sb.p('data'), 'hidden': sb.p('hidden')}
        before = {k: tglib.snapshot(v) for k, v in guarded.items()}
        res = sb.probe(c.sym, *[expand(a, sb) for a in c.args], label=title, policy=policy,
                       env=env)
        ln = res.line(c.sym)
        if c.sym in EXEC_OPS and c.kind == 'allow' and c.sym not in (
                'posix_spawn', 'posix_spawnp', 'system', 'popen'):
            # The exec replaced the probe: the child's line is the answer.
            ok = res.rc == 0 and ln is None
            tap.ok(ok, f'{title}: exec succeeded (no {c.sym} failure line, exit 0)',
                   res.describe())
        else:
            want_errno = c.errno or ('0' if c.kind == 'allow' else 'EACCES')
            if c.ret is not None:
                want_ret = c.ret
                good_ret = ln is not None and ln.ret == want_ret
            elif c.kind == 'allow':
                want_ret = '>= 0'
                good_ret = ln is not None and ln.ret >= 0
            else:
                want_ret = -1
                good_ret = ln is not None and ln.ret == -1
            tap.ok(good_ret and (want_errno == 'any' or ln.errno == want_errno),
                   f'{title}: returns {want_ret} with errno {want_errno}',
                   res.describe())
        if c.line_check:
            good, what = c.line_check(sb, res)
            tap.ok(good, f'{title}: {what}', res.describe())
        if c.kind == 'allow':
            tap.ok(not res.denials(), f'{title}: no deny record', res.describe())
            if c.effect:
                good, what = c.effect(sb, res)
                tap.ok(good, f'{title}: {what}', res.describe())
            return
        after = {k: tglib.snapshot(v) for k, v in guarded.items()}
        diff = '\n'.join(tglib.snapshot_diff(before[k], after[k]) for k in guarded)
        tap.ok(before == after, f'{title}: data/ and hidden/ are byte-for-byte untouched', diff)
        recs = tglib.find(res.records, op=c.record_op, decision='deny')
        if not c.record:
            tap.ok(not recs, f'{title}: no record', tglib.summary(res.records))
            return
        want = dict(op=c.record_op, decision='deny', errno=tglib.errno_number(c.rec_errno),
                    status_code=c.rec_errno, uid=c.uid or 'dataset', mode='enforce',
                    job=sb.job, class_uid=1007 if c.record_op in EXEC_OPS else 1001)
        if c.path is not None:
            want['path'] = c.path if callable(c.path) or c.path.startswith('/') \
                else sb.p(c.path)
        if c.classes is not None:
            want['classes'] = c.classes
        pid_line = ln or res.line()
        if pid_line is not None and 'pid' in pid_line:
            want['pid'] = pid_line['pid']
        if c.uid is None or not c.uid.startswith('default:'):
            want['source'] = policy
        tap.ok(len(recs) == 1, f'{title}: exactly one deny record for {c.record_op}',
               tglib.summary(res.records))
        tglib.check_record(tap, recs[0] if recs else None, f'{title}: record fields', **want)


def coverage(tap):
    symbols = tglib.wrapped_symbols()
    tap.ok(len(symbols) > 50, f'the generated list names the wrapped symbols ({len(symbols)})')
    import subprocess
    listed = set(subprocess.run([PROBE, '--list'], capture_output=True, text=True)
                 .stdout.split())
    kinds = {}
    for c in CASES:
        kinds.setdefault(c.sym, set()).add(c.kind)
    # The exit and wait families decide nothing: they write what the
    # process still holds before it leaves, or that a child a signal ended
    # was reaped; records.py (exit_paths) tests them.
    families = tglib.wraptable.families()
    for s in symbols:
        if families.get(s) in ('exit', 'wait'):
            tap.ok(s not in kinds,
                   f'{s}: decides nothing (family {families[s]}, tested by records.py)')
            continue
        tap.ok(s in listed and kinds.get(s) == {'allow', 'deny'},
               f'{s}: tg-probe has a subcommand and this test an allowed and a denied case',
               f'subcommand: {s in listed}; cases: {sorted(kinds.get(s, []))}')
    extra = sorted(set(kinds) - set(symbols))
    tap.ok(not extra, 'every case here names a wrapped symbol', ', '.join(extra))
    return symbols


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    symbols = coverage(tap)
    order = {s: i for i, s in enumerate(symbols)}
    for c in sorted(CASES, key=lambda c: (order.get(c.sym, 999), c.kind)):
        tap.group(run_case, c)
    tap.done()


if __name__ == '__main__':
    main()
