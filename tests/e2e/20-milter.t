#!/bin/bash
# 20-milter.t - the whole path: Postfix -> mtrack-milter -> sink; a click and
# an open through mtrack-tracker; the numbers in mtrackctl stats; the store
# read with lmdb-utils; and the failure paths deliver mail unchanged.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to run a private Postfix"
[ -x "$TOP/milter/mtrack-milter" ] && [ -x "$TOP/tracker/mtrack-tracker" ] ||
	bail "build first (make)"

W=$(pf_tmpdir)
trap 'mt_stop; pf_cleanup; [ -n "${PF_KEEP:-}" ] || rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
mail() { perl "$TOP/tests/lib/mail.pl" "$@"; }

mt_config "$W/mt" "log_level = debug"
mt_start_milter; ok $? "milter listens on $MT_MPORT"
mt_start_tracker; ok $? "tracker listens on $MT_TPORT"

mt_postfix "$W/pf"; ok $? "postfix and sink started"

# --- one newsletter through Postfix -------------------------------------
IN=$TOP/tests/data/e2e/links.eml
qid=$(mt_deliver "$IN" "$W/out" 1)
ok $? "message submitted (queue id $qid) and delivered to the sink"

mail hrefs "$IN" > "$W/in.hrefs"
mail hrefs "$W/out.eml" > "$W/out.hrefs"
grep -E '^https?://' "$W/in.hrefs" > "$W/in.urls"
n_in=$(wc -l < "$W/in.urls")
is "$n_in" 5 "the test message has 5 trackable links"
n_track=$(grep -c "^$MT_URL/click/[A-Za-z0-9_-]\{22\}\$" "$W/out.hrefs")
is "$n_track" "$n_in" "every http(s) link was rewritten to a tracking link"
is "$(grep -c '^https\?://' "$W/out.hrefs")" "$n_in" "no original http(s) link is left"
like "$(cat "$W/out.hrefs")" 'mailto:help@example.com' "mailto: left alone"
like "$(cat "$W/out.hrefs")" '\{\{unsubscribe_url\}\}' "template placeholder left alone"
mail html "$W/out.eml" > "$W/out.html"
like "$(cat "$W/out.html")" "<img src=\"$MT_URL/open/[A-Za-z0-9_-]{22}\\.png\" width=\"1\" height=\"1\" alt=\"\"[^>]*></body>" \
	"open pixel inserted before </body>"
like "$(cat "$W/out.html")" 'comment.example' "links in comments untouched"
like "$(cat "$W/out.html")" 'http://style.example/' "style content untouched"
is "$(mail parts "$W/out.eml" | sed -n 2p)" "$(mail parts "$IN" | sed -n 2p)" \
	"the text/plain part arrives byte for byte"
is "$(mail structure "$W/out.eml")" "$(mail structure "$IN")" "same MIME structure"
awk 'length > 998 { bad = 1 } END { exit bad }' "$W/out.body"
ok $? "no line over 998 bytes"
grep -q '^Content-Transfer-Encoding: quoted-printable' "$W/out.body"
ok $? "the html part is still quoted-printable"
like "$(cat "$W/milter.log" 2>/dev/null; cat "$W/mt/milter.log")" "$qid: tracked links=5" \
	"milter log line names the queue id and the links"

# --- every tracking link redirects to its exact original URL ---------------
grep "^$MT_URL/click/" "$W/out.hrefs" > "$W/track.urls"
i=0
while read -r t; do
	i=$((i + 1))
	want=$(sed -n "${i}p" "$W/in.urls")
	got=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -A 'Mozilla/5.0 (e2e)' "$t")
	is "$got" "302 $want" "click $i redirects to the recorded URL"
done < "$W/track.urls"
pixel=$(grep -o "$MT_URL/open/[A-Za-z0-9_-]*\.png" "$W/out.html" | head -1)
ct=$(curl -sS -o "$W/pixel.png" -w '%{http_code} %{content_type}' "$pixel")
is "$ct" "200 image/png" "pixel served as image/png"
is "$(head -c 8 "$W/pixel.png" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "pixel is a PNG"
is "$(curl -s -o /dev/null -w '%{http_code}' "$MT_URL/click/AAAAAAAAAAAAAAAAAAAAAA")" 404 \
	"unknown id: 404"

# stats: the tracker commits in batches of at most a few ms; poll briefly
for _ in $(seq 50); do
	s=$(mt_ctl stats --json | tr -d ' \n')
	case $s in *'"clicks":5'*'"opens"'*) ;; esac
	echo "$s" | grep -q '"clicks":5' && echo "$s" | grep -q '"opens":1' && break
	sleep 0.1
done
like "$s" '"messages":1' "stats: one message"
like "$s" '"links":5' "stats: five links"
like "$s" '"opens":1' "stats: one open"
like "$s" '"clicks":5' "stats: five clicks"

# --- the store, read with lmdb-utils --------------------------------------
st=$(mdb_stat -a "$MT_DIR/db")
ok $? "mdb_stat reads the store"
for db in messages links events counters meta; do
	like "$st" "Status of $db" "mdb_stat lists $db"
done
dump=$(mdb_dump -p -s links "$MT_DIR/db")
like "$dump" 'https://example.com/reset\?user=j%40x&token=abc\(1\)' \
	"mdb_dump shows the decoded URL"
like "$(mdb_dump -p -s messages "$MT_DIR/db")" '<e2e-links-1@example.com>' \
	"message record holds the Message-ID"
like "$(mdb_dump -p -s messages "$MT_DIR/db")" 'reader@example.net' \
	"message record holds the recipient"

