#!/usr/bin/env python3
"""The compiled policy handed to children (TAP; docs/hot-path.md, "Start-up").

A child of a guarded process maps the policy its parent sealed into a
memory file (the same file, at the address it was built at: it did not parse or
compile), refuses what the policy refuses, and its start record names the
same policy digest. A program that puts a memory file of its own at the
handoff descriptor (a copy of the real one with the protected path
rewritten, sealed) or closes the descriptor, and a child whose address is
taken (tg-squat.so), get children that load the policy themselves and
refuse the same."""
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import Sandbox  # noqa: E402

POLICY = '''version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
rules = (
  { id = "no-secret"; path = "{root}/secret"; deny = ["read"]; }
);
'''
CAT = shutil.which('cat') or '/bin/cat'
SH = shutil.which('sh') or '/bin/sh'

# Run by the guarded parent (python): finds the handoff descriptor, then
# does what argv[1] says to it, then runs `cat` twice through the wrapped
# exec: once on its own maps, once on the secret. close_fds=False: as a
# shell starts its commands; the closefrom case also uses Python's default,
# which closes every descriptor above 2 in the child.
PARENT = r'''
import os, subprocess, sys
NOEXEC_SEAL = 0x8  # MFD_NOEXEC_SEAL: the fence refuses memory files without it
how, root = sys.argv[1], sys.argv[2]
fd = None
for n in os.listdir('/proc/self/fd'):
    try:
        if 'trainguard-policy' in os.readlink('/proc/self/fd/' + n):
            fd = int(n)
    except OSError:
        pass
print('handoff-fd', fd, flush=True)
if fd is not None and how == 'forge':
    real = os.pread(fd, os.fstat(fd).st_size, 0)
    secret = (root + '/secret').encode()
    fake = real.replace(secret, b'/' + b'x' * (len(secret) - 1))
    print('forged-changes', real != fake, flush=True)
    m = os.memfd_create('trainguard-policy', os.MFD_ALLOW_SEALING | NOEXEC_SEAL)
    os.write(m, fake)
    import fcntl
    fcntl.fcntl(m, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK |
                fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
    os.dup2(m, fd)
    os.close(m)
elif fd is not None and how == 'garbage':
    m = os.memfd_create('trainguard-policy', NOEXEC_SEAL)
    os.write(m, b'\0' * 8192)
    os.dup2(m, fd)
    os.close(m)
elif fd is not None and how == 'closed':
    os.close(fd)
elif how == 'closefrom':
    os.closerange(3, 65536)
env = None
# Python's default for its children closes every descriptor above 2; the
# guard's ranged closes step around the policy file (and closefrom too).
close_fds = how == 'closefrom'
if how == 'squat':
    env = dict(os.environ, LD_PRELOAD=os.environ['LD_PRELOAD'] + ':' + os.environ['TG_SQUAT'])
with open(root + '/child.maps', 'w') as out:
    subprocess.run(['cat', '/proc/self/maps'], stdout=out, close_fds=close_fds, env=env)
with open(root + '/parent.maps', 'w') as out:
    out.write(open('/proc/self/maps').read())
r = subprocess.run(['cat', root + '/secret'], capture_output=True, text=True,
                   close_fds=close_fds, env=env)
print('secret-err', r.stderr.strip().replace('\n', ' | '), flush=True)
print('secret-rc', r.returncode, flush=True)
print('secret-out', r.stdout.strip(), flush=True)
'''


def memfds(path):
    """The inode of each trainguard-policy file mapped in the maps file."""
    out = set()
    try:
        text = open(path).read()
    except OSError:
        return out
    for line in text.splitlines():
        if 'memfd:trainguard-policy' in line:
            f = line.split()
            out.add(f[4])
    return out


def start_digests(res):
    """The policy digest each start record names."""
    found = []
    for rec in res.all_records:
        m = re.search(r'"policy_sha256":"([0-9a-f]{64})"', str(rec).replace("'", '"')
                      .replace('": "', '":"'))
        if m and tglib.is_lifecycle(rec) and 'start' in str(rec):
            found.append(m.group(1))
    return found


