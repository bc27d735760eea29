#!/bin/sh
# entrypoint.sh: puts a container's command under trainguard, for an image
# whose ENTRYPOINT cannot change (a base image with its own, or a platform
# that only lets you set the command). Make it the command:
#
#   CMD ["/usr/libexec/trainguard/entrypoint", "python3", "train.py"]
#
# It execs trainguard-init (installed beside it), which runs
# `trainguard run --policy POLICY -- CMD...` as PID 1 should: signals
# reach the job, orphans are reaped, the job's exit status is the
# container's. POLICY is $TRAINGUARD_POLICY when set (set and empty: the
# embedded ml-default policy), else /etc/trainguard/train.cfg. The log goes
# where the policy, or TRAINGUARD_LOG, says.
set -eu

if [ "$#" -eq 0 ]; then
	echo "entrypoint: no command given: entrypoint CMD [ARGS...]" >&2
	exit 125
fi
here=$(dirname -- "$0")
policy=${TRAINGUARD_POLICY-/etc/trainguard/train.cfg}
if [ -n "$policy" ]; then
	exec "$here/trainguard-init" trainguard run --policy "$policy" -- "$@"
fi
exec "$here/trainguard-init" trainguard run -- "$@"
