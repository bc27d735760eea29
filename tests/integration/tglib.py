"""Shared helpers for the integration tests (TAP, standard library only).

A test script makes a Sandbox (a fresh temporary folder with a policy),
runs programs in it under libtrainguard.so, and asserts on the exit status,
the files (hashed before and after) and the log records. Every log a run
produces is checked with the project's OCSF 1.8.0 check (tests/ocsf), which counts as one
assertion. A missing prerequisite is a visible `# SKIP`, never a silent pass.

Environment (set by tests/meson.build): TG_SOURCE_ROOT, TG_BUILD_ROOT,
TG_PROBE (the tg-probe program), TG_PYTHON.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import wraptable  # noqa: E402
from tap import TAP  # noqa: E402,F401  (the integration scripts use tglib.TAP)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'ocsf'))
import ocsf  # noqa: E402

OCSF_SCHEMA = ocsf.load()

SOURCE_ROOT = os.environ.get('TG_SOURCE_ROOT', '')
BUILD_ROOT = os.environ.get('TG_BUILD_ROOT', '')
PROBE = os.environ.get('TG_PROBE') or os.path.join(BUILD_ROOT, 'tests', 'probes', 'tg-probe')
LIBRARY = os.path.join(BUILD_ROOT, 'preload', 'libtrainguard.so')
# The sanitizer run (tests/run-all) puts the ASan runtime first.
PRELOAD_FIRST = os.environ.get('TG_PRELOAD_FIRST', '')
CLI = os.path.join(BUILD_ROOT, 'cli', 'trainguard')
PYTHON = '/usr/bin/python3'


def prerequisites(tap):
    """False (and one visible skip per missing piece) when the build is not
    there: the rest of the script cannot run."""
    missing = [p for p in (LIBRARY, PROBE, CLI) if not os.path.exists(p)]
    if missing:
        tap.skip('the guard, tg-probe and trainguard are built',
                 'missing: ' + ', '.join(missing))
        return False
    return True


# ---- files ----------------------------------------------------------------

def _xattrs(p):
    try:
        return tuple(sorted((n, os.getxattr(p, n, follow_symlinks=False))
                            for n in os.listxattr(p, follow_symlinks=False)))
    except OSError:
        return ()


def snapshot(root):
    """Every entry under ROOT: relative path -> (type, mode, sha256 or
    link target, owner, mtime, xattrs)."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            meta = (st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_mtime_ns, _xattrs(p))
            if os.path.islink(p):
                snap[rel] = ('link', os.readlink(p)) + meta
            elif os.path.isdir(p):
                snap[rel] = ('dir', None) + meta
            elif os.path.isfile(p):
                with open(p, 'rb') as f:
                    snap[rel] = ('file', hashlib.sha256(f.read()).hexdigest()) + meta
            else:
                snap[rel] = ('other', st.st_mode) + meta
    return snap


def snapshot_diff(before, after):
    lines = []
    for k in sorted(set(before) | set(after)):
        if before.get(k) != after.get(k):
            lines.append(f'{k}: {before.get(k)} -> {after.get(k)}')
    return '\n'.join(lines)


def file_mode(path):
    return os.lstat(path).st_mode & 0o7777


# ---- records --------------------------------------------------------------

def tg(rec):
    return rec.get('unmapped', {}).get('trainguard', {})


def record_path(rec):
    """The decided path: file.path, or process.file.path for an exec."""
    if 'file' in rec:
        return rec['file'].get('path')
    return rec.get('process', {}).get('file', {}).get('path')


FIELDS = {
    'op': lambda r: tg(r).get('op'),
    'decision': lambda r: tg(r).get('decision'),
    'errno': lambda r: tg(r).get('errno'),
    'mode': lambda r: tg(r).get('mode'),
    'classes': lambda r: tg(r).get('classes'),
    'flags': lambda r: tg(r).get('flags'),
    'path_requested': lambda r: tg(r).get('path_requested'),
    'mode_requested': lambda r: tg(r).get('mode_requested'),
    'mode_applied': lambda r: tg(r).get('mode_applied'),
    'uid': lambda r: r.get('policy', {}).get('uid'),
    'source': lambda r: r.get('policy', {}).get('data', {}).get('source'),
    'line': lambda r: r.get('policy', {}).get('data', {}).get('line'),
    'path': record_path,
    'class_uid': lambda r: r.get('class_uid'),
    'activity_id': lambda r: r.get('activity_id'),
    'status_code': lambda r: r.get('status_code'),
    'job': lambda r: r.get('metadata', {}).get('correlation_uid'),
    'pid': lambda r: r.get('actor', {}).get('process', {}).get('pid'),
    'ppid': lambda r: r.get('actor', {}).get('process', {}).get('parent_process', {}).get('pid'),
    'cmd_line': lambda r: r.get('actor', {}).get('process', {}).get('cmd_line'),
    'unguarded': lambda r: tg(r).get('unguarded'),
}
# The short names the payload tests use (tests/integration/tgbox.py).
FIELDS.update(rule=FIELDS['uid'], status=FIELDS['status_code'],
              requested=FIELDS['path_requested'])


