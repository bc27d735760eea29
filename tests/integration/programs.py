#!/usr/bin/env python3
"""Real programs under the guard (TAP).

Each runs in a sandbox whose policy has a read-only dataset folder (data/)
and a writable one (out/): coreutils cat, cp, mv, rm, rm -r and tar; mv
across the refer rule (EXDEV, then copy and delete); python3 open(),
pathlib, tempfile, the os.replace checkpoint pattern, shutil.move,
subprocess with an empty environment and multiprocessing fork workers;
sqlite3 through python and through the CLI. Each asserts the exit status,
that the dataset is byte-for-byte untouched, and the records (op as the
program really binds it, decision, errno, rule, path, pids)."""
import json
import os
import shutil
import subprocess
import sys
import tarfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tglib  # noqa: E402
from tglib import PROBE, Sandbox, check_record, find  # noqa: E402

POLICY = '''version = 1;
defaults = { read = "allow"; list = "allow"; exec = "allow"; write = "allow";
             create = "allow"; delete = "allow"; chmod = "allow"; };
rules = (
  { id = "dataset"; path = "{root}/data/**"; allow = ["read", "list"];
    deny = ["write", "create", "delete", "chmod"]; },
  { id = "out"; path = "{root}/out/**"; allow = ["read", "list", "write", "create", "delete", "chmod"]; },
  { id = "inbox"; path = "{root}/inbox/**"; allow = ["read", "list", "create", "delete"];
    deny = ["write"]; }
);
'''
PYTHON = '/usr/bin/python3'
WRAPPED = set()


def bound(program):
    """The wrapped symbols PROGRAM and the libraries it loads import (nm -D),
    or None when that cannot be told."""
    nm = shutil.which('nm')
    path = shutil.which(program) or program
    if not nm or not os.path.exists(path):
        return None
    objects = [os.path.realpath(path)]
    ldd = subprocess.run(['ldd', objects[0]], capture_output=True, text=True)
    for line in ldd.stdout.splitlines():
        parts = line.split('=>')
        lib = (parts[1] if len(parts) > 1 else parts[0]).split('(')[0].strip()
        if lib.startswith('/') and '/libc.so' not in lib and '/ld-linux' not in lib:
            objects.append(lib)
    syms = set()
    for obj in objects:
        r = subprocess.run([nm, '-D', '--undefined-only', obj], capture_output=True, text=True)
        if r.returncode != 0:
            return None
        syms |= {ln.split()[-1].split('@')[0] for ln in r.stdout.splitlines() if ln.strip()}
    return syms & WRAPPED


def sandbox(tap, name):
    sb = Sandbox(tap, name, POLICY)
    sb.write('data/a.txt', b'alpha\n' * 100)
    sb.write('data/b.bin', bytes(range(256)) * 16)
    sb.write('data/sub/c.txt', b'gamma\n')
    sb.write('data/sub/deep/d.txt', b'delta\n')
    sb.write('out/new.txt', b'new content\n')
    sb.mkdir('inbox')
    return sb


def op_in(program, family):
    """A predicate: the record's op is a symbol of FAMILY that PROGRAM binds."""
    syms = bound(program)
    allowed = family & syms if syms else family

    def pred(op):
        return op in allowed
    pred.__name__ = f'one of {sorted(allowed)}'
    return pred


OPEN_FAMILY = {'open', 'open64', 'openat', 'openat64', '__open_2', '__open64_2', '__openat_2',
               '__openat64_2', 'creat', 'creat64', 'fopen', 'fopen64'}
RENAME_FAMILY = {'rename', 'renameat', 'renameat2'}


