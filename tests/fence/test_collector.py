#!/usr/bin/env python3
"""The log out of the job's reach: under `trainguard run` the job sends its
records to run's collector, which alone writes the log file.

Judged by effect, with a payload inside the job (Python, ctypes for the raw
system calls): no descriptor of the job points at the log, so a raw
ftruncate of every descriptor /proc/self/fd shows on it, and open(log,
O_WRONLY|O_TRUNC) by libc and by raw openat, leave every earlier record in
place and `trainguard verify` passes; with --no-collector (every process
appends to the log itself, as before the collector) the same payload
erases them, so the collector is what does the work. A process that closes
its connection while it runs, and one that ends without a stop record, are
named by the collector's records; a record sent in another process's name
is refused; every record of a job whose processes log at once and exit is
in the log before run's summary and the seal, and a child's first record
after the parent record it links to; a stopped collector does not stop the
job; a socket folder left by a killed run is removed by the next; a program
started after the collector ended does not run unguarded. The
truncation is tried as nobody too. A nested `trainguard run` with a weaker policy, the fence
off and audit mode inside a guarded job gets no weaker guard: the outer
policy still refuses the miner and the secret, with the outer fence on and
with it off (the preload alone)."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fencelib import NOBODY, PYTHON, Layout, Tap, have_nobody, landlock_abi, run  # noqa: E402

BUILD = os.environ.get('TG_BUILD_ROOT', 'build')
TG = os.path.abspath(os.path.join(BUILD, 'cli', 'trainguard'))
LIB = os.path.abspath(os.path.join(BUILD, 'preload', 'libtrainguard.so'))
SECRET = 'tg-fence-secret'

# Reads the secret (refused: a record before the attack), then goes for the
# log: every descriptor on it cut by libc and by raw ftruncate, the file
# opened with O_TRUNC by libc and by raw openat; then a second refusal.
TRUNCATE = r'''
import ctypes, os, sys
log, secret = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
try:
    open(secret).read()
except OSError as e:
    print('read refused', e.errno)
real = os.path.realpath(log)
fds = []
for fd in os.listdir('/proc/self/fd'):
    try:
        if os.readlink('/proc/self/fd/' + fd) == real:
            fds.append(int(fd))
    except OSError:
        pass
print('fds', fds)
for fd in fds:
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass
    libc.syscall(77, fd, 0)
try:
    os.close(os.open(log, os.O_WRONLY | os.O_TRUNC))
    print('libc open ok')
except OSError as e:
    print('libc open refused', e.errno)
fd = libc.syscall(257, -100, log.encode(), os.O_WRONLY | os.O_TRUNC, 0)
print('raw open', 'ok' if fd >= 0 else 'refused %d' % ctypes.get_errno())
try:
    open(secret + '.after').read()
except OSError:
    pass
'''

# Closes its connection to the collector by a raw close, keeps running and
# logging; a forked child ends by a raw exit_group (no stop record: _exit
# itself writes one).
SILENCE = r'''
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    libc.syscall(231, 0)
os.waitpid(pid, 0)
for fd in os.listdir('/proc/self/fd'):
    try:
        if os.readlink('/proc/self/fd/' + fd).startswith('socket:'):
            libc.syscall(3, int(fd))
    except OSError:
        pass
try:
    open(sys.argv[1]).read()
except OSError:
    pass
time.sleep(0.5)
'''

# Sends records of its own to the collector: one in another pid's name, one
# going on with another process's chain, two lines in one message, and one
# honest record in its own name.
FORGE = r'''
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(os.environ['TRAINGUARD_COLLECTOR'])
other = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r['actor']['process']['pid'] != os.getpid():
        other = r['unmapped']['trainguard']['chain']['id']
def rec(pid, msg, chain, seq=1):
    return (json.dumps({'actor': {'process': {'pid': pid, 'name': 'x'}}, 'message': msg,
                        'unmapped': {'trainguard': {'chain': {'id': chain, 'seq': seq,
                                                              'origin': 'start'}}}},
                       separators=(',', ':')) + '\n').encode()
s.send(rec(1, 'FORGED-OTHER-PID', 'f' * 32))
s.send(rec(os.getpid(), 'FORGED-OTHER-CHAIN', other, 7))
s.send(rec(os.getpid(), 'FORGED-TWO', 'e' * 32) + rec(os.getpid(), 'FORGED-LINES', 'd' * 32))
s.send(rec(os.getpid(), 'OWN-NAME', 'c' * 32))
s.close()
print('sent', other is not None)
'''

# N children at once, each refusing M distinct paths, then ending by _exit.
BURST = r'''
import os, sys
base, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kids = []
for i in range(n):
    pid = os.fork()
    if pid == 0:
        for j in range(m):
            try:
                open('%s/k%d-%d' % (base, i, j))
            except OSError:
                pass
        os._exit(0)
    kids.append(pid)
for k in kids:
    os.waitpid(k, 0)
'''

# Waits for GO, then refuses N distinct paths and writes DONE.
STALL = r'''
import os, sys, time
base, go, done, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
while not os.path.exists(go):
    time.sleep(0.05)
for j in range(n):
    try:
        open('%s/s%d' % (base, j))
    except OSError:
        pass
open(done, 'w').close()
'''

# Threads refusing distinct paths while children are forked and spawned:
# each child's first record links to a record its parent sent just before,
# maybe still queued on the parent's connection.
ORDER = r'''
import os, subprocess, sys, threading
base = sys.argv[1]
def deny(tag):
    for i in range(150):
        try:
            open('%s/%s-%d' % (base, tag, i))
        except OSError:
            pass
ts = [threading.Thread(target=deny, args=('t%d' % k,)) for k in range(3)]
for t in ts:
    t.start()
for i in range(12):
    subprocess.run(['cat', base + '/c%d' % i], stderr=subprocess.DEVNULL)
    pid = os.fork()
    if pid == 0:
        deny('f%d' % i)
        os._exit(0)
    os.waitpid(pid, 0)
for t in ts:
    t.join()
'''

WEAK = """version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
"""


def clean_env(env, **extra):
    env = {k: v for k, v in env.items()
           if not k.startswith('TRAINGUARD_') and k != 'LD_PRELOAD'}
    env['TRAINGUARD_LIBRARY'] = LIB
    env.update(extra)
    return env


def tg_run(lay, argv, log, opts=(), env=None, policy=None, pre=()):
    cmd = list(pre) + [TG, 'run', '--policy', policy or lay.policy, '--log', log] + list(
        opts) + ['--']
    return run(cmd + list(argv), env=clean_env(env or lay.env), cwd=lay.work)


def records(log):
    out = []
    if not os.path.exists(log):
        return out
    with open(log) as f:
        for line in f:
            out.append(json.loads(line))
    return out


def tg(r):
    return r.get('unmapped', {}).get('trainguard', {})


def denied_paths(recs):
    return [r.get('file', {}).get('path') for r in recs if tg(r).get('decision') == 'deny']


def verify(log, *opts):
    return run([TG, 'verify'] + list(opts) + [log])


def collector_records(recs):
    return [r for r in recs if tg(r).get('event') == 'collector']


def case_truncate(tap, lay):
    job = os.path.join(lay.t, 'truncate.py')
    Layout.write(job, TRUNCATE, 0o644)
    log = os.path.join(lay.t, 'trunc.jsonl')
    r = tg_run(lay, [PYTHON, job, log, lay.secret], log)
    recs = records(log)
    paths = denied_paths(recs)
    v = verify(log)
    tap.check('fds []' in r.stdout and lay.secret in paths and lay.secret + '.after' in paths
              and 'raw open refused' in r.stdout and 'libc open refused' in r.stdout
              and any(tg(x).get('event') == 'start' for x in recs) and v.returncode == 0,
              'collector: no descriptor of the job is on the log; raw ftruncate and '
              'open(O_TRUNC) by libc and raw openat leave the earlier records, and verify '
              'passes',
              f'{r.stdout}{r.stderr}\n{paths}\n{v.stdout}')
    # In a folder the job may create entries in, the fence cannot carve the
    # log out (docs/fence.md): the raw open cuts it, and the collector says so.
    log3 = os.path.join(lay.work, 'trunc-here.jsonl')
    r = tg_run(lay, [PYTHON, job, log3, lay.secret], log3)
    cut = [x for x in collector_records(records(log3)) if 'was cut' in x['message']]
    tap.check('raw open ok' in r.stdout and len(cut) == 1 and cut[0]['severity_id'] == 4
              and 'the log was cut while the job ran' in r.stderr,
              'collector: a log the fence cannot carve out (in the job\'s writable folder) '
              'cut by a raw open: the collector\'s record and run\'s summary say so',
              f'{r.stdout}{r.stderr}')
    log2 = os.path.join(lay.t, 'trunc-job.jsonl')
    r = tg_run(lay, [PYTHON, job, log2, lay.secret], log2, opts=['--no-collector'])
    paths = denied_paths(records(log2))
    tap.check('fds []' not in r.stdout and lay.secret not in paths,
              '--no-collector (each process appends to the log): the same payload finds '
              'the log descriptor and erases the earlier records',
              f'{r.stdout}{r.stderr}\n{paths}')


def case_truncate_nobody(tap, lay):
    """The same as a user with no privileges: run and the job as nobody."""
    if not have_nobody():
        tap.skip('collector as nobody', 'setpriv cannot switch to nobody here')
        return
    job = os.path.join(lay.t, 'truncate.py')
    logs = os.path.join(lay.t, 'nobody-logs')
    os.makedirs(logs, exist_ok=True)
    os.chmod(logs, 0o777)
    log = os.path.join(logs, 'trunc.jsonl')
    env = {k: v for k, v in lay.env.items() if k != 'XDG_RUNTIME_DIR'}
    r = tg_run(lay, [PYTHON, job, log, lay.secret], log, pre=NOBODY, env=env)
    paths = denied_paths(records(log))
    v = verify(log)
    tap.check(r.returncode == 0 and 'fds []' in r.stdout and lay.secret in paths
              and lay.secret + '.after' in paths and 'raw open refused' in r.stdout
              and v.returncode == 0,
              'collector as nobody: the same payload leaves every earlier record, verify passes',
              f'{r.returncode} {r.stdout}{r.stderr}\n{paths}')


def case_raw_exec_writer(tap, lay):
    """A child by raw execve that would open the log itself (no collector
    in its environment): the fence does not let it write there."""
    log = os.path.join(lay.t, 'rawexec.jsonl')
    code = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
env = [b'LD_PRELOAD=' + sys.argv[1].encode(), b'TRAINGUARD_LOG=' + sys.argv[2].encode(),
       b'TRAINGUARD_POLICY=' + os.environ['TRAINGUARD_POLICY'].encode()]
argv = (ctypes.c_char_p * 2)(b'/bin/true', None)
envp = (ctypes.c_char_p * (len(env) + 1))(*env, None)
libc.syscall(59, b'/bin/true', argv, envp)
'''
    r = tg_run(lay, [PYTHON, '-c', code, LIB, log], log)
    tap.check(r.returncode == 126 and 'cannot open the log' in r.stderr
              and verify(log).returncode == 0,
              'collector: a child started by raw execve to open the log itself cannot '
              '(the fence keeps the log unwritable in the job): it does not start',
              f'{r.returncode} {r.stderr}')


def case_silence(tap, lay):
    job = os.path.join(lay.t, 'silence.py')
    Layout.write(job, SILENCE, 0o644)
    log = os.path.join(lay.t, 'silence.jsonl')
    r = tg_run(lay, [PYTHON, job, lay.secret], log)
    recs = records(log)
    col = collector_records(recs)
    running = [x for x in col if tg(x).get('collector', {}).get('ended') == 'running']
    exited = [x for x in col if tg(x).get('collector', {}).get('ended') == 'exited']
    tap.check(len(running) == 1 and running[0]['severity_id'] == 4
              and 'stopped logging while it runs' in running[0]['message']
              and '1 process of the job stopped logging while running' in r.stderr,
              'collector: a process that closes its connection by a raw close and runs on '
              'is named in the log (severity High) and in run\'s summary',
              f'{r.stderr}\n{json.dumps(col, indent=1)}')
    tap.check(len(exited) == 1 and exited[0]['severity_id'] == 2
              and verify(log).returncode == 0,
              'collector: a fork child ending by a raw exit_group (no stop record) is named '
              '(severity Low), and the collector\'s records verify',
              json.dumps(col, indent=1))


def case_forge(tap, lay):
    job = os.path.join(lay.t, 'forge.py')
    Layout.write(job, FORGE, 0o644)
    log = os.path.join(lay.t, 'forge.jsonl')
    r = tg_run(lay, ['sh', '-c', f'cat /etc/hostname >/dev/null; {PYTHON} {job} {log}'], log)
    text = ''.join(json.dumps(x) for x in records(log))
    recs = records(log)
    refused = [x for x in collector_records(recs) if 'refused' in x['message']]
    why = [tg(x)['collector'].get('refused', '') for x in refused]
    own = [x for x in recs if x.get('message') == 'OWN-NAME']
    v = verify(log)
    tap.check('sent True' in r.stdout and 'FORGED-OTHER-PID' not in text.replace(
              '\\"FORGED', '') and len(refused) == 3
              and any(w.startswith('it names pid 1') for w in why)
              and any(w.startswith('it goes on with the hash chain of pid') for w in why)
              and 'not one line' in why and v.returncode == 0
              and "3 records sent in another process's name: refused" in r.stderr,
              'collector: records in another pid\'s name, on another process\'s chain, or '
              'two in one message are refused and said; the log verifies',
              f'{r.stdout}{r.stderr}\n{why}\n{v.stdout}')
    tap.check(len(own) == 1,
              'collector: a record a payload sends in its own name is written (a known '
              'limit: the job can add records about itself)', text[-2000:])


def case_drain(tap, lay):
    job = os.path.join(lay.t, 'burst.py')
    Layout.write(job, BURST, 0o644)
    log = os.path.join(lay.t, 'burst.jsonl')
    seal = os.path.join(lay.t, 'burst.seal')
    base = os.path.join(lay.home, '.ssh')
    n, m = 8, 300
    r = tg_run(lay, [PYTHON, job, base, str(n), str(m)], log, opts=['--seal', seal])
    paths = set(denied_paths(records(log)))
    want = {f'{base}/k{i}-{j}' for i in range(n) for j in range(m)}
    v = verify(log, '--seal', seal)
    tap.check(r.returncode == 0 and want <= paths
              and f'{n * m} violations ({n * m} denied' in r.stderr and v.returncode == 0,
              f'collector: {n} processes refusing {m} distinct paths each at once and ending '
              'by _exit: every record is in the log before the summary and the seal',
              f'{r.returncode} {r.stderr} missing {len(want - paths)}\n{v.stdout}')


def case_order(tap, lay):
    job = os.path.join(lay.t, 'order.py')
    Layout.write(job, ORDER, 0o644)
    base = os.path.join(lay.home, '.ssh')
    bad = []
    for i in range(3):
        log = os.path.join(lay.t, f'order-{i}.jsonl')
        r = tg_run(lay, [PYTHON, job, base], log)
        v = verify(log)
        if r.returncode != 0 or v.returncode != 0:
            bad.append(f'{r.returncode} {r.stderr[-500:]}\n{v.stdout[-1500:]}')
    tap.check(not bad, 'collector: a child\'s first record is written after the parent\'s '
              'record it links to (threads logging while children fork and exec; 3 runs '
              'verify)', '\n'.join(bad))


def case_stale(tap, lay):
    """A run killed by SIGKILL leaves its socket folder: the next run in
    the same place removes it once nobody listens there."""
    import socket
    tmp = os.path.join(lay.t, 'tmp')
    os.makedirs(tmp, exist_ok=True)
    stale = os.path.join(tmp, 'trainguard-run-AAAAAA')
    fresh = os.path.join(tmp, 'trainguard-run-BBBBBB')
    for d in (stale, fresh):
        os.mkdir(d, 0o700)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.bind(os.path.join(d, 'log.sock'))
        s.close()
    old = time.time() - 3600
    os.utime(os.path.join(stale, 'log.sock'), (old, old))
    log = os.path.join(lay.t, 'stale.jsonl')
    env = {k: v for k, v in lay.env.items() if k != 'XDG_RUNTIME_DIR'}
    r = tg_run(lay, ['true'], log, env=dict(env, TMPDIR=tmp))
    left = sorted(os.listdir(tmp))
    tap.check(r.returncode == 0 and left == ['trainguard-run-BBBBBB'],
              'collector: a socket folder nobody listens on, older than a minute, is removed '
              'by the next run (a fresh one is left alone); run removes its own', f'{left} '
              f'{r.stderr}')


def case_stall(tap, lay):
    job = os.path.join(lay.t, 'stall.py')
    Layout.write(job, STALL, 0o644)
    log = os.path.join(lay.t, 'stall.jsonl')
    go, done = os.path.join(lay.work, 'go'), os.path.join(lay.work, 'done')
    base = os.path.join(lay.home, '.ssh')
    cmd = [TG, 'run', '--policy', lay.policy, '--log', log, '--', PYTHON, job, base, go, done,
           '3000']
    # stderr to a file: the records the job cannot send go there, and a
    # pipe nobody reads would stop the job by itself.
    errf = open(os.path.join(lay.t, 'stall.err'), 'w+')
    p = subprocess.Popen(cmd, env=clean_env(lay.env), cwd=lay.work, stdout=subprocess.PIPE,
                         stderr=errf, text=True)
    t0 = time.time()
    while time.time() - t0 < 20 and (not os.path.exists(log) or os.path.getsize(log) == 0):
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGSTOP)
    open(go, 'w').close()
    t1 = time.time()
    while time.time() - t1 < 20 and not os.path.exists(done):
        time.sleep(0.1)
    finished = os.path.exists(done)
    took = time.time() - t1
    os.kill(p.pid, signal.SIGCONT)
    p.communicate(timeout=60)
    errf.seek(0)
    err = errf.read()
    errf.close()
    recs = records(log)
    stop = [x for x in recs if tg(x).get('event') == 'stop']
    dropped = sum(tg(x).get('dropped', 0) or 0 for x in stop)
    tap.check(finished and took < 10 and dropped > 0 and p.returncode == 0
              and verify(log).returncode == 0,
              'collector stopped (SIGSTOP): the job does not wait on it for more than a '
              'moment; the records it could not send are counted in the log',
              f'finished={finished} took={took:.1f}s dropped={dropped} rc={p.returncode}\n'
              f'{err[-1500:]}')


def case_plain_preload(tap, lay):
    log = os.path.join(lay.t, 'plain.jsonl')
    code = ('import os; print(sorted(os.readlink("/proc/self/fd/" + f) for f in '
            'os.listdir("/proc/self/fd") if not f.startswith("3")))')
    env = clean_env(lay.env, TRAINGUARD_LOG=log, TRAINGUARD_POLICY=lay.policy)
    r = run(['env', f'LD_PRELOAD={LIB}', PYTHON, '-c', code], env=env, cwd=lay.work)
    tap.check(os.path.realpath(log) in r.stdout and os.path.getsize(log) > 0,
              'plain LD_PRELOAD (no run): the process appends to the log file itself',
              r.stdout + r.stderr)


def case_nested(tap, lay, outer_fence):
    """Inside a guarded job, `trainguard run` with a policy that allows
    everything, the fence off and audit mode: the outer policy holds."""
    weak = os.path.join(lay.work, 'weak.cfg')
    Layout.write(weak, WEAK, 0o644)
    miner = os.path.join(lay.work, 'miner')
    mark = os.path.join(lay.work, 'MINED')
    Layout.write(miner, f'#!/bin/sh\ntouch {mark}\n', 0o755)
    inner = [TG, 'run', '--policy', weak, '--fence', 'off', '--mode', 'audit', '--log',
             os.path.join(lay.work, 'inner.jsonl'), '--']
    env = dict(lay.env, TMPDIR=lay.work)
    # The same inner run outside any guard: the weak policy lets both through.
    r0 = run(inner + [miner], env=clean_env(env), cwd=lay.work)
    r1 = run(inner + ['cat', lay.secret], env=clean_env(env), cwd=lay.work)
    ran = os.path.exists(mark)
    if ran:
        os.unlink(mark)
    tap.check(ran and SECRET in r1.stdout,
              'nested: the weak inner run alone runs the miner and reads the secret',
              f'{r0.stderr}\n{r1.stdout}{r1.stderr}')
    opts = ['--fence', outer_fence] if outer_fence else []
    log = os.path.join(lay.t, f'nested-{outer_fence}.jsonl')
    name = 'the outer fence off (the preload alone)' if outer_fence == 'off' else 'the fence on'
    r = tg_run(lay, inner + [miner], log, opts=opts, env=env)
    tap.check(not os.path.exists(mark),
              f'nested run with a weaker policy, --fence off and audit mode, {name}: the '
              'miner does not run', f'{r.returncode} {r.stdout}{r.stderr}')
    r = tg_run(lay, inner + ['cat', lay.secret], log, opts=opts, env=env)
    recs = records(log)
    tap.check(SECRET not in r.stdout + r.stderr and lay.secret in denied_paths(recs)
              and verify(log).returncode == 0,
              f'nested run with a weaker policy, {name}: the secret is not read, and the '
              'refusal is in the outer log', f'{r.returncode} {r.stdout}{r.stderr}')


def case_late_start(tap, lay):
    """A program started by a process the job left behind, after the
    collector has ended: it cannot log, so it does not run. With the
    fence off, the guard's refusal at start is all that keeps the secret."""
    out, err, rc = (os.path.join(lay.work, 'late.' + x) for x in ('out', 'err', 'rc'))
    for f in (out, err, rc):
        if os.path.exists(f):
            os.unlink(f)
    log = os.path.join(lay.t, 'late.jsonl')
    late = f'(sleep 2.5; cat {lay.secret} >{out} 2>{err}; echo $? >{rc}) & exit 0'
    r = tg_run(lay, ['sh', '-c', late], log, opts=['--fence', 'off'])
    deadline = time.monotonic() + 15
    while not os.path.exists(rc) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.1)
    said = open(err).read() if os.path.exists(err) else ''
    status = open(rc).read().strip() if os.path.exists(rc) else 'none'
    got = open(out).read() if os.path.exists(out) else ''
    tap.check(r.returncode == 0 and status == '126' and SECRET not in got
              and 'cannot reach the collector' in said and 'refusing to run unguarded' in said,
              'collector: a program a left-behind process starts after the collector ended '
              'refuses to run (126, named on its stderr): with the fence off, the secret is '
              'not read', f'run {r.returncode}, late status {status}\n{said}\n{got}')


def main():
    tap = Tap()
    if landlock_abi() < 1:
        tap.skip('the collector under trainguard run', 'this kernel has no Landlock')
        return tap.done()
    lay = Layout(base='/var/tmp')
    try:
        case_truncate(tap, lay)
        case_truncate_nobody(tap, lay)
        case_raw_exec_writer(tap, lay)
        case_silence(tap, lay)
        case_forge(tap, lay)
        case_drain(tap, lay)
        case_order(tap, lay)
        case_stall(tap, lay)
        case_stale(tap, lay)
        case_plain_preload(tap, lay)
        case_late_start(tap, lay)
        case_nested(tap, lay, None)
        case_nested(tap, lay, 'off')
    finally:
        lay.cleanup()
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
