#!/usr/bin/env python3
"""The policy as the guard applies it, driven through tg-probe (TAP).

create_mode, audit/learn modes and lock_mode, on_deny kill and quiet,
errno per rule, default:<class> records (also with the embedded
ml-default policy), rename on both ends and the refer rule (EXDEV),
relative paths, '..' and symlinks decided on the real object, the guard's
own files (builtin:self-protect), errno at main, a policy that does not
load, a log folder that does not exist, and the same through
`trainguard run`."""
import os
import signal
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import LIBRARY, Sandbox, check_record, find  # noqa: E402

DEFAULTS_ALLOW = '''defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };'''

BASE = '''version = 1;
%(head)s
%(defaults)s
rules = (
  { id = "dataset"; path = "{root}/data/**"; allow = ["read", "list"];
    deny = ["write", "create", "delete", "chmod"]; },
  { id = "out"; path = "{root}/out/**"; allow = ["read", "list", "write", "create", "delete"]; }%(rules)s
);
'''


def policy(rules='', head='', defaults=DEFAULTS_ALLOW):
    return BASE % {'head': head, 'defaults': defaults, 'rules': rules}


def sandbox(tap, name, text):
    sb = Sandbox(tap, name)
    sb.write('data/f', b'dataset bytes\n')
    sb.write('data/sub/g', b'dataset g\n')
    sb.write('out/f', b'out bytes\n')
    sb.mkdir('out/a')
    sb.policy_path = sb.write_policy(text)
    return sb


def untouched(tap, sb, before, what):
    after = tglib.snapshot(sb.p('data'))
    tap.ok(before == after, f'{what}: data/ is byte-for-byte untouched',
           tglib.snapshot_diff(before, after))


def one(tap, res, what, **want):
    """Exactly one record with WANT's op and decision, and its fields."""
    sel = {k: want[k] for k in ('op', 'decision') if k in want}
    recs = find(res.records, **sel)
    tap.ok(len(recs) == 1, f'{what}: one {sel} record', tglib.summary(res.records))
    check_record(tap, recs[0] if recs else None, f'{what}: record fields', **want)


# ---- create_mode -------------------------------------------------------------

def test_create_mode(tap):
    rules = ''',
  { id = "ckpt600"; path = "{root}/c600/**"; allow = ["read", "write", "create", "delete", "chmod"];
    create_mode = "0600"; audit = true; },
  { id = "ckpt640"; path = "{root}/c640/**"; allow = ["read", "write", "create", "delete", "chmod"];
    create_mode = "0640"; }'''
    with sandbox(tap, 'create-mode', policy(rules)) as sb:
        sb.mkdir('c600', 'c640')
        cases = [
            (['open', sb.p('c600/a'), 'O_WRONLY|O_CREAT|O_TRUNC', '0666'], 'open', 0o600, '0666'),
            (['creat', sb.p('c600/b'), '0644'], 'creat', 0o600, '0644'),
            (['fopen', sb.p('c600/c'), 'w'], 'fopen', 0o600, '0666'),
            (['openat', sb.p('c600'), 'd', 'O_RDWR|O_CREAT', '0666'], 'openat', 0o600, '0666'),
            (['mknod', sb.p('c600/e'), '0666'], 'mknod', 0o600, '0666'),
            (['open', sb.p('c640/a'), 'O_WRONLY|O_CREAT', '0666'], 'open', 0o640, None),
            (['mkdir', sb.p('c640/d'), '0777'], 'mkdir', 0o750, None),
            (['mkdirat', sb.p('c640'), 'e', '0777'], 'mkdirat', 0o750, None),
            (['mkdir', sb.p('c600/dir'), '0777'], 'mkdir', 0o700, '0777'),
        ]
        for args, op, want, requested in cases:
            what = f'create_mode: {op} {os.path.relpath(args[1], sb.root)} asking ' \
                   f'{args[-1] if args[-1].isdigit() else "0666"}'
            res = sb.probe(*args, label=what)
            ln = res.line(op)
            tap.ok(ln is not None and ln.ret >= 0 and ln.get('mode') == f'{want:04o}',
                   f'{what}: gets mode {want:04o}', res.describe())
            if requested:
                # audit = true: the narrowing is logged with both modes
                one(tap, res, what, op=op, decision='allow', uid='ckpt600', errno=0,
                    mode_requested=requested, mode_applied=f'{(int(requested, 8) & (0o700 if op == "mkdir" else 0o600)):04o}',
                    job=sb.job, pid=ln.pid if ln else None)
            else:
                tap.ok(not res.records, f'{what}: no record (rule without audit)',
                       tglib.summary(res.records))
        # chmod is clamped by the mask: the bits it takes away are dropped
        # and the call succeeds (issue 10); set-id bits are refused
        sb.write('c600/x', b'x', mode=0o600)
        res = sb.probe('chmod', sb.p('c600/x'), '0644', label='chmod beyond create_mode')
        ln = res.line('chmod')
        tap.ok(ln and ln.ret == 0 and ln.get('mode') == '0600',
               'create_mode: chmod 0644 where the mask is 0600 succeeds, clamped to 0600',
               res.describe())
        one(tap, res, 'create_mode: chmod beyond the mask', op='chmod', decision='clamp',
            errno=0, status_code='OK', classes=['chmod'], path=sb.p('c600/x'),
            mode_requested='0644', mode_applied='0600', uid='ckpt600')
        res = sb.probe('chmod', sb.p('c600/x'), '04600', label='chmod set-uid in create_mode')
        ln = res.line('chmod')
        tap.ok(ln and ln.ret == -1 and ln.errno == 'EPERM' and ln.get('mode') == '0600',
               'create_mode: chmod 04600 (set-uid) fails with EPERM, mode kept',
               res.describe())
        one(tap, res, 'create_mode: chmod set-uid', op='chmod', decision='deny',
            errno=1, status_code='EPERM', classes=['chmod'], path=sb.p('c600/x'))
        res = sb.probe('chmod', sb.p('c600/x'), '0400', label='chmod within create_mode')
        ln = res.line('chmod')
        tap.ok(ln and ln.ret == 0 and ln.get('mode') == '0400',
               'create_mode: chmod 0400 within the mask is allowed', res.describe())