def field(rec, name):
    return FIELDS[name](rec)


def matches(rec, **want):
    for k, v in want.items():
        got = field(rec, k)
        if callable(v):
            if not v(got):
                return False
        elif k == 'classes':
            if sorted(got or []) != sorted(v):
                return False
        elif got != v:
            return False
    return True


def find(records, **want):
    return [r for r in records if matches(r, **want)]


def summary(records):
    return '\n'.join(
        f'{field(r, "op")} {field(r, "decision")} {field(r, "path")} uid={field(r, "uid")} '
        f'classes={field(r, "classes")} errno={field(r, "errno")} pid={field(r, "pid")}'
        for r in records) or '(no records)'


def check_record(tap, rec, desc, todo=None, **want):
    """One assertion: REC has every field of WANT (a value or a predicate)."""
    if rec is None:
        return tap.ok(False, desc, 'no such record', todo=todo)
    bad = []
    for k, v in want.items():
        got = field(rec, k)
        if callable(v):
            good = v(got)
        elif k == 'classes':
            good = sorted(got or []) == sorted(v)
        else:
            good = got == v
        if not good:
            bad.append(f'{k}: got {got!r}, want {getattr(v, "__name__", v)!r}')
    return tap.ok(not bad, desc, '\n'.join(bad) + '\n' + json.dumps(rec)[:1500], todo=todo)


# ---- probe output -----------------------------------------------------------

LINE = re.compile(r'^(\S+) ret=(-?\d+) errno=(\S+)(.*)$')


