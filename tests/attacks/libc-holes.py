#!/usr/bin/env python3
"""The holes an attacker finds with libc alone (issue 12), under the guard.

The payload is Python run inside the guarded job, as a pickled
checkpoint's would be, using only the standard library (ctypes reaches
libc). Each case is judged by its effect: the secret's bytes are not in
the output, the protected file's hash is unchanged, the miner's or the
dropped library's marker file does not exist; then by the errno the
payload saw and the record in the log (TAP).

The box: data/ is read-only (EROFS), secret/ unreadable, out/ writable and
nothing runs from it. Cases that need the shipped profiles (secrets,
python) use a policy that includes them, or the embedded default.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tglib  # noqa: E402
from tgbox import (FIRST, FLIP, LIBRARY, TRY, Box, expect_record, policy,  # noqa: E402
                   rec, run_cases, scratch_root)

DROPPED = os.environ.get('TG_ATTACK_DROPPED', '')
SECRET = 'KEY-7f3a9c-do-not-leak'

POLICY = policy(out=('read', 'list', 'write', 'create', 'delete', 'chmod'), out_deny=('exec',))

# The shipped profiles, and scratch space granted the way jobs grant it.
PROFILED = '''version = 1;
profiles = ["base", "secrets", "python"];
defaults = { read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; };
rules = (
  { id = "scratch"; path = "{tmp}/**"; allow = ["read", "list", "write", "create", "delete"]; }
);
'''

WEAK = '''version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
'''

T = tglib.TAP()
ok = T.ok


class HolesBox(Box):
    """data/f (read-only), secret/key, ~/.aws/credentials and ~/.ssh/id_rsa
    (the secret), out/, weak.cfg; HOME is home/. done() asserts that data/,
    secret/ and home/ come out unchanged."""

    def __init__(self, name, text=POLICY):
        super().__init__(f'holes-{name}', text, tree=(
            ('data/f', 'shard\n'), ('secret/key', SECRET + '\n'), ('out/', ''),
            ('home/.aws/credentials', SECRET + '\n'), ('home/.ssh/id_rsa', SECRET + '\n'),
            ('weak.cfg', WEAK)), job='job-libc-holes', kept=('data', 'secret', 'home'))
        self.settings['HOME'] = self.p('home')

    def done(self, what):
        ok(self.unchanged(), f'{what}: data/, secret/ and home/ are untouched (content and mode)')
        self.cleanup()


def no_secret(r, what):
    ok(SECRET not in r.stdout and SECRET not in r.stderr, f'{what}: the secret was not read',
       r.stdout + r.stderr)


LIBC = '''
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def read_fd(fd):
    if fd < 0:
        return errno.errorcode.get(ctypes.get_errno(), "?")
    return os.read(fd, 100).decode(errors="replace").strip()
'''


# ---- 1. races between decision and action ----

# The flipper (tgbox.FLIP) trades LINK between ALLOWED and PROTECTED while
# the act is repeated until the time is up.
FLIPPER = LIBC + FLIP + '''
import subprocess, time
def in_child(fn):
    child = os.fork()
    if child == 0:
        try:
            fn()
        finally:
            os._exit(127)
    os.waitpid(child, 0)
pid = start_flipper(LINK, ALLOWED, PROTECTED)
start = time.time()
tries = 0
# At least SECONDS, and on until MIN_TRIES (a loaded machine), at most 30 s.
while (time.time() < start + SECONDS or tries < MIN_TRIES) and time.time() < start + 30:
    for _ in range(20):
        try:
            ACT
        except OSError:
            pass
        tries += 1
stop_flipper(pid)
print("tries", tries)
'''


def flip_race(b, act, link, allowed, protected, seconds, min_tries, timeout=120):
    code = (FLIPPER.replace('ACT', act).replace('LINK', repr(link))
            .replace('ALLOWED', repr(allowed)).replace('PROTECTED', repr(protected))
            .replace('MIN_TRIES', str(min_tries)).replace('SECONDS', str(seconds)))
    r = b.py(code, timeout=timeout)
    tries = [line for line in r.stdout.splitlines() if line.startswith('tries')]
    return r, int(tries[0].split()[1]) if tries else 0


def race(b, act, what):
    link, allowed, protected = b.p('out/l'), b.p('out/a'), b.p('data/f')
    with open(allowed, 'w') as f:
        f.write('scratch\n')
    r, tries = flip_race(b, act, link, allowed, protected, 3, 0, timeout=60)
    ok(tries > 1000, f'{what}: thousands of tries ran', r.stdout + r.stderr)
    st = os.stat(allowed)
    ok(st.st_size == 0 or st.st_mode & 0o777 == 0o777,
       f'{what}: the allowed target was changed (the call works)')


def case_race_truncate():
    b = HolesBox('race-truncate')
    race(b, 'libc.truncate(LINK.encode(), 0)', 'truncate racing a symlink flip')
    b.done('truncate race (data/f keeps its bytes)')


def case_race_chmod():
    b = HolesBox('race-chmod')
    race(b, 'libc.chmod(LINK.encode(), 0o777)', 'chmod racing a symlink flip')
    b.done('chmod race (data/f keeps its mode)')


# exec and rename act on what was decided. These policies keep the kernel
# fence off, so the preload alone is judged (with the fence on, Landlock's
# EXECUTE and REFER rights refuse the same moves).
NO_FENCE = 'fence = { landlock = "off"; seccomp = "off"; };\n'
SSH_RULE = ('rules = (\n  { id = "ssh"; path = "{root}/home/.ssh/**"; '
            'deny = ["write", "create", "delete"]; },')


def case_race_exec():
    """out/l flipped between an allowed program and a miner dropped in out/
    (where nothing may run) while the program is run through the link."""
    b = HolesBox('race-exec', POLICY + NO_FENCE)
    miner, marker = b.p('out/miner'), b.p('out/mined')
    shutil.copy('/usr/bin/touch', miner)
    os.chmod(miner, 0o755)
    script = b.p('allowed.sh')  # outside out/: may run
    with open(script, 'w') as f:
        f.write('#!/bin/true\n')
    os.chmod(script, 0o755)
    link = b.p('out/l')
    for what, act, allowed in (
            ('execve (subprocess: a vfork child)', f'subprocess.run([LINK, {marker!r}])',
             '/bin/true'),
            ('posix_spawn', f'os.waitpid(os.posix_spawn(LINK, [LINK, {marker!r}], os.environ), 0)',
             '/bin/true'),
            ('posix_spawnp (a PATH search)',
             # posix_spawnp searches the caller's PATH, not the child's
             f'os.environ["PATH"] = {b.p("out")!r}; '
             f'os.waitpid(os.posix_spawnp("l", ["l", {marker!r}], os.environ), 0)', '/bin/true'),
            ('execve, the allowed side a script', f'subprocess.run([LINK, {marker!r}])',
             script),
            ('execveat (by name, in a forked child)',
             'in_child(lambda: libc.execveat(-100, LINK.encode(), (ctypes.c_char_p * 3)('
             f'LINK.encode(), {marker.encode()!r}, None), '
             'ctypes.c_void_p.in_dll(libc, "environ"), 0))', '/bin/true')):
        if os.path.exists(marker):
            os.unlink(marker)
        r, tries = flip_race(b, act, link, allowed, miner, 3, 400)
        ok(tries >= 100, f'exec race, {what}: at least 100 tries ran ({tries})', r.stdout + r.stderr)
        ok(not os.path.exists(marker), f'exec race, {what}: the miner never ran (no marker)',
           r.stdout[-2000:] + r.stderr[-2000:])
    b.done('exec race')


def case_exec_held():
    """The program run through a held descriptor or a checked name behaves
    as before: its name (comm), a script's $0, errno for a missing, a
    non-executable and a garbage file, and the p forms' search."""
    b = HolesBox('exec-held', POLICY + NO_FENCE)
    with open(b.p('s.sh'), 'w') as f:
        f.write('#!/bin/sh\necho "$0"\n')
    with open(b.p('garbage'), 'w') as f:
        f.write('\x01\x02 not a program\n')
    with open(b.p('noexec'), 'w') as f:
        f.write('#!/bin/sh\n')
    with open(b.p('noshebang'), 'w') as f:
        f.write('exit 5\n')
    for f in ('s.sh', 'garbage', 'noshebang'):
        os.chmod(b.p(f), 0o755)
    os.symlink('/bin/cat', b.p('cat-link'))
    os.symlink(b.p('s.sh'), b.p('out/s-link'))
    os.symlink('s.sh', b.p('s-fixed'))
    with open(b.p('ab.txt'), 'w') as f:
        f.write('ab\n')
    r = b.py(LIBC + f'''
import subprocess
def run(argv, **kw):
    try:
        return subprocess.run(argv, capture_output=True, text=True, **kw).stdout.strip()
    except OSError as e:
        return errno.errorcode[e.errno]
print("comm", run(["./cat-link", "/proc/self/comm"]))
print("script", run(["./s.sh"]))
print("script-link", run(["./out/s-link"]))
print("script-fixed", run(["./s-fixed"]))
print("xzegrep", run(["/usr/bin/xzegrep", "-c", "a|b", "ab.txt"]))
print("missing", run(["./missing"]))
print("noexec", run(["./noexec"]))
print("garbage", run(["./garbage"]))
pid = os.posix_spawnp("cat", ["cat", "/proc/self/comm"], os.environ)
print("spawnp", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
pid = os.fork()
if pid == 0:
    argv = (ctypes.c_char_p * 2)(b"tg-no-such-program", None)
    libc.execvp(b"tg-no-such-program", argv)
    os._exit(ctypes.get_errno())
print("execvp", errno.errorcode[os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])])
pid = os.fork()
if pid == 0:
    argv = (ctypes.c_char_p * 4)(b"sh", b"-c", b"exit 7", None)
    libc.execvp(b"sh", argv)
    os._exit(99)
print("execvp-sh", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
pid = os.fork()
if pid == 0:
    os.environ["PATH"] = "{b.root}"
    argv = (ctypes.c_char_p * 2)(b"noshebang", None)
    libc.execvp(b"noshebang", argv)
    os._exit(99)
print("execvp-noshebang", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
''')
    got = dict(line.split(None, 1) for line in r.stdout.splitlines() if ' ' in line)
    ok(got.get('comm') == 'cat', 'a program run through a symlink is named after its file '
       '(comm), not after a descriptor', r.stdout + r.stderr)
    ok(got.get('script') == './s.sh', 'a script reached without a symlink keeps its $0',
       r.stdout + r.stderr)
    ok(got.get('script-link') == b.p('s.sh'),
       'a script reached through a symlink the job may replace is run by the real path '
       'decided on', r.stdout + r.stderr)
    ok(got.get('script-fixed') == './s-fixed',
       'a script reached through a symlink nobody may replace keeps its $0', r.stdout + r.stderr)
    ok(got.get('xzegrep') == '1',
       'xzegrep (a link to the script xzgrep, which dispatches on $0) still searches '
       'with extended expressions', r.stdout + r.stderr)
    ok((got.get('missing'), got.get('noexec'), got.get('garbage')) ==
       ('ENOENT', 'EACCES', 'ENOEXEC'), 'errno: ENOENT, EACCES, ENOEXEC as the kernel gives them',
       r.stdout + r.stderr)
    ok(got.get('spawnp') == '0', 'posix_spawnp finds and runs cat', r.stdout + r.stderr)
    ok(got.get('execvp') == 'ENOENT' and got.get('execvp-sh') == '7',
       'execvp: ENOENT for a name not in PATH; sh found and run', r.stdout + r.stderr)
    ok(got.get('execvp-noshebang') == '5',
       'execvp of a file with no "#!" and no binary format runs it with the shell, as libc does',
       r.stdout + r.stderr)
    b.done('exec through a held program')


