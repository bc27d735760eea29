#!/usr/bin/env python3
"""Everyday tools under the embedded default (issue 10), TAP.

Each row runs a real tool as a new user would: `trainguard run -- ...`, no
policy, in a project folder with a fake HOME, and asserts the tool's exit
status, what it created (content and mode) and the log. On the code before
issue 10 every row fails:

- create_mode refused a chmod that added bits beyond it (EPERM): Python's
  shutil.copy/copy2/copytree, `tar xzf`, `rsync -a` and pip (its temp
  files in /tmp) failed; `cp -p` set the mode through a POSIX ACL
  (fsetxattr system.posix_acl_access) and its copies in /tmp stayed 0644,
  readable by every user;
- a refused call the kernel would have failed first was a violation: `mkdir
  -p /var/lib /etc` left "High" denial records, an unlink or rename of a
  missing name got EACCES and a record instead of ENOENT.

Then the exceptions the default keeps, each with the one-line rule that
allows it (README "What the default allows and why"): a virtualenv (its
.pth), a git hook and a binary built in the working folder; and what a job
started in "/" may not write."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import PYTHON, Sandbox, check_record, file_mode, find, summary  # noqa: E402

SRC = {'a.txt': (b'alpha\n', 0o644), 'sub/run.sh': (b'#!/bin/sh\necho hi\n', 0o755),
       'sub/data.bin': (b'\x00\x01\x02' * 100, 0o644)}


class Project:
    """A sandbox with a project folder proj/ (the job's working folder, with
    src/ to copy), a fake home in /var/tmp (outside every folder the default
    lets a job write, as a real home is), and destinations in /tmp."""

    def __init__(self, tap, name, policy=None):
        self.sb = Sandbox(tap, name, policy)
        self.tap = tap
        self.home = os.path.realpath(tempfile.mkdtemp(prefix='tg-dflt-home-', dir='/var/tmp'))
        self.sb.mkdir('proj')
        for rel, (data, mode) in SRC.items():
            self.sb.write(os.path.join('proj', 'src', rel), data, mode=mode)
        os.chmod(self.sb.p('proj', 'src', 'sub'), 0o755)
        self.dsts = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for d in self.dsts + [self.home]:
            shutil.rmtree(d, ignore_errors=True)
        self.sb.cleanup()

    def p(self, *parts):
        return self.sb.p('proj', *parts)

    def dst(self):
        """A fresh folder in /tmp (made here, outside the guard)."""
        d = os.path.realpath(tempfile.mkdtemp(prefix='tg-dflt-copies-', dir='/tmp'))
        self.dsts.append(d)
        return d

    def run(self, argv, label, env=None, cwd=None):
        # The system's PATH only: a developer's ~/.cargo/bin (pip runs
        # `rustc --version`, whose rustup shim makes ~/.rustup) is no tool here.
        e = {'HOME': self.home, 'TMPDIR': '/tmp', 'PATH': '/usr/bin:/bin'}
        e.update(env or {})
        return self.sb.run(argv, label=label, cli=True, env=e, cwd=cwd or self.p())


def content(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def want_tree(tap, what, res, root, files, dirs=()):
    """FILES: {rel: (content, mode)} and DIRS: {rel: mode} under ROOT."""
    bad = []
    for rel, (data, mode) in files.items():
        p = os.path.join(root, rel)
        if content(p) != data:
            bad.append(f'{rel}: content {content(p)!r:.60}')
        elif file_mode(p) != mode:
            bad.append(f'{rel}: mode {file_mode(p):04o}, want {mode:04o}')
    for rel, mode in dirs:
        p = os.path.join(root, rel)
        if not os.path.isdir(p) or file_mode(p) != mode:
            bad.append(f'{rel}/: {"mode %04o" % file_mode(p) if os.path.isdir(p) else "missing"}'
                       f', want {mode:04o}')
    tap.ok(not bad, f'{what}: what it created has the content and the private modes',
           '\n'.join(bad) + '\n' + res.describe())


def no_denial(tap, what, res):
    tap.ok(not find(res.records, decision=lambda d: d in ('deny', 'would_deny')),
           f'{what}: no denial record', summary(res.records))


def clamped(tap, what, res, path, requested, applied):
    """The clamp of PATH is recorded, once, as an allowed access."""
    recs = find(res.records, decision='clamp', path=path)
    tap.ok(len(recs) == 1, f'{what}: one clamp record for {os.path.basename(path)}',
           summary(res.records))
    check_record(tap, recs[0] if recs else None, f'{what}: the clamp record',
                 classes=['chmod'], errno=0, status_code='OK', uid='ml-default.tmp',
                 source='embedded:ml-default', mode_requested=requested, mode_applied=applied)
    if recs:
        tap.ok(recs[0].get('severity_id') == 1 and recs[0].get('action_id') == 1,
               f'{what}: the clamp is informational and allowed, not a violation',
               str(recs[0].get('severity')))


COPIED = {'a.txt': (SRC['a.txt'][0], 0o600), 'sub/run.sh': (SRC['sub/run.sh'][0], 0o700),
          'sub/data.bin': (SRC['sub/data.bin'][0], 0o600)}


# ---- create_mode clamps -------------------------------------------------------

def test_shutil(tap):
    with Project(tap, 'dflt-shutil') as pj:
        d = pj.dst()
        script = ('import shutil, sys\n'
                  'd = sys.argv[1]\n'
                  'shutil.copy("src/a.txt", d + "/copy.txt")\n'
                  'shutil.copy2("src/a.txt", d + "/copy2.txt")\n'
                  'shutil.copytree("src", d + "/tree")\n')
        res = pj.run([PYTHON, '-c', script, d], 'shutil.copy, copy2, copytree to /tmp')
        what = 'shutil.copy/copy2/copytree into /tmp'
        tap.ok(res.rc == 0, f'{what}: exit 0 (was PermissionError on chmod)', res.describe())
        want_tree(tap, what, res, d,
                  dict({'copy.txt': COPIED['a.txt'], 'copy2.txt': COPIED['a.txt']},
                       **{'tree/' + k: v for k, v in COPIED.items()}),
                  [('tree', 0o700), ('tree/sub', 0o700)])
        no_denial(tap, what, res)
        clamped(tap, 'shutil.copy', res, d + '/copy.txt', '0644', '0600')
        clamped(tap, 'copytree', res, d + '/tree/sub', '0755', '0700')


def test_tar(tap):
    with Project(tap, 'dflt-tar') as pj:
        subprocess.run(['tar', 'czf', pj.p('a.tgz'), '-C', pj.p('src'), '.'], check=True)
        d = pj.dst()
        res = pj.run(['tar', 'xzf', 'a.tgz', '-C', d], 'tar xzf to /tmp')
        what = 'tar xzf a.tgz -C /tmp/...'
        tap.ok(res.rc == 0, f'{what}: exit 0 (was 2, "Cannot change mode")', res.describe())
        want_tree(tap, what, res, d, COPIED, [('sub', 0o700)])
        no_denial(tap, what, res)
        clamped(tap, what, res, d + '/a.txt', '0644', '0600')


def test_rsync(tap):
    if not shutil.which('rsync'):
        tap.skip('rsync -a src/ /tmp/...: exit 0, private copies, no denial',
                 'rsync is not installed (apt-get install rsync; .ci/packages lists it)')
        return
    with Project(tap, 'dflt-rsync') as pj:
        d = pj.dst()
        res = pj.run(['rsync', '-a', 'src/', d + '/'], 'rsync -a to /tmp')
        what = 'rsync -a src/ /tmp/.../'
        tap.ok(res.rc == 0, f'{what}: exit 0 (was 23, fchmod refused)', res.describe())
        want_tree(tap, what, res, d, COPIED, [('sub', 0o700)])
        no_denial(tap, what, res)
        # rsync writes a temporary name and renames it: the clamp names that
        tap.ok(any(tglib.field(r, 'mode_applied') == '0600' and
                   tglib.field(r, 'path').startswith(d + '/')
                   for r in find(res.records, decision='clamp')),
               f'{what}: the clamps are recorded', summary(res.records))


def test_cp_p(tap):
    with Project(tap, 'dflt-cp') as pj:
        d = pj.dst()
        res = pj.run(['cp', '-p', 'src/a.txt', d + '/a.txt'], 'cp -p to /tmp')
        what = 'cp -p src/a.txt /tmp/...'
        tap.ok(res.rc == 0, f'{what}: exit 0', res.describe())
        # cp sets the mode through a POSIX ACL: it must not escape the clamp
        want_tree(tap, what + ' (mode set through an ACL)', res, d, {'a.txt': COPIED['a.txt']})
        no_denial(tap, what, res)
        res = pj.run(['cp', '-pr', 'src', d + '/tree'], 'cp -pr to /tmp')
        what = 'cp -pr src /tmp/...'
        tap.ok(res.rc == 0, f'{what}: exit 0', res.describe())
        want_tree(tap, what, res, d + '/tree', COPIED, [('.', 0o700), ('sub', 0o700)])
        no_denial(tap, what, res)


def test_pip_target(tap):
    ok = [subprocess.run([PYTHON, '-c', 'import ' + m], capture_output=True).returncode == 0
          for m in ('pip', 'setuptools')]
    if not all(ok):
        tap.skip('pip install --target ./t of a local package: exit 0, no denial',
                 'python3-pip and python3-setuptools are not installed (.ci/packages)')
        return
    with Project(tap, 'dflt-pip') as pj:
        # A local package: pip cannot reach an index here, and needs none.
        pj.sb.write('proj/pkg/tinypkg/__init__.py', 'X = 41 + 1\n')
        pj.sb.write('proj/pkg/setup.py', 'from setuptools import setup\n'
                    'setup(name="tinypkg", version="1.0", packages=["tinypkg"])\n')
        res = pj.run([PYTHON, '-m', 'pip', 'install', '-q', '--no-index',
                      '--no-build-isolation', '--disable-pip-version-check',
                      '--target', './t', './pkg'],
                     'pip install --target ./t', env={'PIP_NO_INPUT': '1'})
        what = 'pip install --target ./t ./pkg (TMPDIR=/tmp)'
        tap.ok(res.rc == 0, f'{what}: exit 0 (was "Operation not permitted" on its temp file)',
               res.describe())
        tap.ok(content(pj.p('t', 'tinypkg', '__init__.py')) == b'X = 41 + 1\n' and
               os.path.isdir(pj.p('t', 'tinypkg-1.0.dist-info')),
               f'{what}: the package and its metadata are in ./t', res.describe())
        no_denial(tap, what, res)
        tap.ok(len(find(res.records, decision='clamp')) >= 1,
               f'{what}: its temp files in /tmp were clamped, and that is recorded',
               summary(res.records))


# ---- the kernel's answer first ------------------------------------------------

PROBE_NS = r'''
import errno, os, sys
def try_(name, fn, *a):
    try:
        fn(*a)
        r = 'ok'
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    print(name, r)
home = sys.argv[1]
try_('mkdir-existing', os.mkdir, '/etc')
try_('mkdir-new', os.mkdir, '/etc/tg-default-tools-new')
try_('unlink-missing', os.unlink, home + '/missing')
try_('unlink-missing-sys', os.unlink, '/etc/tg-default-tools-missing')
try_('unlink-existing', os.unlink, home + '/kept')
try_('rmdir-missing', os.rmdir, home + '/missing-dir')
try_('rename-missing', os.rename, home + '/missing', home + '/new')
try_('rename-existing', os.rename, home + '/kept', home + '/new')
'''


def test_mkdir_p(tap):
    with Project(tap, 'dflt-mkdir') as pj:
        res = pj.run(['mkdir', '-p', '/var/lib', '/etc'], 'mkdir -p /var/lib /etc')
        what = 'mkdir -p /var/lib /etc (folders that exist)'
        tap.ok(res.rc == 0, f'{what}: exit 0', res.describe())
        tap.ok(not res.records, f'{what}: no record at all (was 3 "High" denials)',
               summary(res.records))


def test_kernel_first(tap):
    with Project(tap, 'dflt-kernel') as pj:
        home = pj.home
        with open(home + '/kept', 'wb') as f:
            f.write(b'keep\n')
        res = pj.run([PYTHON, '-c', PROBE_NS, home], 'refused calls the kernel fails first')
        got = dict(ln.split(' ', 1) for ln in res.out.splitlines() if ' ' in ln)
        want = {'mkdir-existing': 'EEXIST', 'mkdir-new': 'EACCES',
                'unlink-missing': 'ENOENT', 'unlink-missing-sys': 'ENOENT',
                'unlink-existing': 'EACCES', 'rmdir-missing': 'ENOENT',
                'rename-missing': 'ENOENT', 'rename-existing': 'EACCES'}
        for k, v in want.items():
            tap.ok(got.get(k) == v, f'{k}: {v}', res.describe())
        tap.ok(content(home + '/kept') == b'keep\n' and not os.path.exists(home + '/new'),
               'the refused unlink and rename left the file in place')
        denied = find(res.records, decision='deny')
        paths = sorted(tglib.field(r, 'path') for r in denied)
        tap.ok(paths == sorted(['/etc/tg-default-tools-new', home + '/kept', home + '/kept']),
               'records only for the calls the kernel would have allowed (mkdir of a new '
               'name, unlink and rename of an existing file)', summary(res.records))
        tap.ok(not os.path.exists('/etc/tg-default-tools-new'), 'the new folder was not made')


def test_hidden_stays_hidden(tap):
    """A rule that hides a path (errno ENOENT) keeps hiding it: a mkdir of
    it is ENOENT with its record, not the kernel's EEXIST."""
    policy = '''version = 1;
profiles = ["ml-default"];
rules = ( { id = "hidden"; path = "{root}/hidden/**"; deny = ["all"]; errno = "ENOENT"; } );
'''
    with Project(tap, 'dflt-hidden', policy) as pj:
        pj.sb.mkdir('hidden')
        script = ('import os, errno, sys\n'
                  'try:\n    os.mkdir(sys.argv[1])\n    print("ok")\n'
                  'except OSError as e:\n    print(errno.errorcode[e.errno])\n')
        res = pj.run([PYTHON, '-c', script, pj.sb.p('hidden')], 'mkdir of a hidden folder')
        tap.ok(res.out.strip() == 'ENOENT', 'mkdir of an existing folder a rule hides: ENOENT',
               res.describe())
        check_record(tap, (find(res.records, decision='deny') or [None])[0],
                     'mkdir of a hidden folder: its denial is recorded', uid='hidden',
                     status_code='ENOENT', op='mkdir')