# ---- modes -------------------------------------------------------------------

def test_audit_mode(tap):
    with sandbox(tap, 'audit', policy()) as sb:
        res = sb.probe('open', sb.p('data/f'), 'O_WRONLY|O_APPEND', mode='audit',
                       label='audit mode')
        ln = res.line('open')
        tap.ok(ln and ln.ret >= 0 and ln.errno == '0',
               'audit mode: the call enforce would deny goes through', res.describe())
        one(tap, res, 'audit mode', op='open', decision='would_deny', mode='audit',
            uid='dataset', errno=13, path=sb.p('data/f'), classes=['write'], job=sb.job,
            pid=ln.pid if ln else None)
        # the same through trainguard run --mode audit: the summary counts it
        res = sb.probe('open', sb.p('data/f'), 'O_WRONLY|O_APPEND', mode='audit', cli=True,
                       label='trainguard run --mode audit')
        tap.ok(res.rc == 0 and
               '1 violation (0 denied, 1 would be denied), 0 audited in job' in res.err,
               'trainguard run --mode audit: exit 0, summary counts 1 would be denied',
               res.describe())
        tap.ok(len(find(res.records, decision='would_deny', mode='audit')) == 1,
               'trainguard run --mode audit: one would_deny record', tglib.summary(res.records))


def test_learn_mode(tap):
    with sandbox(tap, 'learn', policy()) as sb:
        f, x = sb.p('data/f'), sb.p('out/x')
        res = sb.probe('open', f, 'O_RDONLY', '+', 'open', f, 'O_RDONLY',
                       '+', 'open', x, 'O_WRONLY|O_CREAT', '0644',
                       '+', 'open', x, 'O_WRONLY|O_CREAT', '0644',
                       '+', 'open', f, 'O_WRONLY', '+', 'open', f, 'O_RDONLY',
                       mode='learn', label='learn mode')
        rets = [ln.ret for ln in res.lines if ln.op == 'open']
        tap.ok(len(rets) == 6 and all(r >= 0 for r in rets),
               'learn mode: every call goes through (even the write to data/)', res.describe())
        for path, classes in ((f, ['read']), (x, ['write', 'create']), (f, ['write'])):
            recs = find(res.records, path=path, classes=classes)
            tap.ok(len(recs) == 1,
                   f'learn mode: {os.path.relpath(path, sb.root)} {classes} logged once',
                   tglib.summary(res.records))
            check_record(tap, recs[0] if recs else None,
                         f'learn mode: {os.path.relpath(path, sb.root)} {classes} record',
                         decision='learn', mode='learn', job=sb.job)
        # through trainguard run: the write enforce would refuse is a violation
        res = sb.probe('open', f, 'O_RDONLY', '+', 'open', f, 'O_WRONLY', mode='learn',
                       cli=True, label='trainguard run --mode learn')
        tap.ok(res.rc == 0 and '1 violation (0 denied, 1 would be denied), ' in res.err,
               'trainguard run --mode learn: the summary counts the write to data/ as would be '
               'denied', res.describe())


