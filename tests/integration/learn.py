#!/usr/bin/env python3
"""trainguard learn (TAP): the round trip from learn mode to enforce.

- A real job (python3: reads a dataset folder of 48 files in 4 sub-folders,
  writes checkpoints through a temporary name and a rename, makes temporary
  files and a temporary folder, runs a subprocess, and reads a fake
  ~/.ssh/id_rsa in a temporary HOME) runs in learn mode; `trainguard learn`
  drafts a policy; `trainguard check` passes it (exit 0); the same job under
  the draft in enforce mode has exactly one denial, the secret read (EACCES,
  the secret's bytes not in the output), and finishes.
- The draft: the dataset generalized to ${PWD}/data/** (4 folders of 12), the
  temporary files to ${TMPDIR}, no rule naming .ssh, a review item naming
  the secret, its rule and the process; a count comment above every rule;
  the HOME the records imply; exec limited (a program that did not run is
  denied); --siblings above the count keeps exact paths.
- --base: only what the base denies is added (no dataset rule when the base
  grants it), from a learn log and from an audit-mode log; both drafts pass
  check and the enforce run has only the secret denial.
- --tighten: the draft has nothing to tighten (exit 0); a wide policy gets
  its unused rule, its unused class and its broader pattern listed (exit 1);
  from an audit-mode log, its audit = true rule is judged and the others
  are "unknown". learn from an audit log without --base says to give it.
- A folder pattern never takes in a secret (/proc/PID/** would hold
  /proc/PID/environ): such a folder stays exact paths.
- A multiprocessing pool (the shape of DataLoader workers; torch is not
  needed) round-trips the same way, with no denial.
- The demo job (examples/train_demo.py, with the layout examples/demo.sh
  makes) in learn mode: its draft passes check, and under it in enforce
  mode the job finishes training and every denial is a rule of the secrets
  profile (the credential reads, ~/.bashrc, the miner's exec). The shard
  the payload overwrote in the learned run is learned, and flagged REVIEW
  as a write into a folder otherwise only read.
- `trainguard learn --help` options are all in the LEARN section of
  trainguard(1).
"""
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import CLI, PYTHON, SOURCE_ROOT, Sandbox  # noqa: E402

SECRET = 'TG-LEARN-FAKE-SECRET-7f3a9c'

JOB = r'''
import os, subprocess, sys, tempfile
n = 0
for folder, subs, names in os.walk('data'):
    subs.sort()
    for name in sorted(names):
        with open(os.path.join(folder, name)) as f:
            n += len(f.read())
os.makedirs('ckpt', exist_ok=True)
for epoch in range(3):
    fd, tmp = tempfile.mkstemp(dir='ckpt', prefix='.epoch-%d.' % epoch, suffix='.tmp')
    with os.fdopen(fd, 'w') as f:
        f.write('weights %d\n' % epoch)
    os.replace(tmp, 'ckpt/epoch-%d.ckpt' % epoch)
with tempfile.NamedTemporaryFile() as t:
    t.write(b'scratch')
d = tempfile.mkdtemp()
with open(os.path.join(d, 'part'), 'w') as f:
    f.write('x')
os.unlink(os.path.join(d, 'part'))
os.rmdir(d)
r = subprocess.run(['/usr/bin/true'])
try:
    with open(os.path.expanduser('~/.ssh/id_rsa')) as f:
        print('secret:', f.read().strip())
except OSError as e:
    print('secret: errno', e.errno)
print('done', n, r.returncode)
'''


def cli(args, cwd=None, env=None):
    e = tglib.base_env()
    e.update(env or {})
    return subprocess.run([CLI] + args, cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=120)


def make_job(sb):
    for part in range(4):
        for i in range(12):
            sb.write(f'data/part-{part}/shard-{i:02d}.txt', f'{part},{i}\n' * 5)
    sb.write('home/.ssh/id_rsa', SECRET + '\n', mode=0o600)
    sb.write('job.py', JOB)
    sb.mkdir('tmp')
    return {'HOME': sb.p('home'), 'TMPDIR': sb.p('tmp')}


def decisions(records):
    return [r for r in records if r.get('unmapped', {}).get('trainguard', {}).get('decision')]


def denials(records):
    return [r for r in records if tglib.tg(r).get('decision') == 'deny']


