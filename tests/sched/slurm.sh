#!/usr/bin/env bash
# slurm.sh: trainguard under a real Slurm, on this machine. It starts munged,
# slurmctld and slurmd on localhost (their configuration, key, sockets,
# state and logs in a temporary folder, ports chosen free, no accounting),
# then runs a job that reads a secret and appends to a read-only file:
#   - with the SPANK plugin (`--trainguard=POLICY`) through sbatch --wait
#     and srun -n 2,
#   - with the plain recipe (`srun trainguard run ...`) through both,
#   - once unguarded, to show the job does reach the secret when nothing
#     stops it (the assertions can fail),
#   - once with a policy that does not exist: the plugin must fail the
#     task instead of running it unguarded.
# It asserts the secret's content is absent from the job's output, the
# read-only file is byte-identical, and every record of the log carries
# metadata.correlation_uid = the Slurm job id, from every task.
# Speaks TAP. Needs root (slurmd starts tasks as their user) and Debian's
# slurm-wlm, munge, libslurm-dev (for the plugin); without them, or when
# the daemons cannot start here, it is a visible SKIP with the reason.
set -uo pipefail

build=${TG_BUILD_ROOT:?TG_BUILD_ROOT is set by meson test}
src=${TG_SOURCE_ROOT:?TG_SOURCE_ROOT is set by meson test}
tg=$build/cli/trainguard
lib=$build/preload/libtrainguard.so
plugin=$build/spank/trainguard-spank.so
logcheck=$src/tests/sched/logcheck.py
py=${TG_PYTHON:-/usr/bin/python3}
deadline=$((SECONDS + 170))

n=0
failed=0
ok() { # ok COND-STATUS DESCRIPTION [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | head -40 | sed 's/^/#   /'
	fi
}
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

for cmd in munged mungekey slurmctld slurmd sbatch srun sinfo scontrol timeout; do
	command -v "$cmd" >/dev/null 2>&1 ||
		skip_all "no $cmd (apt-get install slurm-wlm munge)"
done
[ -f "$plugin" ] || skip_all "the SPANK plugin was not built (apt-get install libslurm-dev)"
[ "$(id -u)" = 0 ] || skip_all "slurmd must run as root to start tasks"
[ -x "$tg" ] && [ -f "$lib" ] || skip_all "build the project first"

# No client may reach another cluster than the one started here.
unset SLURM_CONF
conf=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-slurm.XXXXXX")
chmod 0755 "$tmp"
pids=()
stop_daemons() {
	local p i
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=()
}
cleanup() {
	# A job that outlived its timeout is cancelled before slurmd stops.
	# Only ever on this test's own cluster.
	[ -n "$conf" ] && SLURM_CONF=$conf timeout 5 scancel -u root >/dev/null 2>&1
	stop_daemons
	[ "${KEEP:-0}" = 1 ] && echo "# kept $tmp" || rm -rf -- "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp"/{etc,munge,state,spool,log,logs,data,out}
chmod 0700 "$tmp/munge"

# ---- munge -------------------------------------------------------------
sock=$tmp/munge/munge.socket
mungekey --create --keyfile="$tmp/munge/munge.key" >/dev/null 2>&1 ||
	dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$tmp/munge/munge.key"
munged --foreground --force --socket="$sock" --key-file="$tmp/munge/munge.key" \
	--pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
	--seed-file="$tmp/munge/munged.seed" >/dev/null 2>&1 &
pids+=($!)
for i in $(seq 1 50); do
	[ -S "$sock" ] && break
	sleep 0.2
done
if ! timeout 10 munge --socket="$sock" -n 2>/dev/null |
		timeout 10 unmunge --socket="$sock" >/dev/null 2>&1; then
	echo "# munged log:"; sed 's/^/#   /' "$tmp/log/munged.log" 2>/dev/null | tail -20
	skip_all "munged did not start here"
fi

# ---- slurm.conf ----------------------------------------------------------
read -r ctld_port slurmd_port < <("$py" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(('127.0.0.1', 0))
print(*[s.getsockname()[1] for s in socks])
EOF
)
hw=$(slurmd -C 2>/dev/null | head -1)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$hw"; }
cpus=$(field CPUs); sockets=$(field SocketsPerBoard); cores=$(field CoresPerSocket)
threads=$(field ThreadsPerCore); mem=$(field RealMemory)
[ -n "$cpus" ] && [ -n "$mem" ] || skip_all "slurmd -C did not describe this machine: $hw"

policy=$tmp/etc/job.cfg
cat >"$tmp/etc/plugstack.conf" <<EOF
required $plugin lib=$lib policy=$policy log=$tmp/logs/%j-%N.jsonl
EOF
cat >"$tmp/etc/slurm.conf" <<EOF
ClusterName=tgtest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/%n
SlurmctldPidFile=$tmp/state/slurmctld.pid
SlurmdPidFile=$tmp/spool/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$tmp/etc/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
# A prolog loads the SPANK stack in one more context (job script): the
# plugin must not fail it.
Prolog=/bin/true
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus Sockets=${sockets:-1} CoresPerSocket=${cores:-$cpus} ThreadsPerCore=${threads:-1} RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
conf=$tmp/etc/slurm.conf
export SLURM_CONF=$conf
# The clients must not pick up an allocation of an enclosing job.
unset SLURM_JOB_ID SLURM_JOBID TRAINGUARD_JOB_ID TRAINGUARD_POLICY TRAINGUARD_LOG LD_PRELOAD

slurmctld -D -i -f "$SLURM_CONF" >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
up=
until_up=$((SECONDS + 40))
while [ "$SECONDS" -lt "$until_up" ]; do
	state=$(timeout 5 sinfo -h -n localhost -o %T 2>/dev/null)
	case $state in idle*) up=1; break ;; esac
	sleep 0.3
