#!/bin/bash
# 10-tracker.t - mtrack-tracker end to end with curl (and wrk when present):
# routes, status codes, headers, the pixel, keep-alive, events counted
# exactly under concurrency, SIGTERM/SIGHUP/SIGKILL, garbage input, RSS,
# detaching and the privilege drop. MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"

trk_init tracker curl python3 perl mdb_stat mdb_dump mdb_load
LOAD=
cleanup() {
	# a subshell killed right after its fork may still run this trap
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$LOAD" ] && kill $LOAD 2>/dev/null
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
APORT=$(free_port)
BASE=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$APORT

# write_conf [EXTRA LINE]... - the configuration of every phase
write_conf() {
	{
		echo "db_path = $T/db"
		echo "tracker_listen = 127.0.0.1:$PORT"
		echo "admin_listen = 127.0.0.1:$APORT"
		echo "tracking_url = $BASE"
		echo "tracker_threads = 2"
		echo "tracker_timeout = 5"
		echo "user_agent_max = 16"
		echo "batch_ms = 5"
		echo "log_level = info"
		for l in "$@"; do echo "$l"; done
	} > "$T/conf"
}

# healthy - /healthz answers 200 within 10 s (and the process lives)
healthy() {
	local i
	for i in $(seq 200); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] && return 0
		[ -n "$PID" ] && ! running $PID && return 1
		sleep 0.05
	done
	return 1
}

start() {
	"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
	PID=$!
	healthy
}