# ---- the job folder "/" --------------------------------------------------------

def test_root_folder(tap):
    with Project(tap, 'dflt-root') as pj:
        script = r'''
import errno, os, sys
for p in sys.argv[1:]:
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
        os.close(fd)
        os.unlink(p)
        print(p, 'ok')
    except OSError as e:
        print(p, errno.errorcode[e.errno])
'''
        paths = ['/root/.tg-dflt', '/home/tg-dflt', '/var/lib/tg-dflt', '/proc/tg-dflt',
                 '/opt/conda/lib/python3.11/site-packages/tg-dflt.py']
        before = {p: os.path.exists(p) for p in paths}
        res = pj.run([PYTHON, '-c', script] + paths, 'a job started in /', cwd='/')
        got = dict(ln.rsplit(' ', 1) for ln in res.out.splitlines() if ' ' in ln)
        tap.ok(res.rc == 0 and 'the job folder is /' in res.err,
               'trainguard run in /: one line on stderr says what the default grants there',
               res.describe())
        tap.ok(res.err.count('the job folder is /') == 1, 'the note is printed once', res.err)
        for p in paths:
            tap.ok(got.get(p) == 'EACCES', f'from /: creating {p} is refused', res.describe())
        tap.ok({p: os.path.exists(p) for p in paths} == before, 'from /: nothing was created')
        for p in ('/root/.tg-dflt', '/home/tg-dflt'):
            check_record(tap, (find(res.records, decision='deny', path=p) or [None])[0],
                         f'from /: {p} is refused by the homes rule',
                         uid='ml-default.homes-readonly')
        res = pj.run(['true'], 'a job started in its folder')
        tap.ok('the job folder is /' not in res.err, 'no note for a job in its project folder',
               res.err)


