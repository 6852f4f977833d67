#!/bin/bash
# 26-run.t - "make run" (contrib/run.sh) tells where /metrics and /healthz are
# and how to read the same store with mtrackctl; when the admin port is taken,
# it says so and how to choose another.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"

[ -x "$TOP/milter/mtrack-milter" ] && [ -x "$TOP/tracker/mtrack-tracker" ] ||
	bail "build first (make)"

W=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-run.XXXXXX")
RPID=
BPID=
stop_run() {
	[ -n "$RPID" ] && kill -TERM "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	RPID=
}
trap 'stop_run; [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

# run_conf ADMINPORT: a configuration on free ports, admin on ADMINPORT
run_conf() {
	T=$(free_port "$1") && M=$(free_port "$1" "$T") || return 1
	cat > "$W/mtrack.conf" <<CONF
db_path = $W/db
milter_socket = inet:$M@127.0.0.1
tracker_listen = 127.0.0.1:$T
tracking_url = http://127.0.0.1:$T
admin_listen = 127.0.0.1:$1
CONF
}

# start_run: run.sh in the background until it printed its last line
start_run() {
	: > "$W/run.err"
	sh "$TOP/contrib/run.sh" "$W/mtrack.conf" >"$W/run.out" 2>"$W/run.err" &
	RPID=$!
	for _ in $(seq 1200); do
		grep -q 'mtrackctl' "$W/run.err" && return 0
		kill -0 "$RPID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# --- a free admin port ---------------------------------------------------
A=$(free_port)
run_conf "$A"
start_run; ok $? "run.sh started tracker and milter"
out=$(cat "$W/run.err")
like "$out" "curl http://127\\.0\\.0\\.1:$A/metrics" "says where /metrics is"
like "$out" "curl http://127\\.0\\.0\\.1:$A/healthz" "says where /healthz is"
like "$out" "ctl/mtrackctl -c $W/mtrack\\.conf stats" "says how to run mtrackctl stats on the same store"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$A/metrics")" 200 \
	"the /metrics it names answers"
(cd "$TOP" && ctl/mtrackctl -c "$W/mtrack.conf" stats >/dev/null)
ok $? "the mtrackctl command it names works"
stop_run

# --- the admin port taken by another program -------------------------------
A=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(600)' "$A" &
BPID=$!
wait_port "$A" 10 "$BPID"; ok $? "another program listens on $A"
run_conf "$A"
start_run; ok $? "run.sh still starts"
out=$(cat "$W/run.err")
like "$out" "admin port $A .* is already in use" "says plainly the admin port is taken"
like "$out" "admin_listen = 127\\.0\\.0\\.1:PORT.* in $W/mtrack\\.conf" "says how to choose another"
! printf '%s' "$out" | grep -q "curl http://127\\.0\\.0\\.1:$A/metrics"
ok $? "does not point at a /metrics that is not there"
stop_run

done_testing
