#!/bin/bash
# 71-webhook-retry.t - no event lost while the receiver fails: it answers 500
# to its first requests, then hangs past webhook_timeout, then is down (port
# closed) while more clicks come, then comes back: every event arrives, signed,
# and the counters show the retries. Small backoff for the test
# (webhook_backoff_ms = 50, webhook_timeout = 1). MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port
. "$TOP/tests/lib/webhook.sh"

trk_init wh-retry curl python3 perl
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	wh_stop
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

SECRET=whsec_$(head -c 24 /dev/urandom | base64 | tr -d '\n')
wh_start "$T" "$SECRET" || bail "the receiver did not start"
PORT=$(free_port "$WH_PORT") || bail "no free port"
APORT=$(free_port "$PORT" "$WH_PORT") || bail "no free port"
BASE=http://127.0.0.1:$PORT
wh_tracker_conf "$PORT" "$APORT" "webhook_url = $WH_URL" "webhook_secret = $SECRET" \
    "webhook_backoff_ms = 50" "webhook_timeout = 1" "webhook_concurrency = 4"
"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
PID=$!
wait_port "$PORT" 10 "$PID" || bail "the tracker did not start"

wh_rewrite wh-retry r@example.org \
    '<html><body><a href="https://example.com/a">a</a> <a href="https://example.com/b">b</a></body></html>'
grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/wh-retry.out" > "$T/links"
[ "$(grep -c . "$T/links")" -eq 2 ] || bail "no links recorded"
# clicks N - N clicks over the two links
clicks() {
	local i
	for i in $(seq "$1"); do
		curl -s -o /dev/null -A 'Mozilla/5.0 (X11) Firefox/120' "$(sed -n "$((i % 2 + 1))p" "$T/links")"
	done
}
# wait_for PYTHON-EXPR N - until N logged requests match
wait_for() {
	local i
	for i in $(seq 600); do
		[ "$(wh_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# 1. 500 for the first 6 requests
wh_ctl 'fail=6&status=500'
clicks 20
wait_for 'r["answer"] == 500' 6
ok $? "the receiver answered 500 six times"
# 2. then every request hangs past the timeout
wh_ctl 'hang=3'
wait_for 'r.get("hung")' 2
ok $? "requests hung past webhook_timeout"
# 3. then the port is closed, and more clicks come
wh_stop
clicks 10
sleep 2
metrics=$(curl -s "http://127.0.0.1:$APORT/metrics")
like "$metrics" 'mtrack_webhook_pending\{endpoint="[0-9a-f]{16}"\} [1-9]' "/metrics: events pending while the receiver is down"
like "$metrics" 'mtrack_webhook_retried_total\{endpoint="[0-9a-f]{16}"\} [1-9]' "/metrics: retries counted"
like "$metrics" 'mtrack_webhook_oldest_pending_seconds\{endpoint="[0-9a-f]{16}"\} [0-9]*\.[0-9]*[1-9]' "/metrics: the oldest pending event has an age"
list=$("$CTL" webhook list -c "$T/conf" 2>&1)
like "$list" "last error [^-]" "webhook list shows the last error"
# 4. back on the same port, answering
wh_start "$T" "$SECRET" "$WH_PORT" || bail "the receiver did not come back"
wh_wait 30 180
ok $? "every one of the 30 events arrived in the end"
is "$(wh_ids | grep -c .)" 30 "30 distinct webhook-ids, none lost, none extra"
is "$(wh_bad)" 0 "every signature verifies"
is "$(wh_count 'r["answer"] == 200 and r["id"] != r["body"]["data"]["id"]')" 0 "webhook-id is the event's id in every attempt"
for i in $(seq 100); do
	list=$("$CTL" webhook list -c "$T/conf" 2>&1)
	printf '%s' "$list" | grep -q "pending    0 " && break
	sleep 0.1
done
like "$list" "pending    0 " "webhook list: nothing pending after the recovery"
like "$list" "delivered  30" "webhook list: 30 delivered"
like "$(cat "$T/log")" "webhook endpoint=[0-9a-f]{16} result=recovered" "the recovery is logged"
stop TERM
is "$RC" 0 "the tracker stops cleanly"
done_testing
