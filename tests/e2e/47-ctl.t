#!/bin/bash
# 47-ctl.t - mtrackctl as an operator meets it: --help on every command and
# a help command; a bad option value names the option and the reason; prune
# (ages as --since reads them, nan/inf/1e300/negative refused, --dry-run,
# everything only with --yes); rewrite --dry-run records nothing; show takes
# a Message-ID with or without brackets; stats CSV has one name per column,
# whole URLs in JSON/CSV, SENT per link, --by url; export filters, RFC 3339
# times and CSV; domain add exits 0; text from mail cannot reach a terminal
# as control bytes nor a spreadsheet as a formula.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ -x "$TOP/ctl/mtrackctl" ] || skip_all "build first: make"
W=$(mktemp -d)
trap 'mt_stop; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
jq1() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

mt_config "$W/mt" "click_min_seconds = 0"
mt_start_tracker || bail "tracker did not start"

# -- help --------------------------------------------------------------------
for cmd in rewrite stats report show export prune domain verdict webhook keygen collect help; do
	grep -q "\"$cmd\"" "$TOP/ctl/main.c" || continue
	out=$(mt_ctl "$cmd" --help 2>&1); rc=$?
	ok $rc "$cmd --help exits 0"
	like "$out" "^usage: mtrackctl $cmd" "$cmd --help prints its usage"
done
out=$(mt_ctl help stats 2>&1)
like "$out" "^usage: mtrackctl stats" "help stats"
like "$(mt_ctl help 2>&1)" "mtrackctl prune" "help lists the commands"
mt_ctl help nosuch >/dev/null 2>&1
is $? 2 "help of an unknown command exits 2"

# -- messages ----------------------------------------------------------------
long=$(printf 'https://example.com/long?%0600d' 0)
mkmsg() {	# ID CAMPAIGN URL...: a small HTML message
	local id=$1 camp=$2 u
	shift 2
	{
		printf 'From: News <news@example.com>\nTo: r@example.net\nSubject: %s\n' "$id"
		printf 'Message-ID: <%s@example.com>\nX-Mtrack-Campaign: %s\n' "$id" "$camp"
		printf 'MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>\n'
		for u in "$@"; do printf '<a href="%s">x</a>\n' "$u"; done
		printf '</body></html>\n'
	} > "$W/$id.eml"
}
mkmsg m1 spring https://example.com/a https://example.com/b "$long"
mkmsg m2 spring https://example.com/a https://example.com/c
printf 'From: a@example.com\nTo: b@example.net\nSubject: x\nMessage-ID: <evil\033]0;owned\007@example.com>\nX-Mtrack-Campaign: =HYPERLINK("http://evil")\033[31m\nContent-Type: text/html\n\n<a href="https://example.com/x">x</a>\n' > "$W/m3.eml"
for m in m1 m2 m3; do
	mt_ctl rewrite --from news@example.com --to r@example.net < "$W/$m.eml" > "$W/$m.out" 2>/dev/null
done
sent=$(mt_ctl stats --json | jq1 'd["messages"]')
is "$sent" 3 "three messages recorded"

# rewrite --dry-run: the preview, nothing recorded
mt_ctl rewrite --dry-run --from news@example.com --to r@example.net < "$W/m1.eml" > "$W/dry.out" 2>"$W/dry.err"
ok $? "rewrite --dry-run exits 0"
like "$(cat "$W/dry.out")" "/click/" "rewrite --dry-run prints the rewritten message"
like "$(cat "$W/dry.err")" "recorded=no" "rewrite --dry-run says nothing was recorded"
is "$(mt_ctl stats --json | jq1 'd["messages"]')" 3 "rewrite --dry-run added no message"
is "$(mt_ctl stats --json | jq1 'd["rows"][0]["sent"]')" 3 "rewrite --dry-run did not count as sent"
dl=$(grep -o '/click/[A-Za-z0-9_-]*' "$W/dry.out" | head -1)
is "$(curl -s -o /dev/null -w '%{http_code}' "$MT_URL$dl")" 404 "a dry run's link is unknown to the tracker"

