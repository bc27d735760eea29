#!/usr/bin/env bash
# package.sh (TAP): the Debian package, built from this tree with
# dpkg-buildpackage, checked with lintian (no errors), holds the install
# layout; installed with dpkg (over throw-away overlays of /usr, /etc and
# /var in a private mount namespace) the installed command runs the demo
# training job from the installed paths, with no TRAINGUARD_LIBRARY, and its
# attacks are denied and logged; purge removes it, conffile included; and an
# unpacked copy of the package (dpkg-deb -x) finds its own library.
set -u
here=$(cd -- "$(dirname -- "$0")" && pwd -P)
source "$here/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root: dpkg -i into overlays in a mount namespace"
missing=$(package_tools_missing)
[ -z "$missing" ] || skip_all "$missing"
command -v unshare >/dev/null || skip_all "no unshare (util-linux)"
[ -x /usr/bin/python3 ] || skip_all "no /usr/bin/python3 for the demo job"
if [ -z "${TG_DEPLOY_NS:-}" ]; then
	TG_DEPLOY_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
unset TRAINGUARD_LIBRARY TRAINGUARD_POLICY TRAINGUARD_MODE TRAINGUARD_LOG TRAINGUARD_VARS \
	TRAINGUARD_JOB_ID LD_PRELOAD
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

build_package
ok $? "dpkg-buildpackage -us -uc -b builds the package from a copy of the tree" \
	"$(tail -n 40 "$deb_log" 2>/dev/null)"
[ -n "${DEB:-}" ] && [ -f "$DEB" ] || bail "no package was built (log: $deb_log)"

# ---- lintian -------------------------------------------------------------
if command -v lintian >/dev/null; then
	# lintian leaves its ELF databases (mldbm-elf*) in the temporary
	# folder: give it one of its own and remove it.
	lint_tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-lintian.XXXXXX")
	lint=$(TMPDIR=$lint_tmp lintian --pedantic -I "${DEB%/*}"/trainguard_*.changes 2>&1 |
		grep -v '^running with root')
	rm -rf "$lint_tmp"
	errors=$(printf '%s\n' "$lint" | grep '^E:')
	ok "$([ -z "$errors" ]; echo $?)" "lintian reports no error" "$errors"
	[ -z "$lint" ] || printf '%s\n' "$lint" | sed 's/^/# lintian: /'
else
	echo "ok $((n_test += 1)) - lintian reports no error # SKIP no lintian (apt-get install lintian)"
fi

# ---- what the package holds ------------------------------------------------
contents=$(dpkg-deb -c "$DEB" | awk '{print $6}')
for p in usr/bin/trainguard "usr/lib/$ma/trainguard/libtrainguard.so" \
	usr/share/trainguard/profiles/ml-default.cfg usr/share/man/man1/trainguard.1.gz \
	usr/share/man/man5/trainguard.conf.5.gz usr/share/bash-completion/completions/trainguard \
	usr/share/doc/trainguard/examples/policies/train.cfg \
	usr/share/doc/trainguard/examples/train_demo.py \
	usr/libexec/trainguard/trainguard-init usr/libexec/trainguard/entrypoint \
	etc/trainguard/train.cfg; do
	printf '%s\n' "$contents" | grep -qx "\./$p"
	ok $? "the package holds /$p"
done
dpkg-deb -I "$DEB" conffiles 2>/dev/null | grep -qx /etc/trainguard/train.cfg
ok $? "/etc/trainguard/train.cfg is a conffile"

# ---- installed with dpkg -----------------------------------------------------
install_in_overlay
ok $? "dpkg -i installs the package (overlays of /usr, /etc, /var)"
[ "$(dpkg-query -W -f '${Status}' trainguard 2>/dev/null)" = "install ok installed" ]
ok $? "dpkg knows it installed"
v=$(/usr/bin/trainguard --version 2>&1)
[ "$v" = "trainguard $(dpkg-query -W -f '${Version}' trainguard)" ]
ok $? "/usr/bin/trainguard --version matches the package ($v)"

if [ -r /usr/share/bash-completion/bash_completion ]; then
	compl() {
		bash -c 'source /usr/share/bash-completion/bash_completion
			source /usr/share/bash-completion/completions/trainguard
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_trainguard; echo "${COMPREPLY[*]}"' compl "$@" 2>/dev/null
	}
	c1=$(compl trainguard '') c2=$(compl trainguard run --mode '') c3=$(compl trainguard run --j)
	c4=$(compl trainguard explain --op ch)
	[ "$c1" = "run check explain help --help --version" ] && [ "$c2" = "enforce audit learn" ] &&
		[ "$c3" = "--job-id" ] && [ "$c4" = "chmod" ]
	ok $? "the installed bash completion completes commands, --mode, options and --op" \
		"got '$c1' / '$c2' / '$c3' / '$c4'"