def rules_of(draft):
    """(id, path, allow) of every rule the draft adds, and the comment above."""
    out = []
    lines = draft.splitlines()
    for i, ln in enumerate(lines):
        m = re.match(r'\s*\{ id = "(learned\.[^"]+)"; path = "([^"]*)"; allow = \[([^\]]*)\]', ln)
        if m:
            comment = lines[i - 1] if i else ''
            if comment.lstrip().startswith('# create_mode'):
                comment = lines[i - 2]
            out.append((m.group(1), m.group(2), m.group(3).replace('"', '').split(', '),
                        comment))
    return out


def check_enforce(tap, sb, env, policy, what):
    r = sb.run([PYTHON, 'job.py'], label=f'enforce {what}', policy=policy, mode='enforce',
               env=env, cli=True)
    den = denials(r.records)
    tap.ok(r.rc == 0 and 'done' in r.out, f'{what}: the job finishes under the draft in '
           'enforce mode', r.describe())
    tap.ok(len(den) == 1 and tglib.record_path(den[0]) == sb.p('home/.ssh/id_rsa') and
           den[0].get('status_code') == 'EACCES' and den[0]['policy']['uid'] == 'secrets.ssh',
           f'{what}: its only denial is the secret read (EACCES, secrets.ssh)', r.describe())
    tap.ok(SECRET not in r.out and SECRET not in r.err and 'secret: errno 13' in r.out,
           f'{what}: the secret\'s bytes are not in the output; the job saw EACCES', r.out)


