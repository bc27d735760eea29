#!/usr/bin/env python3
"""The trainguard command (TAP).

- help: `trainguard help CMD` and `trainguard CMD --help` print the same
  usage, every option it names is in that command's section of
  trainguard(1), and every command has a section.
- job id: under `trainguard run`, HOSTNAME is the job id in a Kubernetes pod
  (KUBERNETES_SERVICE_HOST set) and only there; TRAINGUARD_JOB_ID beats it;
  trainguard(1) says so.
- explain decides as the guard does: for every row of a table of paths
  (symbolic links, "..", "~", ${VARS}), explain's verdict (and errno, and
  the path it decided on) equals what tg-probe got under LD_PRELOAD with the
  same policy, and what the row expects; --op all agrees with each --op; a
  repeated --op is refused; the examples in trainguard(1) print what the
  page shows.
- check: warns for an allow that reopens a secret file, for shadowed and
  shadowing allows, names patterns as written; --var and --env feed
  ${ENV:...} and built-ins; --json; '-' reads standard input.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import CLI, SOURCE_ROOT, Sandbox, find  # noqa: E402

MAN = os.path.join(SOURCE_ROOT, 'man', 'trainguard.1.scd')
COMMANDS = ['run', 'check', 'explain', 'doctor', 'report', 'verify', 'learn']


def cli(args, cwd=None, env=None, stdin=None):
    e = tglib.base_env()
    e.pop('KUBERNETES_SERVICE_HOST', None)
    if args[:1] == ['run'] and tglib.PRELOAD_FIRST:
        e['LD_PRELOAD'] = tglib.PRELOAD_FIRST
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return subprocess.run([CLI] + args, cwd=cwd, env=e, capture_output=True, text=True,
                          input=stdin, timeout=60)


def man_text():
    with open(MAN) as f:
        return f.read()


def man_section(text, cmd):
    m = re.search(r'^## trainguard %s\n(.*?)(?=^## |^# )' % cmd, text, re.M | re.S)
    return m.group(1) if m else ''


# ---- help -----------------------------------------------------------------

def test_help(tap):
    page = man_text()
    top = cli(['--help'])
    tap.ok(top.returncode == 0 and all(f'\n  {c} ' in top.stdout for c in COMMANDS),
           'trainguard --help lists every command', top.stdout + top.stderr)
    for cmd in COMMANDS:
        h = cli(['help', cmd])
        d = cli([cmd, '--help'])
        tap.ok(h.returncode == 0 and h.stdout.startswith(f'usage: trainguard {cmd} '),
               f'trainguard help {cmd} prints its usage', h.stdout + h.stderr)
        tap.ok(d.returncode == 0 and d.stdout == h.stdout,
               f'trainguard {cmd} --help prints the same', d.stdout + d.stderr)
        section = man_section(page, cmd)
        opts = sorted(set(re.findall(r'(?<![\w-])--[a-z][a-z-]+', h.stdout)))
        missing = [o for o in opts if o.replace('-', r'\-') not in section and
                   f'*{o}*' not in section]
        tap.ok(section and not missing,
               f'every option of {cmd} ({" ".join(opts)}) is in its trainguard(1) section',
               f'missing: {missing}')
    bad = cli(['help', 'nosuch'])
    tap.ok(bad.returncode == 2 and "'nosuch'" in bad.stderr,
           'help of an unknown command: exit 2, names it', bad.stderr)
    # A --help after run's CMD is CMD's, not ours.
    r = cli(['run', '--log', '/dev/null', '--', 'sh', '-c', 'echo "$1"', 'sh', '--help'],
            env={'TRAINGUARD_JOB_ID': 'help-job'})
    tap.ok(r.returncode == 0 and r.stdout == '--help\n',
           "run: a --help after CMD goes to CMD", r.stdout + r.stderr)


# ---- job id ----------------------------------------------------------------

def run_job_id(tap, sb, label, env):
    log = sb.new_log(label)
    clean = {'TRAINGUARD_JOB_ID': None, 'SLURM_JOB_ID': None, 'TORCHELASTIC_RUN_ID': None,
             'HOSTNAME': None, 'KUBERNETES_SERVICE_HOST': None}
    clean.update(env)
    # A denied read, so the log holds a record naming the job.
    r = cli(['run', '--log', log, '--', tglib.PROBE, 'open', '/etc/shadow', 'O_RDONLY'],
            cwd=sb.root, env=clean)
    records, _ = tglib.read_log(log)
    m = re.search(r' in job (\S+); log:', r.stderr)
    return (m.group(1) if m else None), {tglib.field(x, 'job') for x in records}, r


def test_job_id(tap):
    with Sandbox(tap, 'cli-jobid') as sb:
        pod = {'KUBERNETES_SERVICE_HOST': '10.96.0.1', 'HOSTNAME': 'train-7f9c-pod'}
        jid, jobs, r = run_job_id(tap, sb, 'pod', pod)
        tap.ok(jid == 'train-7f9c-pod' and jobs == {'train-7f9c-pod'} and r.returncode == 0,
               'in a pod the job id is HOSTNAME (summary line and every record)',
               f'{jid} {jobs}\n{r.stderr}')
        jid, jobs, r = run_job_id(tap, sb, 'pod-env', dict(pod, TRAINGUARD_JOB_ID='given-42'))
        tap.ok(jid == 'given-42' and jobs == {'given-42'},
               'TRAINGUARD_JOB_ID beats HOSTNAME in a pod', f'{jid} {jobs}\n{r.stderr}')
        jid, jobs, r = run_job_id(tap, sb, 'no-pod', {'HOSTNAME': 'train-7f9c-pod'})
        tap.ok(jid is not None and jid.startswith('tg-') and jobs == {jid},
               'outside a pod HOSTNAME is not the job id (a generated one is)',
               f'{jid} {jobs}\n{r.stderr}')
        jid, jobs, r = run_job_id(tap, sb, 'pod-slurm', dict(pod, SLURM_JOB_ID='8841207'))
        tap.ok(jid == '8841207', 'SLURM_JOB_ID beats HOSTNAME in a pod', r.stderr)
    page = man_text()
    run = man_section(page, 'run')
    m = re.search(r'\*--job-id\* _ID_\n(.*?)\n\n', run, re.S)
    doc = ' '.join(m.group(1).split()) if m else ''
    order = [doc.find(w) for w in ('TRAINGUARD\\_JOB\\_ID', 'SLURM\\_JOB\\_ID',
                                   'TORCHELASTIC\\_RUN\\_ID', 'HOSTNAME',
                                   'KUBERNETES\\_SERVICE\\_HOST')]
    tap.ok(doc and -1 not in order and order[:4] == sorted(order[:4]),
           'trainguard(1) --job-id names the precedence, HOSTNAME in a pod last', doc)


# ---- explain against the runtime -------------------------------------------

EXPLAIN_LINE = re.compile(r'^result:     (ALLOWED|DENIED)(?: with (\S+))?$', re.M)
DECIDED_ON = re.compile(r'^decided on: (\S+)', re.M)
PROBE_OP = {'read': ['open', '{p}', 'O_RDONLY'], 'write': ['open', '{p}', 'O_WRONLY'],
            'list': ['opendir', '{p}'], 'delete': ['unlink', '{p}'],
            'chmod': ['chmod', '{p}', '0600']}

VARS_POLICY = '''version = 1;
vars = { DATA = "${ENV:TG_CLI_DATA}"; SCRATCH = "${DATA}/scratch"; };
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
rules = (
  { id = "data-ro"; path = "${DATA}/**"; deny = ["write", "delete", "chmod"]; errno = "EROFS"; },
  { id = "data-scratch"; path = "${SCRATCH}/**"; allow = ["write", "delete", "chmod"]; },
  { id = "keys"; path = "~/keys/**"; deny = ["read", "list"]; },
  { id = "per-host"; path = "${SCRATCH}/hosts/${HOSTNAME}/**"; deny = ["write"]; }
);
'''


def explain_vs_runtime(tap, sb, rows, policy, env, cwd):
    """ROWS: (class, path for explain, path for the program, expected)."""
    for cls, given, real_arg, want in rows:
        args = ['explain', '--op', cls, given]
        if policy:
            args[1:1] = ['--policy', policy]
        e = cli(args, cwd=cwd, env=env)
        m = EXPLAIN_LINE.search(e.stdout)
        on = DECIDED_ON.search(e.stdout)
        ex = (m.group(1) == 'ALLOWED', m.group(2)) if m else (None, None)
        argv = [a.replace('{p}', real_arg) for a in PROBE_OP[cls]]
        res = sb.probe(*argv, policy=policy or '', env=env, cwd=cwd,
                       label=f'{cls} {given}', validate=False)
        ln = res.line()
        rt_allow = ln is not None and ln.ret >= 0
        rt_errno = None if ln is None or rt_allow else ln.errno
        denials = res.denials()
        what = f'{cls} {given!r}: explain and the guard agree ({want})'
        detail = f'explain (exit {e.returncode}):\n{e.stdout}{e.stderr}\n{res.describe()}'
        good = (m is not None and ex[0] == rt_allow and (ex[0] or ex[1] == rt_errno) and
                ex[0] == (want == 'allow') and e.returncode == (0 if ex[0] else 1))
        if good and not rt_allow:
            # The record names the path explain decided on.
            good = on is not None and any(tglib.field(r, 'path') == on.group(1)
                                          for r in denials)
        tap.ok(good, what, detail)


def test_explain_default(tap):
    """The embedded default, a fake home, the job in a project folder."""
    with Sandbox(tap, 'cli-explain') as sb:
        home, proj = sb.p('home'), sb.p('proj')
        sb.write('home/.ssh/id_rsa', 'KEY\n', 0o600)
        sb.write('home/.aws/credentials', '[default]\n', 0o600)
        sb.write('home/notes.txt', 'notes\n')
        sb.write('proj/data.txt', 'data\n')
        os.symlink(sb.p('home/.ssh/id_rsa'), sb.p('proj/innocent'))
        os.symlink('innocent', sb.p('proj/chain'))
        os.symlink('../home/.aws/credentials', sb.p('proj/rel'))
        os.symlink('../home/.ssh', sb.p('proj/sshdir'))
        os.symlink(sb.p('proj/data.txt'), sb.p('home/.ssh/planted'))
        os.symlink(sb.p('proj/data.txt'), sb.p('proj/fine'))
        env = {'HOME': home, 'TRAINGUARD_POLICY': None}
        before = tglib.snapshot(sb.p('home'))
        rows = [
            ('read', './innocent', './innocent', 'deny'),
            ('read', 'chain', 'chain', 'deny'),
            ('read', 'rel', 'rel', 'deny'),
            ('read', 'sshdir/id_rsa', 'sshdir/id_rsa', 'deny'),
            # ".." after a link to a folder climbs from the link's target.
            ('read', 'sshdir/../.aws/credentials', 'sshdir/../.aws/credentials', 'deny'),
            ('read', '~/.ssh/id_rsa', f'{home}/.ssh/id_rsa', 'deny'),
            ('read', '${HOME}/.aws/credentials', f'{home}/.aws/credentials', 'deny'),
            ('read', '~/notes.txt', f'{home}/notes.txt', 'allow'),
            ('read', '../proj/./data.txt', '../proj/./data.txt', 'allow'),
            # A link inside the secret folder to an allowed file: decided on the file.
            ('read', '~/.ssh/planted', f'{home}/.ssh/planted', 'allow'),
            ('read', 'fine', 'fine', 'allow'),
            ('read', '/proc/self/environ', '/proc/self/environ', 'deny'),
            ('write', 'innocent', 'innocent', 'deny'),
            ('write', 'fine', 'fine', 'allow'),
            ('list', 'sshdir', 'sshdir', 'deny'),
            ('chmod', 'innocent', 'innocent', 'deny'),
            # delete acts on the link itself: a link in the project goes, a link
            # in the secret folder stays.
            ('delete', '~/.ssh/planted', f'{home}/.ssh/planted', 'deny'),
            ('delete', 'innocent', 'innocent', 'allow'),
        ]
        explain_vs_runtime(tap, sb, rows, None, env, proj)
        after = tglib.snapshot(sb.p('home'))
        tap.ok(before == after, 'the fake home is untouched (the secrets, and the planted link)',
               tglib.snapshot_diff(before, after))

        # --op all: one line per class, each agreeing with --op CLASS.
        a = cli(['explain', '--op', 'all', 'chain'], cwd=proj, env=env)
        lines = {ln.split()[0]: ln for ln in a.stdout.splitlines()
                 if ln.split() and ln.split()[0] in ('read', 'write', 'create', 'delete',
                                                      'exec', 'chmod', 'list')}
        tap.ok(a.returncode == 1 and len(lines) == 7, '--op all: seven class lines, exit 1',
               a.stdout + a.stderr)
        agree = []
        for cls, ln in lines.items():
            one = cli(['explain', '--op', cls, 'chain'], cwd=proj, env=env)
            agree.append((cls, ('allowed' in ln.split()[1]) == (one.returncode == 0)))
        tap.ok(all(ok for _, ok in agree), '--op all agrees with --op CLASS for each class',
               f'{agree}\n{a.stdout}')
        tap.ok('link:       %s/chain -> innocent' % proj in a.stdout and
               "on the link '%s/chain' itself" % proj in lines.get('delete', ''),
               '--op all shows each link, and delete on the link itself', a.stdout)
        r = cli(['explain', '--op', 'read', '--op', 'write', 'chain'], cwd=proj, env=env)
        tap.ok(r.returncode == 2 and '--op given twice' in r.stderr and not r.stdout,
               'a repeated --op is refused (exit 2)', r.stdout + r.stderr)
        r = cli(['explain', '--op', 'raed', 'chain'], cwd=proj, env=env)
        tap.ok(r.returncode == 2 and "'raed'" in r.stderr, 'an unknown class: exit 2', r.stderr)


def test_explain_vars(tap):
    """A policy with vars, ${ENV:...}, "~" and links out of a read-only tree."""
    with Sandbox(tap, 'cli-vars', VARS_POLICY) as sb:
        data, home = sb.p('data'), sb.p('home')
        sb.write('data/a.txt', 'a\n')
        sb.write('data/scratch/b.txt', 'b\n')
        sb.write('home/keys/k', 'k\n')
        sb.write('out/c.txt', 'c\n')
        host = os.uname().nodename
        sb.write(f"data/scratch/hosts/{host}/log", "h\n")
        sb.write(f"data/scratch/hosts/not-{host}/log", "h\n")
        os.symlink(sb.p('data/a.txt'), sb.p('out/to-data'))
        os.symlink(sb.p('out'), sb.p('data/scratch/to-out'))
        env = {'TG_CLI_DATA': data, 'HOME': home}
        rows = [
            ('write', '${DATA}/a.txt', f'{data}/a.txt', 'deny'),
            ('write', '${SCRATCH}/b.txt', f'{data}/scratch/b.txt', 'allow'),
            ('write', '${ENV:TG_CLI_DATA}/a.txt', f'{data}/a.txt', 'deny'),
            ('write', '${SCRATCH}/../a.txt', f'{data}/scratch/../a.txt', 'deny'),
            ('write', 'out/to-data', 'out/to-data', 'deny'),
            ('write', '${SCRATCH}/to-out/c.txt', f'{data}/scratch/to-out/c.txt', 'allow'),
            ('chmod', 'out/to-data', 'out/to-data', 'deny'),
            ('read', '~/keys/k', f'{home}/keys/k', 'deny'),
            ('list', '~/keys', f'{home}/keys', 'deny'),
            ('delete', '${DATA}/a.txt', f'{data}/a.txt', 'deny'),
            ('delete', 'out/to-data', 'out/to-data', 'allow'),
            ('write', f'${{SCRATCH}}/hosts/{host}/log', f'{data}/scratch/hosts/{host}/log',
             'deny'),
            ('write', f'${{SCRATCH}}/hosts/not-{host}/log',
             f'{data}/scratch/hosts/not-{host}/log', 'allow'),
        ]
        explain_vs_runtime(tap, sb, rows, sb.policy_path, env, sb.root)
        tap.ok(open(sb.p('data/a.txt')).read() == 'a\n', 'the read-only file is untouched')
        r = cli(['explain', '--policy', sb.policy_path, '--op', 'read', '${NOPE}/x'],
                cwd=sb.root, env=env)
        tap.ok(r.returncode == 2 and 'NOPE' in r.stderr,
               'explain: an unknown variable in PATH is an error naming it', r.stderr)
        r = cli(['explain', '--policy', sb.policy_path, '--env', f'TG_CLI_DATA={sb.p("out")}',
                 '--op', 'write', '${DATA}/c.txt'], cwd=sb.root, env={'HOME': home})
        tap.ok(r.returncode == 1 and f'decided on: {sb.p("out")}/c.txt' in r.stdout,
               'explain --env gives ${ENV:...} its value', r.stdout + r.stderr)


def test_man_examples(tap):
    """Every `$ trainguard explain` example in trainguard(1) prints what the
    page shows, run in the demo's tree (TG_DEMO_ROOT=/srv/demo on the page)."""
    page = man_text()
    blocks = re.findall(r'```\n(\$ [^\n]*\n(?:\$ [^\n]*\n)*)(.*?)```', page, re.S)
    examples = [(cmds, out) for cmds, out in blocks if 'trainguard explain' in cmds]
    tap.ok(len(examples) >= 2, 'trainguard(1) shows explain examples with their output',
           f'{len(examples)} found')
    # The page's tree is no scratch folder: build it beside the build, and
    # skip (visibly) when the build itself lies in one.
    base = os.path.realpath(tglib.BUILD_ROOT)
    if any(base == d or base.startswith(d + '/') for d in ('/tmp', '/var/tmp', '/dev/shm')):
        for cmds, _ in examples:
            tap.skip(f'trainguard(1): {cmds.strip().splitlines()[-1]}',
                     f'the build folder {base} is under a scratch folder the policy names')
        return
    root_dir = tempfile.mkdtemp(prefix='cli-man-', dir=base)
    try:
        root = os.path.join(root_dir, 'srv-demo')
        for rel in ('dataset/train/shard-0001.tar', 'checkpoints/epoch3.pt'):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            open(os.path.join(root, rel), 'w').close()
        os.symlink('../checkpoints/epoch3.pt', os.path.join(root, 'dataset', 'latest.pt'))
        shutil.copy(os.path.join(SOURCE_ROOT, 'examples', 'policies', 'train.cfg'), root_dir)
        env = {'HOME': os.path.join(root_dir, 'home'), 'TRAINGUARD_JOB_ID': 'man-job'}
        for cmds, want in examples:
            cmd_lines = [c[2:] for c in cmds.strip('\n').split('\n')]
            got = ''
            for c in cmd_lines:
                argv = [a.replace('/srv/demo', root) for a in shlex.split(c)]
                if argv[0] == 'export':
                    k, v = argv[1].split('=', 1)
                    env[k] = v
                    continue
                r = cli(argv[1:], cwd=root_dir, env=env)
                got += r.stdout + r.stderr
            got = got.replace(root, '/srv/demo')
            tap.ok(got == want, f'trainguard(1): {cmd_lines[-1]}',
                   'got:\n' + got + 'page:\n' + want)
    finally:
        shutil.rmtree(root_dir, ignore_errors=True)


