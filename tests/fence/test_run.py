#!/usr/bin/env python3
"""The fence wired in: `trainguard run` installs it in the job's process
before exec, and the library's constructor under plain LD_PRELOAD.

Under the embedded default and under examples/policies/train.cfg, a raw
openat of ~/.ssh/id_rsa, a static program and a child started with an
empty environment (no LD_PRELOAD) cannot read the secret, and the same
attacks succeed with --fence off, so the fence is what stops them. The
summary and TRAINGUARD_FENCE name the layers; --fence require and the
policy's fence.landlock = "require" refuse to start the job (exit 126) on
a kernel without Landlock (no-landlock fakes one); a child cannot drop
the marker its parent saved; a Python job with subprocess and
multiprocessing, and the demo, run unchanged with the fence on. The layout
lives under /var/tmp, where ml-default lets nothing be created, so the
carve-out of ~/.ssh is really made."""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fencelib import ATTACK, PYTHON, STATIC, Layout, Tap, landlock_abi, run  # noqa: E402
from test_compat import JOB  # noqa: E402

SRC = os.environ.get('TG_SOURCE_ROOT', '.')
BUILD = os.environ.get('TG_BUILD_ROOT', 'build')
TG = os.path.join(BUILD, 'cli', 'trainguard')
LIB = os.path.join(BUILD, 'preload', 'libtrainguard.so')
NO_LANDLOCK = os.environ.get('TG_NO_LANDLOCK', '')
TRAIN = os.path.join(SRC, 'examples', 'policies', 'train.cfg')
SECRET = 'tg-fence-secret'

# A child with an empty environment, by a raw execve the preload does not
# see (env -i would be guarded: the preload hands its child the guard back).
RAW_EXEC = r'''
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
argv = (ctypes.c_char_p * 3)(b'/bin/cat', sys.argv[1].encode(), None)
envp = (ctypes.c_char_p * 1)(None)
libc.syscall(59, b'/bin/cat', argv, envp)
print('execve failed', ctypes.get_errno())
'''


def clean_env(env):
    env = {k: v for k, v in env.items()
           if not k.startswith('TRAINGUARD_') and k != 'LD_PRELOAD'}
    env['TRAINGUARD_LIBRARY'] = LIB
    return env


def tg_run(lay, policy, argv, fence=None, env=None, cwd=None, log=None, opts=(), pre=()):
    cmd = list(pre) + [TG, 'run']
    if policy:
        cmd += ['--policy', policy]
    if fence:
        cmd += ['--fence', fence]
    cmd += ['--log', log or os.path.join(lay.t, 'run.jsonl')] + list(opts) + ['--']
    return run(cmd + list(argv), env=clean_env(env or lay.env), cwd=cwd or lay.work)


def preloaded(lay, policy, argv, env=None, pre=()):
    """ARGV under plain LD_PRELOAD; PRE (no-landlock) runs outside the guard."""
    env = clean_env(env or lay.env)
    env.update(TRAINGUARD_LOG=os.path.join(lay.t, 'preload.jsonl'))
    if policy:
        env['TRAINGUARD_POLICY'] = policy
    return run(list(pre) + ['env', f'LD_PRELOAD={LIB}'] + list(argv), env=env, cwd=lay.work)


def denies(log):
    if not os.path.exists(log):
        return 0
    with open(log) as f:
        return sum('"decision":"deny"' in line.replace(' ', '') for line in f)