def denied_run(tap, sb, what, argv, program, family, path=None, classes=None, cwd=None):
    before = tglib.snapshot(sb.p('data'))
    res = sb.run(argv, label=what, cwd=cwd)
    tap.ok(res.rc not in (0, -999), f'{what}: exits non-zero', res.describe())
    after = tglib.snapshot(sb.p('data'))
    tap.ok(before == after, f'{what}: data/ is byte-for-byte untouched',
           tglib.snapshot_diff(before, after))
    recs = res.denials()
    want = dict(decision='deny', uid='dataset', errno=13, job=sb.job,
                op=op_in(program, family))
    if path:
        want['path'] = sb.p(path)
    if classes:
        want['classes'] = classes
    tap.ok(len(recs) >= 1, f'{what}: the refusal is logged', tglib.summary(res.records))
    check_record(tap, recs[0] if recs else None, f'{what}: record fields', **want)
    return res


def test_coreutils(tap):
    with sandbox(tap, 'coreutils') as sb:
        res = sb.run(['cat', sb.p('data/a.txt')], label='cat')
        tap.ok(res.rc == 0 and res.out == 'alpha\n' * 100 and not res.denials(),
               'cat of a dataset file: allowed, contents printed, no denial', res.describe())
        denied_run(tap, sb, 'cp over a dataset file', ['cp', sb.p('out/new.txt'),
                   sb.p('data/a.txt')], 'cp', OPEN_FAMILY, 'data/a.txt')
        denied_run(tap, sb, 'cp of a new file into the dataset',
                   ['cp', sb.p('out/new.txt'), sb.p('data/')], 'cp', OPEN_FAMILY,
                   'data/new.txt')
        res = denied_run(tap, sb, 'mv of a dataset file out', ['mv', sb.p('data/a.txt'),
                         sb.p('out/')], 'mv', RENAME_FAMILY | {'unlinkat', 'unlink'},
                         'data/a.txt')
        tap.ok(os.path.exists(sb.p('data/a.txt')), 'mv of a dataset file out: it is still there')
        res = denied_run(tap, sb, 'mv of a file into the dataset folder',
                         ['mv', sb.p('out/new.txt'), sb.p('data/')], 'mv', RENAME_FAMILY,
                         classes=['create'])
        tap.ok(os.path.exists(sb.p('out/new.txt')), 'mv into the dataset: the file stays in out/')
        tap.ok(bool(find(res.denials(), path=sb.p('data/new.txt'))),
               'mv into the dataset: the refusal names data/new.txt', tglib.summary(res.records))
        tap.ok(not find(res.records, path=sb.p('data')),
               'mv into the dataset: no refusal is recorded against the folder itself (the '
               'kernel answers EEXIST to renameat2(src, "data/", RENAME_NOREPLACE))',
               tglib.summary(res.records))
        denied_run(tap, sb, 'rm of a dataset file', ['rm', '-f', sb.p('data/a.txt')], 'rm',
                   {'unlinkat', 'unlink', 'remove'}, 'data/a.txt', ['delete'])
        res = denied_run(tap, sb, 'rm -r of the dataset tree', ['rm', '-r', sb.p('data')], 'rm',
                         {'unlinkat', 'unlink', 'remove', 'rmdir'})
        tap.ok(all(tglib.field(r, 'op') == 'unlinkat' and
                   tglib.field(r, 'path').startswith(sb.p('data'))
                   for r in res.denials()) and len(res.denials()) >= 4,
               'rm -r: every file it tried was refused at unlinkat (one record each)',
               tglib.summary(res.records))
        res = sb.run(['rm', '-r', sb.p('out')], label='rm -r of the writable folder')
        tap.ok(res.rc == 0 and not os.path.exists(sb.p('out')),
               'rm -r of the writable folder works', res.describe())


