# webhook.sh - a webhook receiver for end-to-end tests (sourced, bash; needs postfix.sh).
# shellcheck disable=SC2034  # WH_* are for the sourcing test
#
#   wh_start DIR SECRET [PORT]   start tests/lib/whreceiver.py on a free (or
#                                the given) port; sets WH_PORT, WH_URL, WH_LOG, WH_PID
#   wh_stop                      stop it (the port closes)
#   wh_ctl QUERY                 e.g. wh_ctl 'fail=5&status=500', wh_ctl 'hang=3'
#   wh_ids                       webhook-ids answered 2xx with a valid signature, sorted
#   wh_wait N [SECONDS]          wait until wh_ids counts N distinct ids (default 120 s)
#   wh_bad                       answered requests whose signature did not verify
#   wh_events [PATH], wh_count EXPR, wh_tracker_conf, wh_rewrite: see below

wh_start() {
	local dir=$1 secret=$2 i
	WH_PORT=${3:-$(free_port)} || return 1
	WH_URL=http://127.0.0.1:$WH_PORT/hook
	WH_LOG=$dir/received.jsonl
	touch "$WH_LOG"
	python3 "$TOP/tests/lib/whreceiver.py" "$WH_PORT" "$secret" "$WH_LOG" \
	    2>>"$dir/receiver.err" &
	WH_PID=$!
	for i in $(seq 200); do
		curl -sf "http://127.0.0.1:$WH_PORT/_ctl" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

wh_stop() {
	[ -n "$WH_PID" ] || return 0
	kill "$WH_PID" 2>/dev/null
	wait "$WH_PID" 2>/dev/null
	WH_PID=
}

wh_ctl() { curl -sf "http://127.0.0.1:$WH_PORT/_ctl?$1" >/dev/null; }

wh_ids() {
	python3 -c '
import json, sys
ids = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["sig_ok"] and 200 <= r["answer"] < 300:
        ids.add(r["id"])
print("\n".join(sorted(ids)))' "$WH_LOG"
}

wh_wait() {
	local n=$1 t=${2:-120} i
	for i in $(seq $((t * 5))); do
		[ "$(wh_ids | grep -c .)" -ge "$n" ] && return 0
		sleep 0.2
	done
	return 1
}

wh_bad() {
	python3 -c '
import json, sys
print(sum(1 for l in open(sys.argv[1])
          if not json.loads(l)["sig_ok"] and not json.loads(l).get("hung")))' "$WH_LOG"
}

# wh_events [PATH] - event ids (data.id, also inside batches) answered 2xx
# with a valid signature, one line each in arrival order (repeats kept)
wh_events() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if not r["sig_ok"] or not 200 <= r["answer"] < 300 or r["body"] is None:
        continue
    if len(sys.argv) > 2 and r["path"] != sys.argv[2]:
        continue
    b = r["body"]
    for e in (b["data"] if b["type"] == "batch" else [b]):
        print(e["data"]["id"])' "$WH_LOG" "$@"
}

# wh_count QUERY - requests in the log matching a Python expression on r
wh_count() {
	python3 -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if (lambda r: eval(sys.argv[2]))(json.loads(l))))' "$WH_LOG" "$1"
}

# wh_tracker_conf PORT APORT [LINE]... - $T/conf: a tracker on PORT (admin on
# APORT, none when empty), its store in $T/db, the verdicts that would turn a
# test's rapid clicks into scanners off, then the LINEs
wh_tracker_conf() {
	local port=$1 aport=$2 l
	shift 2
	{
		echo "db_path = $T/db"
		echo "tracker_listen = 127.0.0.1:$port"
		echo "admin_listen = ${aport:+127.0.0.1:$aport}"
		echo "tracking_url = http://127.0.0.1:$port"
		echo "click_min_seconds = 0"
		echo "burst_links = 0"
		for l in "$@"; do echo "$l"; done
	} > "$T/conf"
}

# wh_rewrite NAME TO HTML - one message (Message-ID <NAME@example.com>) through
# mtrackctl rewrite, as the milter records it; $T/NAME.out holds it decoded
wh_rewrite() {
	printf '%s\r\n' "From: news@example.com" "To: $2" "Subject: $1" \
	    "Message-ID: <$1@example.com>" "MIME-Version: 1.0" \
	    "Content-Type: text/html; charset=utf-8" "" "$3" > "$T/$1.eml"
	"$CTL" rewrite -c "$T/conf" --to "$2" < "$T/$1.eml" 2>/dev/null |
	    perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' > "$T/$1.out"
}