def attacks(tap, lay, policy, name, env=None, cwd=None):
    """The three ways around the preload, with the fence on and off."""
    progs = [('a raw openat', [ATTACK, 'read', lay.secret])]
    if STATIC:
        progs.append(('a static program', [STATIC, 'read', lay.secret]))
    else:
        tap.skip(f'{name}: a static program cannot read the secret',
                 'no static fence-attack in this build (sanitizer or no static libc)')
    for what, argv in progs:
        on = tg_run(lay, policy, argv, env=env, cwd=cwd)
        off = tg_run(lay, policy, argv, fence='off', env=env, cwd=cwd)
        if argv[0] == STATIC:
            # run starts a static program inside the fence only, and never
            # without it: the fence is all that stands between it and the key.
            tap.check(on.stdout.strip() == 'ERR EACCES' and 'kernel fence only' in on.stderr
                      and off.returncode == 126 and 'not started' in off.stderr
                      and off.stdout == '',
                      f'{name}: {what} reading ~/.ssh/id_rsa runs inside the fence only and is '
                      'refused there; with --fence off run refuses to start it',
                      f'on: {on.stdout}{on.stderr}\noff: {off.returncode} {off.stdout}'
                      f'{off.stderr}')
            continue
        tap.check(on.stdout.strip() == 'ERR EACCES' and off.stdout.strip().startswith('OK'),
                  f'{name}: {what} of ~/.ssh/id_rsa is refused by the fence '
                  '(and reads it with --fence off)',
                  f'on: {on.stdout}{on.stderr}\noff: {off.stdout}{off.stderr}')
    argv = [PYTHON, '-c', RAW_EXEC, lay.secret]
    on = tg_run(lay, policy, argv, env=env, cwd=cwd)
    off = tg_run(lay, policy, argv, fence='off', env=env, cwd=cwd)
    tap.check(SECRET not in on.stdout + on.stderr and on.returncode != 0
              and SECRET in off.stdout,
              f'{name}: a child started by a raw execve with an empty environment (no '
              'LD_PRELOAD) cannot read the secret '
              '(and can with --fence off)',
              f'on: {on.returncode} {on.stdout}{on.stderr}\noff: {off.stdout}{off.stderr}')


