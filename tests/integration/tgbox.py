"""The box of the tests that run payloads under the guard (tests/attacks,
symlinked-root; TAP, standard library only).

A Box is a fresh temporary folder laid out by the test, with a policy and
one log; it runs programs, or Python code given with -c, under
libtrainguard.so with the environment a job has, and reads the records
back. Beside it: the box policy most of these tests use (data/ read-only
with EROFS, secret/ unreadable, out/ writable), the record checks, and the
payload code the tests prepend to theirs (t() that prints what a call
gave, point() and the flipper that re-point symbolic links).

TG_GUARD_LIB runs the payloads under another build of the guard (an older
one, to see a test fail without a fix).
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import tglib

LIBRARY = os.environ.get('TG_GUARD_LIB') or tglib.LIBRARY
FIRST = tglib.PRELOAD_FIRST  # the ASan runtime, in the sanitizer run
PYTHON = tglib.PYTHON

WRITABLE = ('read', 'list', 'write', 'create', 'delete')


def policy(data='data', out=WRITABLE, out_deny=(), out_more=''):
    """The box policy, with {root} for the box: everything may be read and
    run, nothing written; DATA/ read-only (EROFS), secret/ unreadable,
    out/ granted OUT (and denied OUT_DENY, OUT_MORE added to its rule)."""
    def rights(names):
        return '[' + ', '.join(f'"{n}"' for n in names) + ']'
    out_rule = f'allow = {rights(out)};'
    if out_deny:
        out_rule += f' deny = {rights(out_deny)};'
    if out_more:
        out_rule += ' ' + out_more
    return ('version = 1;\n'
            'defaults = { read = "allow"; list = "allow"; exec = "allow";\n'
            '             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; };\n'
            'rules = (\n'
            f'  {{ id = "data"; path = "{{root}}/{data}/**"; allow = ["read", "list"];\n'
            '     deny = ["write", "create", "delete", "chmod"]; errno = "EROFS"; },\n'
            '  { id = "secret"; path = "{root}/secret/**"; deny = ["read", "list", "write"]; },\n'
            f'  {{ id = "out"; path = "{{root}}/out/**"; {out_rule} }}\n'
            ');\n')


def scratch_root():
    """The system scratch folder (/tmp, /var/tmp, /dev/shm) the temporary
    folder lies in, as ml-default grants it, or None. The test suite gives
    each test a private folder below /tmp (tests/private-tmpdir)."""
    tmp = os.path.realpath(tempfile.gettempdir())
    for d in ('/tmp', '/var/tmp', '/dev/shm'):
        if tmp == d or tmp.startswith(d + '/'):
            return d
    return None


class Box:
    """A fresh folder tg-NAME-*: TREE laid out ((path, text) pairs, a
    path ending in "/" a folder), the POLICY text written to policy.cfg
    with {root} this folder and {tmp} the scratch root, and log.jsonl.
    A guarded run gets the guard, the policy (unless policy=False), the log,
    JOB and the settings ENV; KEPT names the folders whose files must come
    out of the test unchanged (unchanged())."""

    def __init__(self, name, policy, tree=(), job='job-box', env=None, kept=()):
        self.root = os.path.realpath(tempfile.mkdtemp(prefix=f'tg-{name}-'))
        for rel, text in tree:
            if rel.endswith('/'):
                os.makedirs(self.p(rel), exist_ok=True)
            else:
                self.write(rel, text)
        self.policy = self.p('policy.cfg')
        self.set_policy(policy)
        self.log = self.p('log.jsonl')
        self.job = job
        self.settings = dict(env or {})
        self.kept = kept
        self.before = self.hashes()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def p(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, text):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def set_policy(self, text):
        self.write('policy.cfg', text.replace('{root}', self.root)
                   .replace('{tmp}', scratch_root() or os.path.dirname(self.root)))

    def env(self, extra=None, guarded=True, policy=True, preload_after=''):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('TRAINGUARD_') and k != 'LD_PRELOAD'}
        env['LC_ALL'] = 'C'
        if guarded:
            env['LD_PRELOAD'] = ':'.join(x for x in (FIRST, LIBRARY, preload_after) if x)
            env.update(TRAINGUARD_LOG=self.log, TRAINGUARD_JOB_ID=self.job)
            if policy:
                env['TRAINGUARD_POLICY'] = self.policy
            env.update(self.settings)
        env.update(extra or {})
        return env

    def run(self, argv, extra=None, guarded=True, policy=True, preload_after='', cwd=None,
            timeout=120, **kw):
        return subprocess.run([str(a) for a in argv],
                              env=self.env(extra, guarded, policy, preload_after),
                              cwd=cwd or self.root, capture_output=True, text=True,
                              timeout=timeout, **kw)

    def py(self, code, prefix=(), **kw):
        """CODE run by python3 -c (after PREFIX, a program that runs it)."""
        return self.run(list(prefix) + [PYTHON, '-c', code], **kw)

    def records(self):
        """The log's decisions (no start, stop, fork or exec links)."""
        return tglib.read_log(self.log)[0]

    def hashes(self):
        """Every entry of the KEPT folders: a file's SHA-256 and mode, a
        link's text."""
        out = {}
        for top in self.kept:
            for dp, _, files in os.walk(self.p(top)):
                for f in files:
                    path = os.path.join(dp, f)
                    if os.path.islink(path):
                        out[path] = ('link', os.readlink(path))
                        continue
                    with open(path, 'rb') as fh:
                        out[path] = (hashlib.sha256(fh.read()).hexdigest(),
                                     os.lstat(path).st_mode)
        return out

    def unchanged(self):
        return self.hashes() == self.before

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