def test_lock_mode(tap):
    with sandbox(tap, 'lock-mode', policy(head='lock_mode = true;')) as sb:
        before = tglib.snapshot(sb.p('data'))
        res = sb.probe('open', sb.p('data/f'), 'O_WRONLY|O_TRUNC', mode='audit',
                       label='lock_mode refuses audit')
        ln = res.line('open')
        tap.ok(ln and ln.ret == -1 and ln.errno == 'EACCES',
               'lock_mode: TRAINGUARD_MODE=audit is refused, the write is still denied',
               res.describe())
        tap.ok('lock_mode' in res.err and 'refused' in res.err,
               'lock_mode: the refusal is reported on stderr', res.err)
        untouched(tap, sb, before, 'lock_mode')
        one(tap, res, 'lock_mode', op='open', decision='deny', mode='enforce', uid='dataset')
        res = sb.probe('open', sb.p('data/f'), 'O_WRONLY', mode='learn',
                       label='lock_mode refuses learn')
        ln = res.line('open')
        tap.ok(ln and ln.errno == 'EACCES', 'lock_mode: TRAINGUARD_MODE=learn is refused too',
               res.describe())


def test_on_deny(tap):
    rules = ''',
  { id = "killer"; path = "{root}/kill/**"; deny = ["write", "create"]; on_deny = "kill"; },
  { id = "hush"; path = "{root}/quiet/**"; deny = ["write", "create"]; on_deny = "quiet"; }'''
    with sandbox(tap, 'on-deny', policy(rules)) as sb:
        sb.write('kill/f', b'keep\n')
        sb.write('quiet/f', b'keep\n')
        before = tglib.snapshot(sb.root + '/kill')
        res = sb.probe('open', sb.p('kill/f'), 'O_WRONLY|O_TRUNC', '+', 'errno-at-main',
                       label='on_deny kill')
        tap.ok(res.rc == -signal.SIGKILL, 'on_deny = "kill": the probe dies of SIGKILL',
               res.describe())
        tap.ok(res.line('open') is None and res.line('errno-at-main') is None,
               'on_deny = "kill": nothing runs after the denied call', res.describe())
        tap.ok(before == tglib.snapshot(sb.root + '/kill'), 'on_deny = "kill": file untouched')
        one(tap, res, 'on_deny = "kill"', op='open', decision='deny', uid='killer', errno=13,
            path=sb.p('kill/f'))
        before = tglib.snapshot(sb.root + '/quiet')
        res = sb.probe('open', sb.p('quiet/f'), 'O_WRONLY|O_TRUNC', label='on_deny quiet')
        ln = res.line('open')
        tap.ok(res.rc == 0 and ln and ln.ret == -1 and ln.errno == 'EACCES',
               'on_deny = "quiet": denied with EACCES', res.describe())
        tap.ok(before == tglib.snapshot(sb.root + '/quiet'), 'on_deny = "quiet": file untouched')
        tap.ok(not res.records, 'on_deny = "quiet": no record', tglib.summary(res.records))


def test_errno_per_rule(tap):
    rules = ''',
  { id = "ro"; path = "{root}/erofs/**"; deny = ["write", "create"]; errno = "EROFS"; },
  { id = "hide"; path = "{root}/enoent/**"; deny = ["read", "write", "create"]; errno = "ENOENT"; },
  { id = "perm"; path = "{root}/eperm/**"; deny = ["write", "create"]; errno = "EPERM"; }'''
    with sandbox(tap, 'errno', policy(rules)) as sb:
        for d, name, num, rid in (('erofs', 'EROFS', 30, 'ro'), ('enoent', 'ENOENT', 2, 'hide'),
                                  ('eperm', 'EPERM', 1, 'perm')):
            sb.write(f'{d}/f', b'keep\n')
            before = tglib.snapshot(sb.p(d))
            res = sb.probe('open', sb.p(f'{d}/f'), 'O_WRONLY|O_TRUNC', label=f'errno {name}')
            ln = res.line('open')
            tap.ok(ln and ln.ret == -1 and ln.errno == name,
                   f'errno = "{name}": the denied open fails with {name}', res.describe())
            tap.ok(before == tglib.snapshot(sb.p(d)), f'errno = "{name}": file untouched')
            one(tap, res, f'errno = "{name}"', op='open', decision='deny', uid=rid, errno=num,
                status_code=name, path=sb.p(f'{d}/f'))
        # a hidden file does not show through stat either
        res = sb.probe('stat', sb.p('enoent/f'), label='stat of a hidden file')
        ln = res.line('stat')
        tap.ok(ln and ln.ret == -1 and ln.errno == 'ENOENT',
               'errno = "ENOENT": stat of the hidden file says ENOENT', res.describe())


