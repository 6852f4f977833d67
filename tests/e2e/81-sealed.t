#!/bin/bash
# 81-sealed.t - sealed links: a link sealed by "mtrackctl rewrite" with one
# configuration (store A) is answered by a tracker with another (store B,
# empty, the same keys file) with a 302 to the exact URL, with no record in
# its store; tampered tokens, tokens of a retired key or of another key get
# what an unknown ID gets (404, or fallback_url); old links work after a
# rotation; stored IDs work beside sealed ones; bad keys files stop the
# tracker, the milter and mtrackctl with the line and the reason.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/nodes.sh"

nd_init sealed curl python3 mdb_stat
BASE=http://127.0.0.1:$PORT
APORT=$(free_port "$PORT" "$MPORT") || bail "no port"
# metric NAME - a counter of the running tracker's /metrics
metric() { curl -s "http://127.0.0.1:$APORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

# conf FILE DB [LINE]... - a configuration on the test's ports
conf() {
	local f=$1 db=$2
	shift 2
	{
		echo "db_path = $db"
		echo "tracker_listen = 127.0.0.1:$PORT"
		echo "milter_socket = inet:$MPORT@127.0.0.1"
		echo "tracking_url = $BASE"
		echo "admin_listen = 127.0.0.1:$APORT"
		echo "batch_ms = 5"
		for l in "$@"; do echo "$l"; done
	} > "$f"
}
# keys FILE LINE... - a keys file, mode 600
keys() {
	local f=$1
	shift
	printf '%s\n' "$@" > "$f" && chmod 600 "$f"
}
# seal CONF OUT - rewrite the test mail, print its tracking URLs (decoded HTML)
seal() {
	"$CTL" rewrite -c "$1" < "$EML" > "$2" 2>>"$T/ctl.log" || return 1
	python3 - "$2" <<'PY'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/html":
        t = p.get_payload(decode=True).decode()
        for u in re.findall(r"http://127\.0\.0\.1:\d+/(?:click|open)/[^\"' >]*", t):
            print(u)
PY
}
# start CONF - the tracker on CONF, until it listens
start() {
	"$TRACKER" -c "$1" >> "$T/trk.log" 2>&1 &
	PID=$!
	wait_port "$PORT" 10 "$PID"
}
# code URL - status and Location of a GET
code() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$1"; }
# clicks FILE - the click URLs of a list
clicks() { grep /click/ "$1"; }

K1=$("$CTL" keygen 1) || bail "keygen"
K2=$("$CTL" keygen 2) || bail "keygen"
K1OTHER=$("$CTL" keygen 1) || bail "keygen"
like "$K1" '^1 [0-9a-f]{64}$' "keygen prints a line ID HEX"
keys "$T/k1" "$K1"
keys "$T/k12" "$K1" "$K2"
keys "$T/k2" "$K2"
keys "$T/k1other" "$K1OTHER"

conf "$T/a.conf" "$T/dbA" "link_mode = sealed" "link_keys = $T/k1"
conf "$T/b.conf" "$T/dbB" "link_keys = $T/k1" "node = 1"
seal "$T/a.conf" "$T/out1.eml" > "$T/urls1" || bail "rewrite failed"
is "$(clicks "$T/urls1" | wc -l)" 5 "five links sealed"
like "$(cat "$T/urls1")" "/open/[A-Za-z0-9_-]{40,}\.png" "the pixel is sealed too"
ok $(grep -qvE '/(click|open)/[A-Za-z0-9_-]+(\.png)?$' "$T/urls1"; echo $((! $?))) \
    "tokens are URL-safe base64 without padding"
like "$(mdb_stat -s links "$T/dbA")" "Entries: 5" "store A still records the links"

# store B is empty: the tracker answers from the token alone
start "$T/b.conf" || bail "tracker B did not start"
WANT=$(printf '%s\n' 'https://example.com/news?id=1&src=mail' \
    'https://example.com/reset?user=j%40x&token=abc(1)' \
    'https://shop.example.org/p/42' 'https://example.com/spaced' \
    'https://user@example.net/path_(with)_parens?q=%C3%A9#frag')
GOT=$(for u in $(clicks "$T/urls1"); do code "$u"; echo; done)
is "$GOT" "$(printf '%s\n' "$WANT" | sed 's/^/302 /')" \
    "every sealed link: 302 to its exact URL from a tracker with an empty store"
OPEN=$(grep /open/ "$T/urls1")
is "$(code "$OPEN")" "200 " "the sealed pixel: 200"
FIRST=$(clicks "$T/urls1" | head -1)
TOK=${FIRST##*/}
# change one character in the middle, the first (key ID), the last
for at in $(( ${#TOK} / 2 )) 0 $(( ${#TOK} - 1 )); do
	c=${TOK:$at:1}
	[ "$c" = A ] && r=B || r=A
	BAD=${TOK:0:$at}$r${TOK:$((at + 1))}
	is "$(code "$BASE/click/$BAD")" "404 " "a token changed at $at: 404"
done
is "$(code "$BASE/click/${TOK:0:$(( ${#TOK} - 4 ))}")" "404 " "a cut token: 404"
is "$(code "$BASE/click/${TOK}A")" "404 " "a longer token: 404"
is "$(code "$BASE/open/${TOK}.png")" "404 " "a click token as a pixel: 404"
stop
like "$(mdb_stat -s links "$T/dbB")" "Entries: 0" "store B holds no link"
like "$(mdb_stat -s events "$T/dbB")" "Entries: 6" "store B counted the five clicks and the open"

# a rotation: key 2 seals from now on, key 1 still opens
conf "$T/a2.conf" "$T/dbA" "link_mode = sealed" "link_keys = $T/k12"
seal "$T/a2.conf" "$T/out2.eml" > "$T/urls2" || bail "rewrite failed"
TOK2=$(clicks "$T/urls2" | head -1)
TOK2=${TOK2##*/}
# the first byte, the key ID, is the first 6 bits and 2 of the next character
like "${TOK:0:2}" '^A[Q-Za-f]$' "before the rotation tokens carry key ID 1"
like "${TOK2:0:2}" '^A[g-v]$' "after the rotation tokens carry key ID 2"
conf "$T/b12.conf" "$T/dbB" "link_keys = $T/k12" "node = 1"
start "$T/b12.conf" || bail "tracker did not start"
is "$(code "$FIRST")" "302 https://example.com/news?id=1&src=mail" \
    "after the rotation an old link works"
is "$(code "$BASE/click/$TOK2")" "302 https://example.com/news?id=1&src=mail" \
    "and a new one"
stop

# key 1 retired: its links get 404, key 2's work
conf "$T/b2.conf" "$T/dbB" "link_keys = $T/k2" "node = 1"
start "$T/b2.conf" || bail "tracker did not start"
is "$(code "$FIRST")" "404 " "a token of a retired key: 404"
is "$(code "$OPEN")" "404 " "a pixel of a retired key: 404"
is "$(code "$BASE/click/$TOK2")" "302 https://example.com/news?id=1&src=mail" \
    "the current key's link works"
is "$(metric mtrack_sealed_refused_total)" 2 "/metrics: two tokens refused"
is "$(metric mtrack_sealed_opened_total)" 1 "/metrics: one opened"
stop

# SIGHUP reads the keys again: a rotation without a restart
cp "$T/k12" "$T/khup" && chmod 600 "$T/khup"
conf "$T/bh.conf" "$T/dbB" "link_keys = $T/khup" "node = 1"
start "$T/bh.conf" || bail "tracker did not start"
is "$(code "$FIRST")" "302 https://example.com/news?id=1&src=mail" "before SIGHUP key 1 opens"
keys "$T/khup" "$K2"
kill -HUP "$PID"
for i in $(seq 200); do
	[ "$(code "$FIRST")" = "404 " ] && break
	sleep 0.05
done
is "$(code "$FIRST")" "404 " "after SIGHUP with key 1 retired: 404"
is "$(code "$BASE/click/$TOK2")" "302 https://example.com/news?id=1&src=mail" \
    "and key 2 still opens"
printf '1 zz\n' > "$T/khup"
kill -HUP "$PID"
for i in $(seq 200); do
	grep -q 'khup:1: ' "$T/trk.log" && break
	sleep 0.05
done
like "$(cat "$T/trk.log")" "reload=failed.*khup:1: the key must be 64 hex digits" \
    "a bad file on SIGHUP is refused with the line and reason"
is "$(code "$BASE/click/$TOK2")" "302 https://example.com/news?id=1&src=mail" \
    "and the keys in use stay"
stop

# another key under the same ID: 404, or fallback_url as for unknown IDs
conf "$T/bo.conf" "$T/dbB" "link_keys = $T/k1other" "node = 1"
start "$T/bo.conf" || bail "tracker did not start"
is "$(code "$FIRST")" "404 " "a token sealed under another key: 404"
stop
conf "$T/bf.conf" "$T/dbB" "link_keys = $T/k1other" "node = 1" \
    "fallback_url = https://fallback.example/"
start "$T/bf.conf" || bail "tracker did not start"
is "$(code "$FIRST")" "302 https://fallback.example/" \
    "with fallback_url: the same answer as an unknown ID"
is "$(code "$BASE/click/AAAAAAAAAAAAAAAAAAAAAA")" "302 https://fallback.example/" \
    "(an unknown stored ID)"
stop

# a revocation list: the first mail's message number, as export shows it
MSG1=$("$CTL" export -c "$T/b.conf" | head -1 | sed -n 's/.*"msg":"\([0-9a-f]*\)".*/\1/p')
like "$MSG1" '^[0-9a-f]{16}$' "export names the message of a sealed click"
printf '# revoked\n%s\n' "$MSG1" > "$T/revoked"
conf "$T/br.conf" "$T/dbB" "link_keys = $T/k12" "node = 1" "link_revoked = $T/revoked"
start "$T/br.conf" || bail "tracker did not start"
is "$(code "$FIRST")" "404 " "a link of a revoked message: 404"
is "$(code "$OPEN")" "404 " "its pixel: 404"
is "$(metric mtrack_revoked_total)" 2 "/metrics: two hits on revoked links"
is "$(code "$BASE/click/$TOK2")" "302 https://example.com/news?id=1&src=mail" \
    "another message's link still works"
stop
printf '%s\nnot-a-number\n' "$MSG1" > "$T/revoked"
nd_refused "$T/br.conf" "$T/refused.log"
ok $((RC == 0 || RC == 124)) "a bad revocation list stops the tracker ($RC)"
like "$(cat "$T/refused.log")" "revoked:2: want a sequence number" "with the line and reason"

# stored IDs beside sealed ones, on the store that recorded both
conf "$T/s.conf" "$T/dbA" "link_keys = $T/k12"
seal "$T/s.conf" "$T/out3.eml" > "$T/urls3" || bail "rewrite failed"
STORED=$(clicks "$T/urls3" | head -1)
like "$STORED" "/click/[A-Za-z0-9_-]{22}$" "link_mode = stored writes 22-character IDs"
start "$T/s.conf" || bail "tracker A did not start"
is "$(code "$STORED")" "302 https://example.com/news?id=1&src=mail" "a stored ID works"
is "$(code "$FIRST")" "302 https://example.com/news?id=1&src=mail" "beside a sealed link"
stop

# bad keys files stop every program at start, with the line and the reason
keys "$T/bad" "$K1" "2 0123"
conf "$T/bad.conf" "$T/dbC" "link_mode = sealed" "link_keys = $T/bad"
nd_refused "$T/bad.conf" "$T/refused.log"
ok $((RC == 0 || RC == 124)) "tracker with a bad keys file stops at start ($RC)"
like "$(cat "$T/refused.log")" "bad:2: the key must be 64 hex digits" "tracker names the line and reason"
OUT=$("$TRACKER" -n -c "$T/bad.conf" 2>&1)
ok $((! $?)) "mtrack-tracker -n fails on it"
like "$OUT" "bad:2: the key must be 64 hex digits" "on stderr, with the line and reason"
OUT=$(timeout 20 "$MILTER" -c "$T/bad.conf" 2>&1)
RC=$?
ok $((RC == 0 || RC == 124)) "milter with a bad keys file exits ($RC)"
like "$OUT" "bad:2: the key must be 64 hex digits" "milter names the line and reason"
OUT=$("$CTL" rewrite -c "$T/bad.conf" < "$EML" 2>&1 >/dev/null)
ok $((! $?)) "mtrackctl rewrite with a bad keys file fails"
like "$OUT" "bad:2: the key must be 64 hex digits" "mtrackctl names the line and reason"
keys "$T/open" "$K1"
chmod 644 "$T/open"
conf "$T/open.conf" "$T/dbC" "link_mode = sealed" "link_keys = $T/open"
OUT=$(timeout 20 "$MILTER" -c "$T/open.conf" 2>&1)
like "$OUT" "bad permissions 0644" "a keys file others can read: refused"
nd_refused "$T/open.conf" "$T/refused.log"
ok $((RC == 0 || RC == 124)) "the tracker refuses it too ($RC)"
like "$(cat "$T/refused.log")" "bad permissions 0644" "and says why"
conf "$T/nokeys.conf" "$T/dbC" "link_mode = sealed"
OUT=$("$CTL" -c "$T/nokeys.conf" -n 2>&1)
like "$OUT" "link_mode = sealed needs link_keys" "sealed without link_keys: refused"
done_testing
