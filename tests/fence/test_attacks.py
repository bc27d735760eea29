#!/usr/bin/env python3
"""The fence stops raw-syscall attacks the preload cannot see.

Every attack is made by fence-attack through syscall(), never through a
libc wrapper, under a policy that allows reading "/" but denies ~/.ssh,
makes a dataset read-only and forbids exec in the writable work folder.
Each is asserted by its effect (the secret's bytes not read, the
dataset's hash, the mode bits, the errno), with the fence on; where
honest, the same attack with both layers off succeeds, so the test
proves the fence does the work. The file-access attacks run again as
nobody (setpriv), for whom permissions would allow them too."""
import os
import shutil
import signal
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fencelib import (ATTACK, PYTHON, STATIC, Layout, Tap, attack, fenced,  # noqa: E402
                      have_nobody, landlock_abi, sha)


def main():
    tap = Tap()
    lay = Layout()
    abi = landlock_abi()
    nobody = have_nobody()
    try:
        users = [('root', False)] + ([('nobody', True)] if nobody else [])
        if not nobody:
            tap.skip('attacks as nobody', 'setpriv cannot switch to uid 65534 here')

        # --- Landlock: raw opens, writes, truncation, exec ---
        if abi < 1:
            tap.skip('Landlock attacks', 'this kernel has no Landlock')
        for who, nb in users if abi >= 1 else []:
            for op in ('read', 'read2'):
                out, r = attack(lay, op, lay.secret, nobody=nb)
                tap.check(out == 'ERR EACCES', f'{who}: raw {op} of ~/.ssh/id_rsa is refused',
                          out + '\n' + r.stderr)
                out, r = attack(lay, op, lay.secret, nobody=nb, fence=False)
                tap.check(out.startswith('OK read') and out != 'OK read 0',
                          f'{who}: the same raw {op} reads the secret with the fence off', out)
            out, r = attack(lay, 'read', lay.dataset, nobody=nb)
            tap.check(out.startswith('OK read'), f'{who}: the dataset stays readable', out)
            out, r = attack(lay, 'read', 'id_rsa', nobody=nb,
                            cwd=os.path.dirname(lay.secret))
            tap.check(out == 'ERR EACCES',
                      f'{who}: a relative raw open from inside ~/.ssh is refused', out)
            out, r = attack(lay, 'exec', '/usr/bin/env', '-i', ATTACK, 'read', lay.secret,
                            nobody=nb)
            tap.check(out == 'ERR EACCES',
                      f'{who}: a child started with an empty environment is fenced too',
                      out + '\n' + r.stderr)
            if STATIC:
                r = fenced(lay.policy, [STATIC, 'read', lay.secret], nobody=nb, env=lay.env,
                           cwd=lay.work)
                tap.check(r.stdout.strip() == 'ERR EACCES',
                          f'{who}: a static program cannot read the secret', r.stdout + r.stderr)
            else:
                tap.skip(f'{who}: a static program', 'static linking is not available')

            before = sha(lay.dataset)
            out, r = attack(lay, 'write', lay.dataset, nobody=nb)
            tap.check(out == 'ERR EACCES' and sha(lay.dataset) == before,
                      f'{who}: raw write to the read-only dataset is refused, hash unchanged',
                      out + '\n' + r.stderr)
            if abi >= 3:
                out, r = attack(lay, 'trunc', lay.dataset, nobody=nb)
                tap.check(out == 'ERR EACCES' and sha(lay.dataset) == before,
                          f'{who}: raw truncate of the dataset is refused', out)
            else:
                tap.skip(f'{who}: raw truncate', f'Landlock ABI {abi} cannot fence truncation')
            out, r = attack(lay, 'write', lay.dataset, nobody=nb, fence=False)
            tap.check(out == 'OK wrote 5' and sha(lay.dataset) != before,
                      f'{who}: the same raw write changes the dataset with the fence off', out)
            Layout.write(lay.dataset, 'dataset bytes\n' * 64, 0o666)

            new = os.path.join(lay.data, 'planted.bin')
            out, r = attack(lay, 'create', new, nobody=nb)
            tap.check(out == 'ERR EACCES' and not os.path.exists(new),
                      f'{who}: raw create in the dataset folder is refused', out)
            out, r = attack(lay, 'create', os.path.join(lay.work, f'out-{who}.bin'), nobody=nb)
            tap.check(out == 'OK created 0', f'{who}: raw create in the work folder works', out)

            # Hard link or move the secret, or its folder, where reading is
            # allowed (the kernel refuses nobody's hard link of root's file
            # by itself, so the fence-off side is root's).
            stolen = os.path.join(lay.work, f'stolen-{who}')
            for op, src in (('link', lay.secret), ('rename', lay.secret),
                            ('rename', os.path.dirname(lay.secret)), ('rename', lay.home)):
                out, r = attack(lay, op, src, stolen, nobody=nb)
                tap.check(out.startswith('ERR E') and not os.path.lexists(stolen)
                          and os.path.exists(lay.secret),
                          f'{who}: raw {op} of {os.path.relpath(src, lay.t)} into the work '
                          'folder is refused', out)
            if not nb:
                out, r = attack(lay, 'link', lay.secret, stolen, fence=False)
                tap.check(out == 'OK link 0' and os.path.exists(stolen),
                          'root: the same hard link works with the fence off', out)
                if os.path.exists(stolen):
                    os.unlink(stolen)
                out, r = attack(lay, 'rename', lay.home, stolen, fence=False)
                tap.check(out == 'OK rename 0' and os.path.isdir(stolen),
                          'root: the same rename of the home works with the fence off', out)
                if os.path.isdir(stolen):
                    os.rename(stolen, lay.home)

            miner = os.path.join(lay.work, f'miner-{who}')
            shutil.copy('/usr/bin/id', miner)
            os.chmod(miner, 0o755)
            out, r = attack(lay, 'exec', miner, nobody=nb)
            tap.check(out == 'ERR EACCES',
                      f'{who}: raw execve of a program dropped in the writable folder is refused',
                      out + '\n' + r.stderr)
            out, r = attack(lay, 'exec', miner, nobody=nb, fence=False)
            tap.check('uid=' in r.stdout, f'{who}: the same program runs with the fence off',
                      r.stdout + r.stderr)
            out, r = attack(lay, 'exec', '/usr/bin/id', nobody=nb)
            tap.check('uid=' in r.stdout, f'{who}: a system program still runs under the fence',
                      r.stdout + r.stderr)

        # --- seccomp: what Landlock leaves open ---
        for who, nb in users:
            for op, args, want in (
                    ('uring', (), 'ERR ENOSYS'),
                    ('unshare-user', (), 'ERR EPERM'),
                    ('clone-user', (), 'ERR EPERM'),
                    ('clone3', (), 'ERR ENOSYS'),
                    ('ptrace', (), 'ERR EPERM'),
                    ('vm-read', (), 'ERR EPERM'),
                    ('vm-write', (), 'ERR EPERM'),
                    ('handle', (lay.secret,), 'ERR EPERM'),
                    ('memfd', (), 'ERR EPERM'),
                    ('mount', (lay.work,), 'ERR EPERM')):
                out, r = attack(lay, op, *args, nobody=nb)
                tap.check(out == want, f'{who}: {op} under the fence answers {want}',
                          out + '\n' + r.stderr)
            out, r = attack(lay, 'memfd-sealed', nobody=nb)
            tap.check(out.startswith('OK memfd'),
                      f'{who}: memfd_create with MFD_NOEXEC_SEAL still works', out)
            target = os.path.join(lay.work, f'suid-{who}')
            shutil.copy('/usr/bin/true', target)
            os.chmod(target, 0o755)
            if nb:
                os.chown(target, 65534, 65534)
            out, r = attack(lay, 'chmod-suid', target, nobody=nb)
            mode = stat.S_IMODE(os.stat(target).st_mode)
            tap.check(out == 'ERR EPERM' and mode == 0o755,
                      f'{who}: chmod, fchmodat and fchmodat2 adding set-id bits are refused',
                      f'{out} mode={oct(mode)}')

        # A memfd exec is a program no path names: under a policy that runs
        # nothing but the system's and the attacker's own programs, Landlock
        # alone lets it run; the seccomp filter refuses the memfd.
        noexec = os.path.join(lay.t, 'noexec.cfg')
        Layout.write(noexec, 'version = 1;\ndefaults = { read = "allow"; list = "allow"; '
                     'exec = "deny"; write = "deny"; create = "deny"; delete = "deny"; '
                     'chmod = "deny"; };\nrules = ({ id = "run"; path = ["/usr/**", "%s/**"]; '
                     'allow = ["exec"]; });\n' % os.path.dirname(os.path.abspath(ATTACK)),
                     0o644)
        if abi >= 1:
            r = fenced(noexec, [ATTACK, 'memfd-exec', '/usr/bin/id'], env=lay.env, cwd=lay.work)
            tap.check(r.stdout.strip() == 'ERR EPERM' and 'uid=' not in r.stdout,
                      'root: a program copied into a memfd does not run under the fence',
                      r.stdout + r.stderr)
            r = fenced(noexec, [ATTACK, 'memfd-exec', '/usr/bin/id'], opts=['--seccomp', 'off'],
                       env=lay.env, cwd=lay.work)
            tap.check('uid=' in r.stdout,
                      'root: with Landlock alone it runs (the seccomp filter does the work)',
                      r.stdout + r.stderr)
            miner = os.path.join(lay.work, 'miner-noexec')
            shutil.copy('/usr/bin/id', miner)
            os.chmod(miner, 0o755)
            r = fenced(noexec, [ATTACK, 'exec', miner], opts=['--seccomp', 'off'],
                       env=lay.env, cwd=lay.work)
            tap.check(r.stdout.strip() == 'ERR EACCES',
                      'root: while the same program from a file is refused by Landlock',
                      r.stdout + r.stderr)

        # The same doors, open without the fence: the filter does the work.
        for op, args, want, who, nb in (
                ('uring', (), 'OK io_uring', 'root', False),
                ('unshare-mnt', (), 'OK unshared', 'root', False),
                ('unshare-user', (), 'OK unshared', 'root', False),
                ('ptrace', (), 'OK attached', 'root', False),
                ('vm-read', (), 'OK read 16', 'root', False),
                ('vm-write', (), 'OK wrote 16', 'root', False),
                ('handle', (lay.secret,), 'OK read', 'root', False),
                ('memfd', (), 'OK memfd', 'root', False)):
            out, r = attack(lay, op, *args, fence=False, nobody=nb)
            tap.check(out.startswith(want), f'{who}: {op} succeeds with the fence off', out)
        # A system call through the i386 entry point would pass a filter
        # that speaks only x86-64: the process is killed instead.
        out, r = attack(lay, 'int80', fence=False)
        if out.startswith('OK int80'):
            out, r = attack(lay, 'int80')
            tap.check(r.returncode == -signal.SIGSYS and not out,
                      'root: an i386 system call from a 64-bit process kills it under the fence',
                      f'status {r.returncode} {out}')
        else:
            tap.skip('an i386 system call', 'not x86-64, or no i386 entry point: ' + out)
        if nobody:
            out, r = attack(lay, 'unshare-mnt', nobody=True)
            tap.check(out == 'ERR EPERM', 'nobody: unshare(CLONE_NEWNS) under the fence', out)
        out, r = attack(lay, 'unshare-mnt')
        tap.check(out == 'ERR EPERM', 'root: unshare(CLONE_NEWNS) under the fence', out)
        demo(tap, abi)
    finally:
        lay.cleanup()
    return tap.done()


