#!/bin/bash
# 57-report-browser.t - a real browser renders the report: Debian's
# headless Chromium loads the file of mtrackctl report --html and the page
# at /report; the DOM it rendered has the charts and the totals, the
# numbers equal stats --json, no script ran or failed, and the <script>
# and quotes of a campaign name, a URL and a User-Agent stayed text.
# Screenshots are saved in the test's temp dir (MTRACK_KEEP=1 keeps it).
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"
. "$TOP/tests/lib/report.sh"
. "$TOP/tests/lib/chromium.sh"

command -v "$CHR_BIN" >/dev/null || skip_all "chromium is not installed"
rp_start

# rendered NAME: what a page must show once a browser rendered it
rendered() {
	local n=$1 dom
	dom=$(cat "$W/$n.dom")
	like "$dom" '<svg class="chart"' "$n: the charts are in the DOM"
	ok $([ "$(grep -o '<rect class="bar s[01]"' "$W/$n.dom" | wc -l)" -ge 2 ]; echo $?) \
		"$n: bars drawn"
	like "$dom" '<h3>Sent</h3><div class="big"><span data-k="sent" data-v="[0-9]+">[0-9]+</span>' \
		"$n: the totals shown"
	is "$(chr_console "$W" "$n")" "" "$n: no console message, script error or refused load"
	if grep -Eq '<script|<img|<iframe| on[a-z]+=' "$W/$n.dom"; then
		ok 1 "$n: no element or handler came from the data"
	else
		ok 0 "$n: no element or handler came from the data"
	fi
	ok $([ "$(head -c 8 "$W/$n.png" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]; echo $?) \
		"$n: a screenshot ($W/$n.png)"
}

mt_ctl report --html > "$W/all.html"
chr_load "file://$W/all.html" "$W" file
ok $? "Chromium loaded the file"
rendered file
out=$(rp_cmp "$W/file.dom")
ok $? "file: the rendered numbers equal stats --json"
[ -n "$out" ] && echo "$out"
# text, as the DOM serializer writes it: < > & escaped, quotes as they are
like "$(cat "$W/file.dom")" '&lt;script&gt;alert\("c"\)&lt;/script&gt; &amp; '"'"'spring'"'"'</td>' \
	"file: the campaign name is text"
like "$(cat "$W/file.dom")" '<td class="url">https://example.com/\?q=&lt;script&gt;alert\("u"\)&lt;/script&gt;&amp;x='"'"'1'"'"'</td>' \
	"file: the URL is text"

chr_load "http://127.0.0.1:$RP_APORT/report?message=%3Ca%40example.com%3E" "$W" admin
ok $? "Chromium loaded /report of one message"
rendered admin
out=$(rp_cmp "$W/admin.dom" --message '<a@example.com>')
ok $? "/report: the rendered numbers equal stats --json"
[ -n "$out" ] && echo "$out"
like "$(cat "$W/admin.dom")" '<td class="t ua">Mozilla/5.0 [^<]*&lt;script&gt;alert\("ua"\)&lt;/script&gt;'"'"'</td>' \
	"/report: the User-Agent is text"
is "$(grep -o '<td class="t ua">' "$W/admin.dom" | wc -l)" 8 "/report: the 8 events of the message"

# the harness itself: a page whose script fails is caught
printf '<!DOCTYPE html><html><body><p>x</p><script>nosuchfunction();</script></body></html>' > "$W/bad.html"
chr_load "file://$W/bad.html" "$W" bad
like "$(chr_console "$W" bad)" 'nosuchfunction' "a failing script would be seen"
done_testing