def main():
    tap = Tap()
    abi = landlock_abi()
    if abi < 1:
        tap.skip('the fence under trainguard run', 'this kernel has no Landlock')
        return tap.done()
    lay = Layout(base='/var/tmp')
    try:
        ml = None  # the embedded default
        attacks(tap, lay, ml, 'ml-default')

        root = os.path.join(lay.work, 'demo')
        os.makedirs(os.path.join(root, 'checkpoints'))
        os.makedirs(os.path.join(root, 'dataset'))
        for i in range(4):
            Layout.write(os.path.join(root, 'dataset', f'part-{i}.bin'), f'sample {i}\n' * 50,
                         0o644)
        tenv = dict(lay.env, TG_DEMO_ROOT=root)
        attacks(tap, lay, TRAIN, 'train.cfg', env=tenv, cwd=root)

        # What is active, said by the summary and to the job.
        r = tg_run(lay, ml, ['printenv', 'TRAINGUARD_FENCE'])
        tap.check(r.returncode == 0 and r.stdout.strip() == 'landlock+seccomp'
                  and f'; fence: landlock (ABI {abi}) + seccomp\n' in r.stderr,
                  'run: the summary names both layers and the job gets TRAINGUARD_FENCE',
                  r.stdout + r.stderr)
        r = tg_run(lay, ml, ['printenv', 'TRAINGUARD_FENCE'], fence='off')
        tap.check(r.stdout.strip() == 'none' and '; fence: none' in r.stderr,
                  'run --fence off: the summary says "fence: none"', r.stdout + r.stderr)
        r = tg_run(lay, ml, [ATTACK, 'read', lay.secret], opts=['--mode', 'audit'])
        tap.check(r.stdout.strip().startswith('OK') and '; fence: none' in r.stderr,
                  'run --mode audit: no fence (it could only refuse what the guard records)',
                  r.stdout + r.stderr)
        r = run([TG, 'run', '--fence', 'strict', '--', 'true'], env=clean_env(lay.env))
        tap.check(r.returncode == 125 and "--fence 'strict' is not auto, require or off"
                  in r.stderr, 'run --fence with an unknown mode is a usage error (125)',
                  r.stderr)

        # require without Landlock: the job does not start.
        ran = os.path.join(lay.work, 'ran')
        if NO_LANDLOCK:
            r = tg_run(lay, ml, ['touch', ran], fence='require', pre=[NO_LANDLOCK])
            tap.check(r.returncode == 126 and not os.path.exists(ran)
                      and "fence's Landlock layer cannot be installed" in r.stderr,
                      'run --fence require without Landlock: exit 126, the job not started',
                      f'{r.returncode} {r.stderr}')
            r = tg_run(lay, ml, ['touch', ran], pre=[NO_LANDLOCK])
            tap.check(r.returncode == 0 and os.path.exists(ran)
                      and '; fence: seccomp\n' in r.stderr,
                      'run --fence auto without Landlock: the job runs, the summary says '
                      '"fence: seccomp"', f'{r.returncode} {r.stderr}')
            if os.path.exists(ran):
                os.unlink(ran)
            req = os.path.join(lay.t, 'require.cfg')
            with open(lay.policy) as f:
                Layout.write(req, f.read() + 'fence = { landlock = "require"; };\n', 0o644)
            r = preloaded(lay, req, ['touch', ran], pre=[NO_LANDLOCK])
            tap.check(r.returncode == 126 and not os.path.exists(ran)
                      and 'the kernel fence required by the policy cannot be installed'
                      in r.stderr,
                      'LD_PRELOAD, fence.landlock = "require" without Landlock: exit 126',
                      f'{r.returncode} {r.stderr}')
            r = tg_run(lay, req, ['touch', ran], pre=[NO_LANDLOCK])
            tap.check(r.returncode == 126 and not os.path.exists(ran),
                      'run honours the policy\'s fence.landlock = "require" (exit 126)',
                      f'{r.returncode} {r.stderr}')
        else:
            tap.skip('--fence require and fence.landlock = "require" without Landlock',
                     'no-landlock was not built (no libseccomp)')

        # The library's constructor under plain LD_PRELOAD.
        argv = ['sh', '-c', f'{ATTACK} read {lay.secret}; "$0" -c "$1" {lay.secret}',
                PYTHON, RAW_EXEC]
        r = preloaded(lay, lay.policy, argv)
        tap.check(SECRET not in r.stdout + r.stderr and 'ERR EACCES' in r.stdout,
                  'LD_PRELOAD: the constructor fences the job (raw openat and a raw execve '
                  'with an empty environment refused)', r.stdout + r.stderr)
        off = os.path.join(lay.t, 'off.cfg')
        with open(lay.policy) as f:
            Layout.write(off, f.read() + 'fence = { landlock = "off"; seccomp = "off"; };\n',
                         0o644)
        r = preloaded(lay, off, argv)
        tap.check(SECRET in r.stdout and 'OK' in r.stdout,
                  'LD_PRELOAD with fence.landlock and fence.seccomp "off": the same attacks '
                  'read the secret', r.stdout + r.stderr)
        r = preloaded(lay, lay.policy,
                      ['sh', '-c', 'TRAINGUARD_FENCE=none printenv TRAINGUARD_FENCE'])
        tap.check(r.stdout.strip() == 'landlock+seccomp',
                  'LD_PRELOAD: a child gets the saved marker, not the one its parent forged',
                  r.stdout + r.stderr)

        # Zero false denials: the Python job, the same with the fence on and off.
        job = os.path.join(lay.t, 'job.py')
        Layout.write(job, JOB, 0o644)
        for name, policy, env, cwd in (('ml-default', ml, lay.env, lay.work),
                                       ('train.cfg', TRAIN, tenv, root)):
            outs = []
            for fence in ('off', None):
                ck = os.path.join(root, 'checkpoints')
                for f in os.listdir(ck):
                    os.unlink(os.path.join(ck, f))
                log = os.path.join(lay.t, f'job-{name}-{fence}.jsonl')
                r = tg_run(lay, policy, [PYTHON, job, os.path.join(root, 'dataset'), ck],
                           fence=fence, env=env, cwd=cwd, log=log)
                outs.append((r, denies(log)))
            (off_r, off_d), (on_r, on_d) = outs
            tap.check(on_r.returncode == 0 and on_r.stdout == off_r.stdout and on_d == off_d
                      and 'fence: landlock' in on_r.stderr,
                      f'{name}: python with multiprocessing and subprocess runs the same '
                      'under run with the fence on',
                      f'on: {on_r.returncode} {on_r.stdout}{on_r.stderr} ({on_d} denies)\n'
                      f'off: {off_r.returncode} {off_r.stdout}{off_r.stderr} ({off_d} denies)')

        # The demo (two runs of `trainguard run`) with the fence on.
        demo = os.path.join(SRC, 'examples', 'demo.sh')
        r = run(['bash', demo, BUILD], env=clean_env(dict(os.environ)), cwd=SRC, timeout=280,
                stdin=None)
        fenced_runs = re.findall(r'fence: landlock \(ABI \d+\) \+ seccomp', r.stdout + r.stderr)
        tap.check(r.returncode == 0 and len(fenced_runs) >= 2,
                  'examples/demo.sh runs unchanged with the fence on in both runs',
                  f'{r.returncode}\n{(r.stdout + r.stderr)[-3000:]}')
    finally:
        lay.cleanup()
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
