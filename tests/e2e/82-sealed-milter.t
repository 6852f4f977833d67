#!/bin/bash
# 82-sealed-milter.t - link_mode = sealed through the whole path: Postfix ->
# mtrack-milter (store A) -> sink; the links and the pixel are sealed tokens
# that a tracker on another store (B, another node, the same keys file)
# answers with the exact URLs; the milter's store still records the message
# and its links (stats), the tracker's store holds no link, only events.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to run a private Postfix"
[ -x "$TOP/milter/mtrack-milter" ] && [ -x "$TOP/tracker/mtrack-tracker" ] ||
	bail "build first (make)"

W=$(pf_tmpdir)
TPID=
trap '[ -n "$TPID" ] && kill "$TPID" 2>/dev/null; mt_stop; pf_cleanup; [ -n "${PF_KEEP:-}" ] || rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
mail() { perl "$TOP/tests/lib/mail.pl" "$@"; }

mkdir -p "$W/keys"
"$TOP/ctl/mtrackctl" keygen 9 > "$W/keys/link_keys" && chmod 600 "$W/keys/link_keys"
ok $? "a keys file"
mt_config "$W/mt" "link_mode = sealed" "link_keys = $W/keys/link_keys"
mt_start_milter; ok $? "milter (sealed, store A) listens on $MT_MPORT"
# the tracker: its own store and node, the same keys, the tracking URL's port
{
	echo "db_path = $W/trk/db"
	echo "node = 4"
	echo "tracker_listen = 127.0.0.1:$MT_TPORT"
	echo "tracking_url = $MT_URL"
	echo "admin_listen ="
	echo "batch_ms = 5"
	echo "link_keys = $W/keys/link_keys"
} > "$W/trk.conf"
mkdir -p "$W/trk"
"$TOP/tracker/mtrack-tracker" -c "$W/trk.conf" 2>>"$W/trk/log" &
TPID=$!
wait_port "$MT_TPORT" 10 "$TPID"; ok $? "tracker (store B, node 4) listens on $MT_TPORT"

mt_postfix "$W/pf"; ok $? "postfix and sink started"

IN=$TOP/tests/data/e2e/links.eml
qid=$(mt_deliver "$IN" "$W/out" 1)
ok $? "message submitted (queue id $qid) and delivered to the sink"

mail hrefs "$IN" | grep -E '^https?://' > "$W/in.urls"
mail hrefs "$W/out.eml" > "$W/out.hrefs"
grep "^$MT_URL/click/" "$W/out.hrefs" > "$W/track.urls"
is "$(wc -l < "$W/track.urls")" 5 "five links rewritten"
is "$(grep -c "^$MT_URL/click/[A-Za-z0-9_-]\{40,\}\$" "$W/track.urls")" 5 \
	"all sealed tokens (URL-safe, longer than a stored ID)"
awk 'length > 998 { bad = 1 } END { exit bad }' "$W/out.body"
ok $? "no line over 998 bytes"

i=0
while read -r t; do
	i=$((i + 1))
	want=$(sed -n "${i}p" "$W/in.urls")
	got=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -A 'Mozilla/5.0 (e2e)' "$t")
	is "$got" "302 $want" "sealed link $i: 302 to its URL from the other store"
done < "$W/track.urls"
mail html "$W/out.eml" > "$W/out.html"
pixel=$(grep -o "$MT_URL/open/[A-Za-z0-9_-]*\.png" "$W/out.html" | head -1)
is "$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$pixel")" "200 image/png" \
	"the sealed pixel"

# the milter's store: the message and its links, as in stored mode
s=$(mt_ctl stats --json | tr -d ' \n')
like "$s" '"messages":1' "store A: one message"
like "$s" '"links":5' "store A: five links"
# the tracker's store: the events only
for _ in $(seq 100); do
	t=$("$TOP/ctl/mtrackctl" -c "$W/trk.conf" stats --json | tr -d ' \n')
	echo "$t" | grep -q '"clicks":5' && echo "$t" | grep -q '"opens":1' && break
	sleep 0.1
done
like "$t" '"clicks":5' "store B: five clicks"
like "$t" '"opens":1' "store B: one open"
like "$(mdb_stat -s links "$W/trk/db")" "Entries: 0" "store B: no link record"
like "$(mdb_dump -p -s events "$W/trk/db" | grep -E '^ [0-9a-f]{20}$' | head -1)" \
	'^ [0-9a-f]{16}04' "store B's event keys carry node 4"
done_testing