def test_defaults(tap):
    text = policy(defaults='''defaults = { read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; };''')
    with sandbox(tap, 'defaults', text) as sb:
        sb.write('other/f', b'keep\n')
        before = tglib.snapshot(sb.p('other'))
        for args, op, cls, path in (
                (['open', sb.p('other/f'), 'O_WRONLY'], 'open', 'write', 'other/f'),
                (['mkdir', sb.p('other/d'), '0755'], 'mkdir', 'create', 'other/d'),
                (['unlink', sb.p('other/f')], 'unlink', 'delete', 'other/f'),
                (['chmod', sb.p('other/f'), '0600'], 'chmod', 'chmod', 'other/f')):
            res = sb.probe(*args, label=f'default:{cls}')
            ln = res.line(op)
            tap.ok(ln and ln.ret == -1 and ln.errno == 'EACCES',
                   f'no rule names {cls} for other/: {op} is denied by the default',
                   res.describe())
            one(tap, res, f'default:{cls}', op=op, decision='deny', uid=f'default:{cls}',
                source=sb.policy_path, path=sb.p(path), errno=13)
        tap.ok(before == tglib.snapshot(sb.p('other')), 'default:<class>: other/ untouched')
        # a class a rule names is decided by it, not the default
        res = sb.probe('open', sb.p('out/f'), 'O_WRONLY', label='rule beats default')
        ln = res.line('open')
        tap.ok(ln and ln.ret >= 0, 'a rule that allows write beats defaults.write = deny',
               res.describe())


def test_ml_default(tap):
    """No TRAINGUARD_POLICY: the embedded ml-default policy."""
    outside = tempfile.mkdtemp(prefix='tg-mldefault-', dir='/var/tmp')
    try:
        target = os.path.join(outside, 'f')
        with open(target, 'wb') as fh:
            fh.write(b'keep\n')
        with Sandbox(tap, 'ml-default') as sb:
            res = sb.probe('open', target, 'O_WRONLY|O_TRUNC', '+',
                           'open', sb.p('mine'), 'O_WRONLY|O_CREAT', '0644',
                           label='embedded ml-default')
            lines = [ln for ln in res.lines if ln.op == 'open']
            tap.ok(len(lines) == 2 and lines[0].errno == 'EACCES' and lines[1].ret >= 0,
                   'ml-default: a write outside the working folder and /tmp is denied, '
                   'one in the working folder allowed', res.describe())
            with open(target, 'rb') as fh:
                tap.ok(fh.read() == b'keep\n', 'ml-default: the outside file is untouched')
            one(tap, res, 'ml-default', op='open', decision='deny', uid='default:write',
                source='embedded:ml-default', path=target)
    finally:
        import shutil
        shutil.rmtree(outside, ignore_errors=True)


def test_specificity(tap):
    rules = ''',
  { id = "scratch"; path = "{root}/data/scratch/**"; allow = ["write", "create"]; },
  { id = "tie-allow"; path = "{root}/tie/**"; allow = ["write"]; },
  { id = "tie-deny"; path = "{root}/tie/**"; deny = ["write"]; }'''
    with sandbox(tap, 'specificity', policy(rules)) as sb:
        sb.mkdir('data/scratch')
        sb.write('tie/f', b'keep\n')
        res = sb.probe('open', sb.p('data/scratch/x'), 'O_WRONLY|O_CREAT', '0644', '+',
                       'open', sb.p('data/x'), 'O_WRONLY|O_CREAT', '0644', '+',
                       'open', sb.p('tie/f'), 'O_WRONLY', label='specificity')
        lines = [ln for ln in res.lines if ln.op == 'open']
        tap.ok(len(lines) == 3 and lines[0].ret >= 0 and lines[1].errno == 'EACCES',
               'the more specific allow (data/scratch/**) beats the dataset deny',
               res.describe())
        tap.ok(len(lines) == 3 and lines[2].errno == 'EACCES',
               'equally specific allow and deny: deny wins', res.describe())
        tap.ok(len(find(res.records, uid='tie-deny', decision='deny')) == 1,
               'the tie is decided by rule tie-deny', tglib.summary(res.records))


# ---- rename --------------------------------------------------------------------

