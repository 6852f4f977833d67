#!/bin/bash
# 11-tracker-tls.t - the tracker's HTTPS listener with curl, openssl s_client
# and a Python keep-alive client: certificates chosen by SNI, HTTP and HTTPS
# at once, protocol versions and ciphers, certificate reload on SIGHUP while
# a connection stays open, bad files at start, and the privilege drop (keys
# read as root). Certificates are made here. MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port

trk_init tls curl openssl python3 perl
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "${KA_PID:-}" ] && kill $KA_PID 2>/dev/null
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

PORT=$(free_port) || bail "no free port"
SPORT=$(free_port "$PORT") || bail "no free port"
APORT=$(free_port "$PORT" "$SPORT") || bail "no free port"
BASE=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$APORT

# mkcert NAME SERIAL - a self-signed P-256 certificate for track.NAME.test
# in $T/NAME.pem, its key in $T/NAME.key
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 30 -subj "/CN=track.$1.test" \
	    -addext "subjectAltName=DNS:track.$1.test" -set_serial "$2" \
	    -keyout "$T/$1.key.new" -out "$T/$1.pem.new" 2>>"$T/openssl.log" &&
	    mv "$T/$1.key.new" "$T/$1.key" && mv "$T/$1.pem.new" "$T/$1.pem"
}
mkcert a 1001 && mkcert b 1002 || bail "openssl cannot make certificates"

# write_conf [EXTRA LINE]... - the configuration of every phase
write_conf() {
	{
		echo "db_path = $T/db"
		echo "tracker_listen = 127.0.0.1:$PORT"
		echo "tls_listen = 127.0.0.1:$SPORT"
		echo "admin_listen = 127.0.0.1:$APORT"
		echo "tracking_url = https://track.a.test:$SPORT"
		echo "tracker_threads = 2"
		echo "tracker_timeout = 10"
		echo "batch_ms = 5"
		echo "tls_cert = $T/a.pem"
		echo "tls_key = $T/a.key"
		echo "tls_certs = $T/b.pem:$T/b.key"
		for l in "$@"; do echo "$l"; done
	} > "$T/conf"
}

# set_key KEY VALUE - change one line of the configuration
set_key() { sed -i "s#^$1 = .*#$1 = $2#" "$T/conf"; }

# https NAME [CURL ARGS]... - curl to track.NAME.test on the HTTPS port,
# trusting only NAME's certificate
https() {
	local n=$1
	shift
	curl -s --resolve "track.$n.test:$SPORT:127.0.0.1" --cacert "$T/$n.pem" "$@"
}
# url NAME PATH
url() { echo "https://track.$1.test:$SPORT$2"; }

# start - run the tracker; wait until both listeners answer (10 s at most)
start() {
	local i
	"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
	PID=$!
	for i in $(seq 200); do
		[ "$(https a -o /dev/null -w '%{http_code}' "$(url a /healthz)")" = 200 ] &&
		    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] &&
		    return 0
		running $PID || return 1
		sleep 0.05
	done
	return 1
}


# served [S_CLIENT ARGS]... - subject and serial of the certificate served
served() {
	openssl s_client -connect "127.0.0.1:$SPORT" "$@" </dev/null 2>/dev/null |
	    openssl x509 -noout -subject -serial 2>/dev/null | tr '\n' ' '
}

# handshake [S_CLIENT ARGS]... - 0 when a TLS session is established
handshake() {
	openssl s_client -connect "127.0.0.1:$SPORT" -servername track.a.test \
	    "$@" </dev/null >"$T/sclient" 2>&1 &&
	    ! grep -q 'Cipher is (NONE)' "$T/sclient"
}

# reloads - "reload=done" lines logged so far
reloads() { grep -c 'reload=done' "$T/log"; }

# hup - SIGHUP, wait for the reload to be logged
hup() {
	local n i
	n=$(reloads)
	kill -HUP $PID
	for i in $(seq 200); do [ "$(reloads)" -gt "$n" ] && return 0; sleep 0.02; done
	return 1
}