done
if [ -z "$up" ]; then
	for f in slurmctld.log slurmd.log slurmctld.out slurmd.out; do
		echo "# $f:"; tail -15 "$tmp/log/$f" 2>/dev/null | sed 's/^/#   /'
	done
	skip_all "slurmctld/slurmd did not bring the node up here (node state '${state:-none}')"
fi
echo "# slurm up in ${SECONDS}s (ports $ctld_port, $slurmd_port)"

# ---- the job -------------------------------------------------------------
token=tg-secret-$RANDOM$RANDOM$RANDOM
secret=$tmp/data/secret.txt
ro=$tmp/data/readonly.txt
printf '%s\n' "$token" >"$secret"
printf 'weights v1\n' >"$ro"
chmod 0444 "$ro"
ro_sum=$(sha256sum <"$ro")
cat >"$tmp/etc/job.cfg" <<EOF
version = 1;
mode = "enforce";
defaults = { read = "allow"; list = "allow"; exec = "allow";
             write = "deny"; create = "deny"; delete = "deny"; chmod = "deny"; };
rules = (
  { id = "secret"; path = "$secret"; deny = ["read"]; reason = "a credential"; }
);
EOF
# The same rules under another name: --trainguard=POLICY must beat
# plugstack.conf's policy=.
policy2=$tmp/etc/job-explicit.cfg
cp "$policy" "$policy2"
cat >"$tmp/job.sh" <<'EOF'
#!/bin/sh
echo "start job=$SLURM_JOB_ID task=${SLURM_PROCID:-0} preload=${LD_PRELOAD:-none}"
cat "$TG_SECRET" 2>&1 || echo "read refused"
echo tampered 2>&1 >>"$TG_RO" || echo "write refused"
echo end
EOF
chmod 0755 "$tmp/job.sh"
export TG_SECRET=$secret TG_RO=$ro

jobid_of() { sed -n 's/^start job=\([0-9]*\).*/\1/p' "$1" | head -1; }
left() { local l=$((deadline - SECONDS)); [ "$l" -gt 5 ] && echo "$l" || echo 5; }

