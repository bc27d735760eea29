#!/bin/sh
# Renders each man page source with scdoc, then formats the result with
# groff as man(1) would, and speaks TAP. A page that scdoc rejects, that has
# no header or sections, or that groff complains about, fails. Without scdoc
# the whole test is a skip with its reason, never a pass.
# Usage: test-render.sh SCDOC|'' SKIP-REASON PAGE.scd...
scdoc=$1
reason=$2
shift 2

if [ -z "$scdoc" ]; then
	echo "1..0 # SKIP ${reason:-scdoc not found}"
	exit 0
fi
groff=$(command -v groff)

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "1..$(($# * 2))"
n=0
status=0
for page in "$@"; do
	name=$(basename "$page" .scd)
	n=$((n + 1))
	if ! "$scdoc" < "$page" > "$tmp/$name" 2> "$tmp/err"; then
		echo "not ok $n - $name: scdoc failed"
		sed 's/^/# /' "$tmp/err"
		status=1
	elif ! grep -q '^\.TH ' "$tmp/$name"; then
		echo "not ok $n - $name: no .TH header in the output"
		status=1
	elif [ "$(grep -c '^\.SH ' "$tmp/$name")" -lt 3 ]; then
		echo "not ok $n - $name: fewer than 3 sections in the output"
		status=1
	else
		echo "ok $n - $name: scdoc renders it"
	fi

	n=$((n + 1))
	if [ -z "$groff" ]; then
		echo "ok $n - $name: groff formats it # SKIP groff not found"
	elif [ ! -s "$tmp/$name" ]; then
		echo "not ok $n - $name: nothing to format"
		status=1
	elif ! "$groff" -man -Tutf8 -z "$tmp/$name" 2> "$tmp/err" || [ -s "$tmp/err" ]; then
		echo "not ok $n - $name: groff warns"
		sed 's/^/# /' "$tmp/err"
		status=1
	else
		echo "ok $n - $name: groff formats it"
	fi
done
exit $status
