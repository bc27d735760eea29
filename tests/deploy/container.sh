#!/usr/bin/env bash
# container.sh (TAP): the container entry points run as PID 1 of a new PID
# namespace, in a root file system made of the installed package and the
# system's /usr (python3): what a Debian 12 image built from
# examples/container/Containerfile holds. No container engine starts
# containers on the test machine, so bubblewrap (what Flatpak and others
# build their containers with) makes the namespaces: bwrap --unshare-pid
# --unshare-ipc --as-pid-1, read-only /usr and /etc/trainguard.
#  - the Containerfile's ENTRYPOINT (read from the file) runs the demo job:
#    its attacks are refused and logged, protected files unchanged;
#  - /usr/libexec/trainguard/entrypoint as PID 1: a SIGTERM sent to PID 1
#    from outside reaches the job, whose own exit status (77) becomes
#    PID 1's; an orphan is reaped; exit codes and deaths by signal pass.
set -u
here=$(cd -- "$(dirname -- "$0")" && pwd -P)
source "$here/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root: dpkg -i into overlays in a mount namespace"
missing=$(package_tools_missing)
[ -z "$missing" ] || skip_all "$missing"
command -v bwrap >/dev/null || skip_all "no bwrap (apt-get install bubblewrap)"
command -v unshare >/dev/null || skip_all "no unshare (util-linux)"
[ -x /usr/bin/python3 ] || skip_all "no /usr/bin/python3 for the demo job"
if [ -z "${TG_DEPLOY_NS:-}" ]; then
	TG_DEPLOY_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

build_package
ok $? "the package builds" "$(tail -n 40 "$deb_log" 2>/dev/null)"
[ -n "${DEB:-}" ] && [ -f "$DEB" ] || bail "no package was built (log: $deb_log)"
install_in_overlay || bail "dpkg -i failed"

# The Containerfile's ENTRYPOINT, as the image would run it.
mapfile -t entrypoint < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("ENTRYPOINT "):
        print("\n".join(json.loads(line[len("ENTRYPOINT "):])))
' "$TG_SOURCE_ROOT/examples/container/Containerfile")
[ "${#entrypoint[@]}" -gt 0 ] || bail "no ENTRYPOINT in examples/container/Containerfile"

make_demo_root
cp "$here/sig-job.py" "$demo/"

# container [ENV=VALUE...] -- CMD...: runs CMD as PID 1 of the container in
# the background; sets cpid (bwrap) and pid1 (PID 1, as the host sees it).
container() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rm -f "$demo/info"
	env -i PATH=/usr/bin:/bin HOME=/job/home TG_DEMO_ROOT=/job "${envs[@]}" \
		bwrap --unshare-pid --unshare-ipc --die-with-parent --as-pid-1 \
		--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
		--symlink usr/lib64 /lib64 --symlink usr/sbin /sbin \
		--dir /etc --ro-bind /etc/trainguard /etc/trainguard \
		--proc /proc --dev /dev --tmpfs /tmp --bind "$demo" /job --chdir /job \
		--info-fd 3 "$@" 3>"$demo/info" >"$demo/out" 2>"$demo/err" &
	cpid=$!
	for _ in $(seq 100); do
		pid1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["child-pid"])' \
			"$demo/info" 2>/dev/null) && break
		sleep 0.1
	done
}

# ---- the demo under the Containerfile's ENTRYPOINT ----------------------------
home_before=$(fingerprint "$demo/home")
data_before=$(fingerprint "$demo/dataset")
container TRAINGUARD_LOG=/job/container.jsonl -- \
	"${entrypoint[@]}" python3 /usr/share/doc/trainguard/examples/train_demo.py
wait "$cpid"
rc=$?
ok "$([ $rc -eq 0 ] && grep -Eq '^[1-9][0-9]* attacks refused, 0 succeeded' "$demo/out"; echo $?)" \
	"ENTRYPOINT [${entrypoint[*]}]: the demo trains and every attack is refused (exit $rc)" \
	"$(tail -n 12 "$demo/out" "$demo/err")"
lines=$(python3 "$here/log-lines.py" "$demo/container.jsonl" 2>&1)
for want in "deny read /job/home/.aws/credentials" "deny read /job/home/.ssh/id_rsa" \
	"deny write,create /job/home/.bashrc"; do
	printf '%s\n' "$lines" | grep -qxF "$want"
	ok $? "the container's log says: $want" "$(printf '%s\n' "$lines" | grep -v '^allow')"
done
printf '%s\n' "$lines" | grep -Eq '^deny ([a-z]+,)*write(,[a-z]+)* /job/dataset/'
ok $? "the container's log says the dataset write was denied"
[ "$(fingerprint "$demo/home")" = "$home_before" ] &&
	[ "$(fingerprint "$demo/dataset")" = "$data_before" ]
ok $? "the dataset and the fake home are byte-for-byte unchanged"

# ---- signals, orphans and the exit status, through entrypoint -----------------
# TRAINGUARD_POLICY set and empty: the embedded default, which lets the job
# write its working folder (/job) for its reports.
rm -f "$demo/ready" "$demo/state.out" "$demo/signal.out"
container TRAINGUARD_POLICY= -- \
	/usr/libexec/trainguard/entrypoint python3 /job/sig-job.py
for _ in $(seq 300); do
	[ -e "$demo/ready" ] && break
	kill -0 "$cpid" 2>/dev/null || break
	sleep 0.1
done
[ -e "$demo/ready" ]
ok $? "the job started under entrypoint and is waiting" "$(cat "$demo/out" "$demo/err")"
grep -qx 'pid1 trainguard-init' "$demo/state.out" 2>/dev/null
ok $? "PID 1 of the container is trainguard-init" "$(cat "$demo/state.out" 2>&1)"
grep -qx 'zombies 0' "$demo/state.out" 2>/dev/null
ok $? "the orphaned process was reaped (no zombie in the container)" \
	"$(cat "$demo/state.out" 2>&1)"
# From outside, as `docker stop` does: SIGTERM to the container's PID 1.
kill -TERM "${pid1:-0}"
ok $? "SIGTERM sent to PID 1 (host pid ${pid1:-?}) from outside the container"
for _ in $(seq 100); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$cpid" 2>/dev/null && echo "# the container did not stop by itself: killed"
wait "$cpid"
rc=$?
grep -qx 'got 15' "$demo/signal.out" 2>/dev/null
ok $? "the SIGTERM reached the guarded job" "$(cat "$demo/out" "$demo/err")"
[ "$rc" -eq 77 ]
ok $? "the job's exit status (77, from its SIGTERM handler) is the container's (got $rc)"
grep -qx 'guarded True' "$demo/state.out" 2>/dev/null
ok $? "the signalled job ran guarded (libtrainguard.so in its maps)" "$(cat "$demo/state.out" 2>&1)"

for t in "exit 42:42" "kill -KILL \$\$:137" "exit 0:0"; do
	container TRAINGUARD_POLICY= -- /usr/libexec/trainguard/entrypoint /bin/sh -c "${t%:*}"
	wait "$cpid"
	rc=$?
	[ "$rc" -eq "${t##*:}" ]
	ok $? "a job that runs '${t%:*}' makes the container exit ${t##*:} (got $rc)" \
		"$(cat "$demo/err")"
done

cd / && rm -rf "$demo"
done_testing
