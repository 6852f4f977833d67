#!/bin/bash
# 50-stats.t - people versus machines: a scripted sequence of requests with
# known User-Agents, source addresses (several loopback addresses, a trusted
# proxy with X-Forwarded-For) and timing gives exact counts and verdicts in
# every output of mtrackctl stats, show and export; prune removes exactly
# what it should.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

W=$(mktemp -d)
trap 'mt_stop; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
# jqn PATH: a value of the JSON on stdin ('{rows}[0]{name}'), objects canonical
jqn() { perl -MJSON::PP -0777 -e 'my $j = decode_json(<STDIN>); my $v = eval "\$j->$ARGV[0]"; print defined $v ? (ref $v ? JSON::PP->new->canonical->encode($v) : $v) : "null"' "$1"; }
jcount() { perl -MJSON::PP -0777 -e 'my $j = decode_json(<STDIN>); print scalar @{eval "\$j->$ARGV[0]"}' "$1"; }

echo "127.0.0.9/32 scanner test-scanner" > "$W/nets.txt"
mt_config "$W/mt" "verdict_networks = $W/nets.txt" "trusted_proxies = 127.0.0.5" \
	"click_min_seconds = 1" "burst_links = 3" "burst_window_ms = 2000" \
	"honeypot = yes" "honeypot_window = 60"
mt_start_tracker || bail "tracker did not start"

mkmsg() {	# ID CAMPAIGN FROM NLINKS: a small HTML message
	{
		printf 'From: News <%s>\nTo: r@example.net\nSubject: %s\nMessage-ID: <%s@example.com>\n' "$3" "$1" "$1"
		printf 'X-Mtrack-Campaign: %s\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>\n' "$2"
		for i in $(seq "$4"); do printf '<a href="https://example.com/%s/%d">%d</a>\n' "$1" "$i" "$i"; done
		printf '</body></html>\n'
	} > "$W/$1.eml"
}
mkmsg a spring news@example.com 3
mkmsg b fall news@example.org 3
mt_ctl rewrite --from news@example.com --to r@example.net < "$W/a.eml" > "$W/a.out" 2>/dev/null
mt_ctl rewrite --from news@example.org --to r1@example.net --to r2@example.net < "$W/b.eml" > "$W/b.out" 2>/dev/null
ok $? "two messages rewritten"
ok $(grep -q X-Mtrack-Campaign "$W/a.out"; echo $((! $?))) "campaign header removed before sending"
links() { grep -o "$MT_URL/click/[A-Za-z0-9_-]*\"[^>]*>[0-9]" "$1" | sed 's/".*//'; }
A1=$(links "$W/a.out" | sed -n 1p); A2=$(links "$W/a.out" | sed -n 2p); A3=$(links "$W/a.out" | sed -n 3p)
B1=$(links "$W/b.out" | sed -n 1p); B2=$(links "$W/b.out" | sed -n 2p); B3=$(links "$W/b.out" | sed -n 3p)
BH=$(grep -o "<a href=\"$MT_URL/click/[A-Za-z0-9_-]*\" style=\"display:none" "$W/b.out" | grep -o "$MT_URL/click/[A-Za-z0-9_-]*")
AO=$(grep -o "$MT_URL/open/[A-Za-z0-9_-]*\.png" "$W/a.out")
BO=$(grep -o "$MT_URL/open/[A-Za-z0-9_-]*\.png" "$W/b.out")
ok $([ -n "$A3" ] && [ -n "$B3" ] && [ -n "$BH" ] && [ -n "$AO" ] && [ -n "$BO" ]; echo $?) \
	"links, honeypot and pixels found"
