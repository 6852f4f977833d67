#!/bin/bash
# 61-journal-backpressure.t - the event journal's bound: while the fold
# cannot commit (another process holds LMDB's write lock: mdb_load reading
# from a pipe), clicks are answered from the journal until it passes
# journal_max; then requests wait, and the log and /metrics say so. When
# the lock goes, the fold catches up, backpressure ends, and every answered
# click is stored once. MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port

trk_init journal-bp curl perl mdb_load mdb_stat
LOADS=
HOLD=
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	exec 3>&- 2>/dev/null
	[ -n "$LOADS" ] && kill $LOADS 2>/dev/null
	[ -n "$HOLD" ] && kill $HOLD 2>/dev/null
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

PORT=$(free_port)
APORT=$(free_port "$PORT")
BASE=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$APORT
CLIENTS=8
PER=1500	# 12,000 clicks of about 250 bytes: the journal passes 1 MB

{
	echo "db_path = $T/db"
	echo "tracker_listen = 127.0.0.1:$PORT"
	echo "admin_listen = 127.0.0.1:$APORT"
	echo "tracking_url = $BASE"
	echo "tracker_threads = 2"
	echo "journal_max = 1M"
	echo "log_level = info"
	# one source clicking one message thousands of times is a scanner's
	# burst, and each burst re-labels the source's earlier clicks: not
	# what this test is about
	echo "burst_links = 0"
} > "$T/conf"

metric() { curl -s "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
wait_for() {
	local i
	for i in $(seq 1200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
is_metric() { [ "$(metric "$1")" = "$2" ]; }

printf '%s\r\n' "From: a@example.com" "To: b@example.org" "Subject: t" \
    "Message-ID: <e2e-journal-bp@example.com>" "MIME-Version: 1.0" \
    "Content-Type: text/html; charset=utf-8" "" \
    '<html><body><a href="https://example.com/bp">x</a></body></html>' > "$T/in.eml"
"$CTL" rewrite -c "$T/conf" < "$T/in.eml" 2>/dev/null |
    perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' > "$T/out.eml"
LINK=$(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/out.eml" | head -1)
[ -n "$LINK" ] || bail "no link recorded"

"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
PID=$!
wait_for is_metric mtrack_journal_backpressure 0
ok $? "tracker starts, no backpressure"

# another writer takes LMDB's write lock and keeps it: mdb_load in a
# transaction, waiting for its next line
mkfifo "$T/fifo"
mdb_load -T -s meta "$T/db" < "$T/fifo" 2>"$T/mdb_load.err" &
HOLD=$!
exec 3>"$T/fifo"
printf 'test_hold\n1\n' >&3

for c in $(seq $CLIENTS); do
	for i in $(seq $PER); do
		printf 'url = "%s"\noutput = "/dev/null"\n' "$LINK"
	done > "$T/k.$c"
	curl -s -K "$T/k.$c" -w '%{http_code}\n' > "$T/ans.$c" 2>/dev/null 3>&- &
	LOADS="$LOADS $!"
done

wait_for is_metric mtrack_journal_backpressure 1
ok $? "/metrics: backpressure on once the journal passes journal_max"
p=$(metric mtrack_journal_pending_bytes)
[ "${p:-0}" -gt 1000000 ]
ok $? "/metrics: $p bytes pending, over the bound"
wait_for grep -q 'journal backpressure=on' "$T/log"
ok $? "the log says backpressure is on"
n=$(metric 'mtrack_http_requests_total{route="click",code="302"}')
[ "${n:-0}" -gt 3000 ]
ok $? "clicks were answered while nothing could be committed (${n:-0})"

# the lock goes: the fold catches up
exec 3>&-
wait $HOLD
HOLD=
wait $LOADS
LOADS=
wait_for is_metric mtrack_journal_pending_bytes 0
ok $? "the journal is folded once the lock is free"
is "$(metric mtrack_journal_backpressure)" 0 "/metrics: backpressure off"
grep -q 'journal backpressure=off' "$T/log"
ok $? "the log says backpressure is off"
w=$(metric mtrack_journal_waits_total)
[ "${w:-0}" -gt 0 ]
ok $? "requests waited for room (${w:-0})"
answered=$(cat "$T"/ans.* | grep -c '^302$')
is "$answered" $((CLIENTS * PER)) "every click was answered"
is "$(mdb_stat -s events "$T/db" | awk '$1 == "Entries:" { print $2 }')" "$answered" \
    "every answered click is stored once"
stop TERM
is "$RC" 0 "SIGTERM: exit 0"
done_testing