# ---- records ----------------------------------------------------------------

def rec(records, **want):
    """The first record with every field of WANT (tglib.FIELDS), or None."""
    found = tglib.find(records, **want)
    return found[0] if found else None


def expect_record(tap, box, what, **want):
    """One assertion: the box's log has a record with the fields of WANT."""
    records = box.records()
    r = rec(records, **want)
    tap.ok(r is not None, f'{what}: record {want}',
           'records:\n' + '\n'.join(json.dumps(tglib.tg(x)) + ' ' + str(tglib.record_path(x))
                                    for x in records))
    return r


# ---- payload code -------------------------------------------------------------

# t(fn) prints "ok" when FN returns, or the errno name it raised.
TRY = '''
import errno, os, sys
def t(fn):
    try:
        fn(); print("ok")
    except OSError as e:
        print(errno.errorcode[e.errno])
'''

# t(fn) prints what FN returned (a text stripped; "ok" for nothing, a number
# or an empty text), or the errno name it raised.
TRY_VALUE = '''
import errno, os, sys
def t(fn):
    try:
        r = fn()
        print("ok" if r is None or r is True or isinstance(r, int) or not r.strip() else r.strip())
    except OSError as e:
        print(errno.errorcode[e.errno])
'''

# point(link, target): LINK names TARGET now, by one rename over it.
POINT = '''
import os
def point(link, target):
    os.symlink(target, link + ".new")
    os.rename(link + ".new", link)
'''

# start_flipper(link, a, b) forks a process that keeps trading LINK between
# A and B until stop_flipper(pid): two links swapped by raw
# renameat2(RENAME_EXCHANGE) calls (x86-64's number), the fastest flip, and
# a process, not a thread, so no interpreter lock is shared with the calls
# raced. Its calls are the payload's own and decided by nobody.
FLIP = '''
import ctypes, os
def start_flipper(link, a, b):
    alt = link + ".alt"
    for p in (link, alt):
        if os.path.lexists(p):
            os.unlink(p)
    os.symlink(a, link)
    os.symlink(b, alt)
    pid = os.fork()
    if pid == 0:
        try:
            raw = ctypes.CDLL(None, use_errno=True)
            l, t = link.encode(), alt.encode()
            while True:
                raw.syscall(316, -100, l, -100, t, 2)
        finally:
            os._exit(0)
    return pid
def stop_flipper(pid):
    os.kill(pid, 9)
    os.waitpid(pid, 0)
'''


# ---- running the cases --------------------------------------------------------

def run_cases(tap, cases, *args):
    """Calls each case with ARGS; one that raises is one failed assertion,
    not the end of the script."""
    for case in cases:
        try:
            case(*args)
        except Exception as e:  # a crash of the harness is a failure, not a skip
            tap.ok(False, f'{case.__name__} ran to the end', repr(e))


def strace_calls(argv, out, env=None):
    """The number of system calls ARGV and its children make (strace -f -c,
    its table written to OUT and removed)."""
    subprocess.run(['strace', '-f', '-c', '-o', out] + [str(a) for a in argv], env=env,
                   capture_output=True, timeout=120, check=True)
    with open(out) as f:
        text = f.read()
    os.unlink(out)
    for line in text.splitlines():
        f = line.split()
        if f and f[-1] == 'total':
            return int(f[3])
    raise RuntimeError('no total in strace -c output')
