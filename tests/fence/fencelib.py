"""Shared pieces of the fence tests: a scratch layout (a home with a
secret, a writable work folder, a read-only dataset), a policy over it,
and runners for fence-run and the raw-syscall attacker, as root or as
nobody (setpriv)."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


RUN = os.environ.get('TG_FENCE_RUN', 'fence-run')
ATTACK = os.environ.get('TG_FENCE_ATTACK', 'fence-attack')
STATIC = os.environ.get('TG_FENCE_ATTACK_STATIC', '')
PYTHON = os.environ.get('TG_PYTHON', '/usr/bin/python3')
NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']

POLICY = """version = 1;
defaults = {{ read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; }};
rules = (
  {{ id = "work"; path = "{T}/job/**";
    allow = ["read", "list", "write", "create", "delete", "chmod"]; deny = ["exec"]; }},
  {{ id = "data"; path = "{T}/data/**"; allow = ["read", "list"];
    deny = ["write", "create", "delete", "chmod"]; errno = "EROFS"; }},
  {{ id = "ssh"; path = "~/.ssh/**"; deny = ["all"]; }},
  {{ id = "dev"; path = ["/dev/null", "/dev/pts/**", "/dev/tty"];
    allow = ["read", "write", "create"]; }}{extra}
);
"""


class Layout:
    """T/home/.ssh/id_rsa (the secret), T/job (writable, no exec),
    T/data/train.bin (read-only by policy, writable by permissions so that
    only the fence can be what stops a write). Everything is open to
    nobody by permissions, for the same reason. EXTRA_RULES are added to
    the policy, with {T} standing for the layout's folder."""

    def __init__(self, extra_rules='', home_in_work=False, base=None):
        self.t = tempfile.mkdtemp(prefix='tg-fence-', dir=base)
        os.chmod(self.t, 0o755)
        self.work = os.path.join(self.t, "job")
        self.data = os.path.join(self.t, 'data')
        self.home = os.path.join(self.work if home_in_work else self.t, 'home')
        for d in (self.work, self.data, self.home, os.path.join(self.home, '.ssh')):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o777 if d == self.work else 0o755)
        self.secret = os.path.join(self.home, '.ssh', 'id_rsa')
        self.write(self.secret, 'BEGIN PRIVATE KEY tg-fence-secret\n', 0o644)
        self.dataset = os.path.join(self.data, 'train.bin')
        self.write(self.dataset, 'dataset bytes\n' * 64, 0o666)
        self.policy = os.path.join(self.t, 'fence.cfg')
        self.write(self.policy, POLICY.format(T=self.t, extra=extra_rules.replace('{T}', self.t)),
                   0o644)
        self.env = dict(os.environ, HOME=self.home, PWD=self.work)

    @staticmethod
    def write(path, text, mode):
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, mode)

    def cleanup(self):
        shutil.rmtree(self.t, ignore_errors=True)


def sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(argv, env=None, cwd=None, timeout=120, stdin=None):
    return subprocess.run(argv, env=env, cwd=cwd, timeout=timeout, capture_output=True,
                          text=True, stdin=stdin)


def fenced(policy, argv, fence=True, nobody=False, opts=(), **kw):
    """argv under fence-run with POLICY ('embedded:NAME' for a shipped one);
    FENCE False runs it with both layers off, everything else equal."""
    pol = (['--embedded', policy[9:]] if policy.startswith('embedded:')
           else ['--policy', policy])
    modes = [] if fence else ['--landlock', 'off', '--seccomp', 'off']
    cmd = [RUN] + pol + modes + list(opts) + ['--']
    return run((NOBODY if nobody else []) + cmd + list(argv), **kw)


def attack(lay, op, *args, fence=True, nobody=False, opts=(), cwd=None):
    """The attacker's one line ("OK ..." / "ERR EACCES"), with stderr for
    the failure detail."""
    r = fenced(lay.policy, [ATTACK, op] + list(args), fence=fence, nobody=nobody, opts=opts,
               env=lay.env, cwd=cwd or lay.work)
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else '', r


def landlock_abi():
    """The kernel's Landlock ABI (0: none), asked through fence-run."""
    r = run([RUN, '--embedded', 'ml-default', '--seccomp', 'off', '--report', '--', 'true'])
    for line in r.stderr.splitlines():
        if line.startswith('fence: '):
            kv = dict(w.split('=', 1) for w in line[7:].split())
            return int(kv['abi'])
    return 0


def fence_report(stderr):
    for line in stderr.splitlines():
        if line.startswith('fence: '):
            return dict(w.split('=', 1) for w in line[7:].split())
    return {}


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from tap import TAP  # noqa: E402  (the one TAP printer of the Python tests)


class Tap(TAP):
    """The shared printer; check() is ok() under the fence tests' name."""

    def check(self, cond, what, detail=''):
        return self.ok(bool(cond), what, detail or None)


def have_nobody():
    r = run(NOBODY + ['true'])
    return r.returncode == 0