class Line(dict):
    """One probe result line: op, ret, errno and extra keys."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)


def parse_probe(out):
    lines = []
    for text in out.splitlines():
        m = LINE.match(text)
        if not m:
            continue
        d = Line(op=m.group(1), ret=int(m.group(2)), errno=m.group(3), text=text)
        for kv in m.group(4).split():
            if '=' in kv:
                k, v = kv.split('=', 1)
                d[k] = int(v) if re.fullmatch(r'-?\d+', v) and k != 'mode' else v
        lines.append(d)
    return lines


def probe_env(out):
    """The NAME=value lines `tg-probe env` printed."""
    env = {}
    for text in out.splitlines():
        if text.startswith('env ') and '=' in text:
            k, v = text[4:].split('=', 1)
            env[k] = v
    return env


# ---- running under the guard ------------------------------------------------

def base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('TRAINGUARD_') and k != 'LD_PRELOAD' and not k.startswith('TG_')}
    env['LC_ALL'] = 'C'
    env.setdefault('PATH', '/usr/bin:/bin')
    if PRELOAD_FIRST:
        # A sanitizer run: LeakSanitizer stops the world with ptrace, which
        # the kernel fence's seccomp filter refuses (even in an exec'd child
        # whose environment lost ASAN_OPTIONS). The fence is tested by the
        # 'fence' suite, in the normal build.
        env['TRAINGUARD_FENCE'] = 'none'
    return env


class Result:
    def __init__(self, argv, proc, log, records, bad_lines):
        self.argv = argv
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.log = log
        self.records = records
        self.bad_lines = bad_lines
        self.lines = parse_probe(proc.stdout)

    def line(self, op=None):
        """The first probe line for OP, or the last line when OP is None."""
        if op is None:
            return self.lines[-1] if self.lines else None
        for ln in self.lines:
            if ln.op == op:
                return ln
        return None

    def denials(self):
        return find(self.records, decision='deny')

    def describe(self):
        return (f'argv: {" ".join(map(str, self.argv))}\nexit: {self.rc}\n'
                f'stdout:\n{self.out}\nstderr:\n{self.err}\nrecords:\n{summary(self.records)}')


def validate_log(tap, log, what):
    """The project's OCSF 1.8.0 check (tests/ocsf/ocsf.py) on LOG: one
    assertion, or a visible skip when the run wrote no log."""
    if not os.path.exists(log):
        # Nothing to validate, and nothing to assert here: a test that
        # expects records asserts them itself.
        tap.diag(f'{what}: no log file was written, nothing to validate')
        return
    found = ocsf.check_file(OCSF_SCHEMA, log)
    tap.ok(not found, f'{what}: log passes the OCSF 1.8.0 check',
           '\n'.join(f'line {n}: {rule}: {msg}' for n, rule, msg in found[:40]))


class Sandbox:
    """A fresh folder with a policy; runs commands under the guard.

    The policy text may use {root} for the sandbox folder. Folders data/
    (the protected dataset) and out/ (writable) are made by the caller."""

    counter = 0

    def __init__(self, tap, name, policy=None):
        self.tap = tap
        self.root = os.path.realpath(tempfile.mkdtemp(prefix=f'tg-{name}-'))
        self.job = f'job-{name}-{os.getpid()}'
        self.policy_path = None
        if policy is not None:
            self.policy_path = self.write_policy(policy)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        for dirpath, dirnames, filenames in os.walk(self.root):
            for d in dirnames:
                try:
                    os.chmod(os.path.join(dirpath, d), 0o755)
                except OSError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)

    def p(self, *parts):
        return os.path.join(self.root, *parts)

    def mkdir(self, *rel):
        for r in rel:
            os.makedirs(self.p(r), exist_ok=True)

    def write(self, rel, data=b'', mode=None):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def write_policy(self, text, name='policy.cfg'):
        return self.write(name, text.replace('{root}', self.root))

    def new_log(self, label):
        Sandbox.counter += 1
        safe = re.sub(r'[^A-Za-z0-9_.-]+', '_', label)[:60]
        os.makedirs(self.p('logs'), exist_ok=True)
        return self.p('logs', f'{Sandbox.counter:04d}-{safe}.jsonl')

    def run(self, argv, label=None, policy=None, mode=None, job=None, env=None, cwd=None,
            log=None, guard=True, cli=False, cli_args=(), timeout=120, validate=True,
            stdin=subprocess.DEVNULL, replace_env=False):
        """Runs ARGV under the guard (or under `trainguard run` with CLI);
        returns a Result. The log is read and
        validated (one assertion) unless VALIDATE is false."""
        label = label or ' '.join(os.path.basename(str(a)) for a in argv[:3])
        policy = policy if policy is not None else self.policy_path
        log = log or self.new_log(label)
        e = {} if replace_env else base_env()
        if cli and PRELOAD_FIRST:
            e['LD_PRELOAD'] = PRELOAD_FIRST
        if guard and not cli:
            e['LD_PRELOAD'] = (PRELOAD_FIRST + ':' if PRELOAD_FIRST else '') + LIBRARY
            if policy:
                e['TRAINGUARD_POLICY'] = policy
            e['TRAINGUARD_LOG'] = log
            e['TRAINGUARD_JOB_ID'] = job or self.job
            if mode:
                e['TRAINGUARD_MODE'] = mode
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        argv = [str(a) for a in argv]
        if cli:
            pre = [CLI, 'run']
            if policy:
                pre += ['--policy', policy]
            pre += ['--log', log, '--job-id', job or self.job]
            if mode:
                pre += ['--mode', mode]
            argv = pre + list(cli_args) + ['--'] + argv
        try:
            proc = subprocess.run(argv, cwd=cwd or self.root, env=e, capture_output=True,
                                  text=True, timeout=timeout, stdin=stdin,
                                  errors='replace')
        except subprocess.TimeoutExpired as t:
            proc = subprocess.CompletedProcess(argv, -999, t.stdout or '', (t.stderr or '') +
                                               f'\n(timed out after {timeout}s)')
            if isinstance(proc.stdout, bytes):
                proc.stdout = proc.stdout.decode(errors='replace')
            if isinstance(proc.stderr, bytes):
                proc.stderr = proc.stderr.decode(errors='replace')
        records, bad = read_log(log)
        if validate and guard:
            validate_log(self.tap, log, label)
        res = Result(argv, proc, log, records, bad)
        res.all_records = read_log(log, lifecycle=True)[0]  # with start and stop
        return res

    def probe(self, *args, **kw):
        return self.run([PROBE] + [str(a) for a in args], **kw)


LIFECYCLE_EVENTS = ('start', 'stop', 'fork', 'unguarded', 'exec', 'exec_failed', 'spawn',
                    'spawn_failed', 'child_killed')


def is_lifecycle(rec):
    """A start, stop, fork, exec or spawn link, or unguarded record
    (preload/lifecycle.h), not a decision about one call."""
    return tg(rec).get('event') in LIFECYCLE_EVENTS


def read_log(path, lifecycle=False):
    """The records of the log at PATH and the lines that are not JSON.
    Decisions only, unless LIFECYCLE: the start and stop records every
    process writes would otherwise be counted by tests about decisions."""
    records, bad = [], []
    try:
        with open(path, 'r', errors='replace') as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    bad.append(line)
                    continue
                if lifecycle or not is_lifecycle(rec):
                    records.append(rec)
    except FileNotFoundError:
        pass
    return records, bad


def wrapped_symbols():
    """The wrapped symbols, in table order (the list the build generates
    from preload/wrap.h; see tests/wraptable.py)."""
    return wraptable.symbols()


def errno_number(name):
    import errno as E
    return getattr(E, name)


def signal_name(rc):
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return str(rc)
    return str(rc)
