# report.sh - a small store for the report tests (sourced after tap.sh,
# postfix.sh and mtrack.sh; bash).
#
#   rp_start         the temp dir $W (removed at exit unless MTRACK_KEEP is
#                    set), the daemons stopped at exit, then rp_fixture "$W"
#                    or bail out
#   rp_fixture DIR   config on free ports (admin listener on $RP_APORT), the
#                    tracker started, three messages rewritten, clicks and
#                    opens by people and by each kind of machine sent; the
#                    tracker restarted so that every event is committed.
#                    Text from mail and requests carries <script> and quotes:
#                    the campaign $RP_EVIL_C, the URL $RP_EVIL_URL, the
#                    User-Agent $RP_EVIL_UA (of clicks on message <a@example.com>).
#   rp_click SRC URL [curl options]   one request, its status code
#   rp_admin PATH     GET on the admin listener: the body; RP_CODE the status
#   rp_cmp HTML FILTER...   compare the report HTML with mtrackctl stats --json
#                    for the same filters (tests/lib/report_cmp.pl); prints
#                    the differences, 0 when there are none
RP_EVIL_C='<script>alert("c")</script> & '"'"'spring'"'"
RP_EVIL_URL='https://example.com/?q=<script>alert("u")</script>&x='"'"'1'"'"
RP_EVIL_UA='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0 <script>alert("ua")</script>'"'"
RP_FF='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'

rp_click() {
	local src=$1 url=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' --interface "$src" "$@" "$url"
}

rp_admin() {
	local out
	out=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$RP_APORT$1")
	RP_CODE=${out##*$'\n'}
	printf '%s' "${out%$'\n'*}"
}

# rp_msg DIR ID CAMPAIGN FROM: a message whose links are rp_links
_rp_msg() {
	local html
	html=$(perl -e 'my $u = shift; $u =~ s/&/&amp;/g; $u =~ s/</&lt;/g; $u =~ s/>/&gt;/g; $u =~ s/"/&quot;/g; print $u' "$RP_EVIL_URL")
	{
		printf 'From: News <%s>\nTo: r@example.net\nSubject: %s\nMessage-ID: <%s@example.com>\n' "$4" "$2" "$2"
		printf 'X-Mtrack-Campaign: %s\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>\n' "$3"
		printf '<a href="https://example.com/%s/first">first</a>\n' "$2"
		printf '<a href="%s">odd</a>\n' "$html"
		printf '<a href="https://example.com/%s/third">third</a>\n' "$2"
		printf '</body></html>\n'
	} > "$1/$2.eml"
}

# _rp_links FILE: the tracking links of a rewritten message, in order
_rp_links() { grep -o "$MT_URL/click/[A-Za-z0-9_-]*" "$1"; }
_rp_pixel() { grep -o "$MT_URL/open/[A-Za-z0-9_-]*\.png" "$1" | head -n 1; }

rp_fixture() {
	local d=$1 a b c ao bo co i
	RP_APORT=$(free_port) || return 1
	mt_config "$d/mt" "admin_listen = 127.0.0.1:$RP_APORT" \
		"click_min_seconds = 0" "burst_links = 0" || return 1
	mt_start_tracker || return 1
	wait_port "$RP_APORT" 10 "$MT_TRACKER_PID" || return 1
	_rp_msg "$d" a "$RP_EVIL_C" news@example.com
	_rp_msg "$d" b fall news@example.org
	_rp_msg "$d" c fall news@example.com
	mt_ctl rewrite --from news@example.com --to r@example.net < "$d/a.eml" > "$d/a.out" 2>/dev/null &&
	mt_ctl rewrite --from news@example.org --to r1@example.net --to r2@example.net < "$d/b.eml" > "$d/b.out" 2>/dev/null &&
	mt_ctl rewrite --from news@example.com --to r@example.net < "$d/c.eml" > "$d/c.out" 2>/dev/null || return 1
	mapfile -t a < <(_rp_links "$d/a.out")
	mapfile -t b < <(_rp_links "$d/b.out")
	mapfile -t c < <(_rp_links "$d/c.out")
	ao=$(_rp_pixel "$d/a.out"); bo=$(_rp_pixel "$d/b.out"); co=$(_rp_pixel "$d/c.out")
	[ "${#a[@]}" -ge 3 ] && [ "${#b[@]}" -ge 3 ] && [ -n "$ao" ] && [ -n "$bo" ] || return 1
	# message a: a person (with the odd User-Agent) opens twice and clicks
	# two links, Gmail's proxy opens, curl and a prefetch click
	rp_click 127.0.0.2 "$ao" -A "$RP_EVIL_UA" >/dev/null
	rp_click 127.0.0.2 "$ao" -A "$RP_EVIL_UA" >/dev/null
	rp_click 127.0.0.3 "$ao" -A 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' >/dev/null
	rp_click 127.0.0.2 "${a[1]}" -A "$RP_EVIL_UA" >/dev/null
	rp_click 127.0.0.2 "${a[0]}" -A "$RP_EVIL_UA" >/dev/null
	rp_click 127.0.0.2 "${a[1]}" -A "$RP_EVIL_UA" >/dev/null
	rp_click 127.0.0.4 "${a[1]}" >/dev/null
	rp_click 127.0.0.4 "${a[2]}" -A "$RP_FF" -H 'Sec-Purpose: prefetch' >/dev/null
	# message b: two recipients, people and a scanner
	rp_click 127.0.0.5 "$bo" -A "$RP_FF" >/dev/null
	rp_click 127.0.0.6 "$bo" -A "$RP_FF" >/dev/null
	rp_click 127.0.0.5 "${b[2]}" -A "$RP_FF" >/dev/null
	rp_click 127.0.0.6 "${b[2]}" -A "$RP_FF" >/dev/null
	rp_click 127.0.0.6 "${b[0]}" -A "$RP_FF" >/dev/null
	rp_click 127.0.0.7 "${b[0]}" -A 'Mozilla/5.0 SafeLinks' >/dev/null
	# message c: one HEAD (prefetch) click, an Apple MPP open
	rp_click 127.0.0.8 "${c[0]}" -A "$RP_FF" -I >/dev/null
	[ -n "$co" ] && rp_click 127.0.0.9 "$co" -A 'Mozilla/5.0' >/dev/null
	RP_A=("${a[@]}")
	mt_stop	# every event committed
	mt_start_tracker || return 1
	wait_port "$RP_APORT" 10 "$MT_TRACKER_PID"
}

rp_cmp() {
	local html=$1 j
	shift
	j=$(mktemp -d) || return 1
	mt_ctl stats --json "$@" > "$j/total.json" &&
	mt_ctl stats --by day --json "$@" > "$j/day.json" &&
	mt_ctl stats --by hour --json "$@" > "$j/hour.json" &&
	mt_ctl stats --by link --json "$@" > "$j/link.json" &&
	mt_ctl stats --by campaign --json "$@" > "$j/campaign.json" &&
	mt_ctl stats --by domain --json "$@" > "$j/domain.json" || { rm -rf "$j"; return 1; }
	perl "$TOP/tests/lib/report_cmp.pl" "$html" "$j"
	local rc=$?
	rm -rf "$j"
	return $rc
}

rp_start() {
	W=$(mktemp -d) || bail "mktemp"
	trap 'mt_stop; if [ -n "${MTRACK_KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi' EXIT
	trap 'exit 130' INT TERM HUP
	rp_fixture "$W" ||
		bail "the fixture failed (tracker log: $(tail -3 "$W/mt/tracker.log" 2>/dev/null))"
}