# ---- check -----------------------------------------------------------------

CHECK_POLICY = '''version = 1;
profiles = ["base", "secrets"];
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "deny";
             create = "deny"; delete = "deny"; chmod = "deny"; };
rules = (
  { id = "aws-creds"; path = "${HOME}/.aws/credentials"; allow = ["read"]; },
  { id = "data"; path = "/data/**"; allow = ["write"]; },
  { id = "data-private"; path = "/data/private/**"; deny = ["write"]; },
  { id = "cache-hole"; path = "/cache/torch/**"; allow = ["write"]; },
  { id = "cache"; path = "/cache/**"; deny = ["write"]; },
  { id = "ckpt"; path = "${ENV:TG_CKPT}/**"; allow = ["write", "create"]; }
);
'''


def test_check(tap):
    with Sandbox(tap, 'cli-check') as sb:
        home = sb.p('home')
        pol = sb.write_policy(CHECK_POLICY, 'train.cfg')
        env = {'HOME': home, 'TG_CKPT': None}
        r = cli(['check', 'train.cfg'], cwd=sb.root, env=env)
        tap.ok(r.returncode == 1 and 'TG_CKPT' in r.stderr,
               'check: an unset ${ENV:...} fails the load', r.stderr)
        r = cli(['check', '--env', 'TG_CKPT=/ckpt', 'train.cfg'], cwd=sb.root, env=env)
        err = r.stderr
        tap.ok(r.returncode == 0 and 'train.cfg: ok (' in r.stdout,
               'check --env TG_CKPT=/ckpt: valid', r.stdout + err)
        tap.ok(re.search(r"^train\.cfg:6: rule \"aws-creds\" allows read of "
                         r"'\$\{HOME\}/\.aws/credentials', which the secrets profile denies "
                         r"\(rule \"secrets\.cloud-aws\", '~/\.aws/\*\*'\)", err, re.M),
               'check warns that an allow of one secret file reopens it, naming both '
               'patterns as written', err)
        tap.ok(re.search(r"^train\.cfg:7: rule \"data\" allows write of '/data/\*\*', but the "
                         r"more specific rule \"data-private\" \(train\.cfg:8\)", err, re.M),
               'check warns for an allow shadowed by a more specific deny', err)
        tap.ok(re.search(r"^train\.cfg:9: rule \"cache-hole\" allows write of "
                         r"'/cache/torch/\*\*'.*which rule \"cache\" \(train\.cfg:10\) denies",
                         err, re.M),
               'check warns for an allow that shadows a less specific deny', err)
        tap.ok('"ckpt"' not in err and '"data-private" allows' not in err,
               'no warning for rules that overrule nothing', err)
        m = re.search(r'(\d+) warnings?\)', r.stdout)
        nwarn = len([ln for ln in err.splitlines() if ln.endswith('(warning)') or
                     ln.endswith('(note)')])
        tap.ok(m and int(m.group(1)) == nwarn, 'the ok line counts every warning printed',
               r.stdout + err)

        # The same from standard input, and as JSON.
        with open(pol) as f:
            text = f.read()
        s = cli(['check', '--env', 'TG_CKPT=/ckpt', '-'], cwd=sb.root, env=env, stdin=text)
        tap.ok(s.returncode == 0 and s.stderr == err.replace('train.cfg', '<stdin>') and
               s.stdout.startswith('<stdin>: ok ('),
               "check - reads the policy from standard input, named <stdin>",
               s.stdout + s.stderr)
        bad = cli(['check', '-'], cwd=sb.root, env=env, stdin='version = 1;\nrulez = ();\n')
        tap.ok(bad.returncode == 1 and bad.stderr.startswith('<stdin>:2: unknown key "rulez"'),
               'check -: errors name <stdin> and the line', bad.stderr)
        j = cli(['check', '--json', '--env', 'TG_CKPT=/ckpt', 'train.cfg', 'missing.cfg'],
                cwd=sb.root, env=env)
        try:
            doc = json.loads(j.stdout)
        except ValueError:
            doc = None
        tap.ok(doc is not None and j.returncode == 1 and not j.stderr,
               'check --json: one JSON document on stdout, nothing on stderr, exit 1 '
               'for an invalid file', j.stdout + j.stderr)
        if doc:
            p0, p1 = doc['policies']
            codes = sorted(d.get('code', '') for d in p0['diagnostics'])
            sec = [d for d in p0['diagnostics'] if d.get('code') == 'secret-reopened']
            tap.ok(p0['valid'] and p0['file'] == 'train.cfg' and p0['warnings'] == nwarn and
                   codes.count('allow-shadowed') == 1 and codes.count('allow-shadows-deny') == 1,
                   'check --json: the valid policy with its warnings by code', json.dumps(p0))
            tap.ok(sec and sec[0]['line'] == 6 and sec[0]['classes'] == ['read'] and
                   sec[0]['allow']['pattern'] == '${HOME}/.aws/credentials' and
                   sec[0]['path'] == f'{home}/.aws/credentials' and
                   sec[0]['deny']['id'] == 'secrets.cloud-aws',
                   'check --json: the secret warning with rule, pattern as written and path',
                   json.dumps(sec))
            tap.ok(not p1['valid'] and p1['errors'] >= 1 and doc['valid'] is False and
                   p1['diagnostics'][0]['level'] == 'error' and
                   p1['diagnostics'][0]['file'] == 'missing.cfg',
                   'check --json: the missing file is invalid, with its error',
                   json.dumps(p1))

        # --var gives built-ins: the secrets profile's ${PWD}/.env* follows PWD.
        sb.write_policy('version = 1;\nprofiles = ["secrets"];\nrules = (\n'
                        '  { id = "dotenv"; path = "/scratch/job/.env"; allow = ["read"]; }\n);\n',
                        'env.cfg')
        r0 = cli(['check', 'env.cfg'], cwd=sb.root, env=env)
        r1 = cli(['check', '--var', 'PWD=/scratch/job', 'env.cfg'], cwd=sb.root, env=env)
        tap.ok('secrets.dotenv' not in r0.stderr and
               re.search(r'rule "dotenv" allows read of \'/scratch/job/\.env\'.*'
                         r'"secrets\.dotenv", \'\$\{PWD\}/\.env\*\'', r1.stderr),
               'check --var PWD=...: the policy is checked as if run there', r0.stderr +
               r1.stderr)
        u = cli(['check', '--var', 'DATA=/x', 'env.cfg'], cwd=sb.root, env=env)
        tap.ok(u.returncode == 2 and "'DATA' is not a built-in variable" in u.stderr,
               'check --var of a non-built-in: exit 2 and why', u.stderr)
        u = cli(['check', '-', '-'], cwd=sb.root, env=env, stdin='')
        tap.ok(u.returncode == 2, "check - -: exit 2", u.stderr)