def case_race_rename():
    """out/d flipped between out/ok and ~/.ssh while a file is renamed,
    linked or symlinked into it, or unlinked from it: ~/.ssh keeps its
    content and entries."""
    b = HolesBox('race-rename', POLICY.replace('rules = (', SSH_RULE) + NO_FENCE)
    ssh = b.p('home/.ssh')
    keys = os.path.join(ssh, 'authorized_keys')
    owner = 'ssh-ed25519 AAAA the-owner\n'
    with open(keys, 'w') as f:
        f.write(owner)
    b.before = b.hashes()
    os.makedirs(b.p('out/ok'))
    link, new, src = b.p('out/d'), b.p('out/new'), b.p('out/ok/src')
    with open(src, 'w') as f:
        f.write('ssh-ed25519 EVIL\n')
    before = sorted(os.listdir(ssh))
    evil = 'open(NEW, "w").write("ssh-ed25519 EVIL\\n"); '
    for what, act in (
            ('rename over authorized_keys', evil + 'os.rename(NEW, LINK + "/authorized_keys")'),
            ('rename to a new name', evil + 'os.rename(NEW, LINK + "/authorized_keys2")'),
            ('link', f'os.link({src!r}, LINK + "/authorized_keys3")'),
            ('symlink', 'os.symlink("/tmp/evil", LINK + "/authorized_keys4")'),
            ('rename out of it (the old name\'s folder flipped)',
             f'open({b.p("out/ok/authorized_keys")!r}, "w").write("decoy\\n"); '
             f'os.rename(LINK + "/authorized_keys", {b.p("out/stolen")!r})'),
            ('unlink', f'open({b.p("out/ok/authorized_keys")!r}, "w").write("decoy\\n"); '
             'os.unlink(LINK + "/authorized_keys")')):
        for name in set(os.listdir(ssh)) - set(before):  # each variant judged alone
            os.unlink(os.path.join(ssh, name))
        with open(keys, 'w') as f:
            f.write(owner)
        r, tries = flip_race(b, act.replace('NEW', repr(new)), link, b.p('out/ok'), ssh, 3, 2000)
        ok(tries >= 500, f'rename race, {what}: at least 500 tries ran ({tries})',
           r.stdout + r.stderr)
        now = sorted(os.listdir(ssh))
        ok(now == before and open(keys).read() == owner,
           f'rename race, {what}: ~/.ssh is unchanged (authorized_keys kept, nothing created)',
           f'{now}\n' + r.stdout[-2000:] + r.stderr[-2000:])
    ok(len(os.listdir(b.p('out/ok'))) > 1, 'rename race: the moves into out/ok worked',
       repr(os.listdir(b.p('out/ok'))))
    b.done('rename race')


