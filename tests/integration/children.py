#!/usr/bin/env python3
"""Children stay guarded (TAP).

Every exec and spawn form started with an empty (or cleared, or tampered)
environment still hands the child LD_PRELOAD and the TRAINGUARD_* settings
saved at start; a child cannot weaken its mode, swap its policy or its log
through the environment it is given; grandchildren are guarded with their
own pid and their parent's; an exec of a program (or of a script's
interpreter) in a folder whose rule denies exec fails with EACCES and logs
a Process Activity (1007) record; an exec the guard cannot follow (a static
program) is logged as unguarded, and refused under exec_unguarded = "deny"."""
import os
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import LIBRARY, PROBE, Sandbox, check_record, find  # noqa: E402

POLICY = '''version = 1;
%s
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
rules = (
  { id = "dataset"; path = "{root}/data/**"; allow = ["read", "list"];
    deny = ["write", "create", "delete", "chmod", "exec"]; },
  { id = "out"; path = "{root}/out/**"; allow = ["read", "list", "write", "create", "delete"]; }
);
'''
PERMISSIVE = '''version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
'''
TRUE = shutil.which('true') or '/bin/true'
PROBE_DIR = os.path.dirname(os.path.realpath(PROBE))


def sandbox(tap, name, head=''):
    sb = Sandbox(tap, name, POLICY % head)
    sb.write('data/f', b'dataset bytes\n')
    shutil.copy(TRUE, sb.p('data', 'true'))
    os.chmod(sb.p('data', 'true'), 0o755)
    sb.mkdir('out')
    return sb


def check_env(tap, sb, res, what, mode='enforce'):
    env = tglib.probe_env(res.out)
    want = {
        'TRAINGUARD_POLICY': sb.policy_path,
        'TRAINGUARD_LOG': res.log,
        'TRAINGUARD_JOB_ID': sb.job,
    }
    if mode:
        want['TRAINGUARD_MODE'] = mode
    bad = [f'{k}: got {env.get(k)!r}, want {v!r}' for k, v in want.items() if env.get(k) != v]
    preload = env.get('LD_PRELOAD', '')
    if os.path.realpath(LIBRARY) not in preload.replace(':', ' ').split():
        bad.append(f'LD_PRELOAD: got {preload!r}, want it to name {os.path.realpath(LIBRARY)}')
    if 'TRAINGUARD_VARS' not in env:
        bad.append('TRAINGUARD_VARS: missing')
    tap.ok(res.line('env') is not None and not bad,
           f'{what}: the child sees LD_PRELOAD and TRAINGUARD_POLICY/LOG/MODE/JOB_ID/VARS',
           '\n'.join(bad) + '\n' + res.describe())


def test_env_propagation(tap):
    with sandbox(tap, 'env') as sb:
        P = PROBE
        forms = [
            ('execve, empty environment', ['execve', P, 'env']),
            ('execle, empty environment', ['execle', P, 'env']),
            ('execvpe, empty environment', ['execvpe', P, 'env']),
            ('fexecve, empty environment', ['fexecve', P, 'env']),
            ('execveat, empty environment', ['execveat', 'AT_FDCWD', P, 'env']),
            ('posix_spawn, empty environment', ['posix_spawn', P, 'env']),
            ('posix_spawnp, empty environment', ['posix_spawnp', 'tg-probe', 'env']),
            ('execv after clearenv()', ['clearenv', '+', 'execv', P, 'env']),
            ('execl after clearenv()', ['clearenv', '+', 'execl', P, 'env']),
            ('execvp after clearenv()', ['clearenv', '+', 'execvp', P, 'env']),
            ('execlp after clearenv()', ['clearenv', '+', 'execlp', P, 'env']),
            ('system after clearenv()', ['clearenv', '+', 'system', f'{P} env']),
            ('popen after clearenv()', ['clearenv', '+', 'popen', f'{P} env']),
            ('execv after LD_PRELOAD is emptied',
             ['setenv', 'LD_PRELOAD', '', '+', 'execv', P, 'env']),
            ('system after TRAINGUARD_MODE=audit is set',
             ['setenv', 'TRAINGUARD_MODE', 'audit', '+', 'system', f'{P} env']),
        ]
        for what, args in forms:
            res = sb.probe(*args, label=what, env={'PATH': PROBE_DIR + ':/usr/bin:/bin'})
            check_env(tap, sb, res, what)
        # trainguard run sets the same for the job itself (TRAINGUARD_MODE
        # only with --mode: the job takes its mode from the policy)
        res = sb.probe('env', cli=True, label='trainguard run env')
        check_env(tap, sb, res, 'trainguard run', mode=None)
        res = sb.probe('env', cli=True, mode='enforce', label='trainguard run --mode env')
        check_env(tap, sb, res, 'trainguard run --mode enforce')


