#!/bin/bash
# 85-cluster.t - many hosts, one set of numbers: a three-node NATS JetStream
# cluster, two mail hosts (a private Postfix and mtrack-milter each, nodes 1
# and 2), two trackers, one collector (mtrackctl collect). Mail through both
# MTAs with sealed links, every click and open on the other host's tracker
# (which has no record of the message), and the collector's "stats --json"
# holds the exact totals. Then: one NATS node killed during
# the run (nothing lost); all of NATS stopped during mail and clicks (mail
# and clicks unaffected, the backlog waits in the stores, exact totals once
# NATS is back); the collector killed with SIGKILL mid-stream (exact totals
# after its restart: nothing counted twice). Every wait is bounded.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/nats.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to run private Postfix instances"
for t in nats-server curl swaks python3; do
	command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ -x "$TOP/milter/mtrack-milter" ] && [ -x "$TOP/tracker/mtrack-tracker" ] &&
	[ -x "$TOP/ctl/mtrackctl" ] || bail "build first (make)"

W=$(pf_tmpdir)
# copies: a "make" during the run must not swap the binaries under the test
mkdir "$W/bin" && cp "$TOP/milter/mtrack-milter" "$TOP/tracker/mtrack-tracker" \
	"$TOP/ctl/mtrackctl" "$W/bin/" || bail "cannot copy the binaries"
CTL=$W/bin/mtrackctl
COLLECT_PID=
cleanup() {
	[ -n "$COLLECT_PID" ] && kill -9 "$COLLECT_PID" 2>/dev/null
	for h in 1 2; do [ -f "$W/pf$h/.mtrack-private-postfix" ] &&
		pf_use "$W/pf$h" && pf_cleanup; done
	nats_cleanup
	[ -n "${PF_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mail() { perl "$TOP/tests/lib/mail.pl" "$@"; }

# --- NATS: three nodes ------------------------------------------------------
nats_cluster "$W/nats" 3
ok $? "three-node NATS JetStream cluster up ($NATS_URLS)"

# --- two hosts: Postfix + milter + tracker on one store each (nodes 1, 2) ---
# sealed links, one key for every host: any tracker answers any link
"$CTL" keygen 1 > "$W/link.keys" && chmod 600 "$W/link.keys"
ok $? "a link key"
USED=
for h in 1 2; do
	for v in MPORT TPORT APORT SMTP SINK; do
		p=$(free_port $USED) || bail "no free port"
		USED="$USED $p"
		eval "${v}_$h=$p"
	done
done
for h in 1 2; do
	v=TPORT_$h; tport=${!v}
	v=MPORT_$h; mport=${!v}
	v=APORT_$h; aport=${!v}
	mkdir -p "$W/h$h"
	cat > "$W/h$h/mtrack.conf" <<EOF
node = $h
db_path = $W/h$h/db
milter_socket = inet:$mport@127.0.0.1
tracker_listen = 127.0.0.1:$tport
admin_listen = 127.0.0.1:$aport
tracking_url = http://127.0.0.1:$tport
click_min_seconds = 0
link_mode = sealed
link_keys = $W/link.keys
stream_url = $NATS_URLS
stream_replicas = 3
log_level = debug
EOF
	"$W/bin/mtrack-milter" -c "$W/h$h/mtrack.conf" 2>>"$W/h$h/milter.log" &
	eval "MILTER_PID_$h=$!"
	"$W/bin/mtrack-tracker" -c "$W/h$h/mtrack.conf" 2>>"$W/h$h/tracker.log" &
	eval "TRACKER_PID_$h=$!"
	wait_port "$mport" 20 && wait_port "$tport" 20
	ok $? "host $h: milter and tracker listen"
	v=SMTP_$h; smtp=${!v}
	v=SINK_$h; sink=${!v}
	pf_setup "$W/pf$h" "$smtp" "$sink" "inet:127.0.0.1:$mport" &&
		sink_start && pf_start
	ok $? "host $h: private Postfix and sink started"
	eval "pf_own \$MILTER_PID_$h \$TRACKER_PID_$h"
done

cat > "$W/collector.conf" <<EOF
db_path = $W/collector/db
stream_url = $NATS_URLS
stream_replicas = 3
log_level = debug
EOF
start_collector() {
	"$CTL" -c "$W/collector.conf" collect 2>>"$W/collector.log" &
	COLLECT_PID=$!
}
start_collector

# --- what the collector must end up with ---------------------------------
EXP_MSG=0 EXP_CLICK=0 EXP_OPEN=0
SEQ=0
declare -A HANDLED

# send HOST N - N messages through host HOST's Postfix, each with its own
# Message-ID; wait (bounded) until the sink has them all
send() {
	local h=$1 n=$2 i total
	pf_use "$W/pf$h"
	for i in $(seq "$n"); do
		SEQ=$((SEQ + 1))
		sed "s/^Message-ID: .*/Message-ID: <cluster-$SEQ@example.com>/" \
			"$TOP/tests/data/e2e/links.eml" > "$W/msg.eml"
		pf_send news@example.com "reader$SEQ@example.net" "$W/msg.eml" \
			>/dev/null || return 1
	done
	eval "total=\$((\${SENT_$h:-0} + n))"
	eval "SENT_$h=$total"
	sink_wait "$total" 60 >/dev/null || return 1
	EXP_MSG=$((EXP_MSG + n))
}

# react HOST PORT - for each new delivered message of host HOST: two
# clicks and one open on the tracker at PORT (the other host's); counts
# what was answered
react() {
	local h=$1 port=$2 f url code bad=0
	pf_use "$W/pf$h"
	for f in $(sink_files); do
		[ -n "${HANDLED[$f]:-}" ] && continue
		HANDLED[$f]=1
		sink_message "$f" > "$W/got.eml"
		for url in $(mail hrefs "$W/got.eml" | grep -o '/click/[A-Za-z0-9_.~-]*' | head -2); do
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
				"http://127.0.0.1:$port$url")
			if [ "$code" = 302 ]; then EXP_CLICK=$((EXP_CLICK + 1)); else bad=1; fi
		done
		url=$(mail html "$W/got.eml" | grep -o '/open/[A-Za-z0-9_.~-]*\.png' | head -1)
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
			"http://127.0.0.1:$port$url")
		if [ "$code" = 200 ]; then EXP_OPEN=$((EXP_OPEN + 1)); else bad=1; fi
	done
	return $bad
}

