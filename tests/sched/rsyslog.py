"""Log shipping through rsyslog, for real: the guard's JSON-lines log is read
by one rsyslogd (imfile) and forwarded over TCP (omfwd, RFC 5424 framing)
to a second rsyslogd (imtcp), which writes each message's text to a file.
The two configurations are examples/logging/rsyslog/{forward,receive}.conf
with their paths and port replaced. Both daemons run from this test's temporary folder (own configuration,
work folder, pid file, ports chosen free on 127.0.0.1; no system-wide
effect) and are stopped at the end.

A guarded job makes several denials (one of a path that is not ASCII) while
the shipper is already watching the log; the test asserts every line
arrives once, byte-identical, and parses to the same JSON object, so the
OCSF fields (correlation_uid, the hash of a record) survive the trip.
Speaks TAP; without rsyslogd it is a visible SKIP. Debian: rsyslog.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SOURCE_ROOT = os.environ.get('TG_SOURCE_ROOT', '')
BUILD_ROOT = os.environ.get('TG_BUILD_ROOT', '')
sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests', 'integration'))
import tglib  # noqa: E402

RSYSLOGD = shutil.which('rsyslogd') or '/usr/sbin/rsyslogd'
JOB_ID = 'rsyslog-ship-1'


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


EXAMPLES = os.path.join(SOURCE_ROOT, 'examples', 'logging', 'rsyslog')


def example_conf(name, work, subs):
    """examples/logging/rsyslog/NAME, with its paths and port replaced and
    the global settings of a test instance first."""
    with open(os.path.join(EXAMPLES, name)) as f:
        text = f.read()
    for old, new in subs:
        if old not in text:
            raise ValueError(f'{name} no longer holds {old!r}')
        text = text.replace(old, new)
    return f'global(workDirectory="{work}" maxMessageSize="64k")\n' + text


class Daemon:
    def __init__(self, name, root, conf_text):
        self.name = name
        self.work = os.path.join(root, name)
        os.makedirs(self.work)
        self.conf = os.path.join(self.work, 'rsyslog.conf')
        self.pidfile = os.path.join(self.work, 'rsyslogd.pid')
        self.out = os.path.join(self.work, 'stderr')
        with open(self.conf, 'w') as f:
            f.write(conf_text(self.work))
        self.proc = None

    def check(self):
        r = subprocess.run([RSYSLOGD, '-N1', '-f', self.conf], capture_output=True, text=True,
                           timeout=20)
        return r.returncode == 0, r.stdout + r.stderr

    def start(self):
        with open(self.out, 'w') as err:
            self.proc = subprocess.Popen([RSYSLOGD, '-n', '-f', self.conf, '-i', self.pidfile],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def stderr(self):
        try:
            with open(self.out) as f:
                return f.read()
        except OSError:
            return ''


def wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def port_open(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


def read_lines(path):
    try:
        with open(path, 'rb') as f:
            return f.read().splitlines()
    except OSError:
        return []


def main():
    t = tglib.TAP()
    cli = os.path.join(BUILD_ROOT, 'cli', 'trainguard')
    if not os.access(RSYSLOGD, os.X_OK):
        print('1..0 # SKIP no rsyslogd (apt-get install rsyslog)')
        return 0
    if not os.access(cli, os.X_OK):
        print('1..0 # SKIP build the project first')
        return 0

    root = tempfile.mkdtemp(prefix='tg-rsyslog.')
    daemons = []
    try:
        return run(t, root, cli, daemons)
    finally:
        for d in reversed(daemons):
            d.stop()
        if os.environ.get('KEEP') == '1':
            print(f'# kept {root}')
        else:
            shutil.rmtree(root, ignore_errors=True)


def run(t, root, cli, daemons):
    started = time.monotonic()
    (port,) = free_ports(1)
    logs = os.path.join(root, 'logs')
    os.makedirs(logs)
    log = os.path.join(logs, 'job-1.jsonl')
    received = os.path.join(root, 'received', 'trainguard.jsonl')
    data = os.path.join(root, 'data')
    os.makedirs(data)
    secrets = [os.path.join(data, n) for n in ('secret-1.txt', 'clé secrète.txt', 'secret-3.txt')]
    for s in secrets:
        with open(s, 'w') as f:
            f.write('TOKEN-' + hashlib.sha256(s.encode()).hexdigest()[:16] + '\n')
    policy = os.path.join(root, 'job.cfg')
    with open(policy, 'w') as f:
        f.write('version = 1;\nmode = "enforce";\n'
                'defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "deny";'
                ' create = "deny"; delete = "deny"; chmod = "deny"; };\n'
                f'rules = ( {{ id = "secrets"; path = "{data}/**"; deny = ["read", "write"];'
                ' reason = "credentials"; } );\n')
    # The log exists (empty) before the shipper starts, as a per-job log
    # created by the launcher would.
    open(log, 'wb').close()

    recv = Daemon('receiver', root, lambda work: example_conf('receive.conf', work, [
        ('port="10514"', f'address="127.0.0.1" port="{port}"'),
        ('/var/log/trainguard-received/trainguard.jsonl', received)]))
    fwd = Daemon('forwarder', root, lambda work: example_conf('forward.conf', work, [
        ('/var/log/trainguard/*.jsonl', os.path.join(logs, '*.jsonl')),
        ('target="logs.example.com" port="10514"', f'target="127.0.0.1" port="{port}"')]))
    for d in (recv, fwd):
        good, out = d.check()
        if not good:
            t.ok(False, f'rsyslogd -N1 accepts the {d.name} configuration', out)
            t.done()
            return 1
    t.ok(True, 'rsyslogd -N1 accepts both configurations')

    daemons.append(recv)
    recv.start()
    if not wait_for(lambda: port_open(port) or not recv.running(), 15) or not recv.running():
        print(f'1..0 # SKIP the receiving rsyslogd did not listen on 127.0.0.1:{port}: '
              + ' '.join(recv.stderr().split())[:300])
        return 0
    daemons.append(fwd)
    fwd.start()
    time.sleep(0.5)
    t.ok(fwd.running(), 'the forwarding rsyslogd runs', fwd.stderr())

    # The job: denied reads and writes, and one allowed read, while the
    # shipper watches the file.
    script = '; '.join(f'cat "{s}"; echo x >> "{s}"' for s in secrets) + '; cat /etc/hostname'
    env = dict(os.environ, TRAINGUARD_JOB_ID=JOB_ID)
    env.pop('LD_PRELOAD', None)
    r = subprocess.run([cli, 'run', '--policy', policy, '--log', log, '--', '/bin/sh', '-c',
                        script], capture_output=True, text=True, timeout=60, env=env)
    sent = read_lines(log)
    t.ok(r.returncode == 0 and 'TOKEN-' not in r.stdout,
         'the guarded job ran and read no secret', r.stdout + r.stderr)
    recs = [json.loads(l) for l in sent]
    denials = [x for x in recs if x.get('action_id') == 2]
    t.ok(len(denials) >= 6, f'the job left {len(denials)} denial records (>= 6)', r.stderr)

    # Every line must arrive; bounded wait.
    wait_for(lambda: len(read_lines(received)) >= len(sent), 30)
    got = read_lines(received)
    t.ok(len(got) == len(sent), f'{len(got)} lines received of {len(sent)} sent',
         '\n'.join(x.decode(errors='replace')[:200] for x in got[:5]) + '\n' + fwd.stderr()
         + recv.stderr())
    t.ok(got == sent, 'each received line is byte-identical to the line the guard wrote',
         '\n'.join(f'sent {a[:120]!r}\ngot  {b[:120]!r}' for a, b in zip(sent, got) if a != b))
    parsed = []
    for line in got:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            parsed.append(None)
    t.ok(parsed == recs, 'each received line parses to the same JSON object')
    t.ok(all(p and p.get('metadata', {}).get('correlation_uid') == JOB_ID for p in parsed),
         f'every received record keeps metadata.correlation_uid = {JOB_ID}')
    paths = {p.get('file', {}).get('path') for p in parsed if p and p.get('action_id') == 2}
    t.ok(set(secrets) <= paths, 'the denials of every secret arrived, the non-ASCII path intact',
         sorted(map(str, paths)))

    # A second job, its own log file in the folder: the wildcard picks it up.
    log2 = os.path.join(logs, 'job-2.jsonl')
    r = subprocess.run([cli, 'run', '--policy', policy, '--log', log2, '--', '/bin/cat',
                        secrets[0]], capture_output=True, text=True, timeout=60, env=env)
    sent = read_lines(log) + read_lines(log2)
    wait_for(lambda: len(read_lines(received)) >= len(sent), 30)
    got = read_lines(received)
    t.ok(got == sent and len(sent) > len(recs),
         f'a new log file in the folder is shipped too ({len(got)} received of {len(sent)})',
         r.stderr)

    for d in (fwd, recv):
        d.stop()
    t.ok(all(not d.running() for d in daemons), 'both rsyslogd instances stopped')
    print(f'# {len(sent)} records shipped in {time.monotonic() - started:.1f}s')
    t.done()
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main())