else
	echo "ok $((n_test += 1)) - the installed bash completion # SKIP no bash-completion"
fi

make_demo_root
export HOME=$demo/home TG_DEMO_ROOT=$demo
cd "$demo" || bail "cannot enter $demo"
home_before=$(fingerprint home)
data_before=$(fingerprint dataset)
job=(/usr/bin/python3 /usr/share/doc/trainguard/examples/train_demo.py)

# The embedded default policy (no --policy), the installed command and library.
/usr/bin/trainguard run --log "$demo/default.jsonl" -- "${job[@]}" >"$demo/default.out" 2>&1
rc=$?
ok "$([ $rc -eq 0 ] && grep -q '^training finished' "$demo/default.out"; echo $?)" \
	"the installed demo job trains to the end under the embedded default (exit $rc)" \
	"$(tail -n 20 "$demo/default.out")"
lines=$(python3 "$here/log-lines.py" "$demo/default.jsonl" 2>&1)
for want in "deny read $HOME/.aws/credentials" "deny read $HOME/.ssh/id_rsa" \
	"deny write,create $HOME/.bashrc"; do
	printf '%s\n' "$lines" | grep -qxF "$want"
	ok $? "the log says: $want" "$(printf '%s\n' "$lines" | grep -v '^allow' | head -n 20)"
done
grep -q 'attack: read ~/.aws/credentials *REFUSED' "$demo/default.out" &&
	grep -q 'attack: read ~/.ssh/id_rsa *REFUSED' "$demo/default.out" &&
	grep -q 'attack: append to ~/.bashrc *REFUSED' "$demo/default.out"
ok $? "the job itself saw the credential reads and the persistence refused" \
	"$(grep attack: "$demo/default.out")"
[ "$(fingerprint home)" = "$home_before" ]
ok $? "the fake credentials and .bashrc are byte-for-byte unchanged"

# The installed conffile: every attack refused, the dataset untouched.
# (The run above may change the dataset: ml-default lets a job write its
# working folder, which holds it here, as in examples/demo.sh.)
rm -rf "$demo/checkpoints"
data_before=$(fingerprint dataset)
/usr/bin/trainguard run --policy /etc/trainguard/train.cfg --log "$demo/train.jsonl" \
	-- "${job[@]}" >"$demo/train.out" 2>&1
rc=$?
grep -Eq '^[1-9][0-9]* attacks refused, 0 succeeded' "$demo/train.out"
ok $? "under /etc/trainguard/train.cfg every attack is refused (exit $rc)" \
	"$(tail -n 12 "$demo/train.out")"
lines=$(python3 "$here/log-lines.py" "$demo/train.jsonl" 2>&1)
printf '%s\n' "$lines" | grep -Eq "^deny ([a-z]+,)*write(,[a-z]+)* $demo/dataset/part-0/shard-000.csv$"
ok $? "the log says the dataset shard's overwrite was denied" \
	"$(printf '%s\n' "$lines" | grep -v '^allow' | head -n 20)"
[ "$(fingerprint dataset home)" = "$(printf '%s\n%s' "$data_before" "$home_before")" ]
ok $? "the dataset and the fake home are byte-for-byte unchanged"

# ---- purge ---------------------------------------------------------------------
dpkg --purge trainguard >/dev/null 2>&1
ok $? "dpkg --purge removes the package"
[ ! -e /usr/bin/trainguard ] && [ ! -e /etc/trainguard/train.cfg ] &&
	[ ! -e "/usr/lib/$ma/trainguard/libtrainguard.so" ]
ok $? "nothing of it is left: command, library, conffile"

# ---- unpacked elsewhere ------------------------------------------------------
# A copy of the tree under another prefix uses its own library, not the
# configured /usr/lib one (gone now) and without TRAINGUARD_LIBRARY.
x=$(mktemp -d "${TMPDIR:-/tmp}/tg-unpacked.XXXXXX")
dpkg-deb -x "$DEB" "$x"
"$x/usr/bin/trainguard" run --log "$demo/unpacked.jsonl" -- /bin/cat /proc/self/maps \
	>"$demo/maps" 2>"$demo/unpacked.err"
grep -qF "$x/usr/lib/$ma/trainguard/libtrainguard.so" "$demo/maps"
r=$?
ok $r "a tree unpacked with dpkg-deb -x runs its job with its own library" \
	"$(cat "$demo/unpacked.err")"

cd / && rm -rf "$demo" "$x"
done_testing