# --- which mail is tracked -------------------------------------------------
tracked() {	# FILE: the delivered copy has tracking links
	grep -q "/click/[A-Za-z0-9_-]\{22\}" "$1"
}
mt_stop
mt_config "$W/pol" "trusted_networks = 10.0.0.0/8" "log_level = debug"
mt_start_milter; ok $? "milter that trusts only 10.0.0.0/8"
pf_postconf -e "smtpd_milters = inet:127.0.0.1:$MT_MPORT" \
	"non_smtpd_milters = inet:127.0.0.1:$MT_MPORT" && pf_reload
sleep 1
before=$(sink_count)
pf_send news@example.com reader@example.net "$IN" >/dev/null
f=$(sink_wait $((before + 1)) 30 | tail -1)
! tracked "$f"; ok $? "SMTP mail from an untrusted client without auth is not tracked"
before=$(sink_count)
pf_sendmail news@example.com reader@example.net "$IN"
f=$(sink_wait $((before + 1)) 30 | tail -1)
tracked "$f"; ok $? "local submission (sendmail, non_smtpd_milters) is tracked"
mt_stop
mt_config "$W/pol2" "trusted_networks = 10.0.0.0/8" \
	"originating_daemons = ORIGINATING"
mt_start_milter; ok $? "milter that trusts the ORIGINATING daemon name"
pf_postconf -e "smtpd_milters = inet:127.0.0.1:$MT_MPORT" \
	"milter_macro_daemon_name = ORIGINATING" && pf_reload
sleep 1
before=$(sink_count)
pf_send news@example.com reader@example.net "$IN" >/dev/null
f=$(sink_wait $((before + 1)) 30 | tail -1)
tracked "$f"; ok $? "mail through a service named ORIGINATING is tracked"
pf_postconf -e "milter_macro_daemon_name = \$myhostname" && pf_reload

# --- on a unix socket, as contrib/postfix recommends ------------------------
# The socket lives under the queue directory and Postfix names it relative to
# it: smtpd and cleanup work there, chrooted or not.
mt_stop
mt_config "$W/ux"
sock=$PF_DIR/queue/mtrack/mtrack.sock
sed -i "s|^milter_socket = .*|milter_socket = unix:$sock|" "$MT_CONF"
# as the README says: a set-group-ID directory of group postfix gives the
# socket that group; milter_socket_mode (0660) makes it group-writable
install -d -g postfix -m 2750 "${sock%/*}"
"$TOP/milter/mtrack-milter" -c "$MT_CONF" 2>>"$MT_DIR/milter.log" &
MT_MILTER_PID=$!
for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ]; ok $? "milter listens on unix:$sock"
pf_postconf -e "smtpd_milters = unix:mtrack/mtrack.sock" \
	"non_smtpd_milters = unix:mtrack/mtrack.sock" && pf_reload
sleep 1
before=$(sink_count)
pf_send news@example.com reader@example.net "$IN" >/dev/null
f=$(sink_wait $((before + 1)) 30 | tail -1)
tracked "$f"; ok $? "SMTP mail through unix:mtrack/mtrack.sock is tracked"
before=$(sink_count)
pf_sendmail news@example.com reader@example.net "$IN"
f=$(sink_wait $((before + 1)) 30 | tail -1)
tracked "$f"; ok $? "local submission through unix:mtrack/mtrack.sock is tracked"

# --- failure paths: the mail goes out unchanged ----------------------------
send_check() {	# FILE NAME: sent through Postfix, the body arrives unchanged
	before=$(sink_count)
	pf_send news@example.com reader@example.net "$1" >/dev/null
	f=$(sink_wait $((before + 1)) 30 | tail -1)
	perl -0777 -pe 's/\r\n/\n/g; s/\A.*?\n\n//s' "$1" > "$W/expect.body"
	sink_body "$f" > "$W/got.body"
	cmp -s "$W/expect.body" "$W/got.body"
	st=$?
	ok $st "$2"
	[ $st -eq 0 ] || diff "$W/expect.body" "$W/got.body" | head -5 | sed 's/^/# /' 
}
printf 'From: a@example.com\nTo: b@example.net\nSubject: broken\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="nope"\n\n--other\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n<a href="http://x.example/">!!!not base64%%%%\n' > "$W/broken.eml"
send_check "$W/broken.eml" "malformed MIME is delivered unchanged"

# a store that fills up: MDB_MAP_FULL makes the rewrite fail
mt_stop
mt_config "$W/small" "db_map_size = 1M"
mt_start_milter; ok $? "milter with a 1 MB store"
pf_postconf -e "smtpd_milters = inet:127.0.0.1:$MT_MPORT" && pf_reload
sleep 1
{
	printf 'From: a@example.com\nTo: b@example.net\nSubject: many links\nMIME-Version: 1.0\nContent-Type: text/html\n\n<html><body>\n'
	for i in $(seq 20000); do printf '<a href="https://example.com/page/%d">%d</a>\n' "$i" "$i"; done
	printf '</body></html>\n'
} > "$W/many.eml"
send_check "$W/many.eml" "store full: delivered unchanged"
like "$(cat "$W/small/milter.log")" 'unchanged reason="store: ' "the milter logged why"

# larger than max_message_size: body chunks get no reply, so Postfix sends
# them all; the milter drops the message and accepts it at end of message
mt_stop
mt_config "$W/max" "max_message_size = 20K"
mt_start_milter; ok $? "milter with max_message_size = 20K"
pf_postconf -e "smtpd_milters = inet:127.0.0.1:$MT_MPORT" && pf_reload
sleep 1
send_check "$W/many.eml" "larger than max_message_size: delivered unchanged"
like "$(cat "$W/max/milter.log")" 'skip reason="larger than max_message_size"' \
	"the milter logged why"

# the milter is down: milter_default_action = accept delivers it unchanged
mt_stop
send_check "$IN" "milter down: delivered unchanged"

done_testing