def test_round_trip(tap):
    with Sandbox(tap, 'learn') as sb:
        env = make_job(sb)
        r = sb.run([PYTHON, 'job.py'], label='learn', mode='learn', env=env, cli=True)
        tap.ok(r.rc == 0 and SECRET in r.out and len(decisions(r.records)) > 20,
               'the job runs in learn mode (everything allowed, accesses logged)',
               r.describe())
        draft = sb.p('draft.cfg')
        lr = cli(['learn', r.log, '-o', draft], cwd=sb.root, env={'TMPDIR': sb.p('tmp')})
        tap.ok(lr.returncode == 0 and os.path.exists(draft),
               'trainguard learn LOG -o draft.cfg exits 0', lr.stdout + lr.stderr)
        if not os.path.exists(draft):
            return
        text = open(draft).read()
        tap.diag('the draft:\n' + text)
        tap.ok(f"${{HOME}} = '{sb.p('home')}' (a record of a rule" in lr.stderr and
               f"${{PWD}} = '{sb.root}'" in lr.stderr,
               'HOME is read back from a record of a "~/" rule, PWD from the records',
               lr.stderr)
        rules = rules_of(text)
        paths = {p: allow for _, p, allow, _ in rules}
        tap.ok(paths.get('${PWD}/data/**') in (['read'], ['read', 'list']) and
               not any(p.startswith('${PWD}/data/part') and 'read' in a
                       for p, a in paths.items()),
               'the dataset (48 files in 4 folders) is one rule ${PWD}/data/** allowing read (and list)',
               str(paths))
        ckpt = [a for p, a in paths.items() if p.startswith('${PWD}/ckpt')]
        tap.ok(ckpt and all('exec' not in a for a in ckpt) and
               any('create' in a for a in ckpt) and
               not any(re.search(r'epoch-\d', p) for p in paths),
               'the checkpoints get create, never exec, and no rule names one file',
               str(paths))
        tap.ok(any(p.startswith('${TMPDIR}/') and 'create' in a and 'delete' in a
                   for p, a in paths.items()) and not any(p.startswith(sb.p('tmp'))
                                                          for p in paths),
               'temporary files and folders are written under ${TMPDIR}', str(paths))
        tap.ok(paths.get('/usr/bin/true') == ['exec'] and
               'learned.exec-only-what-ran' in text,
               'exec: the program that ran is allowed by its path; the rest is denied',
               str(paths))
        tap.ok(not any('.ssh' in p for p in paths) and
               re.search(r"^#\s+read '\$\{HOME\}/\.ssh/id_rsa': 1 access, denied by rule "
                         r'"secrets\.ssh"; asked by python3[.\d]* \(pid \d+', text, re.M),
               'the secret read is a commented review item naming the rule and the '
               'process, never a rule', text)
        tap.ok(rules and all(re.match(r'\s*# \d+ access(es)? to \d+ paths? \(', c)
                             for _, _, _, c in rules),
               'every rule is commented with the accesses it covers',
               '\n'.join(c for _, _, _, c in rules))
        ck = cli(['check', draft], cwd=sb.root, env=env)
        tap.ok(ck.returncode == 0, 'trainguard check draft.cfg exits 0', ck.stdout + ck.stderr)
        ex = cli(['explain', '--policy', draft, '--op', 'exec', '/usr/bin/env'], cwd=sb.root,
                 env=env)
        tap.ok(ex.returncode == 1, 'a program that did not run may not run under the draft',
               ex.stdout + ex.stderr)
        check_enforce(tap, sb, env, draft, 'learn draft')

        exact = cli(['learn', r.log, '--siblings', '1000'], cwd=sb.root,
                    env={'TMPDIR': sb.p('tmp')})
        tap.ok(exact.returncode == 0 and '"${PWD}/data/part-1/shard-07.txt"' in exact.stdout
               and '${PWD}/data/**' not in exact.stdout,
               '--siblings above the count keeps exact paths', exact.stdout + exact.stderr)

        t = cli(['learn', '--tighten', draft, r.log], cwd=sb.root, env={'TMPDIR': sb.p('tmp')})
        tap.ok(t.returncode == 0 and 'unused:' not in t.stdout and 'broader:' not in t.stdout,
               '--tighten: the draft has nothing to tighten', t.stdout + t.stderr)
        wide = sb.write_policy('''version = 1;
profiles = ["base", "secrets"];
defaults = { read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; };
rules = (
  { id = "work"; path = "${PWD}/**"; allow = ["read", "write", "create", "delete", "chmod"];
    audit = true; },
  { id = "scratch"; path = "${TMPDIR}/**"; allow = ["read", "write", "create", "delete"]; },
  { id = "never"; path = "/srv/learn-test/**"; allow = ["read"]; }
);
''', 'wide.cfg')
        t = cli(['learn', '--tighten', wide, r.log], cwd=sb.root, env={'TMPDIR': sb.p('tmp')})
        tap.ok(t.returncode == 1 and re.search(r'^unused: rule "never"', t.stdout, re.M) and
               re.search(r'^broader: rule "work" .*allows chmod, which no access used',
                         t.stdout, re.M) and
               re.search(r"^broader: rule \"work\" .*fit in .*'\$\{PWD\}/data/\*\*'",
                         t.stdout, re.M),
               '--tighten lists the unused rule, the unused class and the broader pattern',
               t.stdout + t.stderr)
        # Audit mode logs the allowed accesses of audit = true rules only.
        a = sb.run([PYTHON, 'job.py'], label='audit wide', policy=wide, mode='audit', env=env,
                   cli=True)
        t = cli(['learn', '--tighten', wide, a.log], cwd=sb.root, env={'TMPDIR': sb.p('tmp')})
        tap.ok(t.returncode == 1 and
               re.search(r'^broader: rule "work" .*allows chmod, which no access used',
                         t.stdout, re.M) and
               re.search(r'^unknown: rule "never" .*not logged in audit mode', t.stdout, re.M),
               '--tighten on an audit log: the audit = true rule is judged, the others are '
               'unknown', t.stdout + t.stderr)
        n = cli(['learn', a.log], cwd=sb.root, env={'TMPDIR': sb.p('tmp')})
        tap.ok(n.returncode == 0 and 'give that policy as --base' in n.stderr,
               'learn from an audit log without --base says to give the policy as --base',
               n.stderr)


BASE = '''# the job's current policy: reads allowed, writes only where named
version = 1;
profiles = ["base", "secrets"];
defaults = { read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; };
rules = (
  { id = "dataset"; path = "${PWD}/data/**"; allow = ["read", "list"];
    deny = ["write", "create", "delete"]; errno = "EROFS"; }
);
'''


def test_base(tap):
    with Sandbox(tap, 'learn-base') as sb:
        env = make_job(sb)
        base = sb.write_policy(BASE, 'base.cfg')
        for mode in ('learn', 'audit'):
            r = sb.run([PYTHON, 'job.py'], label=f'{mode} with base', policy=base, mode=mode,
                       env=env, cli=True)
            draft = sb.p(f'draft-{mode}.cfg')
            lr = cli(['learn', '--base', base, r.log, '-o', draft], cwd=sb.root,
                     env={'TMPDIR': sb.p('tmp')})
            text = open(draft).read() if os.path.exists(draft) else ''
            paths = {p: a for _, p, a, _ in rules_of(text)}
            tap.ok(lr.returncode == 0 and BASE.strip().splitlines()[-2].strip() in text and
                   paths and not any(p.startswith('${PWD}/data') for p in paths) and
                   not any('read' in a for a in paths.values()),
                   f'--base from a {mode} log: the base kept, only what it denies added '
                   '(no dataset rule, no read)', lr.stderr + '\n' + text)
            ck = cli(['check', draft], cwd=sb.root, env=env)
            tap.ok(ck.returncode == 0, f'--base from a {mode} log: the draft passes check',
                   ck.stdout + ck.stderr)
            check_enforce(tap, sb, env, draft, f'--base draft from a {mode} log')