def race_delete(name, variants):
    """out/d flipped between out/ok and ~/.ssh while a folder or a file is
    deleted through it with libc's own call; out/ok holds a decoy of the
    same name, made again before each try. ~/.ssh keeps its entries."""
    b = HolesBox(f'race-{name}', POLICY.replace('rules = (', SSH_RULE) + NO_FENCE)
    ssh = b.p('home/.ssh')
    keys, keys_d = os.path.join(ssh, 'authorized_keys'), os.path.join(ssh, 'keys.d')
    owner = 'ssh-ed25519 AAAA the-owner\n'
    with open(keys, 'w') as f:
        f.write(owner)
    os.mkdir(keys_d)  # empty: rmdir would take it
    b.before = b.hashes()
    os.makedirs(b.p('out/ok'))
    link = b.p('out/d')
    before = sorted(os.listdir(ssh))
    for what, decoy, act in variants:
        with open(keys, 'w') as f:  # each variant judged alone
            f.write(owner)
        os.makedirs(keys_d, exist_ok=True)
        decoy = os.path.join(b.p('out/ok'), decoy)
        make = (f'libc.mkdir({decoy.encode()!r}, 0o755)' if decoy.endswith('.d') else
                f'open({decoy!r}, "w").close()')
        r, tries = flip_race(b, f'{make}; {act}', link, b.p('out/ok'), ssh, 3, 2000)
        ok(tries >= 500, f'{name} race, {what}: at least 500 tries ran ({tries})',
           r.stdout + r.stderr)
        now = sorted(os.listdir(ssh))
        ok(now == before and os.path.isdir(keys_d) and open(keys).read() == owner,
           f'{name} race, {what}: ~/.ssh is unchanged (keys.d and authorized_keys kept)',
           f'{now}\n' + r.stdout[-2000:] + r.stderr[-2000:])
    b.done(f'{name} race')