def demo(tap, abi):
    """examples/train_demo.py, whose last checkpoint attacks it through
    plain libc calls, under examples/policies/train.cfg with the fence alone
    (no preload): all five attacks fail and the protected files keep their
    bytes; with the fence off all five succeed."""
    if abi < 3:
        tap.skip('the demo under the fence alone', f'Landlock ABI {abi} (needs 3)')
        return
    src = os.environ.get('TG_SOURCE_ROOT', '.')
    root = tempfile.mkdtemp(prefix='tg-fence-demo-', dir='/var/tmp')
    try:
        for part in range(2):
            folder = os.path.join(root, 'dataset', f'part-{part}')
            os.makedirs(folder)
            for shard in range(10):
                Layout.write(os.path.join(folder, f'shard-{shard:03d}.csv'),
                             ''.join(f'{(i % 7) - 3}.5,{(i % 5) - 2}.0,{i % 2}\n'
                                     for i in range(20)), 0o644)
        os.makedirs(os.path.join(root, 'checkpoints'))
        for rel, text in (('.aws/credentials', '[default]\naws_secret_access_key = FAKE\n'),
                          ('.ssh/id_rsa', 'FAKE KEY\n'), ('.bashrc', '# FAKE\n')):
            path = os.path.join(root, 'home', rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Layout.write(path, text, 0o600)
        env = dict(os.environ, HOME=os.path.join(root, 'home'), TG_DEMO_ROOT=root)
        for k in [k for k in env if k.startswith('TRAINGUARD_') or k == 'LD_PRELOAD']:
            del env[k]
        protected = [os.path.join(root, 'home', p) for p in ('.aws/credentials', '.ssh/id_rsa',
                                                              '.bashrc')]
        protected.append(os.path.join(root, 'dataset', 'part-0', 'shard-000.csv'))
        before = [sha(p) for p in protected]
        argv = [PYTHON, os.path.join(src, 'examples', 'train_demo.py'), '--epochs', '2']
        policy = os.path.join(src, 'examples', 'policies', 'train.cfg')
        r = fenced(policy, argv, env=env, cwd=root)
        attacks = [line for line in r.stdout.splitlines() if 'attack:' in line]
        tap.check(len(attacks) == 5 and all('REFUSED' in a for a in attacks)
                  and 'training finished' in r.stdout
                  and [sha(p) for p in protected] == before,
                  'demo: the fence alone refuses all five attacks, training finishes, '
                  'keys, .bashrc and the dataset keep their bytes', r.stdout + r.stderr)
        r = fenced(policy, argv, fence=False, env=env, cwd=root)
        attacks = [line for line in r.stdout.splitlines() if 'attack:' in line]
        tap.check(len(attacks) == 5 and all('SUCCEEDED' in a for a in attacks),
                  'demo: with the fence off all five succeed', r.stdout + r.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
