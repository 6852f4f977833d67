#!/bin/bash
# 80-node.t - node numbers: a store written under one node refuses every
# other (tracker, milter, mtrackctl), read-only commands still read it, and
# a node's sequence numbers and event keys carry its number.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/nodes.sh"

nd_init node curl mdb_dump

# conf FILE NODE DB - a configuration on the test's ports
conf() {
	{
		echo "db_path = $3"
		echo "node = $2"
		echo "tracker_listen = 127.0.0.1:$PORT"
		echo "milter_socket = inet:$MPORT@127.0.0.1"
		echo "tracking_url = http://127.0.0.1:$PORT"
		echo "admin_listen ="
	} > "$1"
}

conf "$T/n0.conf" 0 "$T/db"
conf "$T/n3.conf" 3 "$T/db"
"$CTL" rewrite -c "$T/n0.conf" < "$EML" > "$T/out0.eml" 2>"$T/ctl.log"
ok $? "node 0 records a message"

# the tracker of another node refuses the store, with the reason
nd_refused "$T/n3.conf" "$T/trk.log"
ok $((RC == 0 || RC == 124)) "tracker with node 3 stops at start ($RC)"
like "$(cat "$T/trk.log")" "holds records of node 0; this configuration says node = 3" \
    "tracker names the reason"

timeout 20 "$MILTER" -c "$T/n3.conf" > "$T/milter.log" 2>&1
RC=$?
ok $((RC == 0 || RC == 124)) "milter with node 3 exits at start with an error ($RC)"
like "$(cat "$T/milter.log")" "holds records of node 0; this configuration says node = 3" \
    "milter names the reason"

OUT=$("$CTL" rewrite -c "$T/n3.conf" < "$EML" 2>&1 >/dev/null)
ok $((! $?)) "mtrackctl rewrite with node 3 fails"
like "$OUT" "holds records of node 0" "mtrackctl names the reason"

OUT=$("$CTL" stats -c "$T/n3.conf" --json 2>&1)
like "$OUT" '"messages": *1' "read-only stats still read the store"

# node 2 from the start: its records say so
conf "$T/n2.conf" 2 "$T/db2"
"$CTL" rewrite -c "$T/n2.conf" < "$EML" > "$T/out2.eml" 2>>"$T/ctl.log"
ok $? "node 2 records a message in a new store"
KEYS=$(mdb_dump -p -s links "$T/db2" | grep -E '^ [0-9a-f]{16}$' | sort -u)
like "$KEYS" '^ 02[0-9a-f]{14}' "node 2's link keys start with 02"
is "$(printf '%s\n' "$KEYS" | grep -cvE '^ 02')" 0 "no link key of another node"
"$TRACKER" -c "$T/n2.conf" > "$T/trk2.log" 2>&1 &
PID=$!
wait_port "$PORT" 10 "$PID" || bail "tracker of node 2 did not start"
ID=$(grep -o "/click/[A-Za-z0-9_-]*" "$T/out2.eml" | head -1)
CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$ID")
is "$CODE" 302 "node 2's link redirects"
stop
EKEYS=$(mdb_dump -p -s events "$T/db2" | grep -E '^ [0-9a-f]{20}$')
like "$EKEYS" '^ [0-9a-f]{16}02[0-9a-f]{2}$' "the event key's order starts with node 2"
done_testing
