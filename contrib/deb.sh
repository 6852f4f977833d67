#!/bin/sh
# deb.sh - "make deb": build the Debian package from a copy of this tree,
# check it with lintian (no errors allowed), and as root install it and
# run the installed programs. Idempotent: a second run rebuilds and
# reinstalls the same version.
#
#   sh contrib/deb.sh OUTDIR VERSION
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/deb}
ver=$2
say() { echo "deb: $*" >&2; }

rm -rf "$out"
src=$out/mtrack-$ver
mkdir -p "$src"
# the working tree as it is, without build products
tar -cf - --exclude=./build --exclude=./.git --exclude=./var \
    --exclude='*.o' --exclude=./milter/mtrack-milter \
    --exclude=./tracker/mtrack-tracker --exclude=./ctl/mtrackctl . |
    tar -xf - -C "$src"
say "building in $src"
( cd "$src" && dpkg-buildpackage -us -uc -b >../build.log 2>&1 ) || {
	tail -n 40 "$out/build.log" >&2
	say "dpkg-buildpackage failed (log: $out/build.log)"
	exit 1
}
deb=$(ls "$out"/mtrack_"$ver"*_*.deb)
say "built $deb"
lintian --fail-on error --suppress-tags-from-file debian/lintian-ignore \
    "$out"/mtrack_"$ver"*.changes >&2 || { say "lintian found errors"; exit 1; }

[ "$(id -u)" = 0 ] || { say "not root: not installed"; exit 0; }
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
    --no-install-recommends --reinstall "./$deb" >"$out/install.log" 2>&1 || {
	tail -n 20 "$out/install.log" >&2
	say "installing failed"
	exit 1
}
say "installed; checking the installed files"
/usr/sbin/mtrack-tracker -n >/dev/null
/usr/bin/mtrackctl --version
man -w mtrack.conf
getent passwd mtrack >/dev/null
[ "$(stat -c '%U %a' /var/lib/mtrack)" = "mtrack 750" ]
if getent group postfix >/dev/null; then
	[ "$(stat -c '%U %G %a' /var/spool/postfix/mtrack)" = "mtrack postfix 2750" ]
fi
say "ok"
