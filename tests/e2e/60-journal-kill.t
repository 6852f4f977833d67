#!/bin/bash
# 60-journal-kill.t - the event journal: SIGKILL of mtrack-tracker under a
# bounded concurrent load of clicks and opens (curl clients, keep-alive, one
# User-Agent per request) loses no answered event (302 or 200) and counts
# none twice, in 3 rounds; SIGTERM under load drains the journal. No timing is asserted: every wait
# is for a condition, with a generous bound. MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port

trk_init journal curl python3 perl mdb_dump mdb_stat
LOADS=
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$LOADS" ] && kill $LOADS 2>/dev/null
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

PORT=$(free_port)
APORT=$(free_port "$PORT")
BASE=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$APORT
CLIENTS=8	# concurrent keep-alive clients
PER=400		# requests per client and round

# batch_ms at its bound: a kill finds events journaled and not yet folded
{
	echo "db_path = $T/db"
	echo "tracker_listen = 127.0.0.1:$PORT"
	echo "admin_listen = 127.0.0.1:$APORT"
	echo "tracking_url = $BASE"
	echo "tracker_threads = 2"
	echo "batch_ms = 1000"
	echo "log_level = info"
	# one source clicking one message thousands of times is a scanner's
	# burst, and each burst re-labels the source's earlier clicks: not
	# what this test is about
	echo "burst_links = 0"
} > "$T/conf"

metric() { curl -s "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# events - clicks and opens the counters hold
events() {
	"$CTL" stats -c "$T/conf" --json 2>/dev/null |
	    python3 -c "import json, sys; d = json.load(sys.stdin); print(d['clicks'] + d['opens'])"
}
nevents() { mdb_stat -s events "$T/db" | awk '$1 == "Entries:" { print $2 }'; }

start() {
	local i
	"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
	PID=$!
	for i in $(seq 400); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] && return 0
		running $PID || return 1
		sleep 0.05
	done
	return 1
}

