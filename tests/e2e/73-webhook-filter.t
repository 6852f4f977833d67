#!/bin/bash
# 73-webhook-filter.t - a webhooks file: one endpoint for human clicks only,
# one for opens only, one that answers 410 Gone. Each gets exactly what its
# filters say; the 410 disables its endpoint with a log line (the others go
# on), webhook list shows it, and webhook replay --endpoint enables it again.
# MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port
. "$TOP/tests/lib/webhook.sh"

trk_init wh-filter curl python3 perl
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	wh_stop
	[ -n "$GONE_PID" ] && kill $GONE_PID 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

SECRET=whsec_$(head -c 24 /dev/urandom | base64 | tr -d '\n')
SECRET2=whsec_$(head -c 24 /dev/urandom | base64 | tr -d '\n')
# the 410 endpoint: a receiver of its own
mkdir -p "$T/gone"
wh_start "$T/gone" "$SECRET2" || bail "the receiver did not start"
GONE_URL=$WH_URL GONE_LOG=$WH_LOG GONE_PID=$WH_PID GONE_PORT=$WH_PORT
WH_PID=
wh_start "$T" "$SECRET" || bail "the receiver did not start"
PORT=$(free_port "$WH_PORT" "$GONE_PORT") || bail "no free port"
BASE=http://127.0.0.1:$PORT
cat > "$T/webhooks" <<EOT
# URL SECRET [types=...] [classes=...]
http://127.0.0.1:$WH_PORT/human $SECRET types=click classes=human
http://127.0.0.1:$WH_PORT/opens $SECRET types=open
$GONE_URL $SECRET2
EOT
# one request at a time: the 410 is the last the endpoint gets
wh_tracker_conf "$PORT" "" "webhooks = $T/webhooks" "webhook_backoff_ms = 50" \
    "webhook_concurrency = 1"
"$TRACKER" -n -c "$T/conf" >/dev/null 2>&1
ok $? "-n accepts the webhooks file"
echo "http://127.0.0.1:1/x $SECRET types=sent" >> "$T/webhooks"
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q 'webhooks:5: types: click, open'
ok $? "-n refuses an unknown type with the file and line"
case $out in *"${SECRET#whsec_}"*) ok 1 "the error does not show the secret" ;; *) ok 0 "the error does not show the secret" ;; esac
sed -i '$d' "$T/webhooks"

"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
PID=$!
wait_port "$PORT" 10 "$PID" || bail "the tracker did not start"

wh_rewrite wh-filter r@example.org '<html><body><a href="https://example.com/a">a</a></body></html>'
LINK=$(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/wh-filter.out" | head -1)
OPEN=$(grep -o "$BASE/open/[A-Za-z0-9_-]*\.png" "$T/wh-filter.out" | head -1)
[ -n "$LINK" ] && [ -n "$OPEN" ] || bail "no link recorded"

# the 410 endpoint answers 410 to its first request
(WH_PORT=$GONE_PORT; wh_ctl 'fail=1&status=410')
for i in $(seq 5); do curl -s -o /dev/null -A 'Mozilla/5.0 (X11) Firefox/120' "$LINK"; done
for i in $(seq 3); do curl -s -o /dev/null -A 'curl/8' "$LINK"; done
for i in $(seq 4); do curl -s -o /dev/null -A 'Mozilla/5.0 (X11) Thunderbird/115' "$OPEN"; done
wh_wait 9 60
ok $? "the two filtered endpoints got their events"
sleep 1
is "$(wh_events /human | sort -u | grep -c .)" 5 "human clicks only: 5 (the 3 curl clicks are bots)"
is "$(wh_count 'r["path"] == "/human" and (r["body"]["type"] != "click" or r["body"]["data"]["class"] != "human")')" 0 \
    "nothing but human clicks went to the human endpoint"
is "$(wh_events /opens | sort -u | grep -c .)" 4 "opens only: 4"
is "$(wh_count 'r["path"] == "/opens" and r["body"]["type"] != "open"')" 0 "nothing but opens went to the open endpoint"
is "$(WH_LOG=$GONE_LOG wh_count 'True')" 1 "the 410 endpoint got one request, then no more"
like "$(cat "$T/log")" "webhook endpoint=[0-9a-f]{16} status=410 result=disabled" "the 410 is logged: endpoint disabled"
like "$("$CTL" webhook list -c "$T/conf" 2>&1)" "state      disabled \(410 Gone\)" "webhook list shows it disabled"

# replay enables it again and sends the window's events
out=$("$CTL" webhook replay -c "$T/conf" --since 1h --endpoint "$GONE_URL" 2>&1)
like "$out" "^12 deliveries queued" "replay queues the 12 events for that endpoint"
for i in $(seq 300); do [ "$(WH_LOG=$GONE_LOG wh_ids | grep -c .)" -ge 12 ] && break; sleep 0.1; done
is "$(WH_LOG=$GONE_LOG wh_ids | grep -c .)" 12 "the endpoint, enabled again, got the 12 events"
curl -s -o /dev/null -A 'Mozilla/5.0 (X11) Firefox/120' "$LINK"
for i in $(seq 300); do [ "$(WH_LOG=$GONE_LOG wh_ids | grep -c .)" -ge 13 ] && break; sleep 0.1; done
is "$(WH_LOG=$GONE_LOG wh_ids | grep -c .)" 13 "and the next click too"
like "$(cat "$T/log")" "webhook endpoint=[0-9a-f]{16} result=enabled" "enabling is logged"
stop TERM
is "$RC" 0 "the tracker stops cleanly"
done_testing
