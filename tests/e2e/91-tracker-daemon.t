#!/bin/bash
# 91-tracker-daemon.t - mtrack-tracker as a daemon: the privilege drop by
# default, the file descriptor limit (raised, or the connection limit
# lowered; running out counted and /healthz on the admin listener still
# answering), ACME HTTP-01 challenges from acme_webroot (safe names only),
# the pixel for unknown IDs (nothing recorded), the access log and its
# reopening on SIGHUP, --help and --version. MTRACK_KEEP=1 keeps the dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port

trk_init daemon curl python3 prlimit
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	[ -n "${CONNS:-}" ] && kill "$CONNS" 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

PORT=$(free_port) || bail "no free port"
APORT=$(free_port "$PORT") || bail "no free port"
BASE=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$APORT
mkdir -p "$T/www/.well-known/acme-challenge" "$T/logs"

# write_conf [EXTRA LINE]...
write_conf() {
	{
		echo "db_path = $T/db"
		echo "tracker_listen = 127.0.0.1:$PORT"
		echo "admin_listen = 127.0.0.1:$APORT"
		echo "tracking_url = $BASE"
		echo "tracker_threads = 2"
		echo "batch_ms = 5"
		echo "tracker_timeout = 5"
		for l in "$@"; do echo "$l"; done
	} > "$T/conf"
}
healthy() {
	local i
	for i in $(seq 200); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1/healthz")" = 200 ] && return 0
		running "$PID" || return 1
		sleep 0.05
	done
	return 1
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
metric() { curl -s "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

like "$("$TRACKER" --version)" '^mtrack-tracker [0-9]+\.[0-9]+' "--version"
out=$("$TRACKER" --help); ok $? "--help exits 0"
like "$out" 'SIGHUP' "--help names the signals"
like "$out" '/etc/mtrack/mtrack.conf' "--help names the default configuration file"
MTRACK_CONF=$T/none.conf "$TRACKER" -n >/dev/null 2>"$T/err"
like "$(cat "$T/err")" 'none.conf: No such file' "MTRACK_CONF names the file when -c is not given"

# --- the privilege drop is the default -------------------------------------
# (tap.sh sets MTRACK_USER=root for the other tests: not here)
if [ "$(id -u)" = 0 ]; then
	write_conf
	if getent passwd mtrack >/dev/null; then
		mkdir -p "$T/db" && chown mtrack "$T/db" "$T"
		env -u MTRACK_USER "$TRACKER" -c "$T/conf" >"$T/log0" 2>&1 &
		PID=$!
		healthy "$BASE"
		is "$(awk '/^Uid:/ { print $2 }' /proc/$PID/status)" "$(id -u mtrack)" \
			"as root without user: runs as mtrack"
		stop
		rm -rf "$T/db"
		chown root "$T"
	else
		env -u MTRACK_USER "$TRACKER" -c "$T/conf" >"$T/log0" 2>&1
		is "$?" 1 "as root without user and no mtrack user: refuses to start"
		like "$(cat "$T/log0")" 'no user configured.*adduser --system mtrack' \
			"... and says how to fix it"
	fi
	mkdir -p "$T/db" && chown nobody "$T/db" "$T"
	MTRACK_USER=nobody "$TRACKER" -c "$T/conf" >"$T/log1" 2>&1 &
	PID=$!
	healthy "$BASE"
	is "$(awk '/^Uid:/ { print $2 }' /proc/$PID/status)" "$(id -u nobody)" \
		"as root without user, MTRACK_USER=nobody: runs as nobody"
	stop
	rm -rf "$T/db"
	chown root "$T"
else
	for i in 1 2 3; do ok 0 "# SKIP not root"; done
fi
ROOT=
[ "$(id -u)" != 0 ] || ROOT="user = root"

# --- file descriptors: the limit is lowered to what fits ---------------------
write_conf ${ROOT:+"$ROOT"} "tracker_connection_limit = 20000" \
	"acme_webroot = $T/www" "access_log = $T/logs/access.log"
prlimit --nofile=256:256 "$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
PID=$!
healthy "$BASE"; ok $? "starts with 256 file descriptors and tracker_connection_limit = 20000"
like "$(grep 'lowered=' "$T/log")" 'tracker_connection_limit=20000 lowered=[0-9]+ nofile=256' \
	"the connection limit was lowered, with the reason"
lim=$(metric mtrack_http_connection_limit)
awk -v l="${lim:-0}" 'BEGIN { exit !(l >= 16 && l < 256) }'
ok $? "mtrack_http_connection_limit shows the lowered limit ($lim)"

# more connections than the limit: the admin listener still answers
python3 - "$PORT" 400 "$T/conns.ready" <<'EOF' &
import socket, sys, time, os
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")   # never finished
        socks.append(s)
    except OSError:
        s.close()
open(ready, "w").close()
time.sleep(60)
EOF
CONNS=$!
for i in $(seq 400); do [ -e "$T/conns.ready" ] && break; sleep 0.05; done
is "$(code "$ADMIN/healthz")" 200 "400 open connections: /healthz on the admin listener answers"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_http_connections [0-9]+' \
	"400 open connections: /metrics answers"
kill "$CONNS"; wait "$CONNS" 2>/dev/null; CONNS=
healthy "$BASE"; ok $? "the connections gone, the public listener answers again"

# --- running out anyway: counted, warned once, the tracker goes on -----------
# connections that came in as the clients went wait for tracker_timeout
for i in $(seq 600); do [ "$(metric mtrack_http_connections)" = 0 ] && break; sleep 0.05; done
n=$(ls /proc/$PID/fd | wc -l)
prlimit --pid "$PID" --nofile=$((n + 2)):256
# forty connections held open at once: most find no descriptor
python3 - "$PORT" <<'EOF'
import socket, sys, time
socks = []
for i in range(40):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
        socks.append(s)
    except OSError:
        pass
time.sleep(1)
EOF
prlimit --pid "$PID" --nofile=256:256
x=$(metric mtrack_fd_exhausted_total)
awk -v x="${x:-0}" 'BEGIN { exit !(x > 0) }'
ok $? "out of descriptors: counted in mtrack_fd_exhausted_total ($x)"
is "$(grep -c 'http=fd_exhausted' "$T/log")" 1 "out of descriptors: one warning (at most one a minute)"
healthy "$BASE"; ok $? "descriptors back: the tracker answers again"
is "$(code "$ADMIN/healthz")" 200 "descriptors back: the admin listener answers"

# --- ACME HTTP-01 challenges ---------------------------------------------------
printf 'tok-en_1.thumbprint' > "$T/www/.well-known/acme-challenge/tok-en_1"
printf 'secret' > "$T/secret"
ln -s "$T/secret" "$T/www/.well-known/acme-challenge/link"
is "$(curl -s "$BASE/.well-known/acme-challenge/tok-en_1")" "tok-en_1.thumbprint" \
	"a challenge file is served as it is"
is "$(code "$BASE/.well-known/acme-challenge/missing")" 404 "a missing token: 404"
is "$(code "$BASE/.well-known/acme-challenge/link")" 404 "a symbolic link is not followed"
is "$(code --path-as-is "$BASE/.well-known/acme-challenge/../../../secret")" 404 "no traversal with .."
is "$(code "$BASE/.well-known/acme-challenge/a%2F..%2F..%2Fsecret")" 404 "no traversal with %2F"
is "$(code "$BASE/.well-known/acme-challenge/")" 404 "an empty token: 404"
is "$(code "$ADMIN/.well-known/acme-challenge/tok-en_1")" 404 "not on the admin listener"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_http_requests_total\{route="acme",code="200"\} 1' \
	"challenges counted under route=acme"

# --- an unknown pixel: the image, nothing recorded -------------------------------
before=$("$CTL" -c "$T/conf" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["opens"])')
curl -s -o "$T/px" -w '%{http_code} %{content_type}' "$BASE/open/AAAAAAAAAAAAAAAAAAAAAA.png" > "$T/px.st"
is "$(cat "$T/px.st")" "200 image/png" "an unknown pixel ID: 200 image/png"
is "$(head -c 8 "$T/px" | od -An -tx1 | tr -d ' ')" "89504e470d0a1a0a" "... a PNG"
is "$(code "$BASE/open/garbage")" 200 "a malformed pixel path: the image too"
sleep 0.1
after=$("$CTL" -c "$T/conf" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["opens"])')
is "$after" "$before" "an unknown pixel ID records nothing"

# --- access log ----------------------------------------------------------------
curl -s -o /dev/null -A 'agent "quoted"' "$BASE/click/nope"
for i in $(seq 100); do grep -q 'click/nope' "$T/logs/access.log" 2>/dev/null && break; sleep 0.05; done
line=$(grep 'click/nope' "$T/logs/access.log")
like "$line" '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "GET /click/nope HTTP/1\.1" 404 10 "-" "agent \\"quoted\\""$' \
	"access log: combined format, UTC, quotes escaped"
mv "$T/logs/access.log" "$T/logs/access.log.1"
kill -HUP "$PID"
for i in $(seq 200); do grep -q 'reload=done' "$T/log" && break; sleep 0.05; done
curl -s -o /dev/null "$BASE/after-rotation"
for i in $(seq 100); do [ -s "$T/logs/access.log" ] && break; sleep 0.05; done
like "$(cat "$T/logs/access.log" 2>/dev/null)" 'GET /after-rotation HTTP/1\.1" 404' \
	"SIGHUP reopens the access log (rotation)"
! grep -q 'after-rotation' "$T/logs/access.log.1"
ok $? "the rotated file gets no new line"
like "$(head -1 "$T/log")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z ' \
	"log lines carry RFC 3339 UTC times"
stop
is "$RC" 0 "SIGTERM: exit 0"

done_testing
