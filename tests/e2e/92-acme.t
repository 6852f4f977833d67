#!/bin/bash
# 92-acme.t - a certificate for a tracking domain through the tracker's
# ACME HTTP-01 path: Debian's pebble (an ACME test server) on loopback
# resolves the domain with dnsmasq, certbot --webroot writes the challenge
# into acme_webroot, pebble fetches it from the tracker, certbot's deploy
# hook (contrib/acme/mtrack-deploy-hook) installs the certificate and
# reloads the tracker, and a TLS client then sees the new certificate.
# MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port

DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || skip_all "dnsmasq is not installed (dnsmasq-base)"
trk_init acme pebble certbot openssl curl
PIDS=
cleanup() {
	for p in $PIDS $PID; do kill "$p" 2>/dev/null; done
	for p in $PIDS $PID; do wait "$p" 2>/dev/null; done
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

NAME=track.acme.test
TPORT=$(free_port) && SPORT=$(free_port $TPORT) && APORT=$(free_port $TPORT $SPORT) &&
	DPORT=$(free_port $TPORT $SPORT $APORT) && PPORT=$(free_port $TPORT $SPORT $APORT $DPORT) &&
	MPORT=$(free_port $TPORT $SPORT $APORT $DPORT $PPORT) &&
	XPORT=$(free_port $TPORT $SPORT $APORT $DPORT $PPORT $MPORT) || bail "free_port"
mkdir -p "$T/www" "$T/tls" "$T/cb"
cd "$T" || bail "cd"

# --- DNS: the tracking domain is this host ---------------------------------------
"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--port="$DPORT" --listen-address=127.0.0.1 --bind-interfaces --local=/test/ \
	--pid-file= --host-record=$NAME,127.0.0.1 2>>"$T/dnsmasq.err" &
PIDS="$PIDS $!"
wait_port "$DPORT" 10 $! || bail "dnsmasq does not listen"

# --- pebble, with a certificate of its own for its API ---------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=pebble -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	-keyout pebble.key -out pebble.pem 2>/dev/null || bail "pebble certificate"
cat > pebble.json <<EOF
{ "pebble": {
	"listenAddress": "127.0.0.1:$PPORT",
	"managementListenAddress": "127.0.0.1:$MPORT",
	"certificate": "$T/pebble.pem",
	"privateKey": "$T/pebble.key",
	"httpPort": $TPORT,
	"tlsPort": $XPORT,
	"ocspResponderURL": "",
	"externalAccountBindingRequired": false
} }
EOF
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config pebble.json \
	-dnsserver 127.0.0.1:$DPORT >"$T/pebble.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$PPORT" 20 $! || { sed 's/^/# /' "$T/pebble.log"; bail "pebble does not listen"; }
ok 0 "dnsmasq and pebble listen on loopback"

# --- the tracker, with a self-signed certificate to begin with -------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=$NAME -addext subjectAltName=DNS:$NAME \
	-keyout tls/$NAME.key -out tls/$NAME.pem 2>/dev/null || bail "first certificate"
{
	echo "db_path = $T/db"
	echo "tracker_listen = 127.0.0.1:$TPORT"
	echo "tls_listen = 127.0.0.1:$SPORT"
	echo "admin_listen = 127.0.0.1:$APORT"
	echo "tracking_url = https://$NAME:$SPORT"
	echo "tls_cert = $T/tls/$NAME.pem"
	echo "tls_key = $T/tls/$NAME.key"
	echo "acme_webroot = $T/www"
	echo "tracker_threads = 2"
	[ "$(id -u)" != 0 ] || echo "user = root"
} > tracker.conf
"$TRACKER" -c tracker.conf >>"$T/tracker.log" 2>&1 &
PID=$!
wait_port "$TPORT" 10 "$PID" && wait_port "$SPORT" 10 "$PID" || bail "the tracker does not listen"
issuer() {
	openssl s_client -connect 127.0.0.1:$SPORT -servername $NAME </dev/null 2>/dev/null |
	    openssl x509 -noout -issuer 2>/dev/null
}
like "$(issuer)" "CN ?= ?$NAME" "before: the tracker serves its self-signed certificate"

# --- certbot through the tracker's challenge path ------------------------------------
REQUESTS_CA_BUNDLE=$T/pebble.pem MTRACK_TLS_DIR=$T/tls MTRACK_GROUP=$(id -gn) \
MTRACK_TRACKER_PID=$PID timeout 300 certbot certonly --non-interactive --agree-tos \
	--register-unsafely-without-email --server https://127.0.0.1:$PPORT/dir \
	--config-dir "$T/cb/config" --work-dir "$T/cb/work" --logs-dir "$T/cb/logs" \
	--webroot -w "$T/www" -d $NAME --preferred-challenges http \
	--deploy-hook "$TOP/contrib/acme/mtrack-deploy-hook" >"$T/certbot.log" 2>&1
rc=$?
is "$rc" 0 "certbot obtained a certificate through the tracker"
[ "$rc" = 0 ] || { tail -n 20 "$T/certbot.log" | sed 's/^/# /'; tail -n 5 "$T/pebble.log" | sed 's/^/# /'; }
n=$(curl -s "http://127.0.0.1:$APORT/metrics" |
	awk '$1 == "mtrack_http_requests_total{route=\"acme\",code=\"200\"}" { print $2 }')
awk -v n="${n:-0}" 'BEGIN { exit !(n >= 1) }'
ok $? "pebble fetched the challenge from the tracker ($n answers on route=acme)"
for i in $(seq 200); do grep -q 'reload=done' "$T/tracker.log" && break; sleep 0.05; done
like "$(grep 'reload=' "$T/tracker.log")" 'reload=done' "the deploy hook reloaded the tracker"
for i in $(seq 100); do case $(issuer) in *ebble*) break ;; esac; sleep 0.1; done
like "$(issuer)" '[Pp]ebble' "after: a TLS client sees the certificate pebble issued"
is "$(stat -c %a "$T/tls/$NAME.key")" 640 "the new key is installed mode 0640"
running "$PID"; ok $? "the tracker kept running"

done_testing
