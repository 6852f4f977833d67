#!/bin/bash
# 94-install.t - "make install" and "make uninstall" under DESTDIR and
# PREFIX: binaries, man pages, units naming the installed binaries, docs,
# the networks list, the deploy hook, the example configuration written
# once and never overwritten; the units' systemd-analyze exposure (3.0 at
# most); the deploy hook installing a certificate with the right modes.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"

[ -x "$TOP/ctl/mtrackctl" ] || skip_all "build first: make"
W=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-install.XXXXXX") || bail "mktemp"
trap '[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$W"' EXIT
D=$W/root
P=/opt/mt

# the tree is built (make check builds first): install needs no compiler run
minst() { make -s -C "$TOP" NODEPS=1 DESTDIR="$D" PREFIX=$P SYSCONFDIR=$P/etc "$@"; }
minst install >"$W/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=$P"
for f in sbin/mtrack-milter sbin/mtrack-tracker bin/mtrackctl; do
	[ -x "$D$P/$f" ]; ok $? "installed $f"
done
for f in man8/mtrack-milter.8 man8/mtrack-tracker.8 man8/mtrackctl.8 man5/mtrack.conf.5; do
	[ -f "$D$P/share/man/$f" ]; ok $? "installed man page $f"
done
is "$(MANPATH=$D$P/share/man man -w mtrack.conf 2>/dev/null)" "$D$P/share/man/man5/mtrack.conf.5" \
	"man -w finds mtrack.conf(5) in the installed tree"
for u in mtrack-milter mtrack-tracker; do
	f=$D$P/lib/systemd/system/$u.service
	like "$(grep '^ExecStart=' "$f")" "^ExecStart=$P/sbin/$u\$" "$u.service starts $P/sbin/$u"
done
[ -f "$D$P/share/doc/mtrack/README.md" ] && [ -f "$D$P/share/doc/mtrack/tracker.md" ]
ok $? "docs installed"
[ -f "$D$P/share/mtrack/networks/scanners.txt" ]; ok $? "networks list installed in share/mtrack/networks"
[ -x "$D$P/share/mtrack/mtrack-deploy-hook" ]; ok $? "deploy hook installed"
like "$(cat "$D$P/etc/mtrack/mtrack.conf")" 'db_path = /var/lib/mtrack/db' \
	"the example configuration, with the store in /var/lib/mtrack"
"$D$P/bin/mtrackctl" -c "$D$P/etc/mtrack/mtrack.conf" -n >/dev/null
ok $? "the installed configuration loads"

echo "# mine" >> "$D$P/etc/mtrack/mtrack.conf"
minst install >"$W/install2.log" 2>&1
ok $? "make install a second time"
like "$(tail -n 1 "$D$P/etc/mtrack/mtrack.conf")" '^# mine$' "an existing configuration is not overwritten"

minst uninstall >"$W/uninstall.log" 2>&1
ok $? "make uninstall"
left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
is "$left" "./opt/mt/etc/mtrack/mtrack.conf " "uninstall leaves only the configuration"

# --- the units ------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	for u in mtrack-milter mtrack-tracker; do
		out=$(systemd-analyze security --offline=yes "$TOP/contrib/systemd/$u.service" 2>&1 | tail -n 1)
		lvl=$(printf '%s' "$out" | sed -n 's/.*exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		awk -v l="${lvl:-99}" 'BEGIN { exit !(l <= 3.0) }'
		ok $? "$u.service: systemd-analyze security exposure ${lvl:-?} (at most 3.0)"
	done
else
	ok 0 "# SKIP systemd-analyze is not installed"
	ok 0 "# SKIP systemd-analyze is not installed"
fi

# --- the deploy hook ------------------------------------------------------------
command -v openssl >/dev/null || { done_testing; exit; }
mkdir -p "$W/live/track.example.test"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=track.example.test -keyout "$W/live/track.example.test/privkey.pem" \
	-out "$W/live/track.example.test/fullchain.pem" 2>/dev/null
sleep 300 & SL=$!
RENEWED_LINEAGE=$W/live/track.example.test MTRACK_TLS_DIR=$W/tls \
	MTRACK_GROUP=$(id -gn) MTRACK_TRACKER_PID=$SL \
	"$TOP/contrib/acme/mtrack-deploy-hook" >"$W/hook.log" 2>&1
ok $? "the deploy hook runs as certbot's --deploy-hook"
{ wait $SL; } 2>/dev/null
is "$?" $((128 + 1)) "the deploy hook sent SIGHUP to the tracker"
is "$(stat -c %a "$W/tls/track.example.test.key")" 640 "the key is installed mode 0640"
cmp -s "$W/tls/track.example.test.pem" "$W/live/track.example.test/fullchain.pem"
ok $? "the chain is installed as NAME.pem"
"$TOP/contrib/acme/mtrack-deploy-hook" ../x "$W/a" "$W/b" >/dev/null 2>&1
is "$?" 2 "a name with a slash is refused"

done_testing
