#!/usr/bin/env bash
# The demo the README's first command ends with: a small training job runs
# twice under the guard, once with examples/policies/train.cfg and once with
# the embedded default policy, and loads a checkpoint that attacks it.
#
#   examples/demo.sh BUILD_DIR        (KEEP=1 keeps the temporary folder)
#
# Everything it touches lives in a fresh temporary folder: a dataset, a fake
# home with fake credentials, the checkpoints and the logs. It exits
# non-zero if training did not finish or a protected file changed.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
tg="$build/cli/trainguard"
py=/usr/bin/python3
[ -x "$tg" ] || { echo "demo.sh: no '$tg'; build first (meson setup build && meson compile -C build)" >&2; exit 2; }

root=$(mktemp -d "${TMPDIR:-/tmp}/trainguard-demo.XXXXXX")
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "kept $root" || rm -rf "$root"; }
trap cleanup EXIT

# A dataset of 200 small shards in 4 parts, and a fake home.
"$py" - "$root" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(7)
for p in range(4):
    d = os.path.join(root, 'dataset', f'part-{p}')
    os.makedirs(d)
    for s in range(50):
        with open(os.path.join(d, f'shard-{s:03d}.csv'), 'w') as f:
            for _ in range(20):
                x1, x2 = rnd.uniform(-2, 2), rnd.uniform(-2, 2)
                f.write(f'{x1:.4f},{x2:.4f},{int(x1 + 0.5 * x2 > 0)}\n')
home = os.path.join(root, 'home')
for rel, text in [('.aws/credentials', '[default]\naws_secret_access_key = FAKE-demo-key\n'),
                  ('.ssh/id_rsa', 'FAKE demo private key\n'),
                  ('.bashrc', '# FAKE demo bashrc\n')]:
    os.makedirs(os.path.dirname(os.path.join(home, rel)), exist_ok=True)
    with open(os.path.join(home, rel), 'w') as f:
        f.write(text)
PY

export HOME="$root/home" TG_DEMO_ROOT="$root"
cd "$root"
# What each run must leave alone: under train.cfg the dataset and the fake
# secrets; under the default, which cannot know where datasets are, the
# secrets only.
hashes() { (cd "$root" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum); }
unchanged() {
	local what=$1 before=$2; shift 2
	if [ "$(hashes "$@")" = "$before" ]; then
		echo "$what: byte-for-byte unchanged"
	else
		echo "demo.sh: $what changed:" >&2
		diff <(echo "$before") <(hashes "$@") >&2 || :
		status=1
	fi
}

digest() {
	"$py" - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = r['unmapped']['trainguard']
    path = r.get('file', r.get('process', {}).get('file', {})).get('path', '?')
    if t['decision'] == 'allow':
        continue  # lineage records of dataset reads: counted below
    print(f"  {t['decision']:<10} {t['op']:<8} {path}  rule {r['policy']['uid']}  {r['status_code']}")
n = sum(1 for line in open(sys.argv[1]) if '"decision":"allow"' in line)
print(f"  (+ {n} lineage records of allowed, audited reads)")
PY
}

status=0
run() {
	local title=$1 log=$2; shift 2
	echo
	echo "== $title"
	rm -rf "$root/checkpoints"
	if ! "$tg" run "$@" --log "$log" -- "$py" "$src/examples/train_demo.py"; then
		echo "demo.sh: the training job failed" >&2
		status=1
	fi
	echo "-- the log ($log):"
	digest "$log"
	"$py" "$src/../shared/tools/ocsf-validate" "$log" 2>/dev/null | tail -n 1 | sed 's/^/  OCSF 1.8.0: /' || true
}

before=$(hashes dataset home)
run "the job under examples/policies/train.cfg" "$root/train.jsonl" --policy "$src/examples/policies/train.cfg"
unchanged "the dataset and the fake secrets" "$before" dataset home

before=$(hashes home)
run "the same job under the embedded default policy (ml-default)" "$root/default.jsonl"
unchanged "the fake secrets" "$before" home
echo "(the default policy cannot know where a dataset is: a policy that names it makes it read-only)"
exit $status