def test_tar(tap):
    with sandbox(tap, 'tar') as sb:
        arch = sb.p('arch.tar')
        src = sb.p('src')
        os.makedirs(os.path.join(src, 'newdir'))
        for name, data in (('a.txt', b'overwritten\n'), ('fresh.txt', b'fresh\n'),
                           ('newdir/x', b'x\n')):
            with open(os.path.join(src, name), 'wb') as f:
                f.write(data)
        with tarfile.open(arch, 'w') as t:
            for name in ('a.txt', 'fresh.txt', 'newdir'):
                t.add(os.path.join(src, name), arcname=name)
        denied_run(tap, sb, 'tar -xf into the dataset', ['tar', '-xf', arch, '-C', sb.p('data')],
                   'tar', OPEN_FAMILY | {'mkdir', 'mkdirat', 'unlinkat', 'unlink',
                                         'renameat', 'renameat2', 'rename'})
        sb.mkdir('out/x')
        res = sb.run(['tar', '-xf', arch, '-C', sb.p('out/x')], label='tar -xf into out')
        tap.ok(res.rc == 0 and os.path.exists(sb.p('out/x/newdir/x')),
               'tar -xf into the writable folder works', res.describe())


def test_mv_refer(tap):
    with sandbox(tap, 'mv-refer') as sb:
        sb.write('inbox/f', b'inbox bytes\n')
        res = sb.run(['mv', sb.p('inbox/f'), sb.p('out/')], label='mv across the refer rule')
        tap.ok(res.rc == 0 and not os.path.exists(sb.p('inbox/f')) and
               open(sb.p('out/f'), 'rb').read() == b'inbox bytes\n',
               'mv from a no-write folder to a writable one: the rename gets EXDEV, '
               'mv copies and deletes', res.describe())
        recs = find(res.records, decision='deny', errno=18, path=sb.p('out/f'))
        check_record(tap, recs[0] if recs else None, 'mv across the refer rule: EXDEV record',
                     op=op_in('mv', RENAME_FAMILY), status_code='EXDEV', uid='inbox',
                     classes=['write'])
        # mv first tries renameat2(src, "out/", RENAME_NOREPLACE), which the
        # kernel answers EEXIST (out exists) without moving anything.
        folder = find(res.records, path=sb.p('out'))
        tap.ok(not folder, 'mv into a folder: no refusal is recorded against the folder '
               'itself (the kernel answers EEXIST to that rename)', tglib.summary(res.records))


PY_SNIPPETS = {
    'open(w)': 'open(P, "w").write("x")',
    'pathlib.write_text': 'pathlib.Path(P).write_text("x")',
    'NamedTemporaryFile': 'tempfile.NamedTemporaryFile(dir=D).write(b"x")',
    'os.replace checkpoint': (
        'tmp = os.path.join(TMPD, "ckpt.tmp")\n'
        'with open(tmp, "wb") as f: f.write(b"weights")\n'
        'os.replace(tmp, P)'),
}


def python(sb, what, code, **kw):
    # (named so that it shadows no module: "sqlite3.py" would)
    script = sb.write(f'py/t_{what.replace(" ", "_").replace("/", "_")}.py', code)
    return sb.run([PYTHON, script], label=f'python {what}', **kw)


def py_outcome(res):
    for line in res.out.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    return None


PY_PRELUDE = '''import json, os, pathlib, shutil, sys, tempfile
def run(fn):
    try:
        fn()
        print("RESULT " + json.dumps({"ok": True, "pid": os.getpid()}))
    except OSError as e:
        print("RESULT " + json.dumps({"ok": False, "errno": e.errno, "pid": os.getpid(),
                                      "error": str(e)}))
'''


