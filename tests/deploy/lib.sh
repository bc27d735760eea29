# Shared by the deploy tests (sourced, bash): TAP output, and the Debian
# package built once from a copy of the source tree and cached in the build
# folder by the content of that copy.

n_test=0
n_failed=0
ok() { # ok COND-STATUS DESCRIPTION [DIAGNOSTIC]
	n_test=$((n_test + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n_test - $2"
	else
		# A TODO failure is expected: TAP does not count it.
		case $2 in *"# TODO"*) ;; *) n_failed=$((n_failed + 1)) ;; esac
		echo "not ok $n_test - $2"
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/# /'
	fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
bail() { echo "Bail out! $*"; exit 1; }
done_testing() { echo "1..$n_test"; [ "$n_failed" -eq 0 ]; }

: "${TG_SOURCE_ROOT:?run from meson test}" "${TG_BUILD_ROOT:?run from meson test}"

# Prints what is missing for building the package, or nothing.
package_tools_missing() {
	local t missing=
	for t in dpkg-buildpackage dpkg-deb dh dh_auto_configure; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		echo "no$missing (apt-get install debhelper dpkg-dev)"
		return
	fi
	# The build dependencies of debian/control, build-essential included.
	(cd "$TG_SOURCE_ROOT" && dpkg-checkbuilddeps 2>&1) | sed -n 's/^dpkg-checkbuilddeps: error: //p'
}

# Copies the source tree to $1 without build folders and git metadata.
copy_source() {
	local dest=$1 e
	mkdir -p "$dest"
	for e in "$TG_SOURCE_ROOT"/* "$TG_SOURCE_ROOT"/.[!.]*; do
		[ -e "$e" ] || continue
		case ${e##*/} in .git | obj-*) continue ;; esac
		# A meson build folder, wherever it is.
		[ -e "$e/meson-private" ] && continue
		cp -a "$e" "$dest/"
	done
	rm -rf "$dest/debian/.debhelper" "$dest/debian/trainguard" "$dest/debian/tmp"
}

# Builds the package, or reuses the one built from identical sources; sets
# DEB to its path. The build's output goes to $deb_log.
build_package() {
	local cache=$TG_BUILD_ROOT/tests/deploy/package work key
	work=$(mktemp -d "${TMPDIR:-/tmp}/tg-deb.XXXXXX")
	copy_source "$work/trainguard"
	key=$(cd "$work/trainguard" && find . -type f -print0 | LC_ALL=C sort -z |
		xargs -0 sha256sum | sha256sum | cut -c1-16)
	deb_log=$cache/build.log
	DEB=$(ls "$cache/$key"/trainguard_*.deb 2>/dev/null | grep -v dbgsym | head -n1)
	if [ -n "$DEB" ]; then
		rm -rf "$work"
		echo "# reusing $DEB (same sources)"
		return 0
	fi
	rm -rf "$cache"
	mkdir -p "$cache/$key"
	echo "# dpkg-buildpackage -us -uc -b in a copy of the source tree"
	# The package's own test run (the unit suite) is the build's business;
	# DEB_BUILD_OPTIONS from the caller decide, e.g. nocheck.
	if ! (cd "$work/trainguard" && dpkg-buildpackage -us -uc -b) >"$deb_log" 2>&1; then
		rm -rf "$work"
		return 1
	fi
	mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$cache/$key/"
	rm -rf "$work"
	DEB=$(ls "$cache/$key"/trainguard_*.deb | grep -v dbgsym | head -n1)
}

# Installs $DEB with dpkg into throw-away overlays of /usr, /etc and /var.
# Call it in a private mount namespace (unshare --mount): the host's
# system is untouched, and everything vanishes with the namespace.
install_in_overlay() {
	local scratch d
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/tg-overlay.XXXXXX")
	# The mounts end with the namespace; the host keeps only the empty
	# mount point, removed on exit.
	trap 'umount -l /usr /etc /var "'"$scratch"'" 2>/dev/null; rmdir "'"$scratch"'" 2>/dev/null' EXIT
	mount -t tmpfs -o mode=0755 tg-overlay "$scratch" || return 1
	for d in usr etc var; do
		mkdir "$scratch/$d.upper" "$scratch/$d.work"
		mount -t overlay overlay \
			-o "lowerdir=/$d,upperdir=$scratch/$d.upper,workdir=$scratch/$d.work" "/$d" ||
			return 1
	done
	dpkg -i "$DEB" >"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; return 1; }
}

# Makes a demo folder: dataset, fake home; sets demo to it.
make_demo_root() {
	demo=$(mktemp -d "${TMPDIR:-/tmp}/tg-deploy-demo.XXXXXX")
	chmod 0755 "$demo"
	/usr/bin/python3 "$TG_SOURCE_ROOT/tests/deploy/demo-root.py" "$demo"
}

# sha256 of every file under the given paths.
fingerprint() { find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; }