WORKERS = r'''
import multiprocessing as mp, os
def work(p):
    with open(p) as f:
        return len(f.read())
if __name__ == '__main__':
    files = [os.path.join(d, n) for d, _, ns in sorted(os.walk('data')) for n in sorted(ns)]
    with mp.Pool(2) as pool:
        total = sum(pool.map(work, files))
    q = mp.Queue()
    q.put(total)
    print('done', q.get())
'''


def test_workers(tap):
    """Worker processes (the shape of DataLoader workers, without torch):
    their accesses are learned too, and the draft lets them all run."""
    with Sandbox(tap, 'learn-workers') as sb:
        env = make_job(sb)
        sb.write('workers.py', WORKERS)
        r = sb.run([PYTHON, 'workers.py'], label='workers learn', mode='learn', env=env,
                   cli=True)
        pids = {rec['actor']['process']['pid'] for rec in decisions(r.records)
                if tglib.record_path(rec).startswith(sb.p('data') + '/')}
        tap.ok(r.rc == 0 and 'done' in r.out and len(pids) >= 2,
               'a multiprocessing pool runs in learn mode; its workers\' reads are logged',
               r.describe())
        draft = sb.p('workers.cfg')
        lr = cli(['learn', r.log, '-o', draft], cwd=sb.root, env={'TMPDIR': sb.p('tmp')})
        ck = cli(['check', draft], cwd=sb.root, env=env)
        tap.ok(lr.returncode == 0 and ck.returncode == 0,
               'its draft is written and passes check', lr.stderr + ck.stdout + ck.stderr)
        e = sb.run([PYTHON, 'workers.py'], label='workers enforce', policy=draft,
                   mode='enforce', env=env, cli=True)
        tap.ok(e.rc == 0 and 'done' in e.out and not denials(e.records),
               'the pool runs under its draft in enforce mode with no denial', e.describe())


def demo_layout(sb):
    import random
    rnd = random.Random(2024)
    for part in range(4):
        for shard in range(50):
            rows = ''.join(f'{rnd.uniform(-2, 2):.4f},{rnd.uniform(-2, 2):.4f},{shard % 2}\n'
                           for _ in range(5))
            sb.write(f'dataset/part-{part}/shard-{shard:03d}.csv', rows)
    sb.write('home/.aws/credentials', '[default]\naws_access_key_id = AKIAFAKELEARN\n', 0o600)
    sb.write('home/.ssh/id_rsa', SECRET + '\n', 0o600)
    sb.write('home/.bashrc', '# FAKE\n', 0o644)
    # The demo drops its miner in /tmp itself: its job's TMPDIR is /tmp.
    return {'HOME': sb.p('home'), 'TG_DEMO_ROOT': sb.root, 'TMPDIR': '/tmp'}


