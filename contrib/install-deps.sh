#!/bin/sh
# Install the Debian packages listed in contrib/debian-packages that are missing.
# As root: apt-get, non-interactively (Postfix gets "No configuration"),
# waiting up to 10 minutes for the dpkg lock when another apt is running.
# Otherwise: print the exact command and fail.
set -e
here=$(dirname "$0")
pkgs=$(grep -v '^#' "$here/debian-packages" | tr '\n' ' ')
missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in *"ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
cmd="apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "mtrack: missing Debian packages:$missing" >&2
	echo "run as root: apt-get update && DEBIAN_FRONTEND=noninteractive $cmd" >&2
	exit 1
fi
echo "mtrack: installing:$missing" >&2
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q >&2 || true
$cmd >&2
