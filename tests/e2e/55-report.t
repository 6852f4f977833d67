#!/bin/bash
# 55-report.t - mtrackctl report --html: every number of the page equals
# mtrackctl stats --json for the same filters (totals, time buckets, links,
# campaigns, domains); text from mail and requests (a campaign name, a URL,
# a User-Agent carrying <script> and quotes) comes out escaped; the page
# loads nothing from elsewhere.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"
. "$TOP/tests/lib/report.sh"

rp_start
is "$(mt_ctl stats --json | perl -MJSON::PP -0777 -ne 'print decode_json($_)->{clicks}')" 10 \
	"the fixture: 10 clicks recorded"

report() { mt_ctl report "$@" --html; }
check() {	# NAME FILTER...: the page of these filters agrees with stats
	local name=$1 out
	shift
	report "$@" > "$W/r.html" 2>"$W/err"
	ok $? "report $name: written"
	out=$(rp_cmp "$W/r.html" "$@")
	ok $? "report $name: every number equals stats --json"
	[ -n "$out" ] && echo "$out"
}
check "of all mail"
check "of campaign fall" --campaign fall
check "of the <script> campaign" --campaign "$RP_EVIL_C"
check "of a sending domain" --domain example.org
check "of one message" --message '<a@example.com>'
check "of the last hour" --since 1h
check "of a window" --since 1h --until 0m
check "of an empty window" --since 2000-01-01 --until 2000-01-02

# what the page of all mail shows
report > "$W/all.html"
like "$(grep -o 'data-k="clicks" data-v="[0-9]*"' "$W/all.html" | head -1)" 'data-v="10"' "total clicks on the page"
like "$(cat "$W/all.html")" '<section id="campaigns">' "campaigns side by side without a filter"
like "$(cat "$W/all.html")" '<section id="domains">' "sending domains side by side without a filter"
is "$(grep -o '<svg class="chart"' "$W/all.html" | wc -l)" 4 "four charts: opens, clicks, campaigns, domains"
like "$(cat "$W/all.html")" 'Over time, per hour' "events of one day: per hour"
like "$(cat "$W/all.html")" '<td class="url">https://example.com/\?q=&lt;script&gt;alert\(&quot;u&quot;\)&lt;/script&gt;&amp;x=&#39;1&#39;</td>' \
	"the URL escaped"
like "$(cat "$W/all.html")" '<td class="t">&lt;script&gt;alert\(&quot;c&quot;\)&lt;/script&gt; &amp; &#39;spring&#39;</td>' \
	"the campaign name escaped"
R=$(perl -0777 -ne 'print $1 if /<table id="links">(.*?)<\/table>/s' "$W/all.html")
like "$R" '<tr><td>1</td><td class="url">https://example.com/\?q=[^<]*</td><td>2</td><td data-k="clicks_human" data-v="2">' \
	"the first link: the most clicks by people (2, and 3 in all), second in its message"
like "$R" '^<tr>.*?<tr>.*?data-v="0.333333">33.3%' "its share of people's clicks: 2 of 6"
report --campaign fall > "$W/fall.html"
unlike() { if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; else ok 0 "$3"; fi; }
unlike "$(cat "$W/fall.html")" '<section id="campaigns">' "no campaign table with a campaign filter"
like "$(cat "$W/fall.html")" 'id="filter">campaign fall' "the filter named"

report --message '<a@example.com>' > "$W/a.html"
like "$(cat "$W/a.html")" '<table id="timeline">' "one message: its events"
is "$(grep -o '<td class="t ua">' "$W/a.html" | wc -l)" 8 "one message: its 8 events"
like "$(cat "$W/a.html")" '<td class="t ua">Mozilla/5.0 [^<]*&lt;script&gt;alert\(&quot;ua&quot;\)&lt;/script&gt;&#39;</td>' \
	"the User-Agent escaped"
like "$(cat "$W/a.html")" '<td class="t c-prefetch">prefetch</td><td class="t">purpose-prefetch</td>' \
	"verdict and reason of each event"

# nothing from the data makes markup, nothing is loaded from elsewhere
for f in all fall a; do
	unlike "$(cat "$W/$f.html")" '<script|<img|<iframe|<link|<object| on[a-z]+=|href=|src=' \
		"$f: no script, no element or attribute from the data, nothing loaded"
done
like "$(head -c 400 "$W/all.html")" "Content-Security-Policy\" content=\"default-src 'none'" \
	"a Content-Security-Policy that forbids scripts"

# bad filters
report --campaign a --bogus >/dev/null 2>&1
is $? 2 "unknown option: status 2"
mt_ctl report --campaign a >/dev/null 2>&1
is $? 2 "without --html: status 2"
report --since yesterday >/dev/null 2>"$W/err"
is $? 2 "a bad time: status 2"
report --message '<nobody@example.com>' >/dev/null 2>"$W/err"
is $? 1 "an unknown message: status 1"
like "$(cat "$W/err")" 'no message' "an unknown message: said"
report --campaign "$(printf 'a\001b')" >/dev/null 2>&1
is $? 2 "a control byte in a filter: status 2"
done_testing
