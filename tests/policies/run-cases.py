#!/usr/bin/env python3
"""Policy parser cases as folders (TAP).

invalid/<case>/policy.cfg must make `trainguard check policy.cfg` exit 1 and
print exactly invalid/<case>/expected on stderr. valid/<case>/policy.cfg must
check with exit 0 and print exactly valid/<case>/expected (stderr, then
stdout); valid/<case>/decisions lists `CLASS PATH allow|deny RULE` lines that
`trainguard explain` must confirm. TG_UPDATE_GOLDEN=1 rewrites the expected
files (review the diff before committing them)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import tap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TG = os.path.join(os.environ['TG_BUILD_ROOT'], 'cli', 'trainguard')
UPDATE = os.environ.get('TG_UPDATE_GOLDEN') == '1'
ENV = {'PATH': '/usr/bin:/bin', 'HOME': '/home/case', 'USER': 'case',
       'TRAINGUARD_JOB_ID': 'case-job', 'LC_ALL': 'C'}

T = tap.TAP()
ok = T.ok


# ${PWD} is pinned: a source tree under /tmp (a package build) must not
# make the secrets profile's ${PWD} rules overlap a case's /tmp rules.
PWD_VAR = ['--var', 'PWD=/srv/case-pwd']


def run(args, cwd):
    if args[:1] == ['check']:
        args = args[:1] + PWD_VAR + args[1:]
    r = subprocess.run([TG] + args, cwd=cwd, env=ENV, capture_output=True, text=True)
    # Records name files by their absolute path; golden files by the case's.
    r.stdout = r.stdout.replace(cwd + '/', '')
    r.stderr = r.stderr.replace(cwd + '/', '')
    return r


def golden(case_dir, text, what):
    path = os.path.join(case_dir, 'expected')
    if UPDATE:
        with open(path, 'w') as f:
            f.write(text)
    try:
        with open(path) as f:
            want = f.read()
    except FileNotFoundError:
        ok(False, what, 'no expected file; run with TG_UPDATE_GOLDEN=1 and review it')
        return
    ok(text == want, what, 'got:\n' + text + 'want:\n' + want)


def main():
    for case in sorted(os.listdir(os.path.join(HERE, 'invalid'))):
        d = os.path.join(HERE, 'invalid', case)
        r = run(['check', 'policy.cfg'], d)
        ok(r.returncode == 1, f'invalid/{case}: check exits 1', f'exit {r.returncode}')
        golden(d, r.stderr, f'invalid/{case}: the message names file, line and fix')
    for case in sorted(os.listdir(os.path.join(HERE, 'valid'))):
        d = os.path.join(HERE, 'valid', case)
        r = run(['check', 'policy.cfg'], d)
        ok(r.returncode == 0, f'valid/{case}: check exits 0', r.stderr)
        golden(d, r.stderr + r.stdout, f'valid/{case}: check output')
        dec = os.path.join(d, 'decisions')
        if not os.path.exists(dec):
            continue
        for line in open(dec):
            if not line.strip():
                continue
            cls, path, verdict, rule = line.split()
            e = run(['explain', '--policy', 'policy.cfg', '--op', cls, path], d)
            want_exit = 0 if verdict == 'allow' else 1
            if rule.startswith('default:'):
                want_rule = 'decided by: ' + rule
            else:
                want_rule = f'decided by: rule "{rule}"'
            good = e.returncode == want_exit and want_rule in e.stdout
            ok(good, f'valid/{case}: {cls} {path} -> {verdict} by {rule}',
               e.stdout + e.stderr)
    T.done()


main()