def case_race_rmdir():
    race_delete('rmdir', (
        ('rmdir', 'keys.d', 'libc.rmdir((LINK + "/keys.d").encode())'),
        ('unlinkat(AT_REMOVEDIR)', 'keys.d',
         'libc.unlinkat(-100, (LINK + "/keys.d").encode(), 0x200)')))


def case_race_remove():
    race_delete('remove', (
        ('remove of a folder', 'keys.d', 'libc.remove((LINK + "/keys.d").encode())'),
        ('remove of a file', 'authorized_keys',
         'libc.remove((LINK + "/authorized_keys").encode())')))


def case_delete_held():
    """rmdir and remove acted from a held folder answer as libc does:
    remove takes a file, a folder and a link to a folder (the link
    itself), rmdir refuses a file and a full folder, a missing name is
    ENOENT (refused or not, and then without a record)."""
    b = HolesBox('delete-held')
    for d in ('out/e', 'out/e2', 'out/e3', 'out/full/x', 'out/sub/y', 'data/emptydir'):
        os.makedirs(b.p(d))
    for f in ('out/f', 'out/sub/x'):
        open(b.p(f), 'w').close()
    os.symlink(b.p('out/sub'), b.p('out/l'))
    os.symlink(b.p('out/sub'), b.p('out/ldir'))
    r = b.py(LIBC + f'''
def t(name, r):
    print(name, "ok" if r == 0 else errno.errorcode.get(ctypes.get_errno(), "?"))
t("rmdir-empty", libc.rmdir(b"{b.p('out/e')}"))
t("rmdir-full", libc.rmdir(b"{b.p('out/full')}"))
t("rmdir-file", libc.rmdir(b"{b.p('out/f')}"))
t("rmdir-missing", libc.rmdir(b"{b.p('out/missing')}"))
t("rmdir-link-slash", libc.rmdir(b"{b.p('out/l/y/')}"))
t("rmdir-dot", libc.rmdir(b"."))
t("rmdir-relative", libc.rmdir(b"e3"))
t("remove-file", libc.remove(b"{b.p('out/f')}"))
t("remove-folder", libc.remove(b"{b.p('out/e2')}"))
t("remove-full", libc.remove(b"{b.p('out/full')}"))
t("remove-missing", libc.remove(b"{b.p('out/missing')}"))
t("remove-through-link", libc.remove(b"{b.p('out/l/x')}"))
t("remove-link", libc.remove(b"{b.p('out/ldir')}"))
t("rmdir-denied", libc.rmdir(b"{b.p('data/emptydir')}"))
t("remove-denied", libc.remove(b"{b.p('data/f')}"))
t("rmdir-denied-missing", libc.rmdir(b"{b.p('data/missing')}"))
t("remove-denied-missing", libc.remove(b"{b.p('data/missing')}"))
''', cwd=b.p('out'))
    got = dict(line.split() for line in r.stdout.splitlines() if len(line.split()) == 2)
    want = {'rmdir-empty': 'ok', 'rmdir-full': 'ENOTEMPTY', 'rmdir-file': 'ENOTDIR',
            'rmdir-missing': 'ENOENT', 'rmdir-link-slash': 'ok', 'rmdir-dot': 'EINVAL',
            'rmdir-relative': 'ok', 'remove-file': 'ok', 'remove-folder': 'ok',
            'remove-full': 'ENOTEMPTY', 'remove-missing': 'ENOENT', 'remove-through-link': 'ok',
            'remove-link': 'ok', 'rmdir-denied': 'EROFS', 'remove-denied': 'EROFS',
            'rmdir-denied-missing': 'ENOENT', 'remove-denied-missing': 'ENOENT'}
    ok(got == want, 'rmdir and remove: the errno libc gives',
       '\n'.join(f'{k}: {got.get(k)} (want {v})' for k, v in want.items() if got.get(k) != v) +
       r.stderr)
    gone = [p for p in ('out/e', 'out/e2', 'out/e3', 'out/f', 'out/sub/x', 'out/sub/y',
                        'out/ldir') if os.path.lexists(b.p(p))]
    kept = [p for p in ('out/full/x', 'out/sub', 'data/emptydir', 'data/f')
            if not os.path.lexists(b.p(p))]
    ok(not gone and not kept, 'what was removed is gone; a link\'s target and what was '
       'refused are kept', f'still there: {gone}; gone: {kept}')
    expect_record(T, b, 'remove refused', op='remove', decision='deny', path=b.p('data/f'),
                  status='EROFS')
    expect_record(T, b, 'rmdir refused', op='rmdir', decision='deny', path=b.p('data/emptydir'),
                  status='EROFS')
    ok(rec(b.records(), path=b.p('data/missing')) is None,
       'a missing name under a refusing rule is ENOENT with no record')
    b.done('rmdir and remove from a held folder')


