#!/usr/bin/env python3
"""Lays out what examples/train_demo.py needs in a folder, as
examples/demo.sh does: DIR/dataset (4 folders of 50 shards) and DIR/home
holding FAKE credentials and a .bashrc. The deploy tests run the installed
demo job on it."""
import os
import random
import sys

root = sys.argv[1]
rnd = random.Random(2024)
for part in range(4):
    folder = os.path.join(root, 'dataset', f'part-{part}')
    os.makedirs(folder)
    for shard in range(50):
        with open(os.path.join(folder, f'shard-{shard:03d}.csv'), 'w') as f:
            for _ in range(20):
                x1, x2 = rnd.uniform(-2, 2), rnd.uniform(-2, 2)
                f.write(f'{x1:.4f},{x2:.4f},{int(x1 + 0.5 * x2 + rnd.gauss(0, 0.3) > 0)}\n')
fake = {
    '.aws/credentials': '# FAKE demo credentials\n[default]\naws_access_key_id = AKIAFAKEDEMO\n',
    '.ssh/id_rsa': '-----BEGIN FAKE DEMO KEY-----\nnot a real key\n-----END FAKE DEMO KEY-----\n',
    '.bashrc': '# FAKE demo .bashrc\n',
}
for rel, text in fake.items():
    path = os.path.join(root, 'home', rel)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, 0o600)