# wait_for CMD... - until CMD succeeds, 60 s at most
wait_for() {
	local i
	for i in $(seq 1200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
folded() { [ "$(metric mtrack_journal_pending_bytes)" = 0 ]; }
appended_at_least() { [ "$(metric mtrack_journal_appends_total)" -ge "$1" ] 2>/dev/null; }

# -- eight links, recorded by the rewriter ------------------------------------
{
	printf '%s\r\n' "From: a@example.com" "To: b@example.org" "Subject: t" \
	    "Message-ID: <e2e-journal@example.com>" "MIME-Version: 1.0" \
	    "Content-Type: text/html; charset=utf-8" "" "<html><body>"
	for i in 1 2 3 4 5 6 7 8; do
		printf '<a href="https://example.com/j/%s">%s</a>\r\n' "$i" "$i"
	done
	printf '</body></html>\r\n'
} > "$T/in.eml"
"$CTL" rewrite -c "$T/conf" < "$T/in.eml" 2>/dev/null |
    perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' > "$T/out.eml"
mapfile -t LINKS < <(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/out.eml")
OPEN=$(grep -o "$BASE/open/[A-Za-z0-9_-]*\.png" "$T/out.eml" | head -1)
is "${#LINKS[@]}" 8 "the rewriter recorded 8 links"
[ ${#LINKS[@]} -eq 8 ] && [ -n "$OPEN" ] || bail "no links to click"

# load NAME - CLIENTS curls in the background, PER requests each on one
# keep-alive connection (a click, every fourth the pixel); each request has
# its own User-Agent, and each answer is written as "CODE AGENT" to
# $T/ans.NAME.CLIENT
load() {
	local c i u
	LOADS=
	for c in $(seq $CLIENTS); do
		for i in $(seq $PER); do
			[ "$i" -gt 1 ] && echo next
			u=${LINKS[$(( (c + i) % 8 ))]}
			[ $((i % 4)) = 0 ] && u=$OPEN
			printf 'url = "%s"\nuser-agent = "k-%s-%s-%s"\noutput = "/dev/null"\n' \
			    "$u" "$1" "$c" "$i"
			printf 'write-out = "%%{http_code} k-%s-%s-%s\\n"\n' "$1" "$c" "$i"
		done > "$T/k.$1.$c"
		curl -s -K "$T/k.$1.$c" > "$T/ans.$1.$c" 2>/dev/null &
		LOADS="$LOADS $!"
	done
}
load_wait() { wait $LOADS 2>/dev/null; LOADS=; }

# the agents whose clicks or opens were answered (302, 200), and the agents of the store's events
answered() { cat "$T"/ans."$1".* | awk '$1 == 302 || $1 == 200 { print $2 }' | sort; }
stored() { mdb_dump -p -s events "$T/db" | grep -o "\"ua\":\"k-$1-[0-9-]*\"" | cut -d'"' -f4 | sort; }

# check NAME STORED_BEFORE - every answered event of the load is stored once;
# the events stored but not answered are requests in flight (one per client)
check() {
	local name=$1 before=$2 ans st dup missing extra c n
	answered "$name" > "$T/a.$name"
	stored "$name" > "$T/s.$name"
	ans=$(wc -l < "$T/a.$name")
	st=$(wc -l < "$T/s.$name")
	dup=$(uniq -d "$T/s.$name" | wc -l)
	missing=$(comm -23 "$T/a.$name" "$T/s.$name" | wc -l)
	extra=$(comm -13 "$T/a.$name" "$T/s.$name" | wc -l)
	diag "$name: answered=$ans stored=$st extra=$extra"
	[ "$ans" -gt 0 ]
	ok $? "$name: clients saw $ans answers (302 and 200)"
	is "$missing" 0 "$name: every answered click and open is in the store ($ans)"
	is "$dup" 0 "$name: no event is stored twice"
	[ "$extra" -le "$CLIENTS" ]
	ok $? "$name: stored but not answered: $extra, at most one in flight per client"
	c=$(events)
	n=$(nevents)
	is "$c" "$n" "$name: the counters (clicks + opens) equal the events stored ($n)"
	is "$c" "$((before + st))" "$name: counted once: $before before, $st now"
}

start
ok $? "tracker starts"
[ -n "$PID" ] || bail "the tracker did not start: $(tail -5 "$T/log")"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_journal_pending_bytes [0-9]+' "/metrics: journal bytes pending"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_journal_fold_lag_seconds [0-9.]+' "/metrics: fold lag"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_journal_fold_rate [0-9]+' "/metrics: fold rate"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_journal_backpressure 0' "/metrics: no backpressure at rest"

# -- SIGKILL under load, three rounds -------------------------------------------
REPLAYED=0
for round in 1 2 3; do
	base=$(events)
	load "r$round"
	wait_for appended_at_least 300
	ok $? "round $round: the load runs (300 events appended)"
	stop KILL
	load_wait
	# the store as the dead process left it, then what the journal adds
	before=$(events)
	start
	ok $? "round $round: restart after SIGKILL"
	wait_for folded
	ok $? "round $round: the journal is folded after the restart"
	REPLAYED=$((REPLAYED + $(events) - before))
	check "r$round" "$base"
done
diag "the restarts replayed $REPLAYED events the kills left in the journal"
[ "$REPLAYED" -gt 0 ]
ok $? "the journal held answered events the store had not committed at a kill"
grep -q 'journal op=open segments_to_replay=' "$T/log"
ok $? "the log names the replay"

# -- SIGTERM under load drains --------------------------------------------------
base=$(events)
load term
wait_for appended_at_least 300
ok $? "term: the load runs"
stop TERM
load_wait
is "$RC" 0 "term: SIGTERM exits 0"
check term "$base"
n=$(find "$T/db/journal" -name '*.jnl' | wc -l)
is "$n" 0 "term: the journal is drained: no segment left"
c=$(events)
start
ok $? "term: restart"
wait_for folded
is "$(events)" "$c" "term: the restart replays nothing twice"
stop TERM
done_testing