# totals [CONF] - "messages links opens clicks" of a store's stats --json
totals() {
	"$CTL" -c "${1:-$W/collector.conf}" stats --json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print(d["messages"], d["links"], d["opens"], d["clicks"])
except Exception:
    print("none")'
}

# exact NAME - wait (bounded) until the collector holds the expected totals
exact() {
	local want="$EXP_MSG $((EXP_MSG * 5)) $EXP_OPEN $EXP_CLICK" got i
	for i in $(seq 240); do
		got=$(totals)
		[ "$got" = "$want" ] && break
		sleep 0.5
	done
	is "$got" "$want" "$1: collector totals (messages links opens clicks)"
}

# metric HOST NAME - one value of host HOST's tracker /metrics
metric() {
	local port
	eval "port=\$APORT_$1"
	curl -s --max-time 10 "http://127.0.0.1:$port/metrics" |
		awk -v m="$2" '$1 == m { print $2 }'
}

# --- 1. mail through both MTAs, clicks and opens crossing over -------------
send 1 3 && send 2 3
ok $? "6 messages delivered through two MTAs"
react 1 "$TPORT_2" && react 2 "$TPORT_1"
ok $? "every click redirected and every open answered"
exact "both hosts"
# each host's store: its own messages, the other host's clicks and opens;
# its stats still answer, and the two add up to the collector's
read -r m1 l1 o1 c1 <<< "$(totals "$W/h1/mtrack.conf")"
read -r m2 l2 o2 c2 <<< "$(totals "$W/h2/mtrack.conf")"
is "$m1 $o1 $c1" "3 3 6" "host 1's stats: its 3 messages, the opens and clicks of host 2's"
is "$((m1 + m2)) $((l1 + l2)) $((o1 + o2)) $((c1 + c2))" \
	"$(totals)" "the collector's totals are the sum of the two hosts'"
out=$("$CTL" -c "$W/h1/mtrack.conf" stats --by campaign 2>&1)
ok $? "stats --by campaign on a tracker's store without those messages"
is "$(metric 1 mtrack_stream_connected)" 1 "tracker 1 is connected to NATS"
like "$(metric 1 mtrack_stream_published_total)" '^[1-9]' "tracker 1 published its events"

