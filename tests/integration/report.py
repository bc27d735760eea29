#!/usr/bin/env python3
"""trainguard report (TAP).

- counts: logs written by real programs under the guard (cat of a denied
  file N times, a denied write, a refused exec, audited reads, an audit-mode
  run, an exec of a set-uid program the guard cannot follow) are reported
  with the counts this script computes from the records itself, in text and
  in json: totals, by rule, by folder and path, by executable and command
  line, the timeline, first and last, unguarded execs; a record with
  unmapped.trainguard.count counts that many, a kill is counted.
- filters: --since (a time between two records, a relative time, the
  future) and --rule (an id, a glob) keep exactly the records they name.
- input: a malformed line is named on stderr with its file and number and
  skipped; a missing log, a folder and bad usage exit 2; -o writes a file.
- bounded: a log of many distinct paths (more than the report keeps) is
  counted exactly, with a lost row, in bounded memory.
- escaping: a path with markup and control characters comes out inert in
  text (\\xNN) and html (entities).
- html: one self-contained page that a real headless Chromium loads without
  console errors; its tables hold the expected counts (read from the DOM);
  a screenshot is kept in the build folder (tests/integration/report.png).
  No Chromium, chromedriver or selenium: a visible SKIP.
"""
import collections
import copy
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import CLI, Sandbox  # noqa: E402

POLICY = '''version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
rules = (
  { id = "secret"; path = "{root}/secret/**"; deny = ["read", "write", "create", "delete"]; },
  { id = "dataset"; path = "{root}/data/**"; allow = ["read", "list"];
    deny = ["write", "create", "delete", "chmod"]; errno = "EROFS"; audit = true; },
  { id = "tools"; path = "{root}/bin/**"; allow = ["read", "list"]; deny = ["exec"]; },
  { id = "setuid-ok"; path = "/usr/bin/mount"; allow = ["read", "exec"]; audit = true; },
  { id = "tripwire"; path = "{root}/tripwire/**"; deny = ["read"]; on_deny = "kill"; }
);
'''
NCAT = 7


def report(args, stdin=None):
    return subprocess.run([CLI, 'report'] + args, capture_output=True, text=True, timeout=120,
                          input=stdin, env=tglib.base_env(), errors='replace')


# ---- the counts, computed here from the records ----------------------------

def tgf(rec):
    return rec.get('unmapped', {}).get('trainguard', {})


def killed(rec):
    t = tgf(rec)
    return (t.get('decision') == 'kill' or t.get('killed') is True or
            t.get('on_deny') == 'kill' or 'kill' in str(rec.get('disposition', '')).lower())


def kind(rec):
    """(denied, would, audited, killed) of one record times its count, or
    None for a record without a decision."""
    d = tgf(rec).get('decision')
    if d is None:
        return None
    # OCSF's count (folded and aggregated records), or
    # unmapped.trainguard.count (older logs): the larger.
    cs = [c for c in (rec.get('count'), tgf(rec).get('count')) if isinstance(c, int)]
    n = max(cs + [1])
    if d in ('deny', 'kill'):
        return (n, 0, 0, n if killed(rec) else 0)
    if d == 'would_deny' or (d == 'learn' and rec.get('is_alert') is True):
        return (0, n, 0, 0)
    return (0, 0, n, 0)


def rpath(rec):
    f = rec.get('file') or rec.get('process', {}).get('file') or {}
    return f.get('path', '(no path)'), f.get('parent_folder')


def exe(rec):
    p = rec.get('actor', {}).get('process', {})
    return p.get('file', {}).get('path') or p.get('name') or '(unknown)', p.get('cmd_line', '')


