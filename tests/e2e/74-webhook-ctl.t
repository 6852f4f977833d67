#!/bin/bash
# 74-webhook-ctl.t - mtrackctl webhook test (a signed sample event and the
# answer), webhook list before the first start, webhook_batch (several events
# per POST, each with its own id), the counters in /metrics.
# MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port
. "$TOP/tests/lib/webhook.sh"

trk_init wh-ctl curl python3 perl
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
    "webhook_batch = 5" "webhook_concurrency = 2"

# -- webhook test ---------------------------------------------------------
out=$("$CTL" webhook test -c "$T/conf" "$WH_URL" 2>&1)
ok $? "webhook test exits 0 on a 2xx"
like "$out" "status 200 \(delivered\)" "webhook test prints the status"
id=$(printf '%s' "$out" | sed -n 's/^webhook-id //p')
is "$(wh_ids)" "$id" "the receiver got the sample, signature verified, with the printed id"
like "$(grep -h "$id" "$WH_LOG")" '"type": "click".*"message_id": "<test@mtrack.invalid>"' "the sample is a click"
wh_ctl 'fail=1&status=500'
out=$("$CTL" webhook test -c "$T/conf" "$WH_URL" 2>&1)
[ $? -eq 1 ]
ok $? "webhook test exits 1 on a 500"
like "$out" "status 500 \(the engine would retry\)" "and says what the engine would do"
out=$("$CTL" webhook test -c "$T/conf" "http://127.0.0.1:$WH_PORT/other" 2>&1)
ok $? "an unconfigured URL is signed with webhook_secret"
: > "$WH_LOG"

# -- batches --------------------------------------------------------------
wh_rewrite wh-ctl r@example.org '<html><body><a href="https://example.com/a">a</a></body></html>'
LINK=$(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/wh-ctl.out" | head -1)
[ -n "$LINK" ] || bail "no link recorded"
like "$("$CTL" webhook list -c "$T/conf" 2>&1)" "state      not started yet" "webhook list before the tracker ever ran"
"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
PID=$!
wait_port "$PORT" 10 "$PID" || bail "the tracker did not start"
wh_ctl 'hang=1'		# let events gather behind the two requests in flight
for i in $(seq 40); do echo "url = \"$LINK\""; echo "output = /dev/null"; echo "next"; done | sed '$d' > "$T/clicks.cfg"
curl -s -A 'Mozilla/5.0 (X11) Firefox/120' -K "$T/clicks.cfg"
sleep 1.5
wh_ctl 'hang=0'
for i in $(seq 600); do [ "$(wh_events | sort -u | grep -c .)" -ge 40 ] && break; sleep 0.1; done
is "$(wh_events | sort -u | grep -c .)" 40 "the 40 events arrived"
is "$(wh_bad)" 0 "every signature verifies"
is "$(wh_count 'r["answer"] == 200 and r["body"]["type"] == "batch" and 1 < len(r["body"]["data"]) <= 5 and r["id"].startswith("batch_")' | awk '{ print ($1 > 0) }')" 1 \
    "some POSTs carried a batch of 2 to 5 events"
is "$(wh_count 'r["answer"] == 200 and r["body"]["type"] == "batch" and len(r["body"]["data"]) > 5')" 0 "never more than webhook_batch"
metrics=$(curl -s "http://127.0.0.1:$APORT/metrics")
for m in delivered_total retried_total failed_total pending oldest_pending_seconds disabled; do
	like "$metrics" "# TYPE mtrack_webhook_$m " "/metrics has mtrack_webhook_$m"
done
stop TERM
is "$RC" 0 "the tracker stops cleanly"
done_testing
