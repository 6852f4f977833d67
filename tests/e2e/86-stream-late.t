#!/bin/bash
# 86-stream-late.t - NATS is not there when the milter and the tracker
# start: they start anyway, mail is tracked and clicks are answered, the
# records wait in the store (the tracker's /metrics shows the backlog), and
# once a JetStream server comes up on stream_url they are published and a
# collector counts them exactly. Every wait is bounded.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to run a private Postfix"
for t in nats-server curl swaks; do
	command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ -x "$TOP/milter/mtrack-milter" ] && [ -x "$TOP/tracker/mtrack-tracker" ] ||
	bail "build first (make)"

W=$(pf_tmpdir)
NATS_PID= COLLECT_PID=
cleanup() {
	for p in $COLLECT_PID $NATS_PID; do kill -TERM "$p" 2>/dev/null; done
	for p in $COLLECT_PID $NATS_PID; do wait "$p" 2>/dev/null; done
	mt_stop
	pf_cleanup
	[ -n "${PF_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mail() { perl "$TOP/tests/lib/mail.pl" "$@"; }

# a port where no NATS server listens yet
NPORT=$(free_port) || bail "no port"
APORT=$(free_port "$NPORT") || bail "no port"
mt_config "$W/mt" "admin_listen = 127.0.0.1:$APORT" \
	"stream_url = nats://127.0.0.1:$NPORT" "click_min_seconds = 0" \
	"log_level = debug"
metric() {
	curl -s --max-time 10 "http://127.0.0.1:$APORT/metrics" |
		awk -v m="$1" '$1 == m { print $2 }'
}

mt_start_milter; ok $? "the milter starts while NATS is away"
mt_start_tracker; ok $? "the tracker starts while NATS is away"
mt_postfix "$W/pf"; ok $? "postfix and sink started"

mt_deliver "$TOP/tests/data/e2e/links.eml" "$W/out" 1 >/dev/null
ok $? "a message delivered"
n=$(mail hrefs "$W/out.eml" | grep -c "^$MT_URL/click/")
is "$n" 5 "its links were rewritten: the milter answers"
codes=
for url in $(mail hrefs "$W/out.eml" | grep -o '/click/[A-Za-z0-9_-]*' | head -2); do
	codes="$codes$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$MT_URL$url") "
done
is "$codes" "302 302 " "two clicks answered"
for i in $(seq 100); do
	b=$(metric mtrack_stream_backlog)
	[ "${b:-0}" -ge 2 ] && break
	sleep 0.1
done
like "$b" '^[2-9]' "the tracker's backlog holds its events ($b)"
is "$(metric mtrack_stream_connected)" 0 "and it knows NATS is away"

# now the server comes
mkdir -p "$W/nats"
nats-server -a 127.0.0.1 -p "$NPORT" -js -sd "$W/nats" >"$W/nats.log" 2>&1 &
NATS_PID=$!
wait_port "$NPORT" 20 "$NATS_PID"; ok $? "a JetStream server on stream_url"
for i in $(seq 300); do
	[ "$(metric mtrack_stream_backlog)" = 0 ] && break
	sleep 0.2
done
is "$(metric mtrack_stream_backlog)" 0 "the backlog is published"
is "$(metric mtrack_stream_published_total)" 2 "both events acknowledged"

printf 'db_path = %s/collector\nstream_url = nats://127.0.0.1:%s\n' \
	"$W" "$NPORT" > "$W/collector.conf"
"$TOP/ctl/mtrackctl" -c "$W/collector.conf" collect 2>"$W/collector.log" &
COLLECT_PID=$!
want='"messages": 1 "links": 5 "clicks": 2'
for i in $(seq 300); do
	got=$("$TOP/ctl/mtrackctl" -c "$W/collector.conf" stats --json 2>/dev/null |
		grep -oE '"(messages|links|clicks)": [0-9]+' | head -3 | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] && break
	sleep 0.2
done
is "$got" "$want" "the collector has the message (from the milter) and both clicks"

done_testing