# --- 2. one NATS node killed during the run --------------------------------
nats_kill 1
ok $? "NATS node 1 killed (SIGKILL)"
send 1 2 && send 2 2
ok $? "mail goes through while a NATS node is down"
react 1 "$TPORT_2" && react 2 "$TPORT_1"
ok $? "clicks and opens answered while a NATS node is down"
exact "one NATS node down"
nats_start 1
ok $? "NATS node 1 back"

# --- 3. all of NATS stopped during mail and clicks -------------------------
nats_ready 60
nats_stop_all
ok $? "every NATS node stopped"
send 1 2 && send 2 2
ok $? "mail delivered with NATS away"
react 1 "$TPORT_2" && react 2 "$TPORT_1"
ok $? "clicks redirected and opens answered with NATS away"
for i in $(seq 100); do
	b=$(metric 1 mtrack_stream_backlog)
	[ "${b:-0}" -gt 0 ] && break
	sleep 0.2
done
like "$b" '^[1-9]' "tracker 1 shows its backlog while NATS is away ($b)"
is "$(metric 1 mtrack_stream_connected)" 0 "tracker 1 knows NATS is away"
nats_start_all && nats_ready 60
ok $? "NATS cluster back"
exact "after NATS returned"

# --- 4. the collector killed with SIGKILL mid-stream -----------------------
kill -9 "$COLLECT_PID"; wait "$COLLECT_PID" 2>/dev/null; COLLECT_PID=
send 1 4 && send 2 4
ok $? "8 more messages while the collector is down"
react 1 "$TPORT_2" && react 2 "$TPORT_1"
ok $? "and their clicks and opens"
# a backlog of several of the collector's batches (512 records each)
url=$(mail hrefs "$W/got.eml" | grep -o '/click/[A-Za-z0-9_.~-]*' | head -1)
for i in $(seq 1500); do
	printf 'url = "http://127.0.0.1:%s%s"\noutput = /dev/null\n' "$TPORT_1" "$url"
done > "$W/burst.curl"
n=$(curl -s -K "$W/burst.curl" -w '%{http_code}\n' | grep -c '^302$')
EXP_CLICK=$((EXP_CLICK + n))
is "$n" 1500 "1500 more clicks on tracker 1"
# kill it again as soon as it has committed its first batch (it logs the
# batch after the commit, before the acknowledgement)
base=$(grep -c 'collect batch=' "$W/collector.log")
start_collector
for i in $(seq 2000); do
	[ "$(grep -c 'collect batch=' "$W/collector.log")" != "$base" ] && break
	sleep 0.01
done
kill -9 "$COLLECT_PID"; wait "$COLLECT_PID" 2>/dev/null; COLLECT_PID=
diag "collector killed at $(totals) of $EXP_MSG $((EXP_MSG * 5)) $EXP_OPEN $EXP_CLICK"
start_collector
exact "after a SIGKILL of the collector"

# --- the whole stream read again into the same store: all duplicates -------
kill -TERM "$COLLECT_PID"; wait "$COLLECT_PID" 2>/dev/null; COLLECT_PID=
sed 's/^log_level = .*/log_level = debug\ncollect_consumer = replay/' \
	"$W/collector.conf" > "$W/replay.conf"
"$CTL" -c "$W/replay.conf" collect 2>>"$W/replay.log" &
COLLECT_PID=$!
all=$((EXP_MSG + EXP_OPEN + EXP_CLICK))
for i in $(seq 600); do
	grep -q "duplicates=$all " "$W/replay.log" && break
	sleep 0.2
done
like "$(grep -o 'duplicates=[0-9]* ' "$W/replay.log" | tail -1)" "=$all " \
	"a second consumer re-reads all $all records: each one a duplicate"
exact "after the whole stream was read twice"

# --- the collector's store reads like a single host's ----------------------
out=$("$CTL" -c "$W/collector.conf" show "<cluster-1@example.com>" 2>&1)
like "$out" "example.com/news" "show on the collector's store finds a message of host 1"
out=$("$CTL" -c "$W/collector.conf" export 2>&1 | grep -c '"type":"click"')
is "$out" "$EXP_CLICK" "export on the collector's store: every click once"
grep -q 'collect record=bad' "$W/collector.log"
ok $((! $?)) "the collector read every record"

# the example of contrib/scale is a valid configuration for each host
for f in mta1 mta2 track1 track2 collector; do
	"$CTL" -n -c "$TOP/contrib/scale/$f.conf" >/dev/null 2>"$W/n.err"
	ok $? "contrib/scale/$f.conf is a valid configuration $(head -c 200 "$W/n.err")"
done

done_testing
