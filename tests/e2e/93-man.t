#!/bin/bash
# 93-man.t - the manual pages: each renders without a warning (man -l),
# mtrack.conf(5) documents every key of the configuration table (the keys
# come from "mtrackctl -n", which prints them all; a missing one is named),
# and --help / --version of the three programs.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"

CTL=$TOP/ctl/mtrackctl
[ -x "$CTL" ] || skip_all "build first: make"
command -v man >/dev/null || skip_all "man-db is not installed"

for p in mtrack-milter.8 mtrack-tracker.8 mtrackctl.8 mtrack.conf.5; do
	f=$TOP/man/$p
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null)
	is "$out" "" "man -l $p renders without a warning"
	n=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l)
	awk -v n="$n" 'BEGIN { exit !(n > 20) }'
	ok $? "man -l $p: $n lines of text"
done

# every key of the table, from the program itself
keys=$(MTRACK_CONF= "$CTL" -c /dev/null -n | sed -E 's/^# ([a-z_]+) is not set$/\1/; s/^([a-z_]+) =.*/\1/')
[ -n "$keys" ]; ok $? "mtrackctl -n lists the keys"
missing=
for k in $keys; do
	grep -Eq "^\.It Cm $k( |\$)" "$TOP/man/mtrack.conf.5" || missing="$missing $k"
done
is "${missing# }" "" "mtrack.conf(5) has an entry for every key (missing ones listed)"
stale=
for k in $(sed -n 's/^\.It Cm \([a-z_]*\).*/\1/p' "$TOP/man/mtrack.conf.5"); do
	printf '%s\n' $keys | grep -qx "$k" || stale="$stale $k"
done
is "${stale# }" "" "mtrack.conf(5) documents no key the programs do not know"

for b in milter/mtrack-milter tracker/mtrack-tracker ctl/mtrackctl; do
	name=${b##*/}
	like "$("$TOP/$b" --version)" "^$name [0-9]+\.[0-9]+\.[0-9]+\$" "$name --version"
	out=$("$TOP/$b" --help 2>&1); rc=$?
	is "$rc" 0 "$name --help exits 0"
	like "$out" '^usage: ' "$name --help prints the usage"
	like "$out" 'MTRACK_CONF' "$name --help names MTRACK_CONF"
	"$TOP/$b" --no-such-option >/dev/null 2>&1
	is "$?" 2 "$name: an unknown option exits 2"
done

done_testing