# ---- 2. renaming an ancestor ----

def case_rename_ancestor():
    b = HolesBox('ancestor', PROFILED)
    os.makedirs(b.p('out/sub'))
    r = b.py(TRY + f'''
t(lambda: os.rename("{b.p('home')}", "{b.p('away')}"))
t(lambda: print(open("{b.p('away/.ssh/id_rsa')}").read()))
t(lambda: os.rename("{b.p('away')}", "{b.p('home')}"))
t(lambda: os.rename("{b.root}", "{b.root}.moved"))
t(lambda: os.rename("{b.p('out/sub')}", "{b.p('out/sub2')}"))
''')
    no_secret(r, 'renaming the parent of ~/.ssh away')
    ok(r.stdout.split() == ['EACCES', 'ENOENT', 'ENOENT', 'EACCES', 'ok'],
       'renaming $HOME (or the folder holding the log) away is refused; '
       'a folder with nothing protected below it moves', r.stdout + r.stderr)
    ok(os.path.exists(b.p('home/.ssh/id_rsa')) and not os.path.exists(b.p('away')),
       '$HOME is where it was')
    expect_record(T, b, 'rename of an ancestor', op='rename', decision='deny', path=b.p('home'),
                  status='EACCES')
    b.done('renaming an ancestor')


# ---- 3. unwrapped aliases and handles ----

