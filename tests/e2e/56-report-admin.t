#!/bin/bash
# 56-report-admin.t - the report page at /report on the tracker's admin
# listener: never on the public one; the filters as query parameters, bad
# ones answered 400; the numbers equal mtrackctl stats --json; read again
# on every request, so new events show on reload.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"
. "$TOP/tests/lib/report.sh"

rp_start
A="http://127.0.0.1:$RP_APORT"
hdr() { curl -s -D - -o /dev/null "$1" | tr -d '\r'; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# only on the admin listener
is "$(code "$MT_URL/report")" 404 "not on the public listener"
is "$(code "$MT_URL/report?campaign=fall")" 404 "not on the public listener, with parameters"
is "$(code "$A/report")" 200 "on the admin listener"
H=$(hdr "$A/report")
like "$H" 'Content-Type: text/html; charset=utf-8' "HTML in UTF-8"
like "$H" "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'" "no script may run"
like "$H" 'Cache-Control: no-store' "not cached"
like "$H" 'X-Content-Type-Options: nosniff' "nosniff"
is "$(code -X POST "$A/report")" 405 "POST: 405"
is "$(code -I "$A/report")" 200 "HEAD: 200"

# the numbers, with filters as query parameters (percent-encoded, + for space)
page() {	# NAME QUERY FILTER...: /report?QUERY equals stats --json FILTER...
	local name=$1 q=$2 out
	shift 2
	is "$(curl -s -o "$W/p.html" -w '%{http_code}' "$A/report$q")" 200 "/report $name: 200"
	out=$(rp_cmp "$W/p.html" "$@")
	ok $? "/report $name: every number equals stats --json"
	[ -n "$out" ] && echo "$out"
}
page "" ""
page "?campaign=fall" "?campaign=fall" --campaign fall
EVQ=$(perl -MURI::Escape -e 'print uri_escape($ARGV[0])' "$RP_EVIL_C" 2>/dev/null ||
	perl -e '$_ = shift; s/([^A-Za-z0-9_.~-])/sprintf("%%%02X", ord $1)/ge; print' "$RP_EVIL_C")
page "?campaign=<script>..." "?campaign=$EVQ" --campaign "$RP_EVIL_C"
page "?domain=example.org&since=1h" "?domain=example.org&since=1h" --domain example.org --since 1h
page "?message=<a@example.com>" "?message=%3Ca%40example.com%3E" --message '<a@example.com>'
page "?since=...&until=..." "?since=2000-01-01&until=2000-01-02T00:00" --since 2000-01-01 --until 2000-01-02T00:00
curl -s "$A/report?campaign=$EVQ" > "$W/evil.html"
like "$(cat "$W/evil.html")" 'id="filter">campaign &lt;script&gt;alert\(&quot;c&quot;\)&lt;/script&gt; &amp; &#39;spring&#39;' \
	"the filter from the query string escaped"
curl -s "$A/report?campaign=news+letter" > "$W/plus.html"
like "$(cat "$W/plus.html")" 'id="filter">campaign news letter<' "+ is a space"

# bad parameters: 400 with the reason, as text
for q in "bogus=1" "campaign" "campaign=" "campaign=a&campaign=b" "since=yesterday" \
	"until=2026-13-45" "since=1h&since=2h" "message=a%00b" "campaign=a%01b" \
	"campaign=$(head -c 300 /dev/zero | tr '\0' x)" "a=1&b=2&c=3&d=4&e=5&f=6"; do
	is "$(code "$A/report?$q")" 400 "400 for ?$(printf '%.40s' "$q")"
done
like "$(curl -s "$A/report?since=yesterday")" 'since: bad or repeated time "yesterday"' "the reason given"
like "$(hdr "$A/report?bogus=1")" 'Content-Type: text/plain' "a reason as plain text"
is "$(code "$A/report?message=%3Cnobody%40example.com%3E")" 404 "an unknown message: 404"

# refreshed on reload: two more clicks, then the page again
before=$(curl -s "$A/report" | grep -o 'data-k="clicks" data-v="[0-9]*"' | head -1)
rp_click 127.0.0.2 "${RP_A[0]}" -A "$RP_FF" >/dev/null
rp_click 127.0.0.2 "${RP_A[2]}" -A "$RP_FF" >/dev/null
for i in $(seq 400); do
	mt_ctl stats --json | grep -q '"clicks": 12' && break
	sleep 0.05
done
is "$before" 'data-k="clicks" data-v="10"' "before: 10 clicks"
after=$(curl -s "$A/report" | grep -o 'data-k="clicks" data-v="[0-9]*"' | head -1)
is "$after" 'data-k="clicks" data-v="12"' "after a reload: 12 clicks"
page "after new clicks" ""
grep -q 'route="report",code="200"' <(curl -s "$A/metrics")
ok $? "/report counted in /metrics"
done_testing