def expected(records):
    """Everything the report shows, from the records alone."""
    z = (0, 0, 0, 0)

    def plus(a, b):
        return tuple(x + y for x, y in zip(a, b))

    e = {'totals': z, 'rule': collections.defaultdict(lambda: z),
         'folder': collections.defaultdict(lambda: z), 'path': collections.defaultdict(lambda: z),
         'exe': collections.defaultdict(lambda: z), 'cmd': collections.defaultdict(lambda: z),
         'minute': collections.defaultdict(lambda: z), 'unguarded': collections.defaultdict(
             lambda: z), 'times': [], 'records': 0, 'other': 0}
    for r in records:
        e['records'] += 1
        k = kind(r)
        if k is None:
            e['other'] += 1
            continue
        e['totals'] = plus(e['totals'], k)
        e['rule'][r.get('policy', {}).get('uid', '(no rule)')] = plus(
            e['rule'][r.get('policy', {}).get('uid', '(no rule)')], k)
        path, folder = rpath(r)
        folder = os.path.dirname(path)
        e['path'][path] = plus(e['path'][path], k)
        e['folder'][folder] = plus(e['folder'][folder], k)
        x, cmd = exe(r)
        e['exe'][x] = plus(e['exe'][x], k)
        e['cmd'][(x, cmd)] = plus(e['cmd'][(x, cmd)], k)
        if r.get('time'):
            e['times'].append(r['time'])
            m = r['time'] // 60000 * 60000
            e['minute'][m] = plus(e['minute'][m], k)
        why = tgf(r).get('unguarded')
        if why:
            e['unguarded'][(r.get('process', {}).get('file', {}).get('path', path), why)] = plus(
                e['unguarded'][(r.get('process', {}).get('file', {}).get('path', path), why)], k)
    return e


def counts_of(o):
    return (o['denied'], o['would_deny'], o['audited'], o['killed'])


def read_records(*logs):
    out = []
    for log in logs:
        records, bad = tglib.read_log(log, lifecycle=True)  # the report reads every line
        out += records
    return out


# ---- the logs: real programs under the guard --------------------------------

def make_logs(tap, sb):
    sb.write('secret/key', 'not for the job\n')
    sb.write('data/shard.csv', '1,2,3\n')
    sb.write('bin/tool', '#!/bin/sh\necho tool ran\n', mode=0o755)
    sb.mkdir('out')
    logs = []
    r = sb.run(['sh', '-c', f'for i in $(seq {NCAT}); do cat secret/key; done; '
                'cat data/shard.csv data/shard.csv >/dev/null'], label='cat-denied')
    tap.ok(len(tglib.find(r.records, decision='deny', uid='secret')) >= NCAT,
           f'{NCAT} cats of a denied file leave at least {NCAT} denials', r.describe())
    logs.append(r.log)
    r = sb.run(['sh', '-c', 'echo x > data/shard.csv'], label='denied-write', log=r.log,
               validate=False)
    r = sb.run(['sh', '-c', './bin/tool'], label='denied-exec', log=r.log, validate=False)
    tap.ok(bool(tglib.find(r.records, decision='deny', uid='tools')) and
           bool(tglib.find(r.records, decision='deny', uid='dataset')),
           'a denied write and a refused exec are in the log', r.describe())
    tglib.validate_log(tap, r.log, 'the first log')
    # The second log: audit mode, and a set-uid program the guard cannot follow.
    r2 = sb.run(['sh', '-c', 'cat secret/key; /usr/bin/mount --version'], label='audit',
                mode='audit')
    tap.ok(bool(tglib.find(r2.records, decision='would_deny')),
           'audit mode logs a would_deny', r2.describe())
    unguarded = [x for x in r2.records if tgf(x).get('unguarded')]
    tap.ok(bool(unguarded), 'the exec of set-uid mount is logged as unguarded', r2.describe())
    logs.append(r2.log)
    return logs


# ---- text and json against the records ---------------------------------------

TEXT_ROW = re.compile(r'^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s\s(.*)$')


def text_sections(out):
    """Section title -> its rows (counts, rest of the line)."""
    sections, cur = {}, None
    for line in out.splitlines():
        if line and not line.startswith(' '):
            cur = sections.setdefault(line.split(' (')[0], [])
            continue
        m = TEXT_ROW.match(line)
        if cur is not None and m:
            cur.append((tuple(int(x) for x in m.groups()[:4]), m.group(5)))
    return sections


def text_totals(out):
    t = {}
    for name in ('denied', 'would-deny', 'audited', 'killed'):
        m = re.search(r'^  %s\s+(\d+)' % name, out, re.M)
        t[name] = int(m.group(1)) if m else None
    return (t['denied'], t['would-deny'], t['audited'], t['killed'])


def shown(s):
    """S as the text report shows it: control characters as \\xNN."""
    return re.sub(r'[\x00-\x1f\x7f\x80-\x9f]', lambda m: '\\x%02x' % ord(m.group()), s)


def keyed(d):
    return {shown(k) if isinstance(k, str) else tuple(map(shown, k)): v for k, v in d.items()}