def test_rename(tap):
    rules = ''',
  { id = "inbox"; path = "{root}/inbox/**"; allow = ["read", "list", "create", "delete"];
    deny = ["write"]; }'''
    with sandbox(tap, 'rename', policy(rules)) as sb:
        sb.write('inbox/f', b'inbox bytes\n')
        cases = [
            ('rename', [sb.p('data/f'), sb.p('out/moved')], 'data/f', ['delete'], 'EACCES',
             'dataset', 'source'),
            ('rename', [sb.p('out/f'), sb.p('data/new')], 'data/new', ['create', 'delete'],
             'EACCES', 'dataset', 'destination'),
            ('renameat2', [sb.root, 'out/f', sb.root, 'data/new', 'RENAME_NOREPLACE'],
             'data/new', ['create'], 'EACCES', 'dataset', 'destination, RENAME_NOREPLACE'),
            ('rename', [sb.p('out/f'), sb.p('data/f')], 'data/f', ['create', 'delete'],
             'EACCES', 'dataset', 'destination replacing a file'),
            ('rename', [sb.p('inbox/f'), sb.p('out/f2')], 'out/f2', ['write'], 'EXDEV',
             'inbox', 'refer rule: the destination grants write the source denies'),
            ('link', [sb.p('inbox/f'), sb.p('out/l')], 'out/l', ['write'], 'EXDEV', 'inbox',
             'refer rule for a hard link'),
        ]
        for op, args, path, classes, err, uid, what in cases:
            before = tglib.snapshot(sb.root)
            before = {k: v for k, v in before.items() if not k.startswith('logs')}
            res = sb.probe(op, *args, label=f'{op} {what}')
            ln = res.line(op)
            tap.ok(ln and ln.ret == -1 and ln.errno == err, f'{op} ({what}): fails with {err}',
                   res.describe())
            after = {k: v for k, v in tglib.snapshot(sb.root).items()
                     if not k.startswith('logs')}
            tap.ok(before == after, f'{op} ({what}): nothing moved',
                   tglib.snapshot_diff(before, after))
            one(tap, res, f'{op} ({what})', op=op, decision='deny', path=sb.p(path),
                classes=classes, errno=tglib.errno_number(err), status_code=err, uid=uid)
        res = sb.probe('rename', sb.p('out/f'), sb.p('out/g'), label='rename within out')
        ln = res.line('rename')
        tap.ok(ln and ln.ret == 0 and os.path.exists(sb.p('out/g')),
               'rename within the writable folder is allowed', res.describe())


# ---- paths ---------------------------------------------------------------------

def test_paths(tap):
    with sandbox(tap, 'paths', policy()) as sb:
        os.symlink(sb.p('data/f'), sb.p('out/link'))
        os.symlink(sb.p('data/sub'), sb.p('out/w'))
        cases = [
            ('openat with a dirfd', ['openat', sb.p('out'), '../data/f', 'O_WRONLY'],
             sb.root, 'data/f', '../data/f'),
            ('relative to the working folder', ['open', '../data/f', 'O_WRONLY'], sb.p('out'),
             'data/f', '../data/f'),
            ('a/../../data/f', ['open', 'a/../../data/f', 'O_WRONLY|O_TRUNC'], sb.p('out'),
             'data/f', 'a/../../data/f'),
            ('a symlink into the dataset', ['open', sb.p('out/link'), 'O_WRONLY'], sb.root,
             'data/f', sb.p('out/link')),
            ('.. after a symlink', ['open', 'out/w/../f', 'O_WRONLY|O_CREAT', '0644'], sb.root,
             'data/f', 'out/w/../f'),
            ('unlinkat relative to a dirfd', ['unlinkat', sb.p('out/a'), '../../data/f'],
             sb.root, 'data/f', '../../data/f'),
        ]
        for what, args, cwd, path, requested in cases:
            before = tglib.snapshot(sb.p('data'))
            res = sb.probe(*args, cwd=cwd, label=what)
            ln = res.line(args[0])
            tap.ok(ln and ln.ret == -1 and ln.errno == 'EACCES', f'{what}: denied',
                   res.describe())
            untouched(tap, sb, before, what)
            one(tap, res, what, op=args[0], decision='deny', path=sb.p(path), uid='dataset',
                path_requested=requested)
        res = sb.probe('unlink', sb.p('out/link'), label='unlink a symlink into the dataset')
        ln = res.line('unlink')
        tap.ok(ln and ln.ret == 0 and os.path.exists(sb.p('data/f')),
               'unlink of a symlink into the dataset removes the link only (allowed)',
               res.describe())


# ---- the guard's own files ----------------------------------------------------------