def test_run_signals(tap):
    """A SIGTERM sent to `trainguard run` (a container runtime, Slurm) reaches
    the job, and run exits with the job's status, not its own death."""
    with Sandbox(tap, 'cli-signals') as sb:
        marker = os.path.join(sb.root, 'ready')
        script = f'trap "echo got-term; exit 77" TERM; : > {marker}; ' \
                 'i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; exit 3'
        env = tglib.base_env()
        if tglib.PRELOAD_FIRST:
            env['LD_PRELOAD'] = tglib.PRELOAD_FIRST
        p = subprocess.Popen([tglib.CLI, 'run', '--log', sb.new_log('signals'), '--',
                              '/bin/sh', '-c', script], cwd=sb.root, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(200):
            if os.path.exists(marker):
                break
            time.sleep(0.05)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        tap.ok(p.returncode == 77, 'run: SIGTERM reaches the job and its exit status 77 is kept',
               f'rc={p.returncode} out={out!r} err={err!r}')
        tap.ok('got-term' in out, 'run: the job\'s TERM trap ran', out)


def test_run_handshake(tap):
    """run knows the guard is on: a program that can never load it is not
    started, and a job whose loader did not load it is stopped."""
    with Sandbox(tap, 'cli-handshake') as sb:
        ldconfig = '/usr/sbin/ldconfig'
        r = subprocess.run(['file', '-L', ldconfig], capture_output=True, text=True)
        if 'statically linked' not in r.stdout:
            tap.skip('run refuses a static program', f'{ldconfig} is not static here')
        else:
            r = cli(['run', '--', ldconfig, '-p'], cwd=sb.root)
            tap.ok(r.returncode == 126 and 'is a static program' in r.stderr and
                   'not started' in r.stderr and r.stdout == '',
                   'run: a static program is refused before it starts (126)', r.stderr)
        libm = '/lib/x86_64-linux-gnu/libm.so.6'
        r = cli(['run', '--', '/bin/true'], cwd=sb.root, env={'TRAINGUARD_LIBRARY': libm})
        tap.ok(r.returncode == 126 and 'ran UNGUARDED' in r.stderr,
               'run: a job that ends without the guard answering is reported (126)', r.stderr)
        start = time.monotonic()
        r = cli(['run', '--start-timeout', '1', '--', '/bin/sleep', '20'], cwd=sb.root,
                env={'TRAINGUARD_LIBRARY': libm})
        took = time.monotonic() - start
        tap.ok(r.returncode == 126 and 'did not load the guard within 1 s' in r.stderr and
               took < 10, 'run: a job that never loads the guard is stopped after '
               '--start-timeout', f'rc={r.returncode} took={took:.1f}s {r.stderr}')
        r = cli(['run', '--', '/bin/sh', '-c', 'echo $TRAINGUARD_HANDSHAKE'], cwd=sb.root)
        tap.ok(r.returncode == 0 and r.stdout.strip() == '',
               'run: the guarded job answers and its program never sees the handshake',
               r.stdout + r.stderr)
        # The program the user named runs from a scratch folder under the
        # default fence (run grants it exec), but nothing else dropped there.
        named, dropped = sb.p('named-probe'), sb.p('dropped-probe')
        for dst in (named, dropped):
            shutil.copy(tglib.PROBE, dst)
            os.chmod(dst, 0o755)
        r = cli(['run', '--', named, 'open', '/etc/hostname', 'O_RDONLY'], cwd=sb.root)
        tap.ok(r.returncode == 0 and 'open ret=' in r.stdout and 'errno=0' in r.stdout,
               'run: the program named on the command line starts from a scratch folder',
               r.stdout + r.stderr)
        r = cli(['run', '--', '/bin/sh', '-c', f'exec {dropped} open /etc/hostname O_RDONLY'],
                cwd=sb.root)
        tap.ok(r.returncode != 0 and 'open ret=' not in r.stdout,
               'run: a program dropped beside it is still not run', r.stdout + r.stderr)
        # The library's side: "active PID", or "unguarded PID" under
        # TRAINGUARD_ON_ERROR=allow when its policy does not load.
        for what, extra, want in (
                ('active', {}, 'active'),
                ('unguarded', {'TRAINGUARD_POLICY': sb.p('missing.cfg'),
                               'TRAINGUARD_ON_ERROR': 'allow'}, 'unguarded')):
            rd, wr = os.pipe()
            env = tglib.base_env()
            env.update({'LD_PRELOAD': ':'.join(x for x in (tglib.PRELOAD_FIRST, tglib.LIBRARY)
                                               if x),
                        'TRAINGUARD_LOG': 'stderr', 'TRAINGUARD_HANDSHAKE': str(wr)})
            env.update(extra)
            p = subprocess.Popen(['/bin/true'], env=env, pass_fds=(wr,),
                                 stderr=subprocess.DEVNULL)
            os.close(wr)
            got = os.read(rd, 64).decode()
            os.close(rd)
            p.wait()
            tap.ok(got == f'{want} {p.pid}\n', f'the library answers "{want} PID" ({what})',
                   repr(got))


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    for t in (test_help, test_job_id, test_explain_default, test_explain_vars,
              test_man_examples, test_check, test_run_signals, test_run_handshake):
        tap.group(t)
    tap.done()


main()