def test_python_files(tap):
    py_ops = op_in(PYTHON, OPEN_FAMILY | RENAME_FAMILY | {'mkstemp', 'mkstemp64'})
    with sandbox(tap, 'python') as sb:
        for name, body in PY_SNIPPETS.items():
            for where in ('data', 'out'):
                target = sb.p(where, 'ckpt.pt' if 'replace' in name else 'file.txt')
                code = PY_PRELUDE + (
                    f'P = {target!r}\nD = {sb.p(where)!r}\nTMPD = {sb.p("out")!r}\n'
                    'def f():\n' + ''.join(f'    {ln}\n' for ln in body.splitlines())
                    + 'run(f)\n')
                before = tglib.snapshot(sb.p('data'))
                res = python(sb, f'{name} {where}', code)
                out = py_outcome(res)
                if where == 'out':
                    tap.ok(out and out['ok'] and not res.denials(),
                           f'python {name} in the writable folder: works', res.describe())
                    if 'replace' in name:
                        tap.ok(open(target, 'rb').read() == b'weights',
                               'python checkpoint pattern: the checkpoint is in place')
                    continue
                tap.ok(out is not None and not out['ok'] and out['errno'] == 13,
                       f'python {name} in the dataset: PermissionError (EACCES)', res.describe())
                after = tglib.snapshot(sb.p('data'))
                tap.ok(before == after, f'python {name} in the dataset: data/ untouched',
                       tglib.snapshot_diff(before, after))
                recs = res.denials()
                check_record(tap, recs[0] if recs else None,
                             f'python {name} in the dataset: record fields', op=py_ops,
                             uid='dataset', errno=13, job=sb.job,
                             pid=out['pid'] if out else None,
                             path=lambda p: p is not None and p.startswith(sb.p('data')))
        # shutil.move out of the dataset: rename refused, the copy's delete too
        code = PY_PRELUDE + (f'def f():\n    shutil.move({sb.p("data/a.txt")!r}, '
                             f'{sb.p("out/")!r})\nrun(f)\n')
        before = tglib.snapshot(sb.p('data'))
        res = python(sb, 'shutil.move', code)
        out = py_outcome(res)
        tap.ok(out is not None and not out['ok'] and out['errno'] == 13,
               'python shutil.move out of the dataset: PermissionError', res.describe())
        tap.ok(before == tglib.snapshot(sb.p('data')),
               'python shutil.move out of the dataset: data/a.txt still there, unchanged')
        ops = {tglib.field(r, 'op') for r in res.denials()}
        tap.ok(bool(ops & RENAME_FAMILY),
               'python shutil.move: the rename of the dataset file is refused and logged',
               tglib.summary(res.records))


def test_python_children(tap):
    with sandbox(tap, 'python-children') as sb:
        target = sb.p('data/b.bin')
        code = f'''import json, os, subprocess
r = subprocess.run([{PROBE!r}, "open", {target!r}, "O_WRONLY|O_TRUNC"], env={{}},
                   capture_output=True, text=True)
print(r.stdout, end="")
print("PARENT", os.getpid())
'''
        before = tglib.snapshot(sb.p('data'))
        res = python(sb, 'subprocess env={}', code)
        ln = res.line('open')
        parent = next((int(x.split()[1]) for x in res.out.splitlines()
                       if x.startswith('PARENT ')), None)
        tap.ok(ln is not None and ln.errno == 'EACCES',
               'python subprocess.run(env={}): the child is still guarded', res.describe())
        tap.ok(before == tglib.snapshot(sb.p('data')), 'python subprocess: data/ untouched')
        recs = find(res.records, decision='deny', op='open')
        check_record(tap, recs[0] if len(recs) == 1 else None,
                     'python subprocess: the child\'s record has its own pid and python\'s '
                     'as parent', pid=ln.pid if ln else None, ppid=parent, path=target,
                     uid='dataset', job=sb.job)

        code = f'''import json, multiprocessing, os
def work(i):
    try:
        with open({sb.p("data/a.txt")!r}, "a") as f:
            f.write("worker")
        return (os.getpid(), 0)
    except OSError as e:
        return (os.getpid(), e.errno)
if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(3) as pool:
        res = pool.map(work, range(6), chunksize=1)
    print("RESULT " + json.dumps({{"parent": os.getpid(), "workers": res}}))
'''
        before = tglib.snapshot(sb.p('data'))
        res = python(sb, 'multiprocessing fork', code, timeout=120)
        out = py_outcome(res)
        workers = out['workers'] if out else []
        tap.ok(out is not None and workers and all(e == 13 for _, e in workers),
               'multiprocessing (fork): every worker\'s write to the dataset fails with EACCES',
               res.describe())
        tap.ok(before == tglib.snapshot(sb.p('data')), 'multiprocessing: data/ untouched')
        pids = {p for p, _ in workers}
        rec_pids = {tglib.field(r, 'pid') for r in res.denials()
                    if tglib.field(r, 'path') == sb.p('data/a.txt')}
        tap.ok(bool(pids) and pids == rec_pids,
               'multiprocessing: the denials are logged with each worker\'s own pid',
               f'workers {sorted(pids)}, records {sorted(rec_pids)}\n' + tglib.summary(res.records))
        parents = {tglib.field(r, 'ppid') for r in res.denials()}
        tap.ok(out is not None and parents == {out['parent']},
               'multiprocessing: the workers\' records name the parent process',
               f'ppids {parents}, parent {out and out["parent"]}')


