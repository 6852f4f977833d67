#!/bin/bash
# 28-tracker-slowloris.t - one client address cannot hold every tracker
# connection: a per-address limit (tracker_ip_connection_limit), a cap on the
# time request headers may take (tracker_header_timeout, however slowly the
# bytes trickle in), and a half-closed partial request closed at once.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ -x "$TOP/tracker/mtrack-tracker" ] || bail "build first (make)"
ip addr show lo 2>/dev/null | grep -q 'inet 127\.0\.0\.1/8' ||
	skip_all "needs all of 127.0.0.0/8 on the loopback interface"

W=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-slow.XXXXXX")
LPID=
trap '[ -n "$LPID" ] && kill "$LPID" 2>/dev/null; mt_stop; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
slow() { python3 "$TOP/tests/tools/slowloris.py" "$@"; }

# 16 connections in all, 4 per address; headers within 5 s; idle 60 s
mt_config "$W/mt" "tracker_connection_limit = 16" "tracker_threads = 2" \
	"tracker_ip_connection_limit = 4" "tracker_header_timeout = 5" \
	"tracker_timeout = 60"
mt_start_tracker; ok $? "tracker listens on $MT_TPORT"
like "$("$TOP/tracker/mtrack-tracker" -n -c "$MT_CONF")" \
	'tracker_ip_connection_limit = 4' "the per-address limit is a configuration key"
like "$("$TOP/tracker/mtrack-tracker" -n -c /dev/null)" \
	'tracker_header_timeout = 10' "the header time cap defaults to 10 s"

# --- slowloris from 127.0.0.1 against a client from 127.0.0.2 ----------------
slow hold "$MT_TPORT" 16 60 "$W/ready" > "$W/hold.out" &
LPID=$!
for _ in $(seq 600); do [ -s "$W/ready" ] && break; sleep 0.05; done
[ -s "$W/ready" ]; ok $? "16 slow connections opened from 127.0.0.1"
got=$(curl -sS --interface 127.0.0.2 --max-time 10 -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$MT_TPORT/healthz" 2>&1)
is "$got" 200 "a second client (127.0.0.2) is served while they trickle"
wait "$LPID"; LPID=
out=$(cat "$W/hold.out")
like "$out" '^accepted 4 ' "only 4 of the 16 were kept: the per-address limit"
like "$out" ' closed 4$' "each was closed while its headers still trickled in: the header time cap"

# --- a half-closed partial request ----------------------------------------
is "$(slow halfclose "$MT_TPORT" 20)" closed \
	"a partial request whose client shut down its side is closed, not kept for tracker_timeout"
is "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MT_TPORT/healthz")" 200 \
	"the tracker still answers"

done_testing