def check_text(tap, logs, e, what, verified):
    r = report(['--top', '1000'] + logs)
    tap.ok(r.returncode == 0 and not r.stderr, f'{what}: text report exits 0, stderr empty',
           r.stderr + r.stdout[-2000:])
    tap.ok(text_totals(r.stdout) == e['totals'],
           f'{what}: text totals (denied, would-deny, audited, killed) = {e["totals"]}',
           r.stdout[:3000])
    s = text_sections(r.stdout)
    rules = {rest.split()[-1]: c for c, rest in s.get('by rule', [])}
    tap.ok(rules == keyed(e['rule']), f'{what}: text by rule = the records per policy.uid',
           f'got {rules}\nwant {dict(e["rule"])}')
    # Folder rows end in "/", path rows under them are relative.
    folders, paths, cur = {}, {}, None
    for c, rest in s.get('by folder and path', []):
        if rest.startswith('    '):
            paths[os.path.join(cur, rest.strip())] = c
        else:
            cur = rest.rstrip('/') or '/'
            folders[cur] = c
    tap.ok(folders == keyed(e['folder']) and paths == keyed(e['path']),
           f'{what}: text by folder and path = the records per file.path',
           f'got {folders}\n{paths}\nwant {dict(e["folder"])}\n{dict(e["path"])}')
    exes = {rest: c for c, rest in s.get('by executable and command line', [])
            if not rest.startswith('    ')}
    tap.ok(exes == keyed(e['exe']), f'{what}: text by executable = the records per program',
           f'got {exes}\nwant {dict(e["exe"])}')
    tl = s.get('timeline', [])
    tap.ok(sum(c[0] for c, _ in tl) == e['totals'][0] and
           sum(c[2] for c, _ in tl) == e['totals'][2] and len(tl) == len(e['minute']),
           f'{what}: the text timeline adds up to the totals, one row per minute', str(tl))
    first = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(min(e['times']) / 1000))
    last = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(max(e['times']) / 1000))
    tap.ok(f'first: {first}  last: {last}' in r.stdout, f'{what}: text first and last',
           r.stdout[:800])
    want = ('verification: verified: every process\'s hash chain holds' if verified else
            'verification: NOT VERIFIED')
    tap.ok(want in r.stdout, f'{what}: says whether trainguard verify holds ({verified})',
           r.stdout[:800])
    ung = {rest: c for c, rest in s.get('unguarded execs', [])}
    want = {f'{shown(p)} ({shown(why)})': c for (p, why), c in e['unguarded'].items()}
    tap.ok(ung == want, f'{what}: text unguarded execs', f'got {ung}\nwant {want}')
    return r.stdout


def check_json(tap, logs, e, what, verified):
    r = report(['--format', 'json', '--top', '1000'] + logs)
    try:
        j = json.loads(r.stdout)
    except ValueError as x:
        tap.ok(False, f'{what}: --format json prints one JSON object', f'{x}\n{r.stdout[:2000]}')
        return None
    tap.ok(r.returncode == 0 and isinstance(j, dict), f'{what}: --format json prints one object',
           r.stderr)
    tap.ok(counts_of(j['totals']) == e['totals'] and j['records'] == e['records'] and
           j['other_records'] == e['other'],
           f'{what}: json totals and record counts',
           f"got {json.dumps(j['totals'])} records {j['records']} other {j['other_records']}; "
           f"want {e['totals']} records {e['records']} other {e['other']}")
    rules = {x['rule']: counts_of(x) for x in j['by_rule']['rows']}
    tap.ok(rules == dict(e['rule']) and j['by_rule']['more']['rows'] == 0,
           f'{what}: json by_rule', f'got {rules}\nwant {dict(e["rule"])}')
    folders = {x['folder']: counts_of(x) for x in j['by_folder']['rows']}
    paths = {p['path']: counts_of(p) for x in j['by_folder']['rows'] for p in x['paths']['rows']}
    tap.ok(folders == dict(e['folder']) and paths == dict(e['path']),
           f'{what}: json by_folder and its paths', f'got {folders}\n{paths}')
    cmds = {(x['executable'], c['cmd_line']): counts_of(c) for x in j['by_executable']['rows']
            for c in x['command_lines']['rows']}
    tap.ok(cmds == dict(e['cmd']), f'{what}: json by_executable and command lines',
           f'got {cmds}\nwant {dict(e["cmd"])}')
    minutes = {x['time']: counts_of(x) for x in j['timeline']['rows']}
    tap.ok(minutes == dict(e['minute']), f'{what}: json timeline per minute',
           f'got {minutes}\nwant {dict(e["minute"])}')
    tap.ok(j['first']['time'] == min(e['times']) and j['last']['time'] == max(e['times']),
           f'{what}: json first and last', json.dumps([j['first'], j['last']]))
    ung = {(x['path'], x['reason']): counts_of(x) for x in j['unguarded_execs']['rows']}
    tap.ok(ung == dict(e['unguarded']), f'{what}: json unguarded_execs',
           f'got {ung}\nwant {dict(e["unguarded"])}')
    v = j['verification']
    tap.ok(v['checked'] is True and v['verified'] is verified,
           f'{what}: json verification checked, verified = {verified}', json.dumps(v))
    return j


