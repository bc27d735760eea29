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
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tglib  # noqa: E402
from tgbox import POINT, TRY_VALUE, Box, policy, rec, run_cases  # noqa: E402

HELPER = os.environ.get('TG_ATTACK_HELPER', '')
FLIP_SHIM = os.environ.get('TG_FLIP_SHIM', '')
SECRET = 'KEY-51c0ffee-do-not-leak'

POLICY = policy()

T = tglib.TAP()
ok = T.ok


class NoOpenat2Box(Box):
    """data/f, secret/key, out/a and out/adir/key; every run under a
    seccomp filter that answers ENOSYS to openat2, the fence off."""

    def __init__(self, name, text=POLICY):
        super().__init__(f'noat2-{name}', text, tree=(
            ('data/f', 'shard\n'), ('secret/key', SECRET + '\n'), ('out/a', 'scratch\n'),
            ('out/adir/key', 'scratch\n')), job='job-no-openat2',
            env={'TRAINGUARD_FENCE': 'none'})

    def py(self, code, **kw):
        return super().py(code, prefix=(HELPER, 'no-openat2'), **kw)


def has_record(box, decision, path, status):
    return rec(box.records(), decision=decision, path=path, status=status) is not None


# The swap comes at the worst moment (flip-shim.c): right after the guard
# has looked at the link, which is then re-pointed at the protected file.
# The reader points it back at the allowed file before each open.
READ = POINT + '''
tries = got = 0
seen = set()
for _ in range(200):
    point(LINK, ALLOWED)
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
    with NoOpenat2Box(what.split()[0]) as b:
        race_in(b, what, link, allowed, protected, path)


def race_in(b, what, link, allowed, protected, path):
    code = (READ.replace('LINK', repr(b.p(link))).replace('ALLOWED', repr(b.p(allowed)))
            .replace('PATH', repr(b.p(path))))
    r = b.py(code, timeout=60, preload_after=FLIP_SHIM,
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


def case_race_last():
    race('last name flipped between out/a and secret/key', 'out/l', 'out/a', 'secret/key',
         'out/l')


def case_race_folder():
    race('folder flipped between out/adir and secret/', 'out/w', 'out/adir', 'secret', 'out/w/key')


def case_opens():
    with NoOpenat2Box('opens') as b:
        opens(b)


def opens(b):
    os.symlink(b.p('secret/key'), b.p('out/l'))
    os.symlink(b.p('data/f'), b.p('out/good'))
    os.symlink('good', b.p('out/rel'))           # a relative link to a link
    os.symlink(b.p('data'), b.p('out/d'))        # a folder link
    os.symlink(b.p('secret'), b.p('out/s'))
    os.makedirs(b.p('data/sub'))
    os.symlink(b.p('data/sub'), b.p('out/w'))
    code = TRY_VALUE + f'''
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
    r = b.py(code)
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


def case_audited():
    """An audited read without openat2 is still aggregated, with its digest
    (the lineage of a job on an old kernel or in a strict container)."""
    audited = POLICY.replace('allow = ["read", "list"];',
                             'allow = ["read", "list"]; audit = true;', 1)
    with NoOpenat2Box('audit', audited) as b:
        r = b.py('for _ in range(3):\n    open("data/f").read()\n')
        agg = [x for x in b.records() if tglib.tg(x).get('aggregated') and
               x.get('file', {}).get('path') == b.p('data/f')]
        want = hashlib.sha256(b'shard\n').hexdigest()
        ok(r.returncode == 0 and agg and sum(x.get('count', 1) for x in agg) == 3 and
           all(x['file'].get('hashes', [{}])[0].get('value') == want for x in agg),
           'without openat2 an audited read is aggregated (3 opens) with its SHA-256',
           json.dumps(agg)[:1500] + r.stderr[-1000:])


def main():
    if not HELPER or not FLIP_SHIM:
        T.skip('opens without openat2', 'libseccomp was not found at build time')
        T.done()
        return
    run_cases(T, (case_opens, case_audited, case_race_last, case_race_folder))
    T.done()


main()