# ---- the exceptions, and the one line that allows each ---------------------------

def exception(tap, name, argv, rule, check, env=None):
    """ARGV fails under the default (CHECK(res, allowed=False)) and works
    with the one-line RULE added to it (CHECK(res, allowed=True))."""
    policy = 'version = 1;\nprofiles = ["ml-default"];\nrules = ( ' + rule + ' );\n'
    for allowed in (False, True):
        with Project(tap, 'dflt-ex', policy if allowed else None) as pj:
            res = pj.run(argv, f'{name} ({"with its rule" if allowed else "default"})', env=env)
            check(tap, pj, res, allowed)


def check_venv(tap, pj, res, allowed):
    pth = pj.p('.venv', 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages',
               'distutils-precedence.pth')
    if not allowed:
        tap.ok(res.rc != 0 and not os.path.exists(pth),
               'python3 -m venv .venv: refused under the default (its .pth is persistence)',
               res.describe())
        tap.ok(any(tglib.field(r, 'uid') == 'secrets.python-startup-hooks' and
                   tglib.field(r, 'path').endswith('.pth') for r in res.denials()),
               'venv: the record names the .pth and secrets.python-startup-hooks',
               summary(res.records))
    else:
        tap.ok(res.rc == 0 and os.path.exists(pth) and not res.denials(),
               'venv: allowed by { path = "${PWD}/.venv/**"; allow = [write, create, delete, '
               'chmod, exec] }', res.describe())