def test_counts(tap, sb, logs):
    records = read_records(*logs)
    e = expected(records)
    tap.ok(e['totals'][0] >= NCAT + 2 and e['totals'][1] >= 1 and e['totals'][2] >= 2,
           'the logs hold denials, a would-deny and audited reads', str(e['totals']))
    check_text(tap, logs, e, 'two real logs', True)
    check_json(tap, logs, e, 'two real logs', True)
    # One log from standard input reads the same.
    with open(logs[0]) as f:
        r = report(['--format', 'json', '-'], stdin=f.read())
    e0 = expected(read_records(logs[0]))
    tap.ok(r.returncode == 0 and counts_of(json.loads(r.stdout)['totals']) == e0['totals'],
           "'-' reads a log from standard input", r.stderr + r.stdout[:500])
    tap.ok(r.returncode == 0 and json.loads(r.stdout)['verification']['checked'] is False,
           "'-': verification not checked (trainguard verify reads files)", r.stdout[:500])
    # A real log with one field edited (a record the same process's next
    # record hashes): the chain no longer holds.
    lines = open(logs[0]).read().splitlines(True)
    chains = [tgf(json.loads(ln)).get('chain', {}).get('id') for ln in lines]
    i = next(k for k in range(len(lines)) if chains[k] and chains[k] in chains[k + 1:])
    rec = json.loads(lines[i])
    rec['message'] += ' (edited)'
    lines[i] = json.dumps(rec, separators=(',', ':'), sort_keys=True) + '\n'
    edited = sb.p('edited.jsonl')
    with open(edited, 'w') as f:
        f.writelines(lines)
    r = report([edited])
    tap.ok(r.returncode == 0 and 'verification: NOT VERIFIED' in r.stdout,
           'a real log with one edited record: the report says it does NOT verify',
           r.stdout[:800])


def synthetic(sb, logs):
    """A log of real records changed the way the guard's next records
    will look: folded (count), killed, unguarded; and hostile strings."""
    records = read_records(*logs)
    deny = next(r for r in records if tgf(r).get('decision') == 'deny')
    out = []
    folded = copy.deepcopy(deny)
    folded['unmapped']['trainguard']['count'] = 100000
    out.append(folded)
    k = copy.deepcopy(deny)
    k['unmapped']['trainguard']['decision'] = 'kill'
    k['policy']['uid'] = 'kill-rule'
    out.append(k)
    k2 = copy.deepcopy(deny)
    k2['disposition'] = 'Killed'
    k2['policy']['uid'] = 'kill-rule'
    out.append(k2)
    learn = copy.deepcopy(deny)
    learn['unmapped']['trainguard']['decision'] = 'learn'
    learn['is_alert'] = True
    out.append(learn)
    evil = copy.deepcopy(deny)
    evil['file']['path'] = sb.p('x', '<script>alert(1)<\\script>"\'&\x1b[31m%ff%C3.bin')
    evil['file']['parent_folder'] = sb.p('x')
    evil['policy']['uid'] = '<b>rule</b>'
    evil['actor']['process']['cmd_line'] = 'python3 -c "print(\'<i>\')" \x07\u0085'
    out.append(evil)
    stop = {k: v for k, v in deny.items() if k not in ('unmapped', 'policy', 'file')}
    stop['class_uid'] = 1008
    out.append(stop)
    path = sb.p('logs', 'synthetic.jsonl')
    with open(path, 'w') as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    return path