like "$(grep -o '<a href="[^"]*" style="display:none[^>]*>' "$W/b.out")" 'aria-hidden="true" tabindex="-1"' \
	"the honeypot link is hidden from people"

FF='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'
get() {	# SRC URL [curl options...]: the status code
	src=$1 url=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' --interface "$src" "$@" "$url"
}
# 1. a click within click_min_seconds of sending: scanner (too-fast)
is "$(get 127.0.0.3 "$A1" -A "$FF")" 302 "fast click answered like any other"
sleep 1.3
# 2-4. two opens by a person, one through Google's image proxy
get 127.0.0.2 "$AO" -A "$FF" >/dev/null
get 127.0.0.2 "$AO" -A "$FF" >/dev/null
get 127.0.0.2 "$AO" -A 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' >/dev/null
# 5. a person clicks; 6. curl; 7. HEAD; 8. Sec-Purpose: prefetch
is "$(get 127.0.0.2 "$A1" -A "$FF")" 302 "human click"
is "$(get 127.0.0.1 "$A2")" 302 "curl click"
is "$(get 127.0.0.4 "$A3" -A "$FF" -I)" 302 "HEAD click answered 302"
is "$(get 127.0.0.4 "$A2" -A "$FF" -H 'Sec-Purpose: prefetch')" 302 "prefetch click"
# 9. through the trusted proxy, for a client in a scanner network
is "$(get 127.0.0.5 "$A1" -A "$FF" -H 'X-Forwarded-For: 198.51.100.7, 127.0.0.9')" 302 "click through a trusted proxy"
# 10. X-Forwarded-For from an untrusted peer is ignored
get 127.0.0.3 "$AO" -A "$FF" -H 'X-Forwarded-For: 127.0.0.9' >/dev/null
# B: Apple MPP open, a burst of three links, a honeypot source
get 127.0.0.6 "$BO" -A 'Mozilla/5.0' >/dev/null
get 127.0.0.7 "$B1" -A "$FF" >/dev/null
get 127.0.0.7 "$B2" -A "$FF" >/dev/null
get 127.0.0.7 "$B3" -A "$FF" >/dev/null
get 127.0.0.8 "$BO" -A "$FF" >/dev/null
get 127.0.0.8 "$B1" -A "$FF" >/dev/null
is "$(get 127.0.0.8 "$BH" -A "$FF")" 302 "the honeypot redirects like any link"
mt_stop	# SIGTERM: every event committed
mt_start_tracker

S=$(mt_ctl stats --json)
is "$(echo "$S" | jqn '{messages}')" 2 "stats: 2 messages"
is "$(echo "$S" | jqn '{links}')" 6 "stats: 6 links (the honeypot is not counted)"
is "$(echo "$S" | jqn '{opens}')" 6 "stats: 6 opens"
is "$(echo "$S" | jqn '{clicks}')" 11 "stats: 11 clicks"
T=$(echo "$S" | jqn '{rows}[0]')
is "$(echo "$T" | jqn '{opens_by_class}{human}')" 3 "opens: 3 by people"
is "$(echo "$T" | jqn '{opens_by_class}{proxy}')" 2 "opens: 2 through proxies"
is "$(echo "$T" | jqn '{opens_by_class}{scanner}')" 1 "opens: 1 re-labelled by the honeypot"
is "$(echo "$T" | jqn '{clicks_by_class}{human}')" 1 "clicks: 1 by a person (a burst is labelled whole)"
is "$(echo "$T" | jqn '{clicks_by_class}{scanner}')" 7 "clicks: 7 scanners (fast, network, a whole burst of 3, honeypot, honeypot source)"
is "$(echo "$T" | jqn '{clicks_by_class}{bot}')" 1 "clicks: 1 bot (curl)"
is "$(echo "$T" | jqn '{clicks_by_class}{prefetch}')" 2 "clicks: 2 prefetches (HEAD, Sec-Purpose)"

C=$(mt_ctl stats --by campaign --json)
is "$(echo "$C" | jqn '{rows}[1]{name}')" spring "campaign rows sorted: spring"
SP=$(echo "$C" | jqn '{rows}[1]')
FA=$(echo "$C" | jqn '{rows}[0]')
is "$(echo "$SP" | jqn '{sent}')" 1 "spring: sent 1"
is "$(echo "$SP" | jqn '{opens}')" 4 "spring: 4 opens"
is "$(echo "$SP" | jqn '{unique_opens}')" 1 "spring: 1 unique open (one recipient)"
is "$(echo "$SP" | jqn '{opens_human}')" 3 "spring: 3 human opens"
is "$(echo "$SP" | jqn '{clicks}')" 6 "spring: 6 clicks"
is "$(echo "$SP" | jqn '{clicks_human}')" 1 "spring: 1 human click"
is "$(echo "$SP" | jqn '{unique_clicks_human}')" 1 "spring: 1 person clicked"
is "$(echo "$SP" | jqn '{click_to_open}')" 1 "spring: click-to-open 1"
is "$(echo "$FA" | jqn '{opens}')" 2 "fall: 2 opens"
is "$(echo "$FA" | jqn '{unique_opens}')" 2 "fall: 2 unique opens (two recipients: per source)"
is "$(echo "$FA" | jqn '{unique_opens_human}')" 0 "fall: no person opened (the honeypot took back .8)"
is "$(echo "$FA" | jqn '{clicks}')" 5 "fall: 5 clicks"
is "$(echo "$FA" | jqn '{clicks_human}')" 0 "fall: no human click (the burst's first clicks too)"
is "$(echo "$FA" | jqn '{unique_clicks}')" 2 "fall: 2 unique clickers"
is "$(echo "$FA" | jqn '{unique_clicks_human}')" 0 "fall: no person clicked (the burst took back .7)"

D=$(mt_ctl stats --by domain --json)
is "$(echo "$D" | jqn '{rows}[0]{name}') $(echo "$D" | jqn '{rows}[1]{name}')" \
	"example.com example.org" "domain rows"
is "$(mt_ctl stats --by day --json | jqn '{rows}[0]{clicks}')" 11 "day row: 11 clicks"
M=$(mt_ctl stats --by message --campaign fall --json)
is "$(echo "$M" | jqn '{rows}[0]{name}')" "<b@example.com>" "message rows filtered by campaign"
is "$(echo "$M" | jcount '{rows}')" 1 "one message in campaign fall"
L=$(mt_ctl stats --by link --message '<b@example.com>' --json)
is "$(echo "$L" | jqn '{rows}[0]{name}')" "https://example.com/b/1" "link rows of one message"
is "$(echo "$L" | jqn '{rows}[0]{clicks}')" 2 "link b/1: 2 clicks"
is "$(echo "$L" | jqn '{rows}[0]{clicks_human}')" 0 "link b/1: none by a person (burst, honeypot source)"

# the event path (a time window with a grouping) agrees with the counters
E=$(mt_ctl stats --by campaign --since 1h --json)
is "$(echo "$E" | jqn '{rows}')" "$(echo "$C" | jqn '{rows}')" \
	"--since over events gives the same rows as the counters"
is "$(echo "$E" | jqn '{rows}[1]{clicks_by_class}')" "$(echo "$SP" | jqn '{clicks_by_class}')" \
	"event path: spring clicks by class match the counters"
is "$(echo "$E" | jqn '{rows}[0]{unique_clicks}')" 2 "event path: fall unique clicks"
is "$(mt_ctl stats --by campaign --since 2000-01-01 --until 2000-01-02 --json | jqn '{rows}')" "[]" \
	"an empty window has no rows"

# table and CSV
TB=$(mt_ctl stats --by campaign)
like "$(echo "$TB" | head -1)" '^campaign +SENT +OPENS +U-OPENS +HUMAN +MACHINE +CLICKS' "table header"
like "$(echo "$TB" | grep '^spring')" '^spring +1 +4 +1 +3 +1 +6 +1 +1 +5 +100.0%' "table row"
CSV=$(mt_ctl stats --by campaign --csv)
like "$(echo "$CSV" | head -1)" '^name,sent,opens,unique_opens,opens_human' "CSV header"
like "$(echo "$CSV" | grep '^spring')" '^spring,1,4,1,3,1,1,6,1,1,5,1,1\.0000' "CSV row"

# show and export
SH=$(mt_ctl show '<a@example.com>' --json)
is "$(echo "$SH" | jqn '{stats}{clicks}')" 6 "show: 6 clicks"
is "$(echo "$SH" | jcount '{events}')" 10 "show: 10 events"
like "$(mt_ctl show '<a@example.com>')" 'too-fast' "show text lists the reasons"
X=$(mt_ctl export --since 1h)
is "$(echo "$X" | wc -l)" 17 "export: 17 events as JSON lines"
is "$(echo "$X" | grep -c '"class":"scanner"')" 8 "export and stats agree on scanners"
is "$(echo "$X" | grep -c '"reason":"honeypot-source"')" 2 "export: honeypot sources re-labelled"
like "$(echo "$X" | grep '127.0.0.9' | head -1)" '"reason":"test-scanner"' "client from X-Forwarded-For of a trusted proxy"
is "$(echo "$X" | grep -c '"ip":"127.0.0.9"')" 1 "X-Forwarded-For from an untrusted peer ignored"
is "$(echo "$X" | grep '"reason":"burst"' | grep -c '"ip":"127.0.0.7"')" 3 "burst from one source, labelled whole"
like "$(echo "$X" | head -1)" '"campaign":"spring"' "export lines carry the campaign"

# prune: nothing is old enough, then everything is
like "$(mt_ctl prune --older-than 1)" 'messages=0 links=0 events=0' "prune --older-than 1 keeps today's mail"
like "$(mt_ctl prune --older-than 0 --yes)" 'messages=2 links=6 events=17' "prune --older-than 0 removes all"
is "$(curl -s -o /dev/null -w '%{http_code}' "$A1")" 404 "a pruned link answers 404"
is "$(mt_ctl export | wc -l)" 0 "no events left"
is "$(mdb_stat -s links "$MT_DIR/db" | sed -n 's/ *Entries: //p')" 0 "no links left"
done_testing