def test_self_protect(tap):
    # Policy and log inside the writable folder: only the built-in rule
    # stands between the job and them.
    with sandbox(tap, 'self-protect', policy()) as sb:
        text = open(sb.policy_path).read()
        sb.mkdir('out/pol')
        pol = sb.write('out/pol/policy.cfg', text)
        log = sb.p('out/guard.jsonl')
        cases = [
            ('write the log', ['open', log, 'O_WRONLY|O_APPEND'], 'open', log),
            ('truncate the log', ['truncate', log, '0'], 'truncate', log),
            ('delete the log', ['unlink', log], 'unlink', log),
            ('rename the log', ['rename', log, sb.p('out/moved')], 'rename', log),
            ('write the policy', ['open', pol, 'O_WRONLY|O_TRUNC'], 'open', pol),
            ('delete the policy', ['unlink', pol], 'unlink', pol),
            ('replace the policy', ['rename', sb.p('out/f'), pol], 'rename', pol),
            ('chmod the policy', ['chmod', pol, '0666'], 'chmod', pol),
            ('plant a profile beside the policy',
             ['open', sb.p('out/pol/evil.cfg'), 'O_WRONLY|O_CREAT', '0644'], 'open',
             sb.p('out/pol/evil.cfg')),
            ('write the guard library', ['open', LIBRARY, 'O_WRONLY|O_APPEND'], 'open',
             os.path.realpath(LIBRARY)),
        ]
        for what, args, op, path in cases:
            before = tglib.snapshot(sb.p('out'))
            lib_before = tglib.snapshot(os.path.dirname(LIBRARY)).get('libtrainguard.so')
            res = sb.run([tglib.PROBE] + args, label=what, policy=pol, log=log)
            ln = res.line(op)
            tap.ok(ln and ln.ret == -1 and ln.errno == 'EACCES', f'self-protect: {what}: denied',
                   res.describe())
            after = tglib.snapshot(sb.p('out'))
            # the log grows by the record itself
            before.pop('guard.jsonl', None)
            after.pop('guard.jsonl', None)
            tap.ok(before == after and os.path.exists(log) and
                   lib_before == tglib.snapshot(os.path.dirname(LIBRARY)).get('libtrainguard.so'),
                   f'self-protect: {what}: nothing changed', tglib.snapshot_diff(before, after))
            recs = find(res.records, op=op, decision='deny', path=path)
            check_record(tap, recs[0] if recs else None, f'self-protect: {what}: record',
                         uid='builtin:self-protect', errno=13)
            # one run's records only
            with open(log, 'w'):
                pass
        res = sb.run([tglib.PROBE, 'open', sb.p('out/pol/notes.txt'), 'O_WRONLY|O_CREAT', '0644'],
                     label='a non-.cfg file beside the policy', policy=pol, log=log)
        ln = res.line('open')
        tap.ok(ln and ln.ret >= 0, 'self-protect: a file not named *.cfg beside the policy '
               'may be created where the rules allow', res.describe())


# ---- start-up ----------------------------------------------------------------------

def test_errno_at_main(tap):
    with sandbox(tap, 'errno-at-main', policy()) as sb:
        res = sb.probe('errno-at-main')
        ln = res.line('errno-at-main')
        tap.ok(ln and ln.ret == 0 and ln.errno == '0', 'errno is 0 at the top of main',
               res.describe())
        res = sb.probe('errno-at-main', mode='learn', label='errno at main, learn mode')
        ln = res.line('errno-at-main')
        tap.ok(ln and ln.ret == 0, 'errno is 0 at the top of main in learn mode', res.describe())


def test_bad_policy(tap):
    text = policy().replace('"delete", "chmod"]; },', '"delete", "chmod"]; },', 1)
    text = text.replace('allow = ["read", "list", "write", "create", "delete"]',
                        'allow = ["read", "list", "wirte", "create", "delete"]')
    with sandbox(tap, 'bad-policy', text) as sb:
        lineno = next(i for i, line in enumerate(open(sb.policy_path), 1) if 'wirte' in line)
        name = os.path.basename(sb.policy_path)
        res = sb.probe('open', sb.p('data/f'), 'O_WRONLY', label='bad policy')
        tap.ok(res.rc == 126, 'a policy with a typo: the program exits 126', res.describe())
        tap.ok(not res.lines, 'a policy with a typo: main never ran', res.out)
        tap.ok(f'{name}:{lineno}:' in res.err and 'wirte' in res.err,
               f'a policy with a typo: stderr names {name}:{lineno} and the typo', res.err)
        tap.ok('did you mean "write"' in res.err, 'a policy with a typo: stderr suggests "write"',
               res.err)
        res = sb.probe('open', sb.p('data/f'), 'O_WRONLY', env={'TRAINGUARD_ON_ERROR': 'allow'},
                       label='bad policy, ON_ERROR=allow')
        ln = res.line('open')
        tap.ok(res.rc == 0 and ln and ln.ret >= 0,
               'TRAINGUARD_ON_ERROR=allow: the program runs unguarded', res.describe())
        tap.ok('UNGUARDED' in res.err, 'TRAINGUARD_ON_ERROR=allow: stderr says UNGUARDED',
               res.err)
        res = sb.probe('errno-at-main', cli=True, label='trainguard run, bad policy')
        tap.ok(res.rc == 126 and f'{name}:{lineno}:' in res.err and not res.lines,
               'trainguard run with a bad policy: exit 126, file:line on stderr, job not started',
               res.describe())


def test_log_folder_missing(tap):
    with sandbox(tap, 'no-log-dir', policy()) as sb:
        log = sb.p('nowhere', 'log.jsonl')
        res = sb.probe('errno-at-main', log=log, label='log folder missing', validate=False)
        tap.ok(res.rc == 126 and not res.lines, 'log folder missing: exit 126 before main',
               res.describe())
        tap.ok(log in res.err, 'log folder missing: stderr names the log path', res.err)
        res = sb.probe('errno-at-main', log=log, cli=True, label='trainguard run, no log folder',
                       validate=False)
        made = sb.p('nowhere')
        tap.ok(res.rc != 126 and f"created the log folder '{made}'" in res.err and
               os.path.isdir(made) and os.stat(made).st_mode & 0o777 == 0o700,
               'trainguard run --log in a missing folder: run creates it, mode 0700',
               res.describe())


