#!/usr/bin/env python3
"""Zero false denials: ordinary programs run unchanged under the fence.

Under the embedded default (ml-default) started in a work folder, and
under examples/policies/train.cfg (read-only dataset, checkpoint folder),
coreutils (ls, cp, mv, rm, tar), a shell, git, sqlite3, python3 with
subprocess, multiprocessing, tempfile and an os.replace checkpoint, and a
PyTorch loop with DataLoader workers (when torch is installed) must
give the same exit status and output as without the fence. The layout
lives under /var/tmp, where ml-default lets nothing be created, so the
carve-out of ~/.ssh is really made; the last tests check it is."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fencelib import (ATTACK, PYTHON, Layout, Tap, fence_report, fenced,  # noqa: E402
                      landlock_abi, run, sha)

TRAIN = os.path.join(os.environ.get('TG_SOURCE_ROOT', '.'), 'examples', 'policies', 'train.cfg')

# A training job in miniature: workers read the dataset, the main process
# writes a checkpoint to a temporary name and renames it into place.
JOB = r'''
import hashlib, json, multiprocessing, os, sqlite3, subprocess, sys, tempfile
data, ckpt = sys.argv[1], sys.argv[2]

def digest(name):
    with open(os.path.join(data, name), 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()[:8]

if __name__ == '__main__':
    names = sorted(os.listdir(data))
    with multiprocessing.Pool(2) as pool:
        sums = pool.map(digest, names)
    ctx = multiprocessing.get_context('spawn')
    with ctx.Pool(1) as pool:
        spawned = pool.map(digest, names[:2])
    out = subprocess.run(['ls', data], capture_output=True, text=True, check=True).stdout
    with tempfile.NamedTemporaryFile('w', delete=False) as t:
        t.write('scratch')
    os.unlink(t.name)
    tmp = os.path.join(ckpt, 'model.pt.tmp')
    with open(tmp, 'w') as f:
        json.dump({'sums': sums}, f)
    os.replace(tmp, os.path.join(ckpt, 'model.pt'))
    if os.path.exists(os.path.join(ckpt, 'metrics.db')):
        os.unlink(os.path.join(ckpt, 'metrics.db'))
    db = sqlite3.connect(os.path.join(ckpt, 'metrics.db'))
    db.execute('create table if not exists m (step int, loss real)')
    db.execute('insert into m values (1, 0.5)')
    db.commit()
    n = db.execute('select count(*) from m').fetchone()[0]
    print(len(sums), spawned == sums[:2], out.split() == names, n)
'''

# A PyTorch loop: DataLoader workers read the shards, checkpoints are saved
# to a temporary name and renamed into place, then loaded back.
TORCH_JOB = r'''
import os, sys, torch
from torch.utils.data import DataLoader, Dataset
data, ckpt = sys.argv[1], sys.argv[2]

class Shards(Dataset):
    def __init__(self, root):
        self.files = sorted(os.path.join(d, n) for d, _, ns in os.walk(root) for n in ns)
    def __len__(self):
        return len(self.files)
    def __getitem__(self, i):
        with open(self.files[i]) as f:
            rows = [list(map(float, line.split(','))) for line in f if line.strip()]
        t = torch.tensor(rows)
        return t[:, :2], t[:, 2]

if __name__ == '__main__':
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(Shards(data), batch_size=4, num_workers=2)
    for epoch in range(2):
        for x, y in loader:
            x, y = x.reshape(-1, 2), y.reshape(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        tmp = os.path.join(ckpt, f'epoch-{epoch}.pt.tmp')
        torch.save({'model': model.state_dict(), 'epoch': epoch}, tmp)
        os.replace(tmp, os.path.join(ckpt, f'epoch-{epoch}.pt'))
    state = torch.load(os.path.join(ckpt, 'epoch-1.pt'))
    print(state['epoch'], f'{loss.item():.4f}', len(loader))
'''


def compare(tap, what, policy, argv, lay, cwd, env=None):
    """argv with and without the fence: same status and stdout, status 0."""
    env = env or lay.env
    off = fenced(policy, argv, fence=False, env=env, cwd=cwd)
    on = fenced(policy, argv, env=env, cwd=cwd)
    tap.check(on.returncode == 0 and on.returncode == off.returncode and on.stdout == off.stdout,
              f'{what} runs the same under the fence',
              f'status {on.returncode} (off: {off.returncode})\n--- on stdout\n{on.stdout}'
              f'--- off stdout\n{off.stdout}--- on stderr\n{on.stderr}')
    return on


def fresh(lay, sub):
    d = os.path.join(lay.work, sub)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def main():
    tap = Tap()
    if landlock_abi() < 1:
        tap.skip('programs under the fence', 'this kernel has no Landlock')
        return tap.done()
    lay = Layout(base='/var/tmp')
    try:
        for i in range(8):
            Layout.write(os.path.join(lay.data, f'part-{i}.bin'), f'sample {i}\n' * 100, 0o644)
        ml = 'embedded:ml-default'

        compare(tap, 'ls', ml, ['sh', '-c', f'ls -la / "$HOME" {lay.data} /usr/bin | wc -l'],
                lay, lay.work)

        def coreutils(sub):
            return ['sh', '-c',
                    f'set -e; d={sub}; cp -r /usr/share/doc/coreutils $d/doc; '
                    'cp /etc/os-release $d/os; mv $d/os $d/os2; rm $d/os2; '
                    'tar czf $d/a.tgz -C $d doc; mkdir $d/x; tar xzf $d/a.tgz -C $d/x; '
                    'diff -r $d/doc $d/x/doc; echo hi > /dev/null; ls $d/x/doc | wc -l; '
                    'rm -r $d/x $d/doc; ls $d']
        off_dir, on_dir = fresh(lay, 'cu-off'), fresh(lay, 'cu-on')
        off = fenced(ml, coreutils(off_dir), fence=False, env=lay.env, cwd=lay.work)
        on = fenced(ml, coreutils(on_dir), env=lay.env, cwd=lay.work)
        tap.check(on.returncode == 0 and on.stdout == off.stdout,
                  'cp, mv, rm, tar and diff run the same under the fence',
                  f'{on.returncode}\n{on.stdout}\n{on.stderr}\n--- off\n{off.stdout}')

        git = ['sh', '-c', 'set -e; rm -rf repo; git init -q repo; cd repo; echo x > f; '
               'git add f; git -c user.name=t -c user.email=t@e commit -qm one; '
               'git log --format=%s; git status --short | wc -l']
        compare(tap, 'git init, add, commit, log', ml, git, lay, lay.work)

        sql = ['sqlite3', os.path.join(lay.work, 'cli.db'),
               'create table if not exists t (x); insert into t values (42); '
               'select count(*) from t;']
        for f in ('cli.db',):
            p = os.path.join(lay.work, f)
            if os.path.exists(p):
                os.unlink(p)
        off = fenced(ml, sql, fence=False, env=lay.env, cwd=lay.work)
        on = fenced(ml, sql, env=lay.env, cwd=lay.work)
        tap.check(on.returncode == 0 and on.stdout.strip() == '2' and off.stdout.strip() == '1',
                  'sqlite3 writes its database under the fence',
                  f'{on.returncode} {on.stdout!r} {on.stderr} (off: {off.stdout!r})')

        job = os.path.join(lay.t, 'job.py')
        Layout.write(job, JOB, 0o644)
        ckpt = fresh(lay, 'ckpt')
        compare(tap, 'python3 with multiprocessing (fork and spawn), subprocess, tempfile, '
                'sqlite3', ml, [PYTHON, job, lay.data, ckpt], lay, lay.work)

        # The same job under the example policy of a real training job.
        root = fresh(lay, 'demo')
        os.makedirs(os.path.join(root, 'checkpoints'))
        shutil.copytree(lay.data, os.path.join(root, 'dataset'))
        env = dict(lay.env, TG_DEMO_ROOT=root)
        compare(tap, 'the job under examples/policies/train.cfg', TRAIN,
                [PYTHON, job, os.path.join(root, 'dataset'),
                 os.path.join(root, 'checkpoints')], lay, root, env=env)
        if run([PYTHON, '-c', 'import torch'], timeout=120).returncode == 0:
            tjob = os.path.join(lay.t, 'torch_job.py')
            Layout.write(tjob, TORCH_JOB, 0o644)
            csv = fresh(lay, 'csv')
            for i in range(16):
                Layout.write(os.path.join(csv, f's{i:02d}.csv'),
                             ''.join(f'{i % 3 - 1}.5,{j % 4 - 2}.0,{j % 2}\n' for j in range(10)),
                             0o644)
            compare(tap, 'a PyTorch loop with DataLoader workers, torch.save and torch.load '
                    'under train.cfg', TRAIN,
                    [PYTHON, tjob, csv, os.path.join(root, 'checkpoints')], lay, root, env=env)
        else:
            tap.skip('a PyTorch loop under the fence', 'python3 cannot import torch')
        target = os.path.join(root, 'dataset', 'part-0.bin')
        before = sha(target)
        r = fenced(TRAIN, [ATTACK, 'write', target], env=env, cwd=root)
        tap.check(r.stdout.strip() == 'ERR EACCES' and sha(target) == before,
                  'train.cfg: a raw write to the dataset is refused by the fence',
                  r.stdout + r.stderr)

        # The carve-out is made under ml-default, and costs no hint for read.
        r = fenced(ml, [ATTACK, 'read', lay.secret], env=lay.env, cwd=lay.work,
                   opts=['--report'])
        rep = fence_report(r.stderr)
        tap.check(r.stdout.strip() == 'ERR EACCES',
                  'ml-default: a raw read of ~/.ssh/id_rsa is refused by the fence',
                  r.stdout + r.stderr)
        tap.check(rep.get('landlock') == '1' and int(rep.get('carved', 0)) > 0
                  and int(rep.get('rules', 0)) < 2048,
                  'ml-default: the report says Landlock is on, with carved folders',
                  r.stderr)
        tap.check('stays open to read' not in r.stderr,
                  'ml-default: no read carve-out of the secrets profile is left open here',
                  r.stderr)
    finally:
        lay.cleanup()
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