def test_synthetic(tap, sb, logs):
    log = synthetic(sb, logs)
    e = expected(read_records(log))
    tap.ok(e['totals'] == (100000 + 3, 1, 0, 2),
           'this script counts the synthetic log as folded, killed and learned',
           str(e['totals']))
    j = check_json(tap, [log], e, 'synthetic log', False)
    t = check_text(tap, [log], e, 'synthetic log', False)
    if j:
        tap.ok(j['other_records'] == 1 and j['records'] == 6,
               'a record without a decision is counted as other', json.dumps(j)[:300])
    tap.ok('\x1b' not in t and '\x07' not in t and '\\x1b[31m' in t and '\\x07' in t and
           '\\x85' in t, 'text shows control characters as \\xNN, never raw', repr(t[-1500:]))
    r = report(['--format', 'html', log])
    tap.ok(r.returncode == 0 and '<script>' not in r.stdout and '<b>rule' not in r.stdout and
           '&lt;script&gt;alert(1)&lt;\\script&gt;&quot;&#39;&amp;\\x1b[31m%ff%C3.bin' in r.stdout,
           'html escapes markup, quotes and control characters', r.stdout[-3000:])
    return log


def test_kill(tap, sb):
    """A real on_deny = "kill": the report counts the kill when the record
    says so (issue 11: "kills stated in the record")."""
    sb.write('tripwire/bait', 'x\n')
    r = sb.run(['cat', 'tripwire/bait'], label='kill')
    tap.ok(r.rc == -9, 'cat of a tripwire is killed (SIGKILL)', r.describe())
    j = json.loads(report(['--format', 'json', r.log]).stdout)
    tap.ok(j['totals']['denied'] == 1, 'the killed read counts as denied', json.dumps(j['totals']))
    tap.ok(j['totals']['killed'] == expected(r.records)['totals'][3],
           'killed = the records that say the process was killed', json.dumps(j['totals']))
    tap.ok(j['totals']['killed'] == 1, 'the kill is counted as killed', json.dumps(r.records)[:1500])


# ---- filters -------------------------------------------------------------------

def iso_ms(ms):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms // 1000)) + '.%03dZ' % (ms % 1000)