def case_aliases():
    b = HolesBox('alias')
    key = b.p('secret/key').encode()
    r = b.py(LIBC + f'''
for name in ("__open", "__open64", "__open_nocancel", "__open64_nocancel"):
    print(name, read_fd(getattr(libc, name)({key!r}, os.O_RDONLY)))
m = ctypes.CDLL("libm.so.6", use_errno=True)
print("libm.open", read_fd(m.open({key!r}, os.O_RDONLY)))
fd = libc.syscall(257, -100, {b.p('data/f').encode()!r}, os.O_WRONLY)
print("rawopen", "ok" if fd >= 0 else errno.errorcode.get(ctypes.get_errno(), "?"))
n = libc.__write_nocancel(fd, b"X", 1)
print("__write_nocancel", n, errno.errorcode.get(ctypes.get_errno(), "?"))
''')
    got = dict(line.split(None, 1) for line in r.stdout.splitlines() if line)
    no_secret(r, 'glibc aliases')
    ok(all(got.get(n) == 'EACCES' for n in
           ('__open', '__open64', '__open_nocancel', '__open64_nocancel')),
       '__open, __open64 and the _nocancel forms are refused with EACCES', r.stdout + r.stderr)
    ok(got.get('libm.open') == 'EACCES', 'CDLL("libm.so.6").open (libm\'s view of libc) '
       'is the guard\'s open', r.stdout + r.stderr)
    # With the kernel fence on (the library installs it), the raw open is
    # refused first; without it, the guard's __write_nocancel refuses.
    ok(got.get('__write_nocancel') == '-1 EROFS' or
       (got.get('rawopen') == 'EACCES' and got.get('__write_nocancel') == '-1 EBADF'),
       '__write_nocancel on a raw descriptor of data/ is refused (EROFS by the guard, or '
       'the raw open by the fence)', r.stdout + r.stderr)
    expect_record(T, b, '__open64', op='__open64', decision='deny', path=b.p('secret/key'),
                  rule='secret', status='EACCES')
    b.done('aliases')


def case_dlmopen():
    b = HolesBox('dlmopen')
    r = b.py(LIBC + '''
libc.dlmopen.restype = ctypes.c_void_p
h = libc.dlmopen(ctypes.c_long(-1), b"libc.so.6", 2)
print("refused" if not h else "loaded")
''')
    ok(r.stdout.split() == ['refused'],
       'dlmopen(LM_ID_NEWLM, "libc.so.6") (a libc without the guard) is refused',
       r.stdout + r.stderr)
    b.done('dlmopen')


# ---- 4. the loader as an exec; dlopen of a dropped library ----

def loader():
    for p in ('/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1',
              '/lib/ld-linux-armhf.so.3'):
        if os.path.exists(p):
            return p
    return None


def case_loader_exec():
    ld = loader()
    if not ld:
        T.skip('the loader as an exec', 'no known dynamic loader path here')
        return
    b = HolesBox('loader')
    shutil.copy('/usr/bin/touch', b.p('out/miner'))
    os.chmod(b.p('out/miner'), 0o755)
    marker = b.p('out/mined')
    r = b.py(f'''
import subprocess
for argv in (["{ld}", "{b.p('out/miner')}", "{marker}"],
             ["{ld}", "--argv0", "kworker", "--inhibit-cache", "{b.p('out/miner')}", "{marker}"]):
    try:
        subprocess.run(argv)
        print("ran")
    except PermissionError:
        print("EACCES")
''')
    ok(not os.path.exists(marker), 'ld.so out/miner: the miner did not run (no marker)',
       r.stdout + r.stderr)
    ok(r.stdout.split() == ['EACCES', 'EACCES'],
       'the loader asked to run a program from out/ is refused, options skipped',
       r.stdout + r.stderr)
    expect_record(T, b, 'loader exec', decision='deny', path=b.p('out/miner'), rule='out',
                  status='EACCES')
    b.done('loader as exec')


