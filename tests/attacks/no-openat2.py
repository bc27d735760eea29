#!/usr/bin/env python3
"""Opens where openat2 is missing: the parent-directory fallback (TAP).

The guarded program runs under a real seccomp filter that answers ENOSYS
to openat2 (tg-attack-helper no-openat2), as on a kernel before 5.6 or
under a container profile that lacks it. The guard then opens each file
from a descriptor of its folder with O_NOFOLLOW. Judged by effect: a
symlink flipped between an allowed file and the secret, at the last name
or at a folder on the way, never yields the secret's bytes; the ordinary
opens (reads, writes, creates, relative names, links the policy allows,
O_NOFOLLOW, O_EXCL, /proc magic links) give the answers the kernel gives.
The kernel fence is off (TRAINGUARD_FENCE=none): where openat2 is missing
Landlock often is too, and the preload alone must hold.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tap  # noqa: E402

BUILD = os.environ['TG_BUILD_ROOT']
LIB = os.environ.get('TG_GUARD_LIB', os.path.join(BUILD, 'preload', 'libtrainguard.so'))
HELPER = os.environ.get('TG_ATTACK_HELPER', '')
FLIP_SHIM = os.environ.get('TG_FLIP_SHIM', '')
FIRST = os.environ.get('TG_PRELOAD_FIRST', '')  # the ASan runtime, in the sanitizer run
PY = '/usr/bin/python3'
SECRET = 'KEY-51c0ffee-do-not-leak'

POLICY = '''version = 1;
defaults = {{ read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; }};
rules = (
  {{ id = "data"; path = "{root}/data/**"; allow = ["read", "list"];
     deny = ["write", "create", "delete", "chmod"]; errno = "EROFS"; }},
  {{ id = "secret"; path = "{root}/secret/**"; deny = ["read", "list", "write"]; }},
  {{ id = "out"; path = "{root}/out/**"; allow = ["read", "list", "write", "create", "delete"]; }}
);
'''

T = tap.TAP()
ok = T.ok


class Box:
    def __init__(self, name):
        self.root = os.path.realpath(tempfile.mkdtemp(prefix=f'tg-noat2-{name}-'))
        for d in ('data', 'secret', 'out/adir'):
            os.makedirs(self.p(d))
        for rel, text in (('data/f', 'shard\n'), ('secret/key', SECRET + '\n'),
                          ('out/a', 'scratch\n'), ('out/adir/key', 'scratch\n')):
            with open(self.p(rel), 'w') as f:
                f.write(text)
        self.policy = self.p('policy.cfg')
        with open(self.policy, 'w') as f:
            f.write(POLICY.format(root=self.root))
        self.log = self.p('log.jsonl')

    def p(self, rel):
        return os.path.join(self.root, rel)

    def run(self, code, timeout=120, preload_after='', extra=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('TRAINGUARD_') and k != 'LD_PRELOAD'}
        env.update(LD_PRELOAD=(FIRST + ':' if FIRST else '') + LIB +
                   (':' + preload_after if preload_after else ''), TRAINGUARD_LOG=self.log,
                   TRAINGUARD_POLICY=self.policy, TRAINGUARD_JOB_ID='job-no-openat2',
                   LC_ALL='C', TRAINGUARD_FENCE='none')
        env.update(extra or {})
        return subprocess.run([HELPER, 'no-openat2', PY, '-c', code], env=env, cwd=self.root,
                              capture_output=True, text=True, timeout=timeout)

    def records(self):
        if not os.path.exists(self.log):
            return []
        return [json.loads(line) for line in open(self.log) if line.startswith('{')]

    def done(self):
        shutil.rmtree(self.root, ignore_errors=True)


def has_record(box, decision, path, status):
    for r in box.records():
        t = r.get('unmapped', {}).get('trainguard', {})
        if (t.get('decision') == decision and r.get('file', {}).get('path') == path and
                r.get('status_code') == status):
            return True
    return False


# The swap comes at the worst moment (flip-shim.c): right after the guard
# has looked at the link, which is then re-pointed at the protected file.
# The reader points it back at the allowed file before each open.
READ = '''
import os
tries = got = 0
seen = set()
for _ in range(200):
    tmp = LINK + ".rst"
    os.symlink(ALLOWED, tmp)
    os.rename(tmp, LINK)
    tries += 1
    try:
        with open(PATH) as f:
            seen.add(f.read().strip())
        got += 1
    except OSError:
        pass
print("tries", tries, "got", got)
for s in sorted(seen):
    print("read", s)
'''


def race(what, link, allowed, protected, path):
    b = Box(what.split()[0])
    code = (READ.replace('LINK', repr(b.p(link))).replace('ALLOWED', repr(b.p(allowed)))
            .replace('PATH', repr(b.p(path))))
    r = b.run(code, timeout=60, preload_after=FLIP_SHIM,
              extra={'TG_FLIP_LINK': b.p(link), 'TG_FLIP_TO': b.p(protected)})
    out = r.stdout + r.stderr
    ok(SECRET not in out, f'{what}: the secret\'s bytes never reach the program', out[-2000:])
    counts = [line.split() for line in r.stdout.splitlines() if line.startswith('tries')]
    # An open may be refused when the guard looked just after a flip (the
    # link then named the secret); the others read the allowed file.
    ok(counts and int(counts[0][1]) == 200 and int(counts[0][3]) >= 190 and
       'read scratch' in r.stdout,
       f'{what}: the opens read the allowed file the link named when the guard looked',
       out[-2000:])
    ok(os.readlink(b.p(link)) == b.p(protected),
       f'{what}: the link was re-pointed at the protected file during the opens')
    b.done()


def case_race_last():
    race('last name flipped between out/a and secret/key', 'out/l', 'out/a', 'secret/key',
         'out/l')


def case_race_folder():
    race('folder flipped between out/adir and secret/', 'out/w', 'out/adir', 'secret', 'out/w/key')


TRY = '''
import os, errno, sys
def t(fn):
    try:
        r = fn()
        print("ok" if r is None or r is True or isinstance(r, int) or not r.strip() else r.strip())
    except OSError as e:
        print(errno.errorcode[e.errno])
'''


def case_opens():
    b = Box('opens')
    os.symlink(b.p('secret/key'), b.p('out/l'))
    os.symlink(b.p('data/f'), b.p('out/good'))
    os.symlink('good', b.p('out/rel'))           # a relative link to a link
    os.symlink(b.p('data'), b.p('out/d'))        # a folder link
    os.symlink(b.p('secret'), b.p('out/s'))
    os.makedirs(b.p('data/sub'))
    os.symlink(b.p('data/sub'), b.p('out/w'))
    code = TRY + f'''
R = {b.root!r}
t(lambda: open(R + "/data/f").read())                        # 1 read
t(lambda: open(R + "/data/f", "a"))                          # 2 write refused
t(lambda: open(R + "/secret/key").read())                    # 3 secret
t(lambda: open(R + "/out/new", "w").write("x"))              # 4 create
t(lambda: open(R + "/out/l").read())                         # 5 link to the secret
t(lambda: open(R + "/out/good").read())                      # 6 link to data
t(lambda: open(R + "/out/rel").read())                       # 7 relative link chain
t(lambda: open(R + "/out/d/f").read())                       # 8 folder link
t(lambda: open(R + "/out/s/key").read())                     # 9 folder link to secret
t(lambda: open(R + "/out/w/../f", "a"))                      # 10 w/.. is data/
t(lambda: os.open(R + "/out/good", os.O_RDONLY | os.O_NOFOLLOW))  # 11 ELOOP
t(lambda: os.open(R + "/out/good", os.O_WRONLY | os.O_CREAT | os.O_EXCL))  # 12 EEXIST
t(lambda: open("data/f").read())                             # 13 relative to the cwd
dfd = os.open(R + "/data", os.O_RDONLY | os.O_DIRECTORY)
t(lambda: os.read(os.open("f", os.O_RDONLY, dir_fd=dfd), 9).decode())  # 14 from a dirfd
t(lambda: os.open("f", os.O_WRONLY, dir_fd=dfd))             # 15 refused from a dirfd
rp, wp = os.pipe(); os.write(wp, b"piped\\n")
t(lambda: os.read(os.open("/proc/self/fd/%d" % rp, os.O_RDONLY), 9).decode())  # 16 magic link
t(lambda: open(R + "/out/missing").read())                   # 17 ENOENT
t(lambda: open(R + "/nowhere/x").read())                     # 18 ENOENT in the folder
t(lambda: open(R + "/data/f/x").read())                      # 19 ENOTDIR
t(lambda: open("/dev/null").read())                          # 20
for i in range(300):
    os.close(os.open(R + "/data/f", os.O_RDONLY))
t(lambda: open(R + "/data/f").read())                        # 21 after many
t(lambda: os.open(R + "/data/sub", os.O_WRONLY))             # 22 the kernel's EISDIR first
os.close(dfd)
'''
    r = b.run(code)
    got = r.stdout.split()
    want = ['shard', 'EROFS', 'EACCES', 'ok', 'EACCES', 'shard', 'shard', 'shard', 'EACCES',
            'EROFS', 'ELOOP', 'EEXIST', 'shard', 'shard', 'EROFS', 'piped', 'ENOENT', 'ENOENT',
            'ENOTDIR', 'ok', 'shard', 'EISDIR']
    ok(got == want, 'without openat2 every open gets the kernel\'s or the policy\'s answer',
       f'got  {got}\nwant {want}\n{r.stderr[-2000:]}')
    ok(SECRET not in r.stdout + r.stderr, 'the secret was not read through a link')
    ok(open(b.p('data/f')).read() == 'shard\n', 'data/f is untouched')
    ok(open(b.p('out/new')).read() == 'x', 'out/new was created and written')
    ok(has_record(b, 'deny', b.p('secret/key'), 'EACCES'),
       'the link to the secret is refused and recorded on the secret itself',
       json.dumps([x.get('file', {}).get('path') for x in b.records()]))
    ok(has_record(b, 'deny', b.p('data/f'), 'EROFS'),
       'w/../f is decided on data/f, the object the kernel reaches')
    b.done()


def case_audited():
    """An audited read without openat2 is still aggregated, with its digest
    (the lineage of a job on an old kernel or in a strict container)."""
    b = Box('audit')
    with open(b.policy, 'w') as f:
        f.write(POLICY.replace('allow = ["read", "list"];',
                               'allow = ["read", "list"]; audit = true;', 1).format(root=b.root))
    r = b.run('for _ in range(3):\n    open("data/f").read()\n')
    agg = [x for x in b.records() if x.get('unmapped', {}).get('trainguard', {}).get('aggregated')
           and x.get('file', {}).get('path') == b.p('data/f')]
    want = hashlib.sha256(b'shard\n').hexdigest()
    ok(r.returncode == 0 and agg and sum(x.get('count', 1) for x in agg) == 3 and
       all(x['file'].get('hashes', [{}])[0].get('value') == want for x in agg),
       'without openat2 an audited read is aggregated (3 opens) with its SHA-256',
       json.dumps(agg)[:1500] + r.stderr[-1000:])
    b.done()


def main():
    if not HELPER or not FLIP_SHIM:
        T.skip('opens without openat2', 'libseccomp was not found at build time')
        T.done()
        return
    for case in (case_opens, case_audited, case_race_last, case_race_folder):
        try:
            case()
        except Exception as e:  # a crash of the harness is a failure, not a skip
            ok(False, f'{case.__name__} ran to the end', repr(e))
    T.done()


main()