def test_filters(tap, sb, logs):
    records = read_records(*logs)
    decided = sorted({r['time'] for r in records if kind(r)})
    mid = decided[len(decided) // 2]
    e = expected([r for r in records if r.get('time', 0) >= mid])
    r = report(['--format', 'json', '--since', iso_ms(mid)] + logs)
    j = json.loads(r.stdout) if r.returncode == 0 else {}
    tap.ok(j and counts_of(j['totals']) == e['totals'] and j['filtered_out'] == sum(
        1 for x in records if x.get('time', 0) < mid),
        f'--since {iso_ms(mid)} keeps the records from then on', r.stderr + r.stdout[:600])
    r = report(['--format', 'json', '--since', '1d'] + logs)
    j = json.loads(r.stdout)
    tap.ok(counts_of(j['totals']) == expected(records)['totals'], '--since 1d keeps them all',
           r.stdout[:400])
    r = report(['--format', 'json', '--since', '2999-01-01'] + logs)
    j = json.loads(r.stdout)
    tap.ok(counts_of(j['totals']) == (0, 0, 0, 0) and j['records'] == 0,
           '--since in the future keeps none', r.stdout[:400])
    t = report(['--since', '2999-01-01T00:00:00+02:00'] + logs)
    tap.ok(t.returncode == 0 and 'filters: since 2998-12-31T22:00:00Z' in t.stdout,
           '--since takes an offset and says what it kept', t.stdout[:400])
    e = expected([x for x in records if x.get('policy', {}).get('uid') == 'secret'])
    r = report(['--format', 'json', '--rule', 'secret'] + logs)
    j = json.loads(r.stdout)
    tap.ok(counts_of(j['totals']) == e['totals'] and
           [x['rule'] for x in j['by_rule']['rows']] == ['secret'],
           '--rule secret keeps that rule alone', r.stdout[:600])
    e = expected([x for x in records if x.get('policy', {}).get('uid') in ('secret', 'tools')])
    r = report(['--format', 'json', '--rule', 'sec*', '--rule', 'tools'] + logs)
    j = json.loads(r.stdout)
    tap.ok(counts_of(j['totals']) == e['totals'], "--rule 'sec*' --rule tools: a glob, twice",
           r.stdout[:600])
    e = expected([x for x in records if x.get('policy', {}).get('uid') == 'secret'])
    t = report(['--rule', 'secret'] + logs)
    tap.ok(text_totals(t.stdout) == e['totals'] and 'filters: rule secret' in t.stdout,
           '--rule in text too', t.stdout[:600])


# ---- input errors ----------------------------------------------------------------

def test_input(tap, sb, logs):
    with open(logs[0]) as f:
        lines = f.read().splitlines(True)
    bad = sb.p('logs', 'malformed.jsonl')
    junk = ['{"not": json\n', '[1, 2, 3]\n', lines[0][:40] + '\n']
    with open(bad, 'w') as f:
        f.write(lines[0])
        f.write(junk[0])      # line 2
        f.writelines(lines[1:3])
        f.write(junk[1])      # line 5
        f.write('\n')         # line 6: blank, not malformed
        f.writelines(lines[3:])
        f.write(junk[2])      # the last line, cut
    n = len(lines) + 4
    r = report(['--format', 'json', bad])
    named = [int(m) for m in re.findall(re.escape(bad) + r':(\d+): ', r.stderr)]
    tap.ok(r.returncode == 0 and named == [2, 5, n],
           'malformed lines are named with file and number on stderr, exit 0',
           f'exit {r.returncode}, named {named}, want [2, 5, {n}]\n{r.stderr}')
    e = expected(read_records(logs[0]))
    j = json.loads(r.stdout) if r.stdout else {}
    tap.ok(j and counts_of(j['totals']) == e['totals'] and j['malformed_lines'] == 3,
           'and skipped: the counts are those of the good lines', r.stdout[:500])
    t = report([bad])
    tap.ok('3 malformed lines skipped' in t.stdout, 'the text report says how many it skipped',
           t.stdout[:400])
    r = report([logs[0], sb.p('no-such.jsonl')])
    tap.ok(r.returncode == 2 and 'no-such.jsonl' in r.stderr and not r.stdout,
           'a missing log: exit 2, named, no report', f'exit {r.returncode}\n{r.stderr}')
    r = report([sb.p('logs')])
    tap.ok(r.returncode == 2 and 'logs' in r.stderr, 'a folder: exit 2',
           f'exit {r.returncode}\n{r.stderr}')
    for args in (['--format', 'xml', logs[0]], [], ['--since', 'yesterday', logs[0]],
                 ['--top', '0', logs[0]], ['--bogus', logs[0]]):
        r = report(args)
        tap.ok(r.returncode == 2 and 'trainguard help report' in r.stderr,
               f'usage error {args[:2]}: exit 2 and a pointer to help', r.stderr)
    out = sb.p('out', 'r.json')
    r = report(['--format', 'json', '-o', out, logs[0]])
    tap.ok(r.returncode == 0 and not r.stdout and os.path.exists(out) and
           (os.stat(out).st_mode & 0o777) == 0o600 and json.load(open(out))['records'] > 0,
           '-o FILE writes the report there (mode 0600), nothing on stdout', r.stderr)


def test_help(tap):
    h = subprocess.run([CLI, 'help', 'report'], capture_output=True, text=True)
    d = subprocess.run([CLI, 'report', '--help'], capture_output=True, text=True)
    top = subprocess.run([CLI, '--help'], capture_output=True, text=True)
    tap.ok(h.returncode == 0 and h.stdout.startswith('usage: trainguard report ') and
           d.stdout == h.stdout and '\n  report ' in top.stdout,
           'help report, report --help and --help show the usage', h.stdout + d.stderr)
    with open(os.path.join(tglib.SOURCE_ROOT, 'man', 'trainguard.1.scd')) as f:
        page = f.read()
    m = re.search(r'^## trainguard report\n(.*?)(?=^## |^# )', page, re.M | re.S)
    section = m.group(1) if m else ''
    opts = sorted(set(re.findall(r'(?<![\w-])--[a-z][a-z-]+', h.stdout)))
    missing = [o for o in opts if o.replace('-', r'\-') not in section and
               f'*{o}*' not in section]
    tap.ok(section and not missing, 'trainguard(1) has a report section naming every option',
           f'missing: {missing}')


# ---- a large log ------------------------------------------------------------------

def test_bounded(tap, sb, logs):
    """More distinct paths than a table keeps, ~60 MB: exact totals, a lost
    row, bounded memory."""
    records = read_records(*logs)
    deny = next(r for r in records if tgf(r).get('decision') == 'deny')
    big = sb.p('logs', 'big.jsonl')
    n = 40000
    t0 = deny['time']
    with open(big, 'w') as f:
        r = copy.deepcopy(deny)
        for i in range(n):
            r['file']['path'] = sb.p('many', f'd{i % 97}', f'file-{i}')
            r['file']['parent_folder'] = sb.p('many', f'd{i % 97}')
            r['time'] = t0 + i * 1000
            f.write(json.dumps(r) + '\n')
    size = os.path.getsize(big)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    r = report(['--format', 'json', big])
    took = time.monotonic() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    j = json.loads(r.stdout) if r.returncode == 0 else None
    tap.ok(j and j['totals']['denied'] == n and j['records'] == n,
           f'a {size >> 20} MB log of {n} distinct paths: every record counted ({took:.1f} s)',
           r.stderr[:500])
    if j:
        shown = sum(x['denied'] for x in j['by_folder']['rows']) + \
            j['by_folder']['more']['denied']
        lost = j['by_folder'].get('lost')
        tap.ok(shown == n and lost is None, 'the 97 folders add up to the total', str(shown))
        path_rows = sum(p['denied'] + 0 for x in j['by_folder']['rows']
                        for p in x['paths']['rows'])
        tap.ok(len(j['timeline']['rows']) == (n * 1000 + t0 % 60000 - 1) // 60000 + 1 and
               sum(x['denied'] for x in j['timeline']['rows']) == n,
               'the timeline keeps every minute of the 11-hour log', str(len(
                   j['timeline']['rows'])))
        tap.ok(path_rows > 0, 'paths are shown under their folders', str(path_rows))
    ldd = subprocess.run(['ldd', CLI], capture_output=True, text=True).stdout
    if 'libasan' in ldd:
        tap.skip('memory stays bounded', "a sanitizer build: ASan's quarantine keeps freed "
                 'memory, the RSS is not the report\'s')
    else:
        tap.ok(rss <= max(before, 64 * 1024), f'memory stays bounded: max RSS {rss >> 10} MB '
               f'(<= 64 MB) for a {size >> 20} MB log', f'{rss} KiB')
    text = report([big])
    tap.ok(text.returncode == 0 and 'more folders' in text.stdout and 'more paths' in text.stdout,
           'text: "N more" rows for the folders and paths not shown', text.stdout[-1500:])


# ---- the demo -----------------------------------------------------------------------

def test_demo(tap):
    """examples/demo.sh prints `trainguard report` of each log, and the
    figures it prints are those of the log."""
    demo = os.path.join(tglib.SOURCE_ROOT, 'examples', 'demo.sh')
    env = tglib.base_env()
    env['KEEP'] = '1'
    if tglib.PRELOAD_FIRST:
        env['LD_PRELOAD'] = tglib.PRELOAD_FIRST
    r = subprocess.run(['bash', demo, tglib.BUILD_ROOT], capture_output=True, text=True,
                       env=env, timeout=240, stdin=subprocess.DEVNULL, errors='replace')
    kept = re.search(r'^kept (/\S+)$', r.stdout, re.M)
    root = kept.group(1) if kept else None
    try:
        tap.ok(r.returncode == 0 and root, 'examples/demo.sh runs (KEEP=1)',
               r.stdout[-2000:] + r.stderr[-2000:])
        if not root:
            return
        for name in ('train.jsonl', 'default.jsonl'):
            log = os.path.join(root, name)
            e = expected(read_records(log))
            m = re.search(r'^   trainguard report of ' + re.escape(log) + r'\n(.*?)^-- |'
                          r'^   trainguard report of ' + re.escape(log) + r'\n(.*?)^ok',
                          r.stdout, re.M | re.S)
            body = (m.group(1) or m.group(2)) if m else ''
            got = text_totals('\n'.join(x[3:] for x in body.splitlines()))
            tap.ok(got == e['totals'] and e['totals'][0] > 0,
                   f'the demo prints the report of {name}: totals {e["totals"]}',
                   f'got {got}\n{r.stdout[-3000:]}')
    finally:
        if root and os.path.basename(root).startswith('trainguard-demo.'):
            shutil.rmtree(root, ignore_errors=True)


# ---- html in a real browser ---------------------------------------------------------

def browser(tmp):
    """A Chromium driven by chromedriver, both with TMPDIR=TMP (Chromium
    leaves its singleton folder in it), or None and why not."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None, 'python3-selenium is not installed (apt-get install python3-selenium)'
    chromium = shutil.which('chromium')
    driver = shutil.which('chromedriver')
    if not chromium or not driver:
        return None, 'chromium or chromedriver missing (apt-get install chromium chromium-driver)'
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
              '--window-size=1200,1600', '--hide-scrollbars'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    try:
        os.makedirs(tmp, exist_ok=True)
        service = Service(driver, env=dict(os.environ, TMPDIR=tmp))
        return webdriver.Chrome(service=service, options=opts), None
    except Exception as x:  # noqa: BLE001 (a browser that cannot start is a skip)
        return None, f'chromium did not start: {str(x).splitlines()[0]}'


def test_html(tap, sb, logs, synth):
    html = sb.p('out', 'report.html')
    r = report(['--format', 'html', '-o', html] + logs + [synth])
    tap.ok(r.returncode == 0, 'report --format html -o FILE exits 0', r.stderr)
    with open(html, encoding='utf-8') as f:
        page = f.read()
    ext = re.findall(r'(?:src|href)\s*=|url\(|@import|<script|<link', page, re.I)
    tap.ok(not ext and page.count('<html') == 1 and '<svg id="timeline"' in page,
           'one self-contained page: no script, link, src, href, url() or @import',
           str(ext))
    drv, why = browser(sb.p('chromium-tmp'))
    if not drv:
        for d in ('chromium loads the page without console errors',
                  'the DOM holds the expected counts', 'a screenshot is kept'):
            tap.skip(d, why)
        return
    e = expected(read_records(*logs, synth))
    try:
        drv.get('file://' + html)
        errors = [x for x in drv.get_log('browser') if x.get('level') in ('SEVERE', 'WARNING')]
        tap.ok(not errors, 'chromium loads the page without console errors or warnings',
               json.dumps(errors, indent=1))
        js = drv.execute_script
        tot = js('return [...document.querySelectorAll("#totals td")].map(t => +t.textContent)')
        tap.ok(tuple(tot) == e['totals'], f'DOM: totals {e["totals"]}', str(tot))
        rules = js('return [...document.querySelectorAll("#by-rule tr.rule")].map(r => '
                   '[r.dataset.key, [...r.querySelectorAll("td.n")].map(t => +t.textContent)])')
        got = {k: tuple(v) for k, v in rules}
        tap.ok(got == dict(e['rule']), 'DOM: by-rule rows hold the counts per rule',
               f'got {got}\nwant {dict(e["rule"])}')
        folders = js('return [...document.querySelectorAll("#by-folder tr.group")].map(r => '
                     '[r.dataset.key, [...r.querySelectorAll("td.n")].map(t => +t.textContent)])')
        got = {k: tuple(v) for k, v in folders}
        tap.ok(got == dict(e['folder']), 'DOM: by-folder groups hold the counts per folder',
               f'got {got}\nwant {dict(e["folder"])}')
        evil = sb.p('x', '<script>alert(1)<\\script>"\'&\x1b[31m%ff%C3.bin')
        keys = js('return [...document.querySelectorAll("#by-folder tr.member")].map(r => '
                  'r.dataset.key)')
        shown = evil.replace('\x1b', '\\x1b')
        tap.ok(shown in keys and js('return document.scripts.length') == 0,
               'DOM: the path with markup is text, and the page has no script', str(keys)[:800])
        bars = js('return document.querySelectorAll("#timeline rect").length')
        tap.ok(bars >= 1, f'DOM: the timeline has bars ({bars})', str(bars))
        shot = os.path.join(tglib.BUILD_ROOT, 'tests', 'integration', 'report.png')
        os.makedirs(os.path.dirname(shot), exist_ok=True)
        tap.ok(drv.save_screenshot(shot) and os.path.getsize(shot) > 10000,
               f'a screenshot is kept: {os.path.relpath(shot, tglib.BUILD_ROOT)} in the build',
               shot)
    finally:
        drv.quit()


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    tap.group(test_help)
    tap.group(test_demo)
    with Sandbox(tap, 'report', POLICY) as sb:
        logs = make_logs(tap, sb)
        tap.group(test_counts, sb, logs)
        synth = sb.p('logs', 'synthetic.jsonl')
        tap.group(test_synthetic, sb, logs)
        tap.group(test_kill, sb)
        tap.group(test_filters, sb, logs)
        tap.group(test_input, sb, logs)
        tap.group(test_bounded, sb, logs)
        tap.group(test_html, sb, logs, synth)
    tap.done()


if __name__ == '__main__':
    main()