# counter NAME - a counter of "mtrackctl stats --json"
counter() {
	"$CTL" stats -c "$T/conf" --json 2>/dev/null |
	    python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

# metric NAME_WITH_LABELS - one value of the admin listener's /metrics
metric() {
	curl -s "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# raw BYTES - send bytes on a new connection, print the status line
raw() {
	( trap '' PIPE
	  exec 3<>/dev/tcp/127.0.0.1/$PORT || exit 0
	  printf '%b' "$1" >&3 2>/dev/null
	  timeout 3 head -c 64 <&3 2>/dev/null | head -1 | tr -d '\r' )
}

# spray N - N random bytes on a new connection, closed without reading
spray() {
	( trap '' PIPE
	  exec 3<>/dev/tcp/127.0.0.1/$PORT || exit 0
	  head -c "$1" /dev/urandom >&3 2>/dev/null ) 2>/dev/null
}

# blurt BYTES - like raw, but close without waiting for an answer
blurt() {
	( trap '' PIPE
	  exec 3<>/dev/tcp/127.0.0.1/$PORT || exit 0
	  printf '%b' "$1" >&3 2>/dev/null ) 2>/dev/null
}

rss() { awk '/^VmRSS/ { print $2 }' /proc/$PID/status; }

CLICKS=0	# click events the tracker has answered for
OPENS=0

# -- configuration check -------------------------------------------------
write_conf
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
ok $? "-n accepts a valid configuration"
like "$out" "^admin_listen = 127.0.0.1:$APORT\$" "-n prints the effective configuration"
echo "tracker_listen = nowhere" >> "$T/bad.conf"
out=$("$TRACKER" -n -c "$T/bad.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'bad.conf:1'
ok $? "-n refuses a bad tracker_listen and names the line (rc=$rc)"
"$TRACKER" -h >/dev/null 2>&1
ok $? "-h exits 0"

# -- a store with real links, written by the rewriter --------------------
printf '%s\r\n' "From: a@example.com" "To: b@example.org" "Subject: t" \
    "Message-ID: <e2e-tracker@example.com>" "MIME-Version: 1.0" \
    "Content-Type: text/html; charset=utf-8" "" \
    '<html><body><p><a href="https://example.com/page?a=1&amp;b=2">A</a>' \
    '<a href="https://example.com/b">B</a> <a href="https://example.com/c">C</a>' \
    '<a href="https://example.com/d">D</a></p></body></html>' > "$T/in.eml"
"$CTL" rewrite -c "$T/conf" < "$T/in.eml" 2>/dev/null |
    perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' > "$T/out.eml"
mapfile -t CLK < <(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/out.eml")
OPEN=$(grep -o "$BASE/open/[A-Za-z0-9_-]*\.png" "$T/out.eml" | head -1)
is "${#CLK[@]}" 4 "the rewriter recorded 4 links"
like "$OPEN" "/open/[A-Za-z0-9_-]{22}\.png$" "and a pixel"
[ ${#CLK[@]} -eq 4 ] && [ -n "$OPEN" ] || bail "no tracking links to test"
A=${CLK[0]}
MID=${OPEN##*/open/}
MID=${MID%.png}

# overwrite links B, C, D with URLs that must never become a Location
linkkey() {
	mdb_dump -p -s links "$T/db" | grep -B1 "\"url\":\"$1\"" | head -1 | tr -d ' '
}
put_link() {
	printf '%s\n%s\n' "$1" "{\"msg\":\"$2\",\"n\":0,\"url\":\"$3\"}" |
	    mdb_load -T -s links "$T/db"
}
MSGKEY=$(mdb_dump -p -s links "$T/db" | grep -o '"msg":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
put_link "$(linkkey https://example.com/b)" "$MSGKEY" 'http://evil.example/\5cr\5cnSet-Cookie: a=b' &&
put_link "$(linkkey https://example.com/c)" "$MSGKEY" 'javascript:alert(1)' &&
put_link "$(linkkey https://example.com/d)" "$MSGKEY" 'https://example.com/x y'
ok $? "unsafe URLs planted in the store with mdb_load"

# -- routes ----------------------------------------------------------------
start
ok $? "tracker answers /healthz after start"
[ -n "$PID" ] || bail "the tracker did not start: $(tail -5 "$T/log")"

hdr=$(curl -s -D - -o "$T/body" "$A")
like "$hdr" "^HTTP/1.1 302" "click: 302"
is "$(printf '%s' "$hdr" | tr -d '\r' | sed -n 's/^Location: //Ip')" \
    "https://example.com/page?a=1&b=2" "click: Location is the recorded URL, entities decoded"
like "$hdr" $'Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r' "click: Cache-Control"
like "$hdr" $'Pragma: no-cache\r' "click: Pragma"
like "$hdr" $'Expires: 0\r' "click: Expires"
CLICKS=$((CLICKS + 1))

hdr=$(curl -s -I "$A")
like "$hdr" "^HTTP/1.1 302" "HEAD click: 302"
like "$hdr" $'Location: https://example.com/page\\?a=1&b=2\r' "HEAD click: same Location"
CLICKS=$((CLICKS + 1))

hdr=$(curl -s -D - -o "$T/pixel" "$BASE/open/$MID.png")
like "$hdr" "^HTTP/1.1 200" "pixel: 200"
like "$hdr" $'Content-Type: image/png\r' "pixel: image/png"
like "$hdr" $'Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r' "pixel: Cache-Control"
like "$hdr" $'Pragma: no-cache\r' "pixel: Pragma"
like "$hdr" $'Expires: 0\r' "pixel: Expires"
is "$(head -c 8 "$T/pixel" | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a" "pixel: PNG signature"
is "$(head -c 24 "$T/pixel" | tail -c 16 | od -An -tx1 | tr -d ' \n')" \
    "0000000d494844520000000100000001" "pixel: IHDR of 1x1"
python3 - "$T/pixel" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
pos, ok = 8, True
while pos < len(d):
    n, = struct.unpack('>I', d[pos:pos + 4])
    body = d[pos + 4:pos + 8 + n]
    ok &= struct.unpack('>I', d[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(body)
    if body[:4] == b'IDAT':
        ok &= zlib.decompress(body[4:]) == b'\0\0\0\0\0'
    pos += 12 + n
sys.exit(0 if ok and d.endswith(b'IEND\xaeB`\x82') else 1)
EOF
ok $? "pixel: chunk CRCs, one transparent RGBA pixel, IEND"
OPENS=$((OPENS + 1))

hdr=$(curl -s -I "$BASE/open/$MID.png")
like "$hdr" $'Content-Length: 68\r' "HEAD pixel: Content-Length of the PNG"
( exec 3<>/dev/tcp/127.0.0.1/$PORT
  printf 'HEAD /open/%s.png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$MID" >&3
  timeout 3 cat <&3 ) > "$T/head"
is "$(perl -0777 -ne 'print length((split /\r\n\r\n/, $_, 2)[1])' "$T/head")" 0 "HEAD pixel: no body"
OPENS=$((OPENS + 1))
OPENS=$((OPENS + 1))

is "$(code "$BASE/click/AAAAAAAAAAAAAAAAAAAAAA")" 404 "unknown id: 404"
is "$(curl -s "$BASE/click/AAAAAAAAAAAAAAAAAAAAAA")" "not found" "unknown id: short text body"
hdr=$(curl -s -D - -o /dev/null "$BASE/click/AAAAAAAAAAAAAAAAAAAAAA")
! printf '%s' "$hdr" | grep -qi '^Location:'
ok $? "unknown id: no Location"
is "$(code "$BASE/click/abc")" 404 "malformed id: 404"
is "$(code "${A}A")" 404 "overlong id: 404"
is "$(code "$BASE/click/%00")" 404 "%00: 404"
is "$(code "$BASE/click/${A##*/}%00")" 404 "id + %00: 404"
is "$(code --path-as-is "$BASE/click/../x")" 404 "/click/../x: 404"
is "$(code --path-as-is "$BASE/click/../healthz")" 404 "/click/../healthz: 404"
is "$(code "$BASE/open/${A##*/}.png")" 200 "a link id as a pixel: the image all the same"
is "$(code "$BASE/click/$MID")" 404 "a message id as a link: 404"
is "$(code "$BASE/open/$MID")" 200 "pixel without .png: the image all the same"
is "$(code "$BASE/")" 404 "/: 404"
is "$(code "$BASE/metrics")" 404 "/metrics is not on the public listener"

hdr=$(curl -s -D - -o /dev/null "${CLK[1]}")
like "$hdr" "^HTTP/1.1 404" "stored URL with CR/LF: 404"
! printf '%s' "$hdr" | grep -qi -e '^Location:' -e '^Set-Cookie:'
ok $? "stored URL with CR/LF: no Location, no injected header"
hdr=$(curl -s -D - -o /dev/null "${CLK[2]}")
like "$hdr" "^HTTP/1.1 404" "stored javascript: URL: 404"
hdr=$(curl -s -D - -o /dev/null "${CLK[3]}")
like "$hdr" $'Location: https://example.com/x%20y\r' "space in a stored URL is percent-encoded"
CLICKS=$((CLICKS + 1))

for m in POST PUT DELETE PATCH; do
	hdr=$(curl -s -D - -o /dev/null -X $m --data x "$A")
	like "$hdr" "^HTTP/1.1 405" "$m: 405"
	like "$hdr" $'Allow: GET, HEAD\r' "$m: Allow header"
done
is "$(curl -s "$BASE/healthz")" "ok" "/healthz says ok"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_http_requests_total\{route="click",code="302"\} [0-9]+' \
    "/metrics on the admin listener counts requests by route and status"
like "$(curl -s "$ADMIN/metrics")" 'mtrack_store_commits_total [0-9]+' "/metrics has writer commits"

# the client address: X-Forwarded-For is ignored from an untrusted peer
curl -s -o /dev/null -A "an agent name longer than sixteen bytes" \
    -H 'X-Forwarded-For: 192.0.2.99' "$A"
CLICKS=$((CLICKS + 1))

# -- keep-alive: 1000 requests on one connection ---------------------------
for i in $(seq 1000); do printf 'url = "%s"\noutput = "/dev/null"\n' "$A"; done > "$T/k1000"
curl -s -K "$T/k1000" -w '%{num_connects} %{http_code}\n' > "$T/ka"
is "$(awk '{ n += $1 } END { print n }' "$T/ka")" 1 "keep-alive: 1000 requests, one connect"
is "$(grep -c ' 302$' "$T/ka")" 1000 "keep-alive: 1000 redirects"
CLICKS=$((CLICKS + $(grep -c ' 302$' "$T/ka")))

# -- concurrency: 16 clients x 50 requests ---------------------------------
for i in $(seq 50); do printf 'url = "%s"\noutput = "/dev/null"\n' "$A"; done > "$T/k50"
for i in $(seq 50); do printf 'url = "%s"\noutput = "/dev/null"\n' "$BASE/open/$MID.png"; done > "$T/o50"
seq 16 | xargs -P 16 -I{} sh -c 'curl -s -K "$1" -w "%{http_code}\n"; curl -s -K "$2" -w "%{http_code}\n"' \
    _ "$T/k50" "$T/o50" > "$T/conc"
is "$(grep -c '^302$' "$T/conc")" 800 "concurrent: 800 redirects"
is "$(grep -c '^200$' "$T/conc")" 800 "concurrent: 800 pixels"
CLICKS=$((CLICKS + $(grep -c '^302$' "$T/conc")))
OPENS=$((OPENS + $(grep -c '^200$' "$T/conc")))

# -- concurrency, each answer its own: 8 clients x 25 rounds of 8 links ------
# (one response object per worker is reused; a Location must never leak
# from one redirect into another)
{
	printf '%s\r\n' "From: a@example.com" "To: b@example.org" "Subject: t" \
	    "Message-ID: <e2e-tracker-many@example.com>" "MIME-Version: 1.0" \
	    "Content-Type: text/html; charset=utf-8" "" "<html><body>"
	for i in 1 2 3 4 5 6 7 8; do
		printf '<a href="https://example.com/many/%s?n=%s">%s</a>\r\n' "$i" "$(printf "%0${i}d" 0)" "$i"
	done
	printf '</body></html>\r\n'
} > "$T/many.eml"
"$CTL" rewrite -c "$T/conf" < "$T/many.eml" 2>/dev/null |
    perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' > "$T/many.out"
mapfile -t MANY < <(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/many.out")
is "${#MANY[@]}" 8 "8 links with 8 URLs recorded"
for c in 0 1 2 3 4 5 6 7; do
	for r in $(seq 25); do
		for i in 0 1 2 3 4 5 6 7; do
			k=$(( (i + c) % 8 ))
			printf 'url = "%s"\noutput = "/dev/null"\n' "${MANY[$k]}"
		done
	done > "$T/many.k$c"
	for r in $(seq 25); do
		for i in 0 1 2 3 4 5 6 7; do
			k=$(( (i + c) % 8 ))
			printf 'https://example.com/many/%s?n=%s\n' $((k + 1)) "$(printf "%0$((k + 1))d" 0)"
		done
	done > "$T/many.want$c"
done
seq 0 7 | xargs -P 8 -I{} sh -c 'curl -s -K "$1.k$2" -w "%{redirect_url}\n" > "$1.got$2"' _ "$T/many" {}
bad=0
for c in 0 1 2 3 4 5 6 7; do
	cmp -s "$T/many.want$c" "$T/many.got$c" || bad=$((bad + 1))
done
is "$bad" 0 "concurrent keep-alive clients: 1600 redirects, each to its own link's URL"
CLICKS=$((CLICKS + 1600))

# -- SIGTERM: everything answered is committed ------------------------------
stop TERM
is "$RC" 0 "SIGTERM: exit 0"
grep -q 'stop' "$T/log"
ok $? "SIGTERM: logged the stop"
is "$(counter clicks)" "$CLICKS" "stats: clicks = clicks answered ($CLICKS)"
is "$(counter opens)" "$OPENS" "stats: opens = pixels answered ($OPENS)"
is "$(mdb_stat -s events "$T/db" | awk '/Entries:/ { print $2 }')" "$((CLICKS + OPENS))" \
    "events database holds one record per event"
ev=$(mdb_dump -p -s events "$T/db" | grep 'an agent' | head -1)
like "$ev" '"ip":"127.0.0.1"' "X-Forwarded-For from an untrusted peer ignored"
like "$ev" '"ua":"an agent name lo"' "User-Agent cut at user_agent_max"
like "$ev" '"method":"GET"' "event has the method"
like "$ev" "\"host\":\"127.0.0.1:$PORT\"" "event has the Host"

# -- wrk load, counted by the server, then SIGHUP --------------------------
start
ok $? "restart after SIGTERM"
if command -v wrk >/dev/null; then
	wrk -t2 -c16 -d2 "$A" > "$T/wrk" 2>&1
	n=$(metric 'mtrack_http_requests_total{route="click",code="302"}')
	[ "${n:-0}" -gt 1000 ]
	ok $? "wrk: ${n:-0} redirects in 2 s"
	CLICKS=$((CLICKS + ${n:-0}))
else
	ok 0 "# SKIP wrk not installed"
fi

write_conf "trusted_proxies = 127.0.0.1/32, 10.0.0.0/8" "fallback_url = https://example.org/gone"
kill -HUP $PID
for i in $(seq 100); do
	[ "$(code "$BASE/click/AAAAAAAAAAAAAAAAAAAAAA")" = 302 ] && break
	sleep 0.05
done
hdr=$(curl -s -D - -o /dev/null "$BASE/click/AAAAAAAAAAAAAAAAAAAAAA")
like "$hdr" $'Location: https://example.org/gone\r' "SIGHUP: fallback_url applies to unknown ids"
curl -s -o /dev/null -A xff-test -H 'X-Forwarded-For: 198.51.100.7, 203.0.113.9, 10.1.2.3' "$A"
CLICKS=$((CLICKS + 1))
sed -i 's/^batch_ms = 5$/batch_ms = 6/; s/^tracker_timeout = 5$/tracker_timeout = 6/' "$T/conf"
kill -HUP $PID
for i in $(seq 100); do grep -q 'reload=partial' "$T/log" && break; sleep 0.05; done
like "$(grep 'reload=partial' "$T/log")" 'changed=tracker_timeout,batch_ms reason="needs a restart"' \
    "SIGHUP: every changed key that needs a restart is named"
echo "no such key = 1" >> "$T/conf"
kill -HUP $PID
for i in $(seq 100); do grep -q 'reload=failed' "$T/log" && break; sleep 0.05; done
grep -q 'reload=failed' "$T/log"
ok $? "SIGHUP with a bad file: logged"
like "$(curl -s -D - -o /dev/null "$BASE/click/AAAAAAAAAAAAAAAAAAAAAA")" "example.org/gone" \
    "SIGHUP with a bad file: the previous settings stay"
stop TERM
is "$RC" 0 "SIGTERM after load: exit 0"
write_conf
is "$(counter clicks)" "$CLICKS" "stats: clicks = redirects the server counted ($CLICKS)"
like "$(mdb_dump -p -s events "$T/db" | grep xff-test)" '"ip":"203.0.113.9"' \
    "trusted proxy: rightmost untrusted X-Forwarded-For hop is the client"

# -- SIGKILL under load -----------------------------------------------------
write_conf
start
for i in $(seq 400); do printf 'url = "%s"\noutput = "/dev/null"\n' "$A"; done > "$T/k400"
( seq 8 | xargs -P 8 -I{} curl -s -K "$T/k400" -w '%{http_code}\n' > "$T/killed" 2>/dev/null ) &
LOAD=$!
for i in $(seq 200); do
	n=$(metric 'mtrack_http_requests_total{route="click",code="302"}')
	[ "${n:-0}" -gt 200 ] && break
	sleep 0.02
done
stop KILL
wait $LOAD
LOAD=
answered=$(grep -c '^302$' "$T/killed")
mdb_stat -a "$T/db" > "$T/mdbstat" 2>&1
ok $? "after SIGKILL: mdb_stat -a reads the environment"
grep -q 'Status of events' "$T/mdbstat"
ok $? "after SIGKILL: events database present"
start
ok $? "after SIGKILL: restart works"
# a response may be lost in the kernel after its event was committed:
# one per connection at most
c=$(counter clicks)
[ "$c" -ge "$CLICKS" ] && [ "$c" -le "$((CLICKS + answered + 8))" ]
ok $? "after SIGKILL: clicks $c within [$CLICKS, $((CLICKS + answered)) + 8]"
CLICKS=$c
# the index of a message's events is written after them: what the kill
# left out is put back at start
curl -s -o /dev/null "$A"
CLICKS=$((CLICKS + 1))
for i in $(seq 100); do
	[ "$(counter clicks)" = "$CLICKS" ] && break
	sleep 0.05
done
nev=$(mdb_stat -s events "$T/db" | awk '$1 == "Entries:" { print $2 }')
nix=$(mdb_stat -s msgevents "$T/db" | awk '$1 == "Entries:" { print $2 }')
is "$nix" "$nev" "after SIGKILL and restart: every event is in its message's index"

# -- garbage ---------------------------------------------------------------
big=$(head -c 8192 /dev/zero | tr '\0' a)
hargs=()
for i in $(seq 100); do hargs+=(-H "X-Pad-$i: $big"); done
garbage() {
	local i
	for i in $(seq 10); do spray 16384; done
	spray 1
	GC100=$(code "${hargs[@]}" "$BASE/healthz")
	GBREW=$(raw 'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n')
	GVER=$(raw 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n')
	GURI=$(raw "GET /$(head -c 40000 /dev/zero | tr '\0' b) HTTP/1.1\r\nHost: x\r\n\r\n")
	GLEN=$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n')
	blurt 'GET /click/\x00\xff\r\n\r\n'
	blurt '\r\n\r\n\r\n'
	blurt 'GET / HTTP/1.1\r\nHost: x\r\nX: \x01\x02\x7f\r\n\r\n'
	blurt 'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
}
garbage
[ "$GC100" = 431 ] || [ "$GC100" = 000 ]
ok $? "100 headers of 8 KB refused ($GC100)"
like "$GBREW" "^HTTP/1.1 405" "unknown method BREW: 405"
like "$GVER" "^HTTP/1.1 505" "HTTP/9.9: 505"
like "$GURI" "^HTTP/1.1 414" "40 KB request line: 414"
like "$GLEN" "^HTTP/1.1 400" "negative Content-Length: 400"
is "$(curl -s "$BASE/healthz")" "ok" "after garbage: /healthz answers"
r1=$(rss)
for round in 1 2 3 4 5; do garbage; done
running $PID
ok $? "after 5 more garbage rounds: still running"
is "$(curl -s "$BASE/healthz")" "ok" "after 5 more garbage rounds: /healthz answers"
r2=$(rss)
[ "$r2" -le $((r1 + 4096)) ] && [ "$r2" -lt 131072 ]
ok $? "RSS stays bounded: ${r1} kB -> ${r2} kB"
stop TERM
is "$RC" 0 "SIGTERM after garbage: exit 0"

# -- detach, and the privilege drop when run as root -------------------------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	write_conf "user = nobody"
	chmod 755 "$T"
	chown -R nobody "$T/db"
	ASROOT=1
else
	write_conf
	ASROOT=
fi
"$TRACKER" -d -c "$T/conf" 2>>"$T/log"
rc=$?
is "$rc" 0 "-d: the parent exits 0 once the child serves"
[ $rc -eq 0 ] || diag "$(tail -3 "$T/log")"
# the child logs its start line to our stderr before it leaves it
PID=$(sed -n 's/.*start listen=.* pid=\([0-9]*\).*/\1/p' "$T/log" | tail -1)
[ -n "$PID" ] && healthy
ok $? "-d: the detached tracker serves (pid ${PID:-none})"
if [ -n "$ASROOT" ] && [ -n "$PID" ]; then
	is "$(awk '/^Uid:/ { print $2 }' /proc/$PID/status)" 65534 "user = nobody: privileges dropped"
	is "$(code "$A")" 302 "user = nobody: clicks still answered"
else
	ok 0 "# SKIP not root: no privilege drop to test"
	ok 0 "# SKIP not root"
fi
if [ -n "$PID" ]; then
	kill -TERM $PID
	for i in $(seq 200); do running $PID || break; sleep 0.05; done
	! running $PID
	ok $? "-d: SIGTERM stops the detached tracker"
	PID=
else
	ok 1 "-d: no process to stop"
fi

done_testing
