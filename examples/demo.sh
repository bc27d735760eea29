#!/usr/bin/env bash
# demo.sh: a small training job, attacked by its own checkpoint, run twice
# under trainguard: first with examples/policies/train.cfg, then with the
# embedded default policy (ml-default). The README's first command ends
# with it.
#
#   examples/demo.sh [BUILD_DIR]     BUILD_DIR: the meson build folder
#                                    (default "build"); KEEP=1 keeps the
#                                    demo folder for a look at the logs
#
# Everything the job touches lives in a fresh folder from mktemp -d: a
# dataset of 200 shards, a fake HOME holding FAKE credentials and a
# .bashrc, the checkpoints and the two logs. After each run it prints
# `trainguard report` of the log and compares the files the run must not
# change, byte for byte. It exits non-zero if a job did not finish
# training or a protected file changed. The attacks live in examples/train_demo.py.
set -euo pipefail

die() { echo "demo.sh: $*" >&2; exit 2; }

src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
arg=${1:-build}
# A relative BUILD_DIR is taken from the caller's folder, else from the
# source folder, so the script runs from anywhere.
if [ -d "$arg" ]; then
	build=$(cd -- "$arg" && pwd -P)
elif [ -d "$src/$arg" ]; then
	build=$(cd -- "$src/$arg" && pwd -P)
else
	die "no build folder '$arg'; build first: meson setup build && meson compile -C build"
fi
tg=$build/cli/trainguard
[ -x "$tg" ] || die "no '$tg'; build first: meson compile -C '$build'"
# The system interpreter, not whatever python3 is first on PATH (a pyenv
# shim is a shell script that would run first, and be guarded too).
py=/usr/bin/python3
[ -x "$py" ] || die "needs $py (apt-get install python3)"

root=$(mktemp -d "${TMPDIR:-/tmp}/trainguard-demo.XXXXXX")
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $root"
		echo "(logs: train.jsonl and default.jsonl there)"
	else
		rm -rf -- "$root"
	fi
}
trap cleanup EXIT

# The dataset (4 folders of 50 shards, 20 samples "x1,x2,label" each) and
# the fake home, made here, unguarded: the job itself may not create them.
"$py" - "$root" <<'PY'
import os, random, sys
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
    '.aws/credentials': '# FAKE demo credentials\n[default]\naws_access_key_id = AKIAFAKEDEMO\n'
                        'aws_secret_access_key = FAKE/demo/not/a/real/key\n',
    '.ssh/id_rsa': '-----BEGIN FAKE DEMO KEY-----\nnot a real key\n-----END FAKE DEMO KEY-----\n',
    '.bashrc': '# FAKE demo .bashrc\nexport PS1="demo$ "\n',
}
for rel, text in fake.items():
    path = os.path.join(root, 'home', rel)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, 0o600)
PY

# The job sees only the demo folder: its HOME is the fake one, and the
# caller's TRAINGUARD_* settings do not leak into the demo.
export HOME="$root/home" TG_DEMO_ROOT="$root"
unset TRAINGUARD_POLICY TRAINGUARD_MODE TRAINGUARD_LOG TRAINGUARD_VARS
cd "$root"

# sha256 of every file under the given folders of the demo root.
fingerprint() { find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; }

# What the log says: trainguard report (totals, by rule, by folder and
# path, by program, per minute), indented under the run.
digest() {
	"$tg" report --top 6 --paths 1 "$1" | sed 's/^/   /'
}

status=0
# run TITLE LOG [trainguard run options...]: runs the job, checks that it
# finished, prints the digest of its log.
run() {
	local title=$1 log=$2 out rc
	shift 2
	out=$root/${log##*/}.out
	echo
	echo "== $title"
	echo "\$ trainguard run ${*:+$* }--log \$ROOT/${log##*/} -- $py examples/train_demo.py"
	rm -rf -- "$root/checkpoints"
	set +e
	"$tg" run "$@" --log "$log" -- "$py" "$src/examples/train_demo.py" | tee "$out"
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" -ne 0 ] || ! grep -q '^training finished' "$out"; then
		echo "demo.sh: the job did not finish training (exit status $rc)" >&2
		status=1
	fi
	echo "-- the log: trainguard report --top 6 --paths 1 \$ROOT/${log##*/} (\$ROOT=$root)"
	if [ -s "$log" ]; then
		digest "$log"
	else
		echo "   (empty)"
	fi
}

# must_match WHAT BEFORE FOLDERS...: fails the demo when a file changed.
must_match() {
	local what=$1 before=$2
	shift 2
	if [ "$(fingerprint "$@")" = "$before" ]; then
		echo "ok: $what byte-for-byte unchanged"
	else
		echo "demo.sh: FAILED: $what changed:" >&2
		diff <(echo "$before") <(fingerprint "$@") >&2 || :
		status=1
	fi
}

data_before=$(fingerprint dataset)
home_before=$(fingerprint home)

run "1. the job under examples/policies/train.cfg" "$root/train.jsonl" \
	--policy "$src/examples/policies/train.cfg"
must_match "the dataset (200 shards)" "$data_before" dataset
must_match "the fake ~/.aws/credentials, ~/.ssh/id_rsa and ~/.bashrc" "$home_before" home

run "2. the same job with no --policy: the embedded default, ml-default" "$root/default.jsonl"
must_match "the fake ~/.aws/credentials, ~/.ssh/id_rsa and ~/.bashrc" "$home_before" home
# ml-default cannot know where a dataset is, and this one lies under the
# job's working folder, which ml-default lets the job write.
if [ "$(fingerprint dataset)" = "$data_before" ]; then
	echo "ok: the dataset byte-for-byte unchanged"
else
	echo "note: the dataset changed, as expected: ml-default lets a job write its working" \
		"folder; a policy that names the dataset (train.cfg) makes it read-only"
fi

echo
if [ "$status" -eq 0 ]; then
	echo "demo: both jobs finished training; no protected file changed"
else
	echo "demo.sh: FAILED (see above)" >&2
fi
exit "$status"
