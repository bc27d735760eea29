#!/usr/bin/env python3
"""The job of the container test's signal check, run under the guard as
the child of `trainguard run` in a PID namespace. It orphans a short-lived
process (which PID 1 must reap), writes what it sees into its working
folder (PID 1's command line, the zombies left, whether
libtrainguard.so is mapped), says "ready", and waits:
on SIGTERM it writes "got 15" and exits 77, so the container's exit status
shows whether the job's own status came through."""
import os
import signal
import subprocess
import sys
import time


def on_term(sig, frame):
    with open('signal.out', 'w') as f:
        f.write(f'got {sig}\n')
    sys.exit(77)


def zombies():
    found = []
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                with open(f'/proc/{pid}/stat') as f:
                    stat = f.read()
            except OSError:
                continue
            if stat.rsplit(')', 1)[1].split()[0] == 'Z':
                found.append(pid)
    return found


signal.signal(signal.SIGTERM, on_term)
subprocess.run(['/bin/sh', '-c', 'sleep 0.2 & exit 0'], check=True)
time.sleep(1.5)  # the orphaned sleep has exited: PID 1 must have reaped it
with open('/proc/1/cmdline', 'rb') as f:
    pid1 = f.read().split(b'\0')[0].decode()
with open('/proc/self/maps') as f:
    guarded = 'libtrainguard.so' in f.read()
with open('state.out', 'w') as f:
    f.write(f'pid1 {os.path.basename(pid1)}\nzombies {len(zombies())}\nguarded {guarded}\n')
open('ready', 'w').close()
for _ in range(600):
    time.sleep(0.1)
sys.exit(3)  # no SIGTERM came