def run(tap, sb, how):
    return sb.run([sys.executable, '-c', PARENT, how, sb.root], label='handoff ' + how)


def test_handed(tap):
    for how, what in (('plain', 'a handed child'),
                      ('closefrom', 'after closerange(3, 65536) and with Python\'s default '
                       'close_fds, a handed child')):
        with Sandbox(tap, 'handoff-' + how, POLICY) as sb:
            sb.write('secret', b'the secret\n')
            res = run(tap, sb, how)
            tap.ok('secret-rc 1' in res.out and 'the secret' not in res.out,
                   f'{what} refuses the secret', res.describe())
            parent, child = memfds(sb.p('parent.maps')), memfds(sb.p('child.maps'))
            if tglib.PRELOAD_FIRST:
                # ASan's heap and shadow take the addresses that strings and
                # numbers of the policy look like: the parent's scan refuses
                # the handoff (tests/unit/test-handoff.c checks the plain build).
                tap.skip(f'{what} maps the parent\'s sealed policy file',
                         'under ASan the parent does not hand its policy on')
            else:
                tap.ok(len(parent) == 1 and child == parent,
                       f'{what} maps the parent\'s sealed policy file (it neither parsed '
                       'nor compiled)', f'parent {parent}, child {child}')
            digests = start_digests(res)
            tap.ok(len(digests) >= 3 and len(set(digests)) == 1,
                   f'{what}: every start record names the same policy digest', f'{digests}')


def test_forged(tap):
    if tglib.PRELOAD_FIRST:
        tap.skip('a forged or closed handoff descriptor',
                 'under ASan the parent has no policy file to hand on')
        return
    for how, what in (('forge', 'a sealed copy with the protected path rewritten'),
                      ('garbage', 'an unsealed memory file'),
                      ('closed', 'the descriptor closed')):
        with Sandbox(tap, 'handoff-' + how, POLICY) as sb:
            sb.write('secret', b'the secret\n')
            res = run(tap, sb, how)
            if how == 'forge':
                tap.ok('forged-changes True' in res.out, 'forge: the copy differs from the real file',
                       res.describe())
            tap.ok('secret-rc 1' in res.out and 'the secret' not in res.out,
                   f'{what}: the child still refuses the secret', res.describe())
            parent, child = memfds(sb.p('parent.maps')), memfds(sb.p('child.maps'))
            tap.ok(not (child & parent) and len(child) == 1,
                   f'{what}: the child loaded the policy itself (a file of its own)',
                   f'parent {parent}, child {child}')
            digests = start_digests(res)
            tap.ok(len(digests) >= 3 and len(set(digests)) == 1,
                   f'{what}: every start record names the same policy digest', f'{digests}')


def test_address_taken(tap):
    """The address is taken in the child (tg-squat.so, before the guard
    starts): the child loads the policy itself and hands its parent's file
    on as it is, without a file of its own."""
    if tglib.PRELOAD_FIRST:
        tap.skip('the address taken in the child',
                 'under ASan the parent has no policy file to hand on')
        return
    with Sandbox(tap, 'handoff-squat', POLICY) as sb:
        sb.write('secret', b'the secret\n')
        res = sb.run([sys.executable, '-c', PARENT, 'squat', sb.root], label='handoff squat',
                     env={'TG_SQUAT': os.environ.get('TG_SQUAT', '')})
        tap.ok('address taken' in res.out + res.err, 'the child\'s address is taken before '
               'the guard starts', res.describe())
        tap.ok('secret-rc 1' in res.out and 'the secret' not in res.out,
               'address taken: the child still refuses the secret', res.describe())
        parent, child = memfds(sb.p('parent.maps')), memfds(sb.p('child.maps'))
        tap.ok(len(parent) == 1 and not child,
               'address taken: the child loaded the policy itself, and made no file of its own',
               f'parent {parent}, child {child}')
        digests = start_digests(res)
        tap.ok(len(digests) >= 3 and len(set(digests)) == 1,
               'address taken: every start record names the same policy digest', f'{digests}')


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    for t in (test_handed, test_forged, test_address_taken):
        tap.group(t)
    tap.done()


if __name__ == '__main__':
    main()