# check NAME OUTPUT STATUS LOG TASKS POLICY: the assertions every guarded
# run makes
check() {
	local name=$1 out=$2 rc=$3 log=$4 tasks=$5 pol=$6 id
	ok "$rc" "$name: the job ran to the end (exit $rc)" "$(cat "$out")"
	id=$(jobid_of "$out")
	! grep -q "$token" "$out"
	ok $? "$name: the secret's content is not in the job's output" "$(cat "$out")"
	[ "$(grep -c '^read refused' "$out")" -eq "$tasks" ] &&
		[ "$(grep -c '^write refused' "$out")" -eq "$tasks" ]
	ok $? "$name: every task ($tasks) was refused the read and the write" "$(cat "$out")"
	[ "$(sha256sum <"$ro")" = "$ro_sum" ]
	ok $? "$name: the read-only file is unchanged"
	[ -n "$id" ]
	ok $? "$name: the job printed its Slurm job id" "$(cat "$out")"
	[ -n "$log" ] || log=$tmp/logs/$id-localhost.jsonl
	# Each task leaves two processes' records: the shell's refused write
	# and cat's refused read.
	msg=$("$py" "$logcheck" "$log" "$id" --denied "$secret" --denied "$ro" \
		--pids $((2 * tasks)) --policy "$pol")
	ok $? "$name: the log's records carry correlation_uid $id, from $tasks task(s)" "$msg"
	echo "#   $msg"
}

# 1. The control: unguarded, the job reads the secret (so the checks
# above can see a leak).
timeout "$(left)" srun -n 1 "$tmp/job.sh" >"$tmp/out/control.out" 2>&1
grep -q "$token" "$tmp/out/control.out"
ok $? "control: unguarded, the job's output holds the secret" "$(cat "$tmp/out/control.out")"
grep -q "preload=none" "$tmp/out/control.out"
ok $? "control: without --trainguard the plugin leaves LD_PRELOAD alone" \
	"$(cat "$tmp/out/control.out")"
chmod 0644 "$ro"; printf 'weights v1\n' >"$ro"; chmod 0444 "$ro"

# 2. The SPANK plugin, through sbatch --wait (the batch script is a task).
t0=$SECONDS
timeout "$(left)" sbatch --wait --quiet --trainguard="$policy2" -o "$tmp/out/spank-sbatch.out" \
	"$tmp/job.sh" >"$tmp/out/spank-sbatch.sbatch" 2>&1
rc=$?
cat "$tmp/out/spank-sbatch.sbatch" >>"$tmp/out/spank-sbatch.out"
check "spank sbatch --trainguard=POLICY" "$tmp/out/spank-sbatch.out" "$rc" "" 1 "$policy2"
grep -q "preload=.*libtrainguard.so" "$tmp/out/spank-sbatch.out"
ok $? "spank sbatch: LD_PRELOAD names the library" "$(cat "$tmp/out/spank-sbatch.out")"
echo "# sbatch --trainguard: $((SECONDS - t0))s"

# 3. The SPANK plugin, through srun with two tasks; a bare --trainguard
# takes the policy= of plugstack.conf.
t0=$SECONDS
timeout "$(left)" srun -n 2 --trainguard "$tmp/job.sh" >"$tmp/out/spank-srun.out" 2>&1
check "spank srun -n 2 --trainguard (plugstack's policy)" "$tmp/out/spank-srun.out" $? "" 2 \
	"$policy"
echo "# srun --trainguard: $((SECONDS - t0))s"

# 3b. A batch script asking for the guard in an #SBATCH line, starting a
# step: the step's tasks are guarded too, the library named once in
# LD_PRELOAD (examples/slurm/train.sbatch has this shape).
cat >"$tmp/steps.sbatch" <<EOF
#!/bin/sh
#SBATCH --ntasks=2
#SBATCH --trainguard=$policy2
srun "$tmp/job.sh"
EOF
t0=$SECONDS
timeout "$(left)" sbatch --wait --quiet -o "$tmp/out/spank-steps.out" \
	"$tmp/steps.sbatch" >"$tmp/out/spank-steps.sbatch" 2>&1
rc=$?
cat "$tmp/out/spank-steps.sbatch" >>"$tmp/out/spank-steps.out"
check "spank sbatch running srun -n 2" "$tmp/out/spank-steps.out" "$rc" "" 2 "$policy2"
[ "$(grep -c "^start .*preload=$lib\$" "$tmp/out/spank-steps.out")" -eq 2 ]
ok $? "spank sbatch running srun -n 2: each step task has the library once in LD_PRELOAD" \
	"$(cat "$tmp/out/spank-steps.out")"
