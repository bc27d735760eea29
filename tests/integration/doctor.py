#!/usr/bin/env python3
"""trainguard doctor (TAP): the checks of this machine, the exit status that
says whether a guarded run is possible, the lines that say what to fix, and
--pid on a guarded and an unguarded process."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import CLI, Sandbox  # noqa: E402


def doctor(args, env=None):
    e = tglib.base_env()
    if tglib.PRELOAD_FIRST:
        e['LD_PRELOAD'] = tglib.PRELOAD_FIRST
    e.update(env or {})
    return subprocess.run([CLI, 'doctor'] + args, env=e, capture_output=True, text=True,
                          timeout=60)


def line(out, prefix):
    """The first line of OUT whose check starts with PREFIX."""
    for ln in out.splitlines():
        if ln[6:].startswith(prefix):
            return ln
    return ''


def test_machine(tap):
    r = doctor([])
    desc = f'rc={r.returncode}\n{r.stdout}{r.stderr}'
    for what in ('kernel', 'landlock:', 'seccomp:', 'openat2:', 'library:', 'python3:', 'log:'):
        tap.ok(line(r.stdout, what) != '', f'doctor: a line for {what.rstrip(":")}', desc)
    # The library is the build's, and python3 loads it: both must be ok here.
    tap.ok(line(r.stdout, 'library:').startswith('ok') and
           os.path.join(tglib.BUILD_ROOT, 'preload', 'libtrainguard.so') in r.stdout,
           'doctor: finds the library of this build', desc)
    tap.ok(line(r.stdout, 'python3:').startswith('ok'),
           'doctor: the library loads into python3 and the guard starts', desc)
    if line(r.stdout, 'landlock:').startswith('fail'):
        tap.ok(r.returncode == 1, 'doctor: without Landlock, exit 1', desc)
    else:
        tap.ok(r.returncode == 0 and 'is possible here' in r.stdout,
               'doctor: with every layer there, exit 0 and says a guarded run is possible',
               desc)


def test_what_to_fix(tap):
    r = doctor([], env={'TRAINGUARD_LIBRARY': '/nonexistent/libtrainguard.so'})
    ln = line(r.stdout, 'library:')
    tap.ok(r.returncode == 1 and ln.startswith('fail') and "'/nonexistent/libtrainguard.so'" in ln
           and 'TRAINGUARD_LIBRARY' in ln,
           'doctor: a wrong TRAINGUARD_LIBRARY is a failure naming the value', r.stdout)
    r = doctor(['--log', '/nonexistent-dir/job.jsonl'])
    ln = line(r.stdout, 'log:')
    tap.ok(r.returncode == 1 and ln.startswith('fail') and "'/nonexistent-dir'" in ln,
           'doctor: a log folder that does not exist is a failure naming it', r.stdout)
    r = doctor(['--pid', 'x'])
    tap.ok(r.returncode == 2 and "--pid 'x'" in r.stderr, 'doctor: a bad --pid is a usage error',
           r.stderr)


def test_pid(tap):
    with Sandbox(tap, 'doctor-pid') as sb:
        log = sb.new_log('pid')
        e = tglib.base_env()
        if tglib.PRELOAD_FIRST:
            e['LD_PRELOAD'] = tglib.PRELOAD_FIRST
        marker = os.path.join(sb.root, 'ready')
        job = subprocess.Popen([CLI, 'run', '--log', log, '--job-id', 'doctor-7', '--',
                                '/bin/sh', '-c', f': > {marker}; exec sleep 30'],
                               env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(200):
                if os.path.exists(marker):
                    break
                time.sleep(0.05)
            time.sleep(0.2)
            kids = subprocess.run(['pgrep', '-P', str(job.pid)], capture_output=True,
                                  text=True).stdout.split()
            tap.ok(len(kids) == 1, 'the guarded job runs under trainguard run', kids)
            if kids:
                r = doctor(['--pid', kids[0]])
                tap.ok(r.returncode == 0 and 'guarded' in r.stdout and 'NOT' not in r.stdout
                       and 'job doctor-7' in r.stdout and log in r.stdout,
                       'doctor --pid: the guarded job is guarded, with its job id and log',
                       r.stdout + r.stderr)
        finally:
            # SIGTERM, as a scheduler stops a job: trainguard run hands it
            # to the job and removes its collector folder (SIGKILL left
            # trainguard-run-* in the temporary folder, and sleep running).
            job.terminate()
            try:
                job.wait(timeout=20)
            except subprocess.TimeoutExpired:
                job.kill()
                job.wait()
        plain = subprocess.Popen(['sleep', '30'], env=tglib.base_env())
        try:
            r = doctor(['--pid', str(plain.pid)])
            tap.ok(r.returncode == 1 and 'NOT guarded' in r.stdout,
                   'doctor --pid: an unguarded process is NOT guarded (exit 1)', r.stdout)
        finally:
            plain.kill()
            plain.wait()


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    for t in (test_machine, test_what_to_fix, test_pid):
        tap.group(t)
    tap.done()


main()