metric() { curl -s "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# -- configuration checks and bad files at start ---------------------------
write_conf
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
ok $? "-n accepts a TLS configuration and reads its files"
like "$out" "^tls_listen = 127.0.0.1:$SPORT\$" "-n prints tls_listen"
like "$out" "^tls_priorities = .*-VERS-ALL:\\+VERS-TLS1.3:\\+VERS-TLS1.2" \
    "-n prints the default priorities: TLS 1.2 and 1.3 only"

grep -v -e '^tls_cert' -e '^tls_key' "$T/conf" > "$T/nocert.conf"
out=$("$TRACKER" -n -c "$T/nocert.conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q 'tls_listen needs'
ok $? "tls_listen without a certificate is refused"
write_conf "tls_priorities = NORMAL:+NO-SUCH-THING"
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q 'tls_priorities'
ok $? "a bad tls_priorities is refused"
write_conf
set_key tls_certs ":$T/b.key"
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q 'conf:[0-9]*: tls_certs: .*want CERT_FILE'
ok $? "a malformed tls_certs entry is refused with its line"

# bad_start WHAT FILE PATTERN - the tracker refuses to start and says why
bad_start() {
	local out rc
	out=$(timeout 10 "$TRACKER" -c "$T/conf" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && printf '%s' "$out" | grep -q -- "$2" &&
	    printf '%s' "$out" | grep -q -- "$3"
	ok $? "start with $1: exit $rc, names $(basename "$2")"
	[ $rc -ne 0 ] || diag "$out"
}
write_conf
set_key tls_cert "$T/missing.pem"
bad_start "a missing certificate" "$T/missing.pem" "No such file"
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q "$T/missing.pem: No such file"
ok $? "-n names the missing certificate too"
write_conf
set_key tls_key "$T/b.key"
bad_start "the key of another certificate" "$T/b.key" "does not match"
echo "not a certificate" > "$T/junk.pem"
write_conf
set_key tls_certs "$T/junk.pem:$T/b.key"
bad_start "a file that holds no certificate" "$T/junk.pem" "No certificate"
write_conf
set_key tls_key "$T/junk.pem"
bad_start "a file that holds no key" "$T/junk.pem" "no private key"

# -- a store with real links, written by the rewriter --------------------
write_conf
printf '%s\r\n' "From: a@example.com" "To: b@example.org" "Subject: t" \
    "Message-ID: <e2e-tls@example.com>" "MIME-Version: 1.0" \
    "Content-Type: text/html; charset=utf-8" "" \
    '<html><body><p><a href="https://example.com/tls">A</a></p></body></html>' > "$T/in.eml"
"$CTL" rewrite -c "$T/conf" < "$T/in.eml" 2>/dev/null |
    perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' > "$T/out.eml"
CLICK=$(grep -o "/click/[A-Za-z0-9_-]*" "$T/out.eml" | head -1)
OPEN=$(grep -o "/open/[A-Za-z0-9_-]*\.png" "$T/out.eml" | head -1)
[ -n "$CLICK" ] && [ -n "$OPEN" ]
ok $? "the rewriter recorded a link and a pixel"
[ -n "$CLICK" ] || bail "no tracking link to test"

# -- both listeners, certificates by SNI -----------------------------------
start
ok $? "tracker answers /healthz over HTTP and HTTPS"
[ -n "$PID" ] && running $PID || bail "the tracker did not start: $(tail -5 "$T/log")"

is "$(https a "$(url a /healthz)")" "ok" "track.a.test: verified with a's certificate"
is "$(https b "$(url b /healthz)")" "ok" "track.b.test: verified with b's certificate (SNI)"
https a -o /dev/null "$(url b /healthz)" --resolve "track.b.test:$SPORT:127.0.0.1"
[ $? -ne 0 ]
ok $? "track.b.test does not verify against a's certificate"
like "$(served -servername track.a.test)" "CN ?= ?track.a.test" "SNI track.a.test: a's certificate"
like "$(served -servername track.b.test)" "CN ?= ?track.b.test" "SNI track.b.test: b's certificate"
like "$(served -servername TRACK.B.TEST.)" "CN ?= ?track.b.test" "SNI is matched without case and final dot"
like "$(served -servername unknown.test)" "CN ?= ?track.a.test" "unknown SNI name: the default (tls_cert)"
like "$(served -noservername)" "CN ?= ?track.a.test" "no SNI: the default"

is "$(curl -s "$BASE/healthz")" "ok" "HTTP answers at the same time"
is "$(curl -s -o /dev/null -w '%{http_code}' "$BASE$CLICK")" 302 "HTTP click: 302"
curl -s -o /dev/null "https://127.0.0.1:$PORT/healthz" 2>/dev/null
[ $? -ne 0 ]
ok $? "the HTTP port speaks no TLS"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/healthz")" != 200 ]
ok $? "the HTTPS port answers no plain HTTP"

hdr=$(https a -D - -o /dev/null "$(url a "$CLICK")")
like "$hdr" "^HTTP/1.1 302" "HTTPS click: 302"
like "$hdr" $'Location: https://example.com/tls\r' "HTTPS click: Location is the recorded URL"
like "$hdr" $'Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r' \
    "HTTPS click: Cache-Control"
hdr=$(https b -D - -o "$T/pixel" "$(url b "$OPEN")")
like "$hdr" "^HTTP/1.1 200" "HTTPS pixel on b: 200"
like "$hdr" $'Content-Type: image/png\r' "HTTPS pixel: image/png"
is "$(https a -o /dev/null -w '%{http_code}' "$(url a /metrics)")" 404 \
    "/metrics is not on the HTTPS listener"

for i in $(seq 100); do printf 'url = "%s"\noutput = "/dev/null"\n' "$(url a "$CLICK")"; done > "$T/k100"
https a -K "$T/k100" -w '%{num_connects} %{http_code}\n' > "$T/ka"
is "$(awk '{ n += $1 } END { print n }' "$T/ka")" 1 "HTTPS keep-alive: 100 requests, one connect"
is "$(grep -c ' 302$' "$T/ka")" 100 "HTTPS keep-alive: 100 redirects"

# -- protocol versions and ciphers -----------------------------------------
# the client is allowed everything (@SECLEVEL=0): a refusal is the server's
handshake -tls1_3
ok $? "TLS 1.3 accepted"
handshake -tls1_2 -cipher 'DEFAULT:@SECLEVEL=0'
ok $? "TLS 1.2 accepted"
like "$(grep 'Cipher is' "$T/sclient")" "ECDHE-ECDSA-(AES(128|256)-GCM|CHACHA20-POLY1305)" \
    "TLS 1.2: an ECDHE AEAD suite"
! handshake -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
ok $? "TLS 1.1 refused"
! handshake -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
ok $? "TLS 1.0 refused"
! handshake -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0'
ok $? "TLS 1.2 with a CBC suite refused"

is "$(metric mtrack_tls_certificates)" 2 "/metrics: two certificates loaded"
[ -n "$(metric mtrack_https_connections)" ] && [ "$(metric mtrack_tls_handshakes_total)" -gt 5 ]
ok $? "/metrics: HTTPS connections and handshakes"

# -- SIGHUP: new certificate files, a connection opened before still works --
cat > "$T/ka.py" <<'EOF'
# one TLS connection; on each input line: GET /healthz, print status, body, serial
import socket, ssl, sys
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                    server_hostname=host)
f = s.makefile("rb")
for line in sys.stdin:
    s.sendall(("GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode())
    status = f.readline().decode().split(" ", 2)[1]
    n = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        if h.lower().startswith(b"content-length:"):
            n = int(h.split(b":")[1])
    print(status, f.read(n).decode().strip(), s.getpeercert()["serialNumber"],
          flush=True)
EOF
coproc KA { exec python3 "$T/ka.py" track.a.test "$SPORT" "$T/a.pem" 2>>"$T/ka.err"; }
KA_PID=$!
echo go >&"${KA[1]}"
read -r -t 10 first <&"${KA[0]}"
is "$first" "200 ok 03E9" "keep-alive client: first request with serial 03E9"

cp "$T/a.pem" "$T/a-old.pem"
mkcert a 2002 || bail "openssl cannot make a certificate"
hup
ok $? "SIGHUP: reload logged"
like "$(served -servername track.a.test)" "serial=07D2" "after SIGHUP: new connections get the new certificate"
is "$(https a "$(url a /healthz)")" "ok" "after SIGHUP: verified with the new certificate"
echo go >&"${KA[1]}"
read -r -t 10 second <&"${KA[0]}"
is "$second" "200 ok 03E9" "after SIGHUP: the connection opened before still answers"
exec {KA[1]}>&-
wait $KA_PID 2>/dev/null
KA_PID=
like "$(served -servername track.b.test)" "CN ?= ?track.b.test" "after SIGHUP: b still served"
is "$(metric mtrack_tls_loads_total)" 2 "/metrics: two certificate loads"

echo "garbage" > "$T/a.key"
hup
grep -q "reload=tls error=.*a.key.*certificates unchanged" "$T/log"
ok $? "SIGHUP with a broken key: logged with the file"
like "$(served -servername track.a.test)" "serial=07D2" "SIGHUP with a broken key: the certificates in use stay"
mkcert a 2002 || bail "openssl cannot make a certificate"

stop TERM
is "$RC" 0 "SIGTERM: exit 0"
clicks=$("$CTL" stats -c "$T/conf" --json 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["clicks"])')
is "$clicks" 102 "clicks over HTTP and HTTPS all counted"

# -- started as root: keys read before the privilege drop -------------------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	write_conf "user = nobody"
	chmod 755 "$T"
	chown -R nobody "$T/db"
	chmod 600 "$T"/*.key
	start
	ok $? "as root with user = nobody and root-only keys: HTTPS serves"
	is "$(awk '/^Uid:/ { print $2 }' /proc/$PID/status)" 65534 "privileges dropped to nobody"
	is "$(https b "$(url b /healthz)")" "ok" "as nobody: b's certificate still served"
	mkcert a 3003 && chmod 600 "$T/a.key"
	hup
	grep -q "reload=tls error=.*a.key: Permission denied" "$T/log"
	ok $? "as nobody: SIGHUP cannot read a root-only key, and says so"
	like "$(served -servername track.a.test)" "serial=07D2" "as nobody: the loaded certificate stays"
	stop TERM
	is "$RC" 0 "as nobody: SIGTERM exit 0"
else
	for i in 1 2 3 4 5 6; do ok 0 "# SKIP not root: no privilege drop to test"; done
fi

done_testing