def test_no_weakening(tap):
    with sandbox(tap, 'weaken') as sb:
        loose = sb.write('loose.cfg', PERMISSIVE)
        other_log = sb.p('out', 'other.jsonl')
        f = sb.p('data/f')
        tries = [
            ('TRAINGUARD_MODE=audit', ['TRAINGUARD_MODE=audit']),
            ('TRAINGUARD_MODE=learn', ['TRAINGUARD_MODE=learn']),
            ('another TRAINGUARD_POLICY', [f'TRAINGUARD_POLICY={loose}']),
            ('LD_PRELOAD emptied', ['LD_PRELOAD=']),
            ('another TRAINGUARD_LOG', [f'TRAINGUARD_LOG={other_log}']),
            ('TRAINGUARD_ON_ERROR=allow and a missing policy',
             ['TRAINGUARD_ON_ERROR=allow', 'TRAINGUARD_POLICY=/nonexistent.cfg']),
        ]
        for how in ('execve', 'posix_spawn'):
            for what, env in tries:
                label = f'{how} with {what}'
                before = tglib.snapshot(sb.p('data'))
                res = sb.probe(how, PROBE, 'open', f, 'O_WRONLY|O_TRUNC', '--env', *env,
                               label=label)
                ln = res.line('open')
                tap.ok(ln is not None and ln.ret == -1 and ln.errno == 'EACCES',
                       f'{label}: the child\'s write to the dataset is still denied',
                       res.describe())
                after = tglib.snapshot(sb.p('data'))
                tap.ok(before == after, f'{label}: data/ untouched',
                       tglib.snapshot_diff(before, after))
                recs = find(res.records, op='open', decision='deny')
                want = dict(mode='enforce', uid='dataset', path=f, job=sb.job,
                            source=sb.policy_path)
                if ln is not None:
                    want['pid'] = ln.pid
                if how == 'posix_spawn':
                    parent = res.line('posix_spawn')
                    if parent is not None:
                        want['ppid'] = parent.pid
                        want['pid'] = parent.get('child')
                check_record(tap, recs[0] if len(recs) == 1 else None,
                             f'{label}: one deny record in the job\'s log, child pid'
                             + (' and parent pid' if how == 'posix_spawn' else ''), **want)
        tap.ok(not os.path.exists(other_log) or os.path.getsize(other_log) == 0,
               'no record went to the log a child named itself')


def test_grandchild(tap):
    with sandbox(tap, 'grandchild') as sb:
        f = sb.p('data/f')
        res = sb.probe('execve', PROBE, 'posix_spawn', PROBE, 'open', f, 'O_WRONLY',
                       label='grandchild')
        spawn = res.line('posix_spawn')
        ln = res.line('open')
        tap.ok(ln is not None and ln.errno == 'EACCES',
               'a grandchild (exec with an empty environment, then spawn) is still guarded',
               res.describe())
        recs = find(res.records, op='open', decision='deny')
        want = dict(job=sb.job, uid='dataset', path=f)
        if spawn is not None:
            want.update(pid=spawn.get('child'), ppid=spawn.pid)
        check_record(tap, recs[0] if len(recs) == 1 else None,
                     'the grandchild\'s record carries its own pid and its parent\'s', **want)


