"""dataloader.py ROOT [LIMIT]: read every file of a dataset tree, as a data loader does.

Lists ROOT the way torchvision's ImageFolder and most map-style datasets do
(sorted os.scandir of each class folder), then opens and reads each sample
in full, one file at a time. LIMIT reads only the first LIMIT files (the
syscall and instruction counts run it at two sizes). ROOT may be a
symlink to the real tree: every open then goes through the link, as with a
dataset root mounted or linked into a job's working directory.
"""
import os
import sys


def samples(root):
    out = []
    stack = [root]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            else:
                out.append(e.path)
    out.sort()
    return out


def main():
    root = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    files = samples(root)
    if limit is not None:
        files = files[:limit]
    total = 0
    for p in files:
        with open(p, "rb") as f:
            total += len(f.read())
    if not files or total == 0:
        sys.exit("dataloader: no data under " + root)


main()