def test_log_fd(tap):
    with sandbox(tap, 'log-fd', policy()) as sb:
        res = sb.probe('dup2', 'NEW', 'LOG', '+', 'open', sb.p('data/f'), 'O_WRONLY',
                       label='dup2 onto the log descriptor')
        ln = res.line('dup2')
        tap.ok(ln and ln.ret >= 0 and ln.get('log') == 'open',
               'dup2 onto the log descriptor succeeds and the log moves', res.describe())
        tap.ok(len(find(res.records, op='open', decision='deny')) == 1,
               'dup2 onto the log descriptor: a later denial still lands in the log',
               tglib.summary(res.records))


def test_cli(tap):
    with sandbox(tap, 'cli', policy()) as sb:
        before = tglib.snapshot(sb.p('data'))
        res = sb.probe('open', sb.p('data/f'), 'O_WRONLY|O_TRUNC', cli=True, job='cli-job-7',
                       label='trainguard run')
        ln = res.line('open')
        tap.ok(res.rc == 0 and ln and ln.errno == 'EACCES',
               'trainguard run: the job runs guarded and exits with its status', res.describe())
        untouched(tap, sb, before, 'trainguard run')
        tap.ok('1 violation (1 denied, 0 would be denied), 0 audited in job cli-job-7' in res.err,
               'trainguard run: the summary line counts the denial', res.err)
        one(tap, res, 'trainguard run', op='open', decision='deny', job='cli-job-7',
            uid='dataset', pid=ln.pid if ln else None, source=sb.policy_path)
        res = sb.run(['/bin/sh', '-c', 'exit 3'], cli=True, label='trainguard run exit status')
        tap.ok(res.rc == 3, 'trainguard run passes the job\'s exit status through',
               res.describe())


def test_audit_rule(tap):
    rules = ''',
  { id = "lineage"; path = "{root}/ckpt/**"; allow = ["read", "write", "create"];
    audit = true; }'''
    with sandbox(tap, 'audit-rule', policy(rules)) as sb:
        sb.write('ckpt/a', b'x')
        res = sb.probe('open', sb.p('ckpt/a'), 'O_RDONLY', label='audit = true')
        ln = res.line('open')
        tap.ok(ln and ln.ret >= 0, 'audit = true: the read is allowed', res.describe())
        one(tap, res, 'audit = true', op='open', decision='allow', uid='lineage', errno=0,
            path=sb.p('ckpt/a'), classes=['read'], mode='enforce')
        res = sb.probe('open', sb.p('ckpt/a'), 'O_RDONLY', cli=True,
                       label='audit = true, trainguard run')
        tap.ok(res.rc == 0 and '0 violations (0 denied, 0 would be denied), 1 audited' in res.err,
               'trainguard run: an audited access is counted as audited, not as a violation',
               res.describe())
        res = sb.probe('open', sb.p('out/f'), 'O_RDONLY', label='no audit')
        tap.ok(not res.records, 'a rule without audit logs no allowed access',
               tglib.summary(res.records))


# ---- ways around a decision --------------------------------------------------------

SIDE_RULES = ''',
  { id = "inbox"; path = "{root}/inbox/**"; allow = ["read", "list", "create", "delete"];
    deny = ["write"]; },
  { id = "killer"; path = "{root}/kill/**"; deny = ["write"]; on_deny = "kill"; }'''