# clicks: m1's /a and the long URL, m2's /a
click() { curl -s -o /dev/null -A 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0' -H 'Accept: */*' -H 'Accept-Language: en' "$MT_URL$1"; }
L=($(grep -o '/click/[A-Za-z0-9_-]*' "$W/m1.out")); M=($(grep -o '/click/[A-Za-z0-9_-]*' "$W/m2.out"))
click "${L[0]}"; click "${L[2]}"; click "${M[0]}"; click "${M[1]}"
for i in $(seq 100); do [ "$(mt_ctl stats --json | jq1 'd["clicks"]')" = 4 ] && break; sleep 0.1; done

# -- show --------------------------------------------------------------------
out=$(mt_ctl show '<m1@example.com>' 2>&1)
like "$out" '^message   <m1@example.com>' "show <ID>: the heading prints the Message-ID"
out=$(mt_ctl show 'm1@example.com' 2>&1)
like "$out" '^message   <m1@example.com>' "show ID without brackets finds it"
out=$(mt_ctl show "$(printf 'evil\033]0;owned\007@example.com')" 2>&1)
ok $(printf '%s' "$out" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; echo $((! $?))) "show: no control byte from mail reaches the terminal"
like "$out" 'evil\\x1b\]0;owned\\x07@' "show: control bytes are shown escaped"

# -- stats -------------------------------------------------------------------
hdr=$(mt_ctl stats --csv | head -1 | tr -d '\r')
dups=$(printf '%s\n' "$hdr" | tr ',' '\n' | sort | uniq -d)
is "$dups" "" "stats --csv: one name per column"
out=$(mt_ctl stats --by campaign 2>&1)
ok $(printf '%s' "$out" | LC_ALL=C grep -q $'\x1b'; echo $((! $?))) "stats table: no ESC from a campaign name"
csv=$(mt_ctl stats --by campaign --csv)
like "$csv" "\"'=HYPERLINK" "stats --csv: a formula cell is neutralised with a leading quote"
json=$(mt_ctl stats --by link --campaign spring --json)
is "$(printf '%s' "$json" | jq1 'max(len(r["name"]) for r in d["rows"])')" "${#long}" "stats --by link --json: the whole URL"
is "$(printf '%s' "$json" | jq1 'sorted(set(r["sent"] for r in d["rows"]))')" "[1]" "stats --by link: SENT is 1 for every link"
csvl=$(mt_ctl stats --by link --campaign spring --csv)
ok $(printf '%s' "$csvl" | grep -qF "${long},"; echo $?) "stats --by link --csv: the whole URL"
json=$(mt_ctl stats --by url --campaign spring --json)
is "$(printf '%s' "$json" | jq1 '[ (r["sent"], r["clicks"]) for r in d["rows"] if r["name"] == "https://example.com/a"][0]')" "(2, 2)" "stats --by url: one row for a URL in two messages (sent 2, clicks 2)"
is "$(printf '%s' "$json" | jq1 'len(d["rows"])')" 4 "stats --by url: four distinct URLs in the campaign"
mt_ctl stats --by nosuch >/dev/null 2>"$W/err"
like "$(cat "$W/err")" '--by: unknown "nosuch"' "stats --by: a bad value is named"

# -- export ------------------------------------------------------------------
mt_ctl export --since garbage >/dev/null 2>"$W/err"; rc=$?
is $rc 2 "export --since garbage exits 2"
like "$(cat "$W/err")" 'export --since: "garbage" is no time' "export --since garbage names the option and why"
out=$(mt_ctl export --type click --campaign spring)
is "$(printf '%s\n' "$out" | grep -c .)" 4 "export --type click --campaign spring: four events"
like "$(printf '%s\n' "$out" | head -1)" '"date":"20[0-9-]+T[0-9:]+\.[0-9]{6}Z"' "export: an RFC 3339 date beside the time in microseconds"
out=$(mt_ctl export --time rfc3339 | head -1)
like "$out" '"time":"20[0-9-]+T[0-9:.]+Z".*"time_us":[0-9]+' "export --time rfc3339"
is "$(mt_ctl export --class scanner | grep -c .)" 0 "export --class scanner: none here"
is "$(mt_ctl export --domain example.org | grep -c .)" 0 "export --domain: another sending domain, none"
mt_ctl export --class robot >/dev/null 2>"$W/err"
like "$(cat "$W/err")" 'export --class: "robot"' "export --class: a bad value is named"
csv=$(mt_ctl export --csv)
like "$(printf '%s\n' "$csv" | head -1)" '^time,time_us,type,class,reason,message_id,campaign' "export --csv header"
is "$(printf '%s\n' "$csv" | tail -n +2 | grep -c .)" 4 "export --csv: a line per event"

# -- prune -------------------------------------------------------------------
for bad in garbage nan inf 1e300 -1; do
	mt_ctl prune --older-than "$bad" >/dev/null 2>"$W/err"; rc=$?
	is $rc 2 "prune --older-than $bad exits 2"
	like "$(cat "$W/err")" "--older-than: \"$bad\"" "prune --older-than $bad: named, with the reason"
done
out=$(mt_ctl prune --older-than 7d 2>&1)
like "$out" '^pruned messages=0 ' "prune --older-than 7d: nothing that old"
out=$(mt_ctl prune --older-than 0 --dry-run 2>&1)
like "$out" '^would prune messages=3 links=6 events=4 ' "prune --dry-run counts what would go"
is "$(mt_ctl stats --json | jq1 'd["clicks"]')" 4 "prune --dry-run deleted nothing"
is "$(mt_ctl export | grep -c .)" 4 "prune --dry-run: the events are still there"
mt_ctl prune --older-than 0 </dev/null >/dev/null 2>"$W/err"; rc=$?
is $rc 2 "prune of every message without --yes is refused off a terminal"
like "$(cat "$W/err")" 'every message \(3\).*--yes' "and says why"
is "$(mt_ctl export | grep -c .)" 4 "the refused prune removed nothing"
out=$(mt_ctl prune --older-than 0 --yes 2>&1)
like "$out" '^pruned messages=3 links=6 events=4 ' "prune --yes removes everything"
is "$(mt_ctl export | grep -c .)" 0 "no event is left"

# -- domain add ----------------------------------------------------------------
mt_ctl domain add track.example.test >"$W/out" 2>"$W/err"; rc=$?
is $rc 0 "domain add exits 0 when it added the domain"
like "$(cat "$W/out")" 'added' "domain add says added"

mt_stop
done_testing