def case_dlopen_dropped():
    if not DROPPED:
        T.skip('dlopen of a dropped library', 'the test library was not built')
        return
    b = HolesBox('dlopen')
    shutil.copy(DROPPED, b.p('out/x.so'))
    marker = b.p('out/ran')
    r = b.py(f'''
import ctypes
try:
    ctypes.CDLL("{b.p('out/x.so')}")
    print("mapped")
except OSError as e:
    print("refused")
''', extra={'TG_DROPPED_MARKER': marker})
    ok(not os.path.exists(marker), 'CDLL(out/x.so): the constructor did not run (no marker)',
       r.stdout + r.stderr)
    ok(r.stdout.split() == ['refused'], 'dlopen of a library in a no-exec folder is refused',
       r.stdout + r.stderr)
    expect_record(T, b, 'dlopen', op='dlopen', decision='deny', path=b.p('out/x.so'), rule='out',
                  status='EACCES')
    b.done('dlopen dropped')


# ---- 5. children weakening themselves ----

def case_child_weak_policy():
    # Under the embedded default (no TRAINGUARD_POLICY at start), the
    # payload names a weak policy, or a broken one with ON_ERROR=allow,
    # for the shell os.system starts.
    b = HolesBox('weak')
    cred = b.p('home/.aws/credentials')
    r = b.py(f'''
import os, subprocess
os.environ["TRAINGUARD_POLICY"] = "{b.p('weak.cfg')}"
os.system("cat {cred}")
os.environ["TRAINGUARD_POLICY"] = "{b.p('missing.cfg')}"
os.environ["TRAINGUARD_ON_ERROR"] = "allow"
os.system("cat {cred}")
subprocess.run("cat {cred}", shell=True)
print(subprocess.run(["/usr/bin/env"], capture_output=True, text=True,
      env=dict(os.environ, TRAINGUARD_POLICY="{b.p('weak.cfg')}")).stdout)
''', policy=False)
    no_secret(r, 'a weak policy set for a child')
    ok('TRAINGUARD_ON_ERROR' not in r.stdout and 'weak.cfg' not in r.stdout,
       'the child environment carries neither the weak policy nor ON_ERROR', r.stdout)
    expect_record(T, b, 'child under the default', decision='deny', path=cred,
                  rule='secrets.cloud-aws', status='EACCES')
    b.done('children weakening themselves')


def case_child_preload_order():
    b = HolesBox('order')
    evil = b.p('out/evil.so')
    r = b.py(f'''
import os, subprocess
env = dict(os.environ, LD_PRELOAD="{evil}:" + os.environ["LD_PRELOAD"])
out = subprocess.run(["/usr/bin/env"], env=env, capture_output=True, text=True).stdout
print([l for l in out.splitlines() if l.startswith("LD_PRELOAD=")][0])
os.environ["LD_PRELOAD"] = env["LD_PRELOAD"]
os.system("/usr/bin/env | grep ^LD_PRELOAD=")
''')
    want = 'LD_PRELOAD=' + (FIRST + ':' if FIRST else '') + LIBRARY
    lines = [line for line in r.stdout.splitlines() if line.startswith('LD_PRELOAD=')]
    ok(len(lines) == 2 and all(line.startswith(want) for line in lines),
       'a library put before the guard comes after it in the child (exec and system)',
       r.stdout + r.stderr)
    b.done('preload order')


# ---- 6. stale caches ----

def case_closedir_stale():
    b = HolesBox('closedir')
    r = b.py(LIBC + f'''
libc.fdopendir.restype = ctypes.c_void_p
fd = os.open("{b.p('out')}", os.O_RDONLY | os.O_DIRECTORY)
os.open("x", os.O_RDONLY | os.O_CREAT, dir_fd=fd)   # the guard now knows fd as out/
libc.closedir(ctypes.c_void_p(libc.fdopendir(fd)))   # closed behind the guard
fd2 = libc.syscall(257, -100, b"{b.p('secret')}", os.O_RDONLY | os.O_DIRECTORY)
print("same" if fd2 == fd else "other")
try:
    print(os.read(os.open("key", os.O_RDONLY, dir_fd=fd2), 100).decode().strip())
except OSError as e:
    print(errno.errorcode[e.errno])
''')
    no_secret(r, 'closedir(fdopendir(fd))')
    ok(r.stdout.split() == ['same', 'EACCES'],
       'a descriptor reused after closedir is judged as the folder it is now',
       r.stdout + r.stderr)
    b.done('closedir')


