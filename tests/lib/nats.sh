# nats.sh - a private NATS JetStream cluster on loopback for tests (sourced,
# POSIX sh; needs postfix.sh for free_port, wait_port and _pf_alive).
#
#   nats_cluster DIR [N]   N nodes (default 3) on free ports, JetStream
#                          store under DIR; starts them, waits for a leader.
#                          Sets NATS_URLS ("nats://127.0.0.1:P1, ..."), the
#                          value of stream_url.
#   nats_start I | nats_stop I | nats_kill I     node I (1..N): start, SIGTERM
#                          and wait, SIGKILL and wait
#   nats_start_all | nats_stop_all
#   nats_ready [TIMEOUT]   wait until a running node reports a JetStream
#                          meta leader (default 60 s)
#   nats_stream_msgs NAME  messages in stream NAME, from a running node
#   nats_cleanup           stop every node this shell started
#
# Only processes this shell started are signalled (by PID, checked to still
# be nats-server). Every wait is bounded.

NATS_DIR=
NATS_N=0
NATS_URLS=

_nats_say() { printf '# %s\n' "$*" >&2; }

# _nats_pid I: the pid of node I if it still runs nats-server
_nats_pid() {
	_nats_p=$(cat "$NATS_DIR/n$1.pid" 2>/dev/null) || return 1
	[ "$(cat "/proc/$_nats_p/comm" 2>/dev/null)" = nats-server ] || return 1
	_pf_alive "$_nats_p" || return 1
	printf '%s\n' "$_nats_p"
}

nats_cluster() {
	NATS_DIR=$1
	NATS_N=${2:-3}
	mkdir -p "$NATS_DIR" || return 1
	_nats_used=
	_nats_i=1
	while [ "$_nats_i" -le "$NATS_N" ]; do
		for _nats_k in port http route; do
			_nats_v=$(free_port $_nats_used) || return 1
			_nats_used="$_nats_used $_nats_v"
			echo "$_nats_v" > "$NATS_DIR/n$_nats_i.$_nats_k"
		done
		_nats_i=$((_nats_i + 1))
	done
	_nats_routes=
	NATS_URLS=
	_nats_i=1
	while [ "$_nats_i" -le "$NATS_N" ]; do
		_nats_routes="$_nats_routes${_nats_routes:+, }nats-route://127.0.0.1:$(cat "$NATS_DIR/n$_nats_i.route")"
		NATS_URLS="$NATS_URLS${NATS_URLS:+, }nats://127.0.0.1:$(cat "$NATS_DIR/n$_nats_i.port")"
		_nats_i=$((_nats_i + 1))
	done
	_nats_i=1
	while [ "$_nats_i" -le "$NATS_N" ]; do
		mkdir -p "$NATS_DIR/js$_nats_i"
		cat > "$NATS_DIR/n$_nats_i.conf" <<EOF
server_name: n$_nats_i
listen: 127.0.0.1:$(cat "$NATS_DIR/n$_nats_i.port")
http: 127.0.0.1:$(cat "$NATS_DIR/n$_nats_i.http")
jetstream { store_dir: "$NATS_DIR/js$_nats_i" }
cluster {
  name: mtrack-test
  listen: 127.0.0.1:$(cat "$NATS_DIR/n$_nats_i.route")
  routes: [ $_nats_routes ]
}
EOF
		_nats_i=$((_nats_i + 1))
	done
	nats_start_all && nats_ready
}

nats_start() {
	_nats_pid "$1" >/dev/null && return 0
	nats-server -c "$NATS_DIR/n$1.conf" </dev/null >>"$NATS_DIR/n$1.log" 2>&1 &
	echo $! > "$NATS_DIR/n$1.pid"
	wait_port "$(cat "$NATS_DIR/n$1.port")" 20 $! || {
		tail -n 20 "$NATS_DIR/n$1.log" | sed 's/^/#   /' >&2
		return 1
	}
}

# _nats_signal SIG I: signal node I and wait for it to exit (20 s, then SIGKILL)
_nats_signal() {
	_nats_p=$(_nats_pid "$2") || return 0
	kill -"$1" "$_nats_p" 2>/dev/null
	_nats_w=400
	while [ "$_nats_w" -gt 0 ] && _pf_alive "$_nats_p"; do
		sleep 0.05
		_nats_w=$((_nats_w - 1))
	done
	_pf_alive "$_nats_p" && kill -KILL "$_nats_p" 2>/dev/null
	wait "$_nats_p" 2>/dev/null
	rm -f "$NATS_DIR/n$2.pid"
	return 0
}

nats_stop() { _nats_signal TERM "$1"; }
nats_kill() { _nats_signal KILL "$1"; }

nats_start_all() {
	_nats_i=1
	while [ "$_nats_i" -le "$NATS_N" ]; do
		nats_start "$_nats_i" || return 1
		_nats_i=$((_nats_i + 1))
	done
}

nats_stop_all() {
	_nats_i=1
	while [ "$_nats_i" -le "$NATS_N" ]; do
		nats_stop "$_nats_i"
		_nats_i=$((_nats_i + 1))
	done
}

# _nats_jsz: /jsz of the first running node
_nats_jsz() {
	_nats_j=1
	while [ "$_nats_j" -le "$NATS_N" ]; do
		if _nats_pid "$_nats_j" >/dev/null; then
			curl -s --max-time 5 "http://127.0.0.1:$(cat "$NATS_DIR/n$_nats_j.http")/jsz$1"
			return
		fi
		_nats_j=$((_nats_j + 1))
	done
	return 1
}

nats_ready() {
	_nats_w=$(( ${1:-60} * 4 ))
	while [ "$_nats_w" -gt 0 ]; do
		_nats_jsz | grep -q '"leader": *"n[0-9]' && return 0
		sleep 0.25
		_nats_w=$((_nats_w - 1))
	done
	_nats_say "nats_ready: no JetStream leader after ${1:-60}s"
	return 1
}

nats_stream_msgs() {
	_nats_jsz '?streams=true' | python3 -c '
import json, sys
want = sys.argv[1]
n = 0
for acc in json.load(sys.stdin).get("account_details", []):
    for d in acc.get("stream_detail", []):
        if d.get("name") == want:
            n = d.get("state", {}).get("messages", 0)
print(n)' "$1"
}

nats_cleanup() {
	[ -n "$NATS_DIR" ] || return 0
	_nats_i=1
	while [ "$_nats_i" -le "$NATS_N" ]; do
		nats_stop "$_nats_i"
		_nats_i=$((_nats_i + 1))
	done
	return 0
}