HOOK = ('git init -q . && printf "#!/bin/sh\\necho hook ran >&2\\n" > .git/hooks/pre-commit'
        ' && chmod +x .git/hooks/pre-commit'
        ' && git -c user.email=t@example.org -c user.name=t commit -q --allow-empty -m x')


def check_hook(tap, pj, res, allowed):
    if not allowed:
        tap.ok(res.rc != 0 and 'hook ran' not in res.err,
               'git commit with a pre-commit hook: refused under the default (no exec from '
               'the writable working folder)', res.describe())
        tap.ok(any(tglib.field(r, 'uid') == 'ml-default.workdir' and
                   tglib.field(r, 'path').endswith('.git/hooks/pre-commit')
                   for r in res.denials()),
               'git hook: the record names the hook and ml-default.workdir',
               summary(res.records))
    else:
        tap.ok(res.rc == 0 and 'hook ran' in res.err and not res.denials(),
               'git hook: allowed by { path = "${PWD}/.git/hooks/*"; allow = ["exec"] }',
               res.describe())


BUILD = 'mkdir -p build && cc -o build/hello hello.c && ./build/hello'


def check_build(tap, pj, res, allowed):
    if not allowed:
        tap.ok(res.rc == 126, 'a binary built in the working folder does not run (exit 126)',
               res.describe())
        tap.ok(any(tglib.field(r, 'uid') == 'ml-default.workdir' and
                   tglib.field(r, 'path') == pj.p('build', 'hello') for r in res.denials()),
               'built binary: the record names it and ml-default.workdir',
               summary(res.records))
    else:
        tap.ok(res.rc == 7 and not res.denials(),
               'built binary: runs with { path = "${PWD}/build/**"; allow = ["exec"] }',
               res.describe())