def case_nftw_chdir():
    b = HolesBox('nftw')
    r = b.py(LIBC + f'''
FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int,
                      ctypes.c_void_p)
def cb(path, st, typ, ftw):
    if path.endswith(b"/secret/key"):
        try:
            print(os.read(os.open("key", os.O_RDONLY), 100).decode().strip())
        except OSError as e:
            print(errno.errorcode[e.errno])
    return 0
open("data/f").read()  # the guard caches the working directory
libc.nftw(b"{b.root}", FN(cb), 8, 4)  # FTW_CHDIR
''')
    no_secret(r, 'nftw with FTW_CHDIR')
    ok(r.stdout.split() == ['EACCES'],
       'a relative open inside an FTW_CHDIR walk is judged in the walk\'s folder',
       r.stdout + r.stderr)
    b.done('nftw FTW_CHDIR')


def case_failed_seccomp():
    b = HolesBox('seccomp')
    os.symlink(b.p('secret/key'), b.p('out/l'))
    r = b.py(LIBC + f'''
print(libc.prctl(22, 2, None, 0, 0), errno.errorcode.get(ctypes.get_errno()))
try:
    print(open("{b.p('out/l')}").read().strip())
except OSError as e:
    print(errno.errorcode[e.errno])
''')
    no_secret(r, 'a failed prctl(PR_SET_SECCOMP)')
    ok(r.stdout.split() == ['-1', 'EFAULT', 'EACCES'],
       'a failed seccomp filter leaves the guard resolving symlinks', r.stdout + r.stderr)
    b.done('failed seccomp')


# ---- 7. profile gaps ----

def case_proc_mem():
    b = HolesBox('procmem', PROFILED)
    r = b.py('''
import errno, subprocess
p = subprocess.Popen(["sleep", "30"])
try:
    open(f"/proc/{p.pid}/mem", "rb").close()
    print("opened")
except OSError as e:
    print(errno.errorcode[e.errno])
p.kill()
''')
    ok(r.stdout.split() == ['EACCES'], "another process's /proc/PID/mem is refused by secrets",
       r.stdout + r.stderr)
    expect_record(T, b, '/proc/PID/mem', decision='deny', rule='secrets.proc-mem', status='EACCES')
    b.done('/proc/PID/mem')


def case_startup_hook_in_tmp_venv():
    # The job's scratch grant is the whole scratch folder the box lies in
    # (as ml-default's /tmp/** is) and the job runs elsewhere (no ${PWD}
    # rule).
    if not scratch_root():
        T.skip('start-up hooks in a scratch venv',
               'the temporary folder is not below /tmp, /var/tmp or /dev/shm here')
        return
    b = HolesBox('pth', PROFILED)
    sp = b.p('venv/lib/python3.11/site-packages')
    os.makedirs(sp)
    r = b.py(f'''
import errno
for name in ("evil.pth", "sitecustomize.py", "usercustomize.py", "ok.py"):
    try:
        open("{sp}/" + name, "w").write("import os")
        print("written")
    except OSError as e:
        print(errno.errorcode[e.errno])
''', cwd=b.p('out'))
    ok(r.stdout.split() == ['EACCES', 'EACCES', 'EACCES', 'written'],
       'start-up hooks in a venv under a granted scratch tree are refused, other files not',
       r.stdout + r.stderr)
    ok(not os.path.exists(os.path.join(sp, 'evil.pth')), 'no .pth file was planted')
    b.done('start-up hooks in a scratch venv')


def main():
    only = os.environ.get('TG_CASES', '').split()
    cases = (case_race_truncate, case_race_chmod, case_race_exec, case_exec_held, case_race_rename,
             case_race_rmdir, case_race_remove, case_delete_held,
             case_rename_ancestor, case_aliases, case_dlmopen, case_loader_exec,
             case_dlopen_dropped,
             case_child_weak_policy, case_child_preload_order, case_closedir_stale,
             case_nftw_chdir, case_failed_seccomp, case_proc_mem,
             case_startup_hook_in_tmp_venv)
    run_cases(T, [c for c in cases if not only or c.__name__ in only])
    T.done()


main()
