#!/bin/bash
# 72-webhook-crash.t - a tracker killed with SIGKILL while deliveries are
# pending (some queued for a retry, some not read from the feed yet): after
# the restart every event arrives, duplicates only with the same webhook-id.
# MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port
. "$TOP/tests/lib/webhook.sh"

trk_init wh-crash curl python3 perl mdb_stat mdb_dump
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
BASE=http://127.0.0.1:$PORT
wh_tracker_conf "$PORT" "" "webhook_url = $WH_URL" "webhook_secret = $SECRET" \
    "webhook_backoff_ms = 100" "webhook_concurrency = 2"
start() {
	"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
	PID=$!
	wait_port "$PORT" 10 "$PID"
}
nevents() { mdb_stat -s events "$T/db" | awk '/Entries:/ { print $2 }'; }
start || bail "the tracker did not start"

wh_rewrite wh-crash r@example.org '<html><body><a href="https://example.com/a">a</a></body></html>'
LINK=$(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/wh-crash.out" | head -1)
[ -n "$LINK" ] || bail "no link recorded"

# the receiver fails everything: events pile up in the retry queue and the feed
wh_ctl 'fail=1000000&status=503'
for i in $(seq 60); do curl -s -o /dev/null -A 'Mozilla/5.0 (X11) Firefox/120' "$LINK"; done
for i in $(seq 200); do [ "$(nevents)" -ge 60 ] && break; sleep 0.05; done
is "$(nevents)" 60 "60 click events stored"
for i in $(seq 200); do [ "$(wh_count 'r["answer"] == 503')" -ge 3 ] && break; sleep 0.05; done
ok $([ "$(wh_count 'r["answer"] == 503')" -ge 3 ]; echo $?) "deliveries failing before the crash"
is "$(wh_ids | grep -c .)" 0 "nothing delivered yet"
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=

wh_ctl 'fail=0'
start || bail "the tracker did not start again"
wh_wait 60 120
ok $? "after the restart all 60 events arrived"
is "$(wh_ids | grep -c .)" 60 "60 distinct webhook-ids"
mdb_dump -p -s events "$T/db" | grep -E '^ [0-9a-f]{20}$' | sed 's/^ /evt_/' | sort > "$T/keys"
is "$(wh_ids | diff - "$T/keys" && echo same)" same "the webhook-ids are exactly the stored events' keys"
is "$(wh_bad)" 0 "every signature verifies"
stop TERM
is "$RC" 0 "the tracker stops cleanly"
done_testing