def test_demo(tap):
    demo = os.path.join(SOURCE_ROOT, 'examples', 'train_demo.py')
    if not os.path.exists(demo):
        tap.skip('the demo job round trip', 'examples/train_demo.py does not exist')
        return
    with Sandbox(tap, 'learn-demo') as sb:
        env = demo_layout(sb)
        r = sb.run([PYTHON, demo], label='demo learn', mode='learn', env=env, cli=True)
        tap.ok(r.rc == 0 and 'training finished' in r.out, 'the demo job runs in learn mode',
               r.describe())
        draft = sb.p('demo-draft.cfg')
        lr = cli(['learn', r.log, '-o', draft], cwd=sb.root, env={'TMPDIR': env['TMPDIR']})
        text = open(draft).read() if os.path.exists(draft) else ''
        tap.diag('the demo draft:\n' + text)
        tap.ok(re.search(r'# REVIEW: changes a file in a folder the job otherwise only reads '
                         r'\(\$\{PWD\}/dataset/\*\*\);\n.*\n.*'
                         r'path = "\$\{PWD\}/dataset/part-0/shard-000\.csv"; allow = \["write"\]',
                         text),
               'the poisoned shard (a write in the read-only dataset) is flagged for review',
               text)
        tap.ok(lr.returncode == 0 and '${PWD}/dataset/**' in text and
               "'${HOME}/.aws/credentials'" in text and "'${HOME}/.bashrc'" in text,
               'the demo draft: the dataset generalized; the credentials and ~/.bashrc are '
               'review items', lr.stderr + '\n' + text)
        ck = cli(['check', draft], cwd=sb.root, env=env)
        tap.ok(ck.returncode == 0, 'the demo draft passes check', ck.stdout + ck.stderr)
        sb.run(['/bin/rm', '-rf', sb.p('checkpoints')], guard=False, validate=False)
        e = sb.run([PYTHON, demo], label='demo enforce', policy=draft, mode='enforce', env=env,
                   cli=True)
        den = denials(e.records)
        tap.ok(e.rc == 0 and 'training finished' in e.out,
               'the demo job finishes training under its draft', e.describe())
        tap.ok(den and all(d['policy']['uid'].startswith('secrets.') for d in den) and
               'AKIAFAKELEARN' not in e.out and SECRET not in e.out,
               'under the draft every denial is a secrets rule; no credential is read',
               e.describe())


def test_secret_under_folder(tap):
    """A folder pattern may not take in a secret whose pattern starts with a
    wildcard: five files of /proc/PID read would make /proc/PID/**, which
    covers /proc/PID/environ (secrets.proc-environ): the folder is kept
    exact. Also a record that is not JSON is skipped with a message."""
    with Sandbox(tap, 'learn-proc') as sb:
        log = sb.p('synthetic.jsonl')
        with open(log, 'w') as f:
            f.write('not json\n')
            for name in ('maps', 'mountinfo', 'smaps', 'numa_maps', 'stack'):
                f.write(json.dumps({
                    'class_uid': 1001, 'file': {'path': f'/proc/4242/{name}'},
                    'actor': {'process': {'name': 'py', 'pid': 7,
                                          'working_directory': sb.root}},
                    'metadata': {'correlation_uid': 'job-1'},
                    'unmapped': {'trainguard': {'decision': 'learn', 'mode': 'learn',
                                                'classes': ['read']}}}) + '\n')
        r = cli(['learn', '--home', sb.p('home'), log], cwd=sb.root)
        tap.ok(r.returncode == 0 and '"/proc/4242/maps"' in r.stdout and
               '/proc/4242/**' not in r.stdout and 'not a JSON record' in r.stderr,
               'a folder holding a secret (/proc/PID/environ) stays exact paths',
               r.stdout + r.stderr)
        ex = sb.write('draft.cfg', r.stdout)
        e = cli(['explain', '--policy', ex, '--op', 'read', '/proc/4242/environ'], cwd=sb.root,
                env={'HOME': sb.p('home')})
        tap.ok(e.returncode == 1, 'the draft denies /proc/PID/environ', e.stdout + e.stderr)


def test_help(tap):
    h = cli(['learn', '--help'])
    page = open(os.path.join(SOURCE_ROOT, 'man', 'trainguard.1.scd')).read()
    m = re.search(r'^## trainguard learn\n(.*?)(?=^## |^# )', page, re.M | re.S)
    section = m.group(1) if m else ''
    opts = sorted(set(re.findall(r'(?<![\w-])--[a-z][a-z-]+', h.stdout)))
    missing = [o for o in opts if o.replace('-', r'\-') not in section and o not in section]
    tap.ok(h.returncode == 0 and section and not missing,
           'every option of trainguard learn --help is in trainguard(1)', str(missing))
    bad = cli(['learn', '--tighten', 'x.cfg', '--base', 'y.cfg', 'log'])
    tap.ok(bad.returncode == 2, '--tighten with --base is a usage error', bad.stderr)
    none = cli(['learn', '/dev/null'])
    tap.ok(none.returncode == 2 and 'no decision records' in none.stderr,
           'a log without decision records is refused with a hint', none.stderr)


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    tap.group(test_help)
    tap.group(test_round_trip)
    tap.group(test_base)
    tap.group(test_workers)
    tap.group(test_secret_under_folder)
    tap.group(test_demo)
    tap.done()


if __name__ == '__main__':
    main()
