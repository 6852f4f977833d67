#!/bin/bash
# 30-corpus.t - every message of the corpus and the MIME samples through the
# real Postfix with mtrack-milter: each arrives with the same MIME structure;
# mail with HTML links arrives tracked; the rest arrives byte for byte.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to run a private Postfix"
W=$(pf_tmpdir)
trap 'mt_stop; pf_cleanup; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
mail() { perl "$TOP/tests/lib/mail.pl" "$@"; }

mt_config "$W/mt"
mt_start_milter || bail "milter did not start"
SMTP=$(free_port "$MT_MPORT" "$MT_TPORT")
SINK=$(free_port "$MT_MPORT" "$MT_TPORT" "$SMTP")
pf_setup "$W/pf" "$SMTP" "$SINK" "inet:127.0.0.1:$MT_MPORT" >/dev/null || bail "postfix setup"
sink_start && pf_start || bail "postfix start"

n=0
for f in "$TOP"/tests/data/corpus/*.eml "$TOP"/tests/data/mime-samples/m*.txt; do
	[ -s "$f" ] || continue
	name=$(basename "$f")
	n=$((n + 1))
	before=$(sink_count)
	pf_send news@example.com reader@example.net "$f" >/dev/null || { ok 1 "$name: sent"; continue; }
	got=$(sink_wait $((before + 1)) 30 | tail -1)
	sink_message "$got" > "$W/out.eml"
	is "$(mail structure "$W/out.eml")" "$(mail structure "$f")" "$name: same MIME structure"
	perl -0777 -pe 's/\r\n/\n/g; s/\A.*?\n\n//s' "$f" > "$W/expect.body"
	sink_body "$got" > "$W/got.body"
	if cmp -s "$W/expect.body" "$W/got.body"; then changed=0; else changed=1; fi
	case $name in
	*.eml) is "$changed" 1 "$name: tracked (body rewritten)" ;;
	*) if [ "$changed" = 1 ]; then
		mail html "$W/out.eml" | grep -q "$MT_URL/\(click\|open\)/"
		ok $? "$name: rewritten, with tracking links or pixel"
	   else
		ok 0 "$name: untracked, body byte for byte"
	   fi ;;
	esac
done
ok $([ "$n" -ge 90 ]; echo $?) "$n messages went through"
done_testing
