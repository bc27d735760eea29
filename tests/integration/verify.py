#!/usr/bin/env python3
"""Tamper evidence: hash chains in the records, `trainguard verify` and
`trainguard run --seal` (TAP).

A guarded python3 with threads, fork()ed multiprocessing workers (threads
of their own), exec'd children (subprocess) and a refused exec, all
denied many times and appending to one log at once, is run under
`trainguard run --seal`. Its log must verify (exit 0, with and without the
seal). Then each tampering is made on a copy and must exit 1 naming the
line: an edited field, a deleted line, an inserted line, two lines of one
process swapped, a line spliced from another run, a log with no chain
fields; a cut tail passes without the seal (the documented limit) and is
caught with it, as is a log rewritten as a whole. A log, seal or usage
that cannot be read exits 2."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import CLI, PYTHON, Sandbox  # noqa: E402

POLICY = '''version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
rules = (
  { id = "secret"; path = "{root}/secret/**"; deny = ["read", "write"]; },
  { id = "noexec"; path = "{root}/noexec/**"; deny = ["exec"]; }
);
'''

WORKLOAD = r'''
import multiprocessing, os, subprocess, sys, threading
SECRET, NOEXEC = sys.argv[1], sys.argv[2]

def deny(n):
    # A name of its own each time: repeats of one refusal would be folded
    # into one record, and this job is here to write many lines.
    for i in range(n):
        try:
            open(f'{SECRET}-{os.getpid()}-{threading.get_ident()}-{i}').close()
        except OSError:
            pass

def threads(k, n):
    ts = [threading.Thread(target=deny, args=(n,)) for _ in range(k)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()

def worker(n):
    threads(2, n)
    deny(5)

if __name__ == '__main__':
    multiprocessing.set_start_method('fork')
    deny(3)
    ps = [multiprocessing.Process(target=worker, args=(40,)) for _ in range(3)]
    for p in ps:
        p.start()
    threads(4, 50)
    subprocess.run(['cat', SECRET], stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, '-c', 'import sys; open(sys.argv[1])', SECRET],
                   stderr=subprocess.DEVNULL)
    try:
        subprocess.run([NOEXEC])
    except OSError:
        pass
    for p in ps:
        p.join()
    deny(3)
'''


def chain(rec):
    return (rec.get('unmapped', {}).get('trainguard', {}).get('chain') or {})


def verify(*args):
    p = subprocess.run([CLI, 'verify'] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def write_lines(path, lines):
    with open(path, 'w') as f:
        f.write(''.join(ln + '\n' for ln in lines))
    return path


def names_line(out, path, n):
    return f'{path}:{n}:' in out


def run_job(tap, sb, label):
    log = sb.new_log(label)
    seal = sb.p(f'{label}.seal')
    res = sb.run([PYTHON, sb.p('work.py'), sb.p('secret', 'data'), sb.p('noexec', 'true')],
                 label=label, cli=True, log=log, cli_args=['--seal', seal], timeout=240)
    return res, log, seal


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    sb = Sandbox(tap, 'verify', POLICY)
    try:
        sb.write('secret/data', 'x' * 64)
        sb.write('work.py', WORKLOAD)
        sb.mkdir('noexec')
        shutil.copy(shutil.which('true') or '/bin/true', sb.p('noexec', 'true'))
        os.chmod(sb.p('noexec', 'true'), 0o755)

        res, log, seal = run_job(tap, sb, 'first')
        with open(log) as f:
            lines = f.read().split('\n')[:-1]
        recs = [json.loads(ln) for ln in lines]
        tap.ok(res.rc == 0 and len(recs) >= 400,
               f'the job ran and logged many denials ({len(recs)} lines)', res.describe())
        tap.ok(all(chain(r).get('id') and chain(r).get('seq', 0) >= 1 for r in recs),
               'every record carries unmapped.trainguard.chain (id, seq)')
        ids = [chain(r)['id'] for r in recs]
        origins = {chain(r).get('origin') for r in recs if chain(r).get('seq') == 1}
        tap.ok({'start', 'fork', 'exec'} <= origins,
               f'chains started by the job, by fork and by exec ({sorted(o for o in origins if o)})')
        tap.diag(f'{len(set(ids))} chains; origins {sorted(o for o in origins if o)}')
        interleaved = any(ids[i] != ids[i + 1] and ids[i] in ids[i + 2:] for i in range(len(ids) - 2))
        tap.ok(interleaved, 'lines of different processes interleave in the one file')
        tap.ok(os.path.exists(seal), 'run --seal wrote the seal')
        with open(seal) as f:
            sj = json.load(f)
        tap.ok(sj.get('lines') == len(lines) and sj.get('algorithm') == 'rfc6962-sha256'
               and len(sj.get('root', '')) == 64,
               'the seal counts the log\'s lines and holds an RFC 6962 root', json.dumps(sj))

        rc, out = verify(log)
        tap.ok(rc == 0 and 'verified' in out, 'the job\'s log verifies (exit 0)', out)
        rc, out = verify('--seal', seal, log)
        tap.ok(rc == 0 and 'match the seal' in out, 'and verifies against its seal', out)

        # Lines of the busiest chain, by index into LINES.
        busiest = max(set(ids), key=ids.count)
        mine = [i for i, x in enumerate(ids) if x == busiest]
        mid = mine[len(mine) // 2]
        nxt = mine[len(mine) // 2 + 1]

        # An edited field: the next record of its process no longer links.
        t = list(lines)
        t[mid] = re.sub(r'"time":(\d+)', lambda m: f'"time":{int(m.group(1)) + 1}', t[mid], count=1)
        p = write_lines(sb.p('edit.jsonl'), t)
        rc, out = verify(p)
        tap.ok(rc == 1 and names_line(out, p, nxt + 1) and f'{p}:{mid + 1} ' in out,
               f'an edited field: exit 1, names line {mid + 1} (found at line {nxt + 1})', out)

        # A deleted line.
        t = list(lines)
        del t[mid]
        p = write_lines(sb.p('delete.jsonl'), t)
        rc, out = verify(p)
        tap.ok(rc == 1 and names_line(out, p, nxt) and 'missing' in out,
               f'a deleted line: exit 1, the gap named at line {nxt}', out)

        # An inserted line: a record of the chain copied to another place.
        t = list(lines)
        t.insert(mine[3], lines[mine[-2]])
        p = write_lines(sb.p('insert.jsonl'), t)
        rc, out = verify(p)
        tap.ok(rc == 1 and names_line(out, p, mine[3] + 1),
               f'an inserted line: exit 1, names line {mine[3] + 1}', out)

        # Two lines of one process swapped.
        a, b = mine[5], mine[6]
        t = list(lines)
        t[a], t[b] = t[b], t[a]
        p = write_lines(sb.p('swap.jsonl'), t)
        rc, out = verify(p)
        tap.ok(rc == 1 and names_line(out, p, a + 1) and 'reordered' in out,
               f'two lines of one process swapped: exit 1, names line {a + 1}', out)

        # A line of another run of the same job.
        res2, log2, seal2 = run_job(tap, sb, 'second')
        with open(log2) as f:
            other = f.read().split('\n')[:-1]
        later = next(ln for ln in other if chain(json.loads(ln)).get('seq', 0) > 5)
        t = list(lines)
        t.insert(40, later)
        p = write_lines(sb.p('splice.jsonl'), t)
        rc, out = verify(p)
        tap.ok(rc == 1 and names_line(out, p, 41) and 'spliced' in out,
               'a line spliced from another run: exit 1, names line 41', out)

        # A cut tail: invisible to the chains (documented), caught by the seal.
        t = lines[:-5]
        p = write_lines(sb.p('cut.jsonl'), t)
        rc, out = verify(p)
        tap.ok(rc == 0 and 'only with --seal' in out,
               'a cut tail passes the chains alone (the documented limit)', out)
        rc, out = verify('--seal', seal, p)
        tap.ok(rc == 1 and names_line(out, p, len(t)) and 'cut off' in out,
               'a cut tail is caught with --seal, naming where the log now ends', out)

        # A wholesale rewrite: a log whose chains are all intact, but not the sealed one.
        rc, out = verify(log2)
        tap.ok(rc == 0, 'another run\'s log verifies on its own', out)
        rc, out = verify('--seal', seal, log2)
        tap.ok(rc == 1 and ('Merkle root' in out or 'cut off' in out),
               'a log rewritten as a whole fails against the seal', out)
        t = list(lines)
        t[mine[-1]] = re.sub(r'"time":(\d+)', lambda m: f'"time":{int(m.group(1)) + 1}',
                             t[mine[-1]], count=1)
        p = write_lines(sb.p('edit-last.jsonl'), t)
        rc, out = verify('--seal', seal, p)
        tap.ok(rc == 1 and 'Merkle root' in out,
               'an edit of a process\'s last line is caught with --seal', out)

        # Records without chain fields (a log of an older trainguard).
        t = []
        for ln in lines:
            r = json.loads(ln)
            r['unmapped']['trainguard'].pop('chain', None)
            t.append(json.dumps(r, sort_keys=True, separators=(',', ':')))
        p = write_lines(sb.p('old.jsonl'), t)
        rc, out = verify(p)
        tap.ok(rc == 1 and 'no line carries chain fields' in out and names_line(out, p, 1),
               'a log without chain fields: exit 1, saying so', out)

        # Several logs at once: the same lines split over two files.
        half = len(lines) // 2
        p1 = write_lines(sb.p('part1.jsonl'), lines[:half])
        p2 = write_lines(sb.p('part2.jsonl'), lines[half:])
        rc, out = verify(p1, p2)
        tap.ok(rc == 0, 'a log split over two files verifies when both are given', out)

        # Unreadable: exit 2.
        rc, out = verify(sb.p('no-such.jsonl'))
        tap.ok(rc == 2 and 'cannot read' in out, 'a missing log: exit 2', out)
        rc, out = verify(sb.p('secret'))
        tap.ok(rc == 2, 'a folder given as the log: exit 2', out)
        rc, out = verify('--seal', sb.p('no-such.seal'), log)
        tap.ok(rc == 2 and 'seal' in out, 'a missing seal: exit 2', out)
        rc, out = verify()
        tap.ok(rc == 2, 'no log given: exit 2', out)
        rc, out = verify('--seal', seal, log, log2)
        tap.ok(rc == 2, '--seal with two logs: exit 2', out)
    finally:
        sb.cleanup()
    tap.done()


if __name__ == '__main__':
    main()
