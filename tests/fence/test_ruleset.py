#!/usr/bin/env python3
"""The shapes of the Landlock ruleset, as docs/fence.md documents them.

Each documented semantic is pinned by its effect on a raw system call:
what is carved out, what stays open and says so in a hint (a split folder
the job may create entries in, a name glob, the rule cap), what --strict
costs (an entry created later directly in a split folder gets no right),
the protect list, the policy file's own protection, and the modes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fencelib import (RUN, Layout, Tap, attack, fence_report, fenced, landlock_abi,  # noqa: E402
                      run, sha)


def main():
    tap = Tap()
    abi = landlock_abi()

    # Modes: the parser and off.
    r = run([RUN, '--embedded', 'ml-default', '--landlock', 'sometimes', '--', 'true'])
    tap.check(r.returncode == 125, 'an unknown fence mode is refused', r.stderr)
    r = run([RUN, '--embedded', 'ml-default', '--landlock', 'off', '--seccomp', 'off',
             '--report', '--', 'true'])
    rep = fence_report(r.stderr)
    tap.check(r.returncode == 0 and rep.get('landlock') == '0' and rep.get('seccomp') == '0',
              'mode off installs neither layer', r.stderr)
    r = run([RUN, '--embedded', 'ml-default', '--landlock', 'require', '--seccomp', 'require',
             '--report', '--', 'true'])
    rep = fence_report(r.stderr)
    if abi < 1:
        tap.check(r.returncode == 125, 'mode require fails without Landlock', r.stderr)
        tap.skip('ruleset shapes', 'this kernel has no Landlock')
        return tap.done()
    tap.check(r.returncode == 0 and rep.get('landlock') == '1' and rep.get('seccomp') == '1',
              'mode require installs both layers', r.stderr)
    if abi >= 7:
        tap.check(rep.get('audit') == '1', 'ABI 7: Landlock audit logging is asked for',
                  r.stderr)
    else:
        tap.skip('Landlock audit logging', f'Landlock ABI {abi} has none')

    # Beneath a symbolic link: /proc/self is another folder per process, so
    # what the policy allows there widens to /proc; opening a descriptor by
    # name (/dev/stderr, /proc/self/fd/1) is decided on the object reached.
    lay = Layout()
    try:
        own = os.path.join(lay.t, 'self.cfg')
        Layout.write(own, 'version = 1;\ndefaults = { read = "deny"; list = "allow"; '
                     'exec = "allow"; write = "deny"; create = "deny"; delete = "deny"; '
                     'chmod = "deny"; };\nrules = ({ id = "sys"; path = ["/usr/**", "/etc/**"]; '
                     'allow = ["read"]; }, { id = "self"; path = "/proc/self/**"; '
                     'allow = ["read"]; });\n', 0o644)
        r = fenced(own, ['sh', '-c', 'head -1 /proc/self/status; cat ' + lay.dataset],
                   env=lay.env, cwd=lay.work)
        tap.check(r.stdout.startswith('Name:\thead') and 'Permission denied' in r.stderr
                  and "'/proc/*' stays open to read" in r.stderr,
                  'what the policy allows beneath /proc/self is readable, with a hint',
                  r.stdout + r.stderr)
        r = fenced('embedded:ml-default',
                   ['sh', '-c', 'echo e > /dev/stderr; echo o > /proc/self/fd/1; echo x > '
                    '/proc/self/comm'], env=lay.env, cwd=lay.work)
        tap.check(r.stdout == 'o\n' and r.stderr.count('e\n') == 1
                  and "'/proc" not in r.stderr
                  and 'cannot create /proc/self/comm' in r.stderr,
                  'ml-default: /dev/stderr and /proc/self/fd/1 are writable, /proc is not',
                  r.stdout + r.stderr)
    finally:
        lay.cleanup()

    # Audit and learn mode: the guard only records, so the fence stays out.
    lay = Layout()
    try:
        for mode in ('audit', 'learn'):
            out, r = attack(lay, 'read', lay.secret, opts=['--mode', mode, '--report'])
            rep = fence_report(r.stderr)
            tap.check(out.startswith('OK read') and rep.get('landlock') == '0'
                      and rep.get('seccomp') == '0' and f'in {mode} mode' in r.stderr,
                      f'mode {mode}: no fence, with a hint', out + r.stderr)
        out, r = attack(lay, 'read', lay.secret, opts=['--mode', 'enforce'])
        tap.check(out == 'ERR EACCES', 'mode enforce: the fence', out + r.stderr)
    finally:
        lay.cleanup()

    # A home the job may create entries in cannot be split without costs:
    # the secret stays open, with a hint; --strict splits it anyway.
    lay = Layout(home_in_work=True)
    try:
        out, r = attack(lay, 'read', lay.secret, opts=['--report'])
        tap.check(out.startswith('OK read') and 'stays open to read' in r.stderr
                  and int(fence_report(r.stderr).get('widened', 0)) > 0,
                  'a secret in a folder the job may create entries in stays open, with a hint',
                  out + '\n' + r.stderr)
        out, r = attack(lay, 'read', lay.secret, opts=['--strict'])
        tap.check(out == 'ERR EACCES', '--strict carves the secret out anyway',
                  out + '\n' + r.stderr)
        later = os.path.join(lay.home, 'created-later')
        sh = fenced(lay.policy, ['sh', '-c', f'echo x > {later}'], opts=['--strict'],
                    env=lay.env, cwd=lay.work)
        tap.check(sh.returncode != 0 and os.path.exists(later) and os.path.getsize(later) == 0,
                  '--strict: a file created later directly in a split folder gets no right '
                  '(created, but not writable)', sh.stderr)
    finally:
        lay.cleanup()

    # Name globs: a denying one is carved where it matches when the fence
    # is installed, an allowing one widens to its folder.
    lay = Layout(extra_rules=',\n  { id = "netrc"; path = "~/.netrc*"; deny = ["all"]; },\n'
                 '  { id = "logs"; path = "{T}/data/*.log"; allow = ["write"]; }')
    try:
        netrc = os.path.join(lay.home, '.netrc')
        Layout.write(netrc, 'machine x password y\n', 0o644)
        Layout.write(os.path.join(lay.home, '.profile'), 'umask 022\n', 0o644)
        out, r = attack(lay, 'read', netrc)
        tap.check(out == 'ERR EACCES',
                  'a denying name glob (~/.netrc*) is carved out where it matches now', out)
        out, r = attack(lay, 'read', os.path.join(lay.home, '.profile'))
        tap.check(out.startswith('OK read'), 'while its neighbours stay readable', out)
        out, r = attack(lay, 'write', lay.dataset)
        tap.check(out == 'OK wrote 5',
                  'an allowing name glob (data/*.log) widens to its folder (documented)', out)
    finally:
        lay.cleanup()

    lay = Layout(extra_rules=',\n  { id = "cfg"; path = "{T}/cfg/**"; allow = ["write"]; }')
    try:
        with open(lay.policy) as f:
            text = f.read()
        cfg = os.path.join(lay.t, 'cfg')
        os.makedirs(cfg)
        own = os.path.join(cfg, 'fence.cfg')
        Layout.write(own, text, 0o644)
        Layout.write(os.path.join(cfg, 'notes.txt'), 'notes\n', 0o644)
        lay.policy = own
        before = sha(own)
        out, r = attack(lay, 'write', own)
        tap.check(out == 'ERR EACCES' and sha(own) == before,
                  'the policy file itself is not writable under the fence', out + r.stderr)
        out, r = attack(lay, 'write', os.path.join(cfg, 'notes.txt'))
        tap.check(out == 'OK wrote 5', 'while its writable neighbour is', out)

        # The protect list: the log, once records leave through a pipe.
        out, r = attack(lay, 'read', lay.dataset, opts=['--protect', lay.dataset])
        tap.check(out == 'ERR EACCES', 'a protected path is refused even for reading', out)

        # The writable list: the log while the preload writes it itself.
        logs = os.path.join(lay.t, 'logs')
        os.makedirs(logs)
        log = os.path.join(logs, 'guard.jsonl')
        Layout.write(log, '', 0o644)
        Layout.write(os.path.join(logs, 'other'), '', 0o644)
        out, r = attack(lay, 'write', log, opts=['--writable', log])
        tap.check(out == 'OK wrote 5', 'a writable path is writable under the fence', out)
        out, r = attack(lay, 'write', os.path.join(logs, 'other'), opts=['--writable', log])
        tap.check(out == 'ERR EACCES', 'while its neighbour is not', out)
        new = os.path.join(logs, 'new.jsonl')
        sh = fenced(lay.policy, ['sh', '-c', f'echo x >> {new}'], opts=['--writable', new],
                    env=lay.env, cwd=lay.work)
        tap.check(sh.returncode == 0 and os.path.getsize(new) == 2,
                  'a missing writable path can be created under the fence', sh.stderr)

        # Past the rule cap the split stops and the tree stays open.
        out, r = attack(lay, 'read', lay.secret, opts=['--max-rules', '4'])
        tap.check(out.startswith('OK read') and 'would pass 4 rules' in r.stderr,
                  'past the rule cap a carve-out stays open, with a hint', out + r.stderr)

        # A missing secret costs no split.
        ssh = os.path.dirname(lay.secret)
        os.unlink(lay.secret)
        os.rmdir(ssh)
        r = fenced(lay.policy, ['true'], opts=['--report'], env=lay.env, cwd=lay.work)
        carved_missing = int(fence_report(r.stderr).get('carved', -1))
        os.makedirs(ssh)
        Layout.write(lay.secret, 'key\n', 0o644)
        r = fenced(lay.policy, ['true'], opts=['--report'], env=lay.env, cwd=lay.work)
        carved_present = int(fence_report(r.stderr).get('carved', -1))
        tap.check(0 <= carved_missing < carved_present,
                  'a denied tree that does not exist splits no folder',
                  f'carved {carved_missing} without ~/.ssh, {carved_present} with it')
    finally:
        lay.cleanup()
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