def test_side_doors(tap):
    with sandbox(tap, 'side-doors', policy(SIDE_RULES)) as sb:
        f = sb.p('data/f')
        sb.write('inbox/secret', b'inbox bytes\n')
        sb.write('out/x', b'out bytes\n')
        sb.write('kill/f', b'keep\n')
        os.symlink(f, sb.p('out/lnk'))

        def guarded(what, args, expect, todo=None, record=None, paths=('data', 'inbox')):
            before = {d: tglib.snapshot(sb.p(d)) for d in paths}
            out_before = set(os.listdir(sb.p('out')))
            res = sb.probe(*args, label=what)
            good, desc = expect(res)
            tap.ok(good, f'{what}: {desc}', res.describe(), todo=todo)
            after = {d: tglib.snapshot(sb.p(d)) for d in paths}
            new = set(os.listdir(sb.p('out'))) - out_before
            tap.ok(before == after and not new,
                   f'{what}: the protected files are untouched, nothing new in out/',
                   '\n'.join(tglib.snapshot_diff(before[d], after[d]) for d in paths)
                   + f'\nnew in out/: {sorted(new)}', todo=todo)
            if record:
                sel = {k: v for k, v in record.items() if k in ('op', 'path')}
                recs = find(res.records, decision='deny', **sel)
                check_record(tap, recs[0] if recs else None, f'{what}: the refusal is logged',
                             todo=todo, **record)
            # the next case starts from the same files
            for name in new:
                os.unlink(sb.p('out', name))
            sb.write('data/f', b'dataset bytes\n')
            os.utime(sb.p('data/f'), ns=(before['data']['f'][5], before['data']['f'][5]))
            if not os.path.exists(sb.p('inbox/secret')) or before != after:
                for d in paths:
                    for name in os.listdir(sb.p(d)):
                        if name not in ('f', 'sub', 'secret'):
                            os.unlink(sb.p(d, name))
                sb.write('inbox/secret', b'inbox bytes\n')
                sb.write('out/x', b'out bytes\n')
            return res

        def line_is(op, ret, errno):
            def expect(res):
                ln = res.line(op)
                good = ln is not None and ln.ret == ret and ln.errno == errno
                return good, f'{op} returns {ret} with errno {errno}'
            return expect

        guarded('reopen a read-only descriptor of a dataset file for writing via /proc/self/fd',
                ['open', f, 'O_RDONLY', '+', 'reopen', 'O_WRONLY|O_TRUNC'],
                lambda res: (len(res.lines) == 2 and res.lines[1].errno == 'EACCES',
                             'the second open is refused with EACCES'),
                record=dict(op='open', path=f, uid='dataset'))
        guarded('a symlink in out/ to a dataset file, opened for writing',
                ['open', sb.p('out/lnk'), 'O_WRONLY|O_APPEND'], line_is('open', -1, 'EACCES'),
                record=dict(op='open', path=f, uid='dataset'))
        guarded("the guard's log descriptor written or truncated by number",
                ['write-fd', 'LOG', '{"forged": true}', '+', 'ftruncate-fd', 'LOG', '0'],
                lambda res: (len(res.lines) == 2 and all(ln.errno == 'EACCES'
                                                          for ln in res.lines),
                             'write and ftruncate on it fail with EACCES'),
                record=dict(op='ftruncate', uid='builtin:self-protect'))
        res = sb.probe('open', sb.p('kill/f'), 'O_WRONLY', mode='audit',
                       label='audit mode and on_deny kill')
        ln = res.line('open')
        tap.ok(res.rc == 0 and ln is not None and ln.ret >= 0,
               'audit mode: a rule with on_deny = "kill" does not kill', res.describe())
        tap.ok(len(find(res.records, decision='would_deny', uid='killer')) == 1,
               "audit mode: the kill rule's violation is logged as would_deny",
               tglib.summary(res.records))

        # Side doors found by these tests (each once modified a protected
        # file without a decision).
        guarded('posix_spawn with a file action opening a dataset file O_WRONLY|O_TRUNC',
                ['spawn-with-open', f, 'O_WRONLY|O_TRUNC', '/bin/true'],
                line_is('posix_spawn_file_actions_addopen', 13, 'EACCES'),
                record=dict(op=lambda op: op is not None and op.startswith('posix_spawn'),
                            path=f, uid='dataset'))
        guarded('freopen(NULL, "r+") of a read-only stream on a dataset file',
                ['fopen', f, 'r', '+', 'freopen-null', 'r+', 'PWNED'],
                lambda res: (len(res.lines) == 2 and res.lines[1].ret == -1 and
                             res.lines[1].errno == 'EACCES',
                             'the mode change to writing is refused with EACCES'),
                record=dict(op='freopen', path=f, uid='dataset'))
        guarded('renameat2(out/x, inbox/secret, RENAME_EXCHANGE) would move the write-protected '
                'file to out/x', ['renameat2', 'AT_FDCWD', sb.p('out/x'), 'AT_FDCWD',
                                  sb.p('inbox/secret'), 'RENAME_EXCHANGE'],
                line_is('renameat2', -1, 'EXDEV'),
                record=dict(op='renameat2', errno=18, uid='inbox'))
        guarded('linkat(out/lnk -> data/f, out/hard, AT_SYMLINK_FOLLOW) makes a writable name '
                'for a dataset file', ['linkat', sb.p('out'), 'lnk', sb.p('out'), 'hard',
                                       'AT_SYMLINK_FOLLOW', '+', 'write', sb.p('out/hard'),
                                       'PWNED'],
                line_is('linkat', -1, 'EXDEV'),
                record=dict(op='linkat', errno=18, uid='dataset', path=sb.p('out/hard')))


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    for t in (test_create_mode, test_audit_mode, test_learn_mode, test_lock_mode, test_on_deny,
              test_errno_per_rule, test_defaults, test_ml_default, test_specificity,
              test_rename, test_paths, test_self_protect, test_errno_at_main, test_bad_policy,
              test_log_folder_missing, test_log_fd, test_cli, test_audit_rule,
              test_side_doors):
        tap.group(t)
    tap.done()


if __name__ == '__main__':
    main()