def test_exceptions(tap):
    exception(tap, 'python3 -m venv .venv', [PYTHON, '-m', 'venv', '.venv'],
              '{ id = "venv"; path = "${PWD}/.venv/**"; '
              'allow = ["write", "create", "delete", "chmod", "exec"]; }', check_venv)
    if shutil.which('git'):
        exception(tap, 'git hook', ['sh', '-c', HOOK],
                  '{ id = "git-hooks"; path = "${PWD}/.git/hooks/*"; allow = ["exec"]; }',
                  check_hook)
    else:
        tap.skip('git hooks: refused by default, allowed by one rule', 'git is not installed')
    if shutil.which('cc'):
        src = 'int main(void) { return 7; }\n'
        for allowed in (False, True):
            policy = ('version = 1;\nprofiles = ["ml-default"];\nrules = ( { id = "built"; '
                      'path = "${PWD}/build/**"; allow = ["exec"]; } );\n')
            with Project(tap, 'dflt-build', policy if allowed else None) as pj:
                pj.sb.write('proj/hello.c', src)
                res = pj.run(['sh', '-c', BUILD], 'built binary')
                check_build(tap, pj, res, allowed)
    else:
        tap.skip('binaries built in the working folder', 'no C compiler (cc)')


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    for t in (test_shutil, test_tar, test_rsync, test_cp_p, test_pip_target, test_mkdir_p,
              test_kernel_first, test_hidden_stays_hidden, test_root_folder, test_exceptions):
        tap.group(t)
    tap.done()


if __name__ == '__main__':
    main()
