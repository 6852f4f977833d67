#!/bin/bash
# 40-domain.t - tracking domains: "mtrackctl domain add|check|list" against a
# real DNS server (dnsmasq on a loopback port) and real TLS endpoints
# (openssl s_server with certificates made here), the exit codes 0/1/2,
# the records in the store, a move between tracking domains, and the rewrite
# engine picking each sending domain's tracking URL (require_verified too).
# MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port

[ -x "$TOP/ctl/mtrackctl" ] || skip_all "build first: make"
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || skip_all "dnsmasq is not installed (dnsmasq-base)"
for t in openssl perl; do
	command -v $t >/dev/null || skip_all "$t is not installed"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-domain.XXXXXX") || bail "mktemp"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# a copy: a "make" during the run must not swap the binary under the test
mkdir "$W/bin" && cp "$TOP/ctl/mtrackctl" "$W/bin/" || bail "cannot copy mtrackctl"
CTL=$W/bin/mtrackctl

# --- certificates: a CA, then leaves signed by it --------------------------
cd "$W" || bail "cd"
ossl() { openssl "$@" 2>>"$W/openssl.log"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 30 -subj /CN=mtrack-test-ca \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign ||
	bail "cannot make the CA"
# leaf NAME DAYS SAN...
leaf() {
	_n=$1 _d=$2; shift 2
	_san=$(printf 'DNS:%s,' "$@"); _san=${_san%,}
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_n.key" -out "$_n.csr" -subj "/CN=$1" -addext "subjectAltName=$_san" &&
	ossl x509 -req -in "$_n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days "$_d" -copy_extensions copy -out "$_n.pem"
}
leaf good 90 track.good.test track.aonly.test track.shop-links.test track.noauth.test \
	track.moved.test links.moved.test || bail "leaf good"
leaf near 15 track.near.test || bail "leaf near"
leaf wrong 90 somewhere-else.test || bail "leaf wrong"
leaf nohealth 90 track.nohealth.test || bail "leaf nohealth"

# --- TLS endpoints: s_server answers GET /healthz from a file -------------
# -WWW wraps the file in "200 ok"; -HTTP sends it as the whole response
mkdir -p www down && echo ok > www/healthz &&
	printf 'HTTP/1.0 503 Service Unavailable\r\n\r\nstore down\n' > down/healthz
tls_server() {	# NAME DIR MODE: start one, sets PORT_NAME
	_p=$(free_port $USED) || bail "free_port"
	USED="$USED $_p"
	(cd "$2" && exec openssl s_server -accept "127.0.0.1:$_p" -cert "$W/$1.pem" \
		-key "$W/$1.key" "$3" -quiet </dev/null >>"$W/s_server-$1.log" 2>&1) &
	PIDS="$PIDS $!"
	wait_port "$_p" 10 $! || bail "s_server $1 does not listen"
	eval "PORT_$1=$_p"
}
USED=
tls_server good www -WWW
tls_server near www -WWW
tls_server wrong www -WWW
tls_server nohealth down -HTTP

# --- DNS: dnsmasq answers for .test only, from these records ---------------
DNS_PORT=$(free_port $USED) || bail "free_port"
USED="$USED $DNS_PORT"
args=(--keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts
	--port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces
	--local=/test/ --pid-file= --log-queries --log-facility="$W/dnsmasq.log"
	--host-record=edge.tracker.test,127.0.0.1
	--host-record=other.host.test,127.0.0.2
	--host-record=track.aonly.test,127.0.0.1
	--host-record=track.abad.test,127.0.0.9
	--cname=track.elsewhere.test,other.host.test)
for d in good near wrong nohealth noauth moved shop-links plain; do
	args+=(--cname=track.$d.test,edge.tracker.test)
done
args+=(--cname=links.moved.test,edge.tracker.test)
# mail authentication of the sending domains (noauth.test has none)
for d in good near wrong missing elsewhere aonly abad shop nohealth moved plain; do
	args+=("--txt-record=$d.test,v=spf1 ip4:192.0.2.1 -all"
		"--txt-record=_dmarc.$d.test,v=DMARC1; p=none"
		"--txt-record=mt1._domainkey.$d.test,v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
		"--mx-host=$d.test,mx.$d.test,10")
done
"$DNSMASQ" "${args[@]}" 2>>"$W/dnsmasq.err" &
PIDS="$PIDS $!"
wait_port "$DNS_PORT" 10 $! || { sed 's/^/# /' "$W/dnsmasq.err"; bail "dnsmasq does not listen"; }
ok 0 "dnsmasq and four TLS endpoints listen on 127.0.0.1"
R="--resolver 127.0.0.1:$DNS_PORT --timeout 3"

# --- configuration: one tracking domain per sending domain ----------------
G=$PORT_good
write_conf() {	# FILE [extra lines...]
	_f=$1; shift
	{
		echo "db_path = $W/db"
		echo "tracking_url = https://track.default.test"
		echo "cname_target = edge.tracker.test"
		echo "dkim_selector = mt1"
		echo "tls_ca_file = $W/ca.pem"
		printf 'tracking_domains = good.test=https://track.good.test:%s,' "$G"
		printf ' near.test=https://track.near.test:%s,' "$PORT_near"
		printf ' wrong.test=https://track.wrong.test:%s,' "$PORT_wrong"
		printf ' missing.test=https://track.missing.test:%s,' "$G"
		printf ' elsewhere.test=https://track.elsewhere.test:%s,' "$G"
		printf ' aonly.test=https://track.aonly.test:%s,' "$G"
		printf ' abad.test=https://track.abad.test:%s,' "$G"
		printf ' shop.test=https://track.shop-links.test:%s,' "$G"
		printf ' noauth.test=https://track.noauth.test:%s,' "$G"
		printf ' nohealth.test=https://track.nohealth.test:%s,' "$PORT_nohealth"
		printf ' moved.test=https://track.moved.test:%s\n' "$G"
		for l in "$@"; do echo "$l"; done
	} > "$_f"
}
write_conf "$W/mtrack.conf"
C="-c $W/mtrack.conf"

out=$("$CTL" $C -n 2>&1)
ok $? "the configuration loads (mtrackctl -n)"
like "$out" "tracking_domains = good.test=https://track.good.test:$G, near.test=" \
	"tracking_domains printed back as a list"
for env in production staging; do
	"$CTL" -c "$TOP/contrib/examples/mtrack-$env.conf" -n >/dev/null 2>&1
	ok $? "contrib/examples/mtrack-$env.conf is a valid configuration"
done
echo "tracking_domains = good.test=ftp://x" > "$W/bad.conf"
out=$("$CTL" -c "$W/bad.conf" -n 2>&1)
is "$?" 2 "a bad tracking_domains entry is an error"
like "$out" 'bad.conf:1: tracking_domains: "good.test=ftp://x": must start with http' \
	"the error names the line and the entry"

# --- domain add ------------------------------------------------------------
out=$("$CTL" $C domain add track.good.test 2>&1)
is "$?" 0 "domain add: exit 0"
like "$out" 'track\.good\.test\. 3600 IN CNAME edge\.tracker\.test\.' \
	"domain add prints the CNAME to create"
out=$("$CTL" $C domain add track.unused.test 2>&1)
like "$out" 'not used yet' "domain add of an unconfigured domain says so"
out=$("$CTL" $C domain add 'bad_name!' 2>&1)
is "$?" 2 "domain add rejects a bad name"
out=$("$CTL" $C domain list)
like "$out" 'track\.good\.test +new +never' "domain list: the new domain, never checked"
like "$out" 'track\.near\.test +not added' "domain list: configured domains not added yet"

# --- domain check, case by case ----------------------------------------------
# check NAME WANT-EXIT [OPTIONS]: runs the check, output in $out
check() {
	_n=$1 _w=$2; shift 2
	out=$("$CTL" $C domain check "$_n" $R "$@" 2>&1)
	_rc=$?
	is "$_rc" "$_w" "check $_n: exit $_w"
	[ "$_rc" = "$_w" ] || printf '%s\n' "$out" | sed 's/^/#   /'
}
check track.good.test 0
like "$out" '^ok +dns +track\.good\.test CNAME edge\.tracker\.test \(127\.0\.0\.1\)' "good: CNAME to cname_target"
like "$out" '^ok +tls +certificate valid for track\.good\.test until' "good: certificate valid"
like "$out" "^ok +healthz +GET https://track\\.good\\.test:$G/healthz via 127\\.0\\.0\\.1 port $G: 200" \
	"good: /healthz answers through the name"
like "$out" '^ok +aligned +good\.test and track\.good\.test share the registrable domain good\.test' "good: aligned"
like "$out" '^ok +spf +good\.test: v=spf1' "good: SPF"
like "$out" '^ok +dmarc +_dmarc\.good\.test: v=DMARC1' "good: DMARC"
like "$out" '^ok +dkim +mt1\._domainkey\.good\.test has a key' "good: DKIM selector record"
like "$out" '^ok +mx +good\.test MX 10 mx\.good\.test' "good: MX"
is "$(printf '%s\n' "$out" | grep -cE '^(warn|fail) ')" 0 "good: no warning, no failure"

check track.near.test 1
like "$out" '^warn +tls +certificate for track\.near\.test expires .* \(in 1[45] days\): renew it' \
	"near: a certificate expiring within 21 days (15) warns"

check track.wrong.test 2
like "$out" '^fail +tls +certificate not valid for track\.wrong\.test' "wrong name: TLS fails"
like "$out" '^ok +healthz' "wrong name: /healthz still asked"

check track.missing.test 2
like "$out" '^fail +dns +track\.missing\.test has no CNAME, A or AAAA record' "missing: DNS fails"
like "$out" '^fail +healthz +no address' "missing: nothing to connect to"

check track.elsewhere.test 2
like "$out" '^fail +dns +track\.elsewhere\.test has CNAME other\.host\.test 127\.0\.0\.2, not CNAME edge\.tracker\.test \(127\.0\.0\.1\)' \
	"CNAME elsewhere: DNS fails and says where it points"

check track.aonly.test 0
like "$out" '^ok +dns +track\.aonly\.test has 127\.0\.0\.1: addresses of the tracker' \
	"A records of the tracker instead of a CNAME: ok"

check track.abad.test 2
like "$out" '^fail +dns +track\.abad\.test has 127\.0\.0\.9, not' "A record of another host: fails"

check track.shop-links.test 1
like "$out" '^warn +aligned +shop\.test \(shop\.test\) and track\.shop-links\.test \(shop-links\.test\) differ' \
	"a tracking domain under another registrable domain warns"

check track.noauth.test 2
like "$out" '^fail +spf +noauth\.test has no SPF record' "no SPF: fails"
like "$out" '^fail +dmarc +noauth\.test has no DMARC record' "no DMARC: fails"
like "$out" '^fail +dkim +no DKIM key at mt1\._domainkey\.noauth\.test' "no DKIM key: fails"
like "$out" '^fail +mx +noauth\.test has no MX record' "no MX: fails"

check track.nohealth.test 2
like "$out" '^ok +tls' "nohealth: TLS fine"
like "$out" '^fail +healthz +GET .*: 503' "nohealth: /healthz not 200 fails"

check track.good.test 2 --ca-file "$W/near.pem"
like "$out" '^fail +tls +certificate not valid' "--ca-file replaces the trusted CAs"

check track.good.test 2 --connect "127.0.0.1:$PORT_nohealth"
like "$out" "healthz +GET .* via 127\\.0\\.0\\.1 port $PORT_nohealth: 503" "--connect overrides the address"

check track.good.test 0 --json
status=$(printf '%s' "$out" | perl -MJSON::PP -0777 -ne '$j = decode_json($_);
	print $j->{status}, " ", scalar(@{$j->{items}}), " ", join(",", map { $_->{check} } @{$j->{items}})')
is "$status" "ok 9 dns,tls,healthz,aligned,spf,dmarc,dkim,mx,moved" "--json: status and every item"

# --- what the store remembers ---------------------------------------------
out=$("$CTL" $C domain list)
like "$out" 'track\.good\.test +ok +20[0-9-]+ [0-9:]+ UTC .* good\.test' "list: good is ok, with its sending domain"
like "$out" 'track\.near\.test +warn ' "list: near is warn"
like "$out" 'track\.missing\.test +fail ' "list: missing is fail"
like "$out" 'track\.default\.test +not added .*\(default\)' "list: the default tracking_url too"
n=$("$CTL" $C domain list --json | perl -MJSON::PP -0777 -ne 'print scalar grep { $_->{checked} > 0 } @{decode_json($_)}')
is "$n" 10 "list --json: every checked domain has its check time"

# --- the rewrite engine: one tracking URL per sending domain ---------------
msg() {	# FROM: a small HTML newsletter
	printf 'From: News <%s>\nTo: r@example.net\nSubject: t\nMessage-ID: <%s@x>\n' "$1" "$RANDOM"
	printf 'MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n'
	printf '<html><body><a href="https://shop.example.com/a">a</a></body></html>\n'
}
rw() {	# CONF FROM [ENVELOPE]: the rewritten message on stdout, notes in $W/rw.err
	msg "$2" | "$CTL" -c "$1" rewrite ${3:+--from "$3"} 2>"$W/rw.err"
}
out=$(rw "$W/mtrack.conf" news@good.test)
like "$out" "href=\"https://track\\.good\\.test:$G/click/[A-Za-z0-9_-]{22}\"" "From good.test: its tracking domain in links"
like "$out" "src=\"https://track\\.good\\.test:$G/open/[A-Za-z0-9_-]{22}\\.png\"" "From good.test: and in the pixel"
out=$(rw "$W/mtrack.conf" news@mail.shop.test)
like "$out" "href=\"https://track\\.shop-links\\.test:$G/click/" "a subdomain of a sending domain uses its entry"
out=$(rw "$W/mtrack.conf" news@unmapped.test bounce@good.test)
like "$out" "href=\"https://track\\.good\\.test:$G/click/" "From without an entry: the envelope sender's domain decides"
out=$(rw "$W/mtrack.conf" news@unmapped.test bounce@unmapped.test)
like "$out" 'href="https://track\.default\.test/click/' "neither has an entry: the default tracking_url"

write_conf "$W/verified.conf" "require_verified = yes"
out=$(rw "$W/verified.conf" news@good.test)
like "$out" "href=\"https://track\\.good\\.test:$G/click/" "require_verified: a checked domain tracks"
out=$(rw "$W/verified.conf" news@wrong.test)
like "$out" 'href="https://shop\.example\.com/a"' "require_verified: a failed domain leaves the mail untracked"
like "$(cat "$W/rw.err")" 'untracked tracking_domain=track\.wrong\.test reason="not verified: check failed"' \
	"require_verified: the log line names the domain"
out=$(rw "$W/verified.conf" news@unmapped.test)
like "$(cat "$W/rw.err")" 'tracking_domain=track\.default\.test reason="not verified: not added"' \
	"require_verified: a domain never added is not verified"

# --- moving a sending domain to another tracking domain --------------------
check track.moved.test 0
like "$out" '^ok +moved +no sending domain moved' "no move yet"
sed "s|moved.test=https://track.moved.test:$G|moved.test=https://links.moved.test:$G|" \
	"$W/mtrack.conf" > "$W/moved.conf"
out=$("$CTL" -c "$W/moved.conf" domain check links.moved.test $R 2>&1)
is "$?" 1 "check after a move: exit 1"
like "$out" '^warn +moved +moved\.test moved from track\.moved\.test to links\.moved\.test on .*keep it pointing at the tracker' \
	"the new tracking domain warns about the recent move"
out=$("$CTL" -c "$W/moved.conf" domain check track.moved.test $R 2>&1)
like "$out" '^warn +moved +moved\.test moved from track\.moved\.test' "so does the old one"
like "$out" '^ok +dns' "the old name still reaches the tracker"
out=$(rw "$W/moved.conf" news@moved.test)
like "$out" "href=\"https://links\\.moved\\.test:$G/click/" "new mail uses the new tracking domain"

# --- an http:// tracking URL: /healthz of mtrack-tracker itself -------------
if [ -x "$TOP/tracker/mtrack-tracker" ]; then
	cp "$TOP/tracker/mtrack-tracker" "$W/bin/" || bail "cannot copy the tracker"
	TP=$(free_port $USED) && AP=$(free_port $USED "$TP") || bail "free_port"
	{
		echo "db_path = $W/tdb"
		echo "tracker_listen = 127.0.0.1:$TP"
		echo "admin_listen = 127.0.0.1:$AP"
		echo "tracking_url = http://track.plain.test:$TP"
		echo "tracking_domains = plain.test=http://track.plain.test:$TP"
		echo "cname_target = edge.tracker.test"
		echo "dkim_selector = mt1"
	} > "$W/plain.conf"
	"$W/bin/mtrack-tracker" -c "$W/plain.conf" >>"$W/tracker.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$TP" 10 $! || bail "mtrack-tracker does not listen"
	out=$("$CTL" -c "$W/plain.conf" domain check track.plain.test $R 2>&1)
	is "$?" 1 "http tracking URL: exit 1"
	like "$out" '^warn +tls +the tracking URL is http://' "http tracking URL: a warning, no TLS"
	like "$out" "^ok +healthz +GET http://track\\.plain\\.test:$TP/healthz via 127\\.0\\.0\\.1 port $TP: 200" \
		"mtrack-tracker answers /healthz through the name"
else
	ok 0 "# SKIP mtrack-tracker not built"
fi

done_testing