def test_sqlite(tap):
    with sandbox(tap, 'sqlite') as sb:
        code = PY_PRELUDE + '''import sqlite3
def f(path):
    db = sqlite3.connect(path)
    db.execute("create table t(x)")
    db.execute("insert into t values (1)")
    db.commit()
    assert db.execute("select count(*) from t").fetchone()[0] == 1
    db.close()
''' + f'''
try:
    f({sb.p("out/w.db")!r}); print("RESULT " + json.dumps({{"ok": True}}))
except Exception as e:
    print("RESULT " + json.dumps({{"ok": False, "error": repr(e)}}))
try:
    f({sb.p("data/w.db")!r}); print("RESULT2 " + json.dumps({{"ok": True}}))
except Exception as e:
    print("RESULT2 " + json.dumps({{"ok": False, "error": repr(e)}}))
'''
        before = tglib.snapshot(sb.p('data'))
        res = python(sb, 'sqlite3', code)
        out = py_outcome(res)
        tap.ok(out is not None and out['ok'] and os.path.getsize(sb.p('out/w.db')) > 0,
               'python sqlite3: a database (with its journal) in the writable folder works',
               res.describe())
        out2 = next((json.loads(x[8:]) for x in res.out.splitlines()
                     if x.startswith('RESULT2 ')), None)
        tap.ok(out2 is not None and not out2['ok'],
               'python sqlite3: a database in the dataset cannot be created', res.describe())
        tap.ok(before == tglib.snapshot(sb.p('data')), 'python sqlite3: data/ untouched',
               tglib.snapshot_diff(before, tglib.snapshot(sb.p('data'))))
        tap.ok(any(tglib.field(r, 'path') == sb.p('data/w.db') for r in res.denials()),
               'python sqlite3: the refused open of data/w.db is logged',
               tglib.summary(res.records))
        cli = shutil.which('sqlite3')
        if not cli:
            tap.skip('sqlite3 CLI in the writable folder and the dataset', 'no sqlite3 command')
            return
        sql = 'create table t(x); begin; insert into t values (1); commit; select count(*) from t;'
        res = sb.run([cli, sb.p('out/cli.db'), sql], label='sqlite3 CLI out')
        tap.ok(res.rc == 0 and res.out.strip() == '1' and not res.denials(),
               'sqlite3 CLI: a database in the writable folder works', res.describe())
        before = tglib.snapshot(sb.p('data'))
        res = sb.run([cli, sb.p('data/cli.db'), sql], label='sqlite3 CLI data')
        tap.ok(res.rc != 0, 'sqlite3 CLI: a database in the dataset fails', res.describe())
        tap.ok(before == tglib.snapshot(sb.p('data')), 'sqlite3 CLI: data/ untouched')
        recs = [r for r in res.denials() if tglib.field(r, 'path') == sb.p('data/cli.db')]
        check_record(tap, recs[0] if recs else None, 'sqlite3 CLI: the refusal is logged',
                     op=op_in(cli, OPEN_FAMILY), uid='dataset', errno=13)


def main():
    tap = tglib.TAP()
    if not tglib.prerequisites(tap):
        tap.done()
    WRAPPED.update(tglib.wrapped_symbols())
    for t in (test_coreutils, test_tar, test_mv_refer, test_python_files, test_python_children,
              test_sqlite):
        tap.group(t)
    tap.done()


if __name__ == '__main__':
    main()