echo "# sbatch --trainguard with a step: $((SECONDS - t0))s"

# 4. The plain recipe, srun trainguard run, in a batch script.
cat >"$tmp/plain.sbatch" <<EOF
#!/bin/sh
srun -n 1 "$tg" run --policy "$policy" --log "$tmp/logs/plain-\$SLURM_JOB_ID.jsonl" -- "$tmp/job.sh"
EOF
t0=$SECONDS
timeout "$(left)" sbatch --wait --quiet -o "$tmp/out/plain-sbatch.out" "$tmp/plain.sbatch" \
	>"$tmp/out/plain-sbatch.sbatch" 2>&1
rc=$?
cat "$tmp/out/plain-sbatch.sbatch" >>"$tmp/out/plain-sbatch.out"
id=$(jobid_of "$tmp/out/plain-sbatch.out")
check "plain sbatch + srun trainguard run" "$tmp/out/plain-sbatch.out" "$rc" \
	"$tmp/logs/plain-${id:-none}.jsonl" 1 "$policy"
echo "# sbatch + srun trainguard run: $((SECONDS - t0))s"

# 5. The plain recipe, straight from srun, two tasks, one log.
t0=$SECONDS
timeout "$(left)" srun -n 2 "$tg" run --policy "$policy" --log "$tmp/logs/plain-srun.jsonl" \
	-- "$tmp/job.sh" >"$tmp/out/plain-srun.out" 2>&1
check "plain srun -n 2 trainguard run" "$tmp/out/plain-srun.out" $? "$tmp/logs/plain-srun.jsonl" 2 \
	"$policy"
echo "# srun trainguard run: $((SECONDS - t0))s"

# 6. Fail closed: a policy that does not exist stops the task.
timeout "$(left)" srun -n 1 --trainguard="$tmp/etc/missing.cfg" "$tmp/job.sh" \
	>"$tmp/out/missing.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && ! grep -q '^start' "$tmp/out/missing.out"
ok $? "spank: a missing policy fails the task (exit $rc) instead of running it unguarded" \
	"$(cat "$tmp/out/missing.out")"
grep -q "missing.cfg" "$tmp/out/missing.out" "$tmp/log/slurmd.log" 2>/dev/null
ok $? "spank: the refusal names the policy" "$(cat "$tmp/out/missing.out")"

# 7. `always` in plugstack.conf (read again by every srun and
# slurmstepd): a job without --trainguard is guarded too...
cat >"$tmp/etc/plugstack.conf" <<EOF
required $plugin lib=$lib policy=$policy log=$tmp/logs/%j-%N.jsonl always
EOF
timeout "$(left)" srun -n 1 "$tmp/job.sh" >"$tmp/out/always.out" 2>&1
check "spank always, no --trainguard" "$tmp/out/always.out" $? "" 1 "$policy"

# 8. ... and a log folder the task cannot write stops the task, naming it.
cat >"$tmp/etc/plugstack.conf" <<EOF
required $plugin lib=$lib log=$tmp/no-such-folder/%j.jsonl always
EOF
timeout "$(left)" srun -n 1 "$tmp/job.sh" >"$tmp/out/nolog.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && ! grep -q '^start' "$tmp/out/nolog.out" &&
	grep -q "no-such-folder" "$tmp/out/nolog.out"
ok $? "spank: a log folder that does not exist fails the task (exit $rc), naming it" \
	"$(cat "$tmp/out/nolog.out")"

[ "$(sha256sum <"$ro")" = "$ro_sum" ]
ok $? "the read-only file is unchanged after every run"

if [ "$failed" -gt 0 ]; then
	for f in slurmctld.log slurmd.log; do
		echo "# $f:"; tail -20 "$tmp/log/$f" 2>/dev/null | sed 's/^/#   /'
	done
fi
echo "# total ${SECONDS}s"
echo "1..$n"
[ "$failed" -eq 0 ]