def test_exec_denied(tap):
    with sandbox(tap, 'exec-denied') as sb:
        script = sb.write('out/run.sh', f'#!{sb.p("data/true")}\n', mode=0o755)
        cases = [
            ('execve', ['execve', sb.p('data/true')], sb.p('data/true'), sb.p('data/true')),
            ('posix_spawn', ['posix_spawn', sb.p('data/true')], sb.p('data/true'),
             sb.p('data/true')),
            ('execvp', ['execvp', 'true'], sb.p('data/true'), 'true'),
            ('execve of a script', ['execve', script], sb.p('data/true'), sb.p('data/true')),
        ]
        for what, args, path, requested in cases:
            env = {'PATH': sb.p('data') + ':/usr/bin:/bin'}
            res = sb.probe(*args, label=f'exec denied: {what}', env=env)
            ln = res.line(args[0])
            if args[0] == 'posix_spawn':
                good = ln is not None and ln.ret == 13
            else:
                good = ln is not None and ln.ret == -1 and ln.errno == 'EACCES'
            tap.ok(good, f'exec from a folder that denies exec ({what}): EACCES', res.describe())
            recs = find(res.records, decision='deny', op=args[0])
            check_record(tap, recs[0] if len(recs) == 1 else None,
                         f'exec denied ({what}): one Process Activity record',
                         class_uid=1007, activity_id=1, classes=['exec'], path=path,
                         uid='dataset', errno=13, status_code='EACCES', job=sb.job,
                         pid=ln.pid if ln else None)
        res = sb.probe('execve', TRUE, label='exec allowed')
        tap.ok(res.rc == 0 and not res.lines and not res.denials(),
               'exec of /usr/bin/true (exec allowed) runs it', res.describe())


def test_unguarded_exec(tap):
    ldconfig = next((p for p in ('/sbin/ldconfig', '/usr/sbin/ldconfig')
                     if os.path.exists(p)), None)
    if not ldconfig:
        tap.skip('an exec the guard cannot follow is logged', 'no static ldconfig here')
        return
    with open(os.path.realpath(ldconfig), 'rb') as f:
        head = f.read(64)
    if head[:4] != b'\x7fELF':
        tap.skip('an exec the guard cannot follow is logged', f'{ldconfig} is not ELF')
        return
    real = os.path.realpath(ldconfig)
    with sandbox(tap, 'unguarded') as sb:
        res = sb.probe('posix_spawn', ldconfig, '--version', label='static exec, log')
        ln = res.line('posix_spawn')
        tap.ok(ln is not None and ln.ret == 0, 'a static program may run (exec_unguarded = log)',
               res.describe())
        recs = [r for r in res.records if tglib.tg(r).get('unguarded')]
        check_record(tap, recs[0] if len(recs) == 1 else None,
                     'the static exec is logged as unguarded', class_uid=1007, path=real,
                     op='posix_spawn', decision='allow')
        if recs:
            tap.ok(tglib.tg(recs[0]).get('unguarded') == 'static',
                   'unmapped.trainguard.unguarded says "static"', str(tglib.tg(recs[0])))
    with sandbox(tap, 'unguarded-deny', 'exec_unguarded = "deny";') as sb:
        res = sb.probe('posix_spawn', ldconfig, '--version', label='static exec, deny')
        ln = res.line('posix_spawn')
        tap.ok(ln is not None and ln.ret == 13,
               'exec_unguarded = "deny": the static program is refused with EACCES',
               res.describe())
        recs = find(res.records, decision='deny', op='posix_spawn')
        check_record(tap, recs[0] if len(recs) == 1 else None,
                     'exec_unguarded = "deny": the refusal is logged', class_uid=1007,
                     path=real, errno=13)


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    for t in (test_env_propagation, test_no_weakening, test_grandchild, test_exec_denied,
              test_unguarded_exec):
        tap.group(t)
    tap.done()


if __name__ == '__main__':
    main()
