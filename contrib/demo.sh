#!/bin/sh
# demo.sh - "make demo": mtrack end to end on loopback, leaving nothing behind.
#
# A private Postfix (tests/lib/postfix.sh: its own config, queue and ports,
# the system's Postfix is not touched) with smtpd_milters pointing at
# mtrack-milter; mtrack-tracker beside it; a temporary config and database.
# Sends contrib/examples/newsletter.eml through Postfix, shows the rewritten
# links of the delivered copy, follows one click, loads the open pixel,
# sends a few more readers and machines, prints mtrackctl stats and writes
# the report page to demo-report.html. Needs root (Postfix), like the
# end-to-end tests.
#
#   sh contrib/demo.sh [MESSAGE.eml]      DEMO_KEEP=1 keeps the temp dir,
#                                         DEMO_SHOT=docs/report.png takes the
#                                         README's screenshot of the report
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
MSG=${1:-contrib/examples/newsletter.eml}
TRACKER=$TOP/tracker/mtrack-tracker
MILTER=$TOP/milter/mtrack-milter
CTL=$TOP/ctl/mtrackctl

# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; show_logs; exit 1; }

for b in "$TRACKER" "$MILTER" "$CTL"; do
	[ -x "$b" ] || { echo "demo: $b is missing: run make first" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (it starts a private Postfix)" >&2; exit 1; }
for c in postfix smtp-sink swaks curl perl script; do
	command -v "$c" >/dev/null 2>&1 || { echo "demo: $c is not installed (make deps)" >&2; exit 1; }
done
[ -f "$MSG" ] || { echo "demo: no message $MSG" >&2; exit 1; }

DIR=''
show_logs() {
	[ -n "$DIR" ] || return 0
	for l in "$DIR/tracker.log" "$DIR/milter.log"; do
		[ -s "$l" ] || continue
		echo "--- last lines of $(basename "$l")" >&2
		tail -n 15 "$l" >&2
	done
	pf_log 15
}
# pf_cleanup stops Postfix, the sink and the daemons (pf_own), removes DIR
cleanup() { trap - EXIT; PF_KEEP=${DEMO_KEEP:-} pf_cleanup; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

DIR=$(pf_tmpdir) || die "cannot make a temp dir"
SMTP=$(free_port) || die "no free port"
SINK=$(free_port "$SMTP") || die "no free port"
MPORT=$(free_port "$SMTP" "$SINK") || die "no free port"
TPORT=$(free_port "$SMTP" "$SINK" "$MPORT") || die "no free port"
APORT=$(free_port "$SMTP" "$SINK" "$MPORT" "$TPORT") || die "no free port"
URL=http://127.0.0.1:$TPORT

# the private Postfix lives in DIR, the demo's own files beside it
pf_setup "$DIR" "$SMTP" "$SINK" "inet:127.0.0.1:$MPORT" || die "pf_setup failed"

CONF=$DIR/mtrack.conf
mkdir -p "$DIR/db"
{
	echo "# temporary configuration of contrib/demo.sh"
	echo "db_path = $DIR/db"
	echo "milter_socket = inet:$MPORT@127.0.0.1"
	echo "tracker_listen = 127.0.0.1:$TPORT"
	echo "tracking_url = $URL"
	echo "trusted_networks = 127.0.0.0/8, ::1"
	# keep the metrics listener off the default port, if this build has one
	"$CTL" -n 2>/dev/null | grep -q '^admin_listen' && echo "admin_listen = 127.0.0.1:$APORT"
	echo "log_level = info"
	# the demo's files are root's when it runs as root
	[ "$(id -u)" != 0 ] || echo "user = root"
} > "$CONF"
"$CTL" -n -c "$CONF" >/dev/null || die "bad configuration $CONF"

say "== mtrack demo (temp dir $DIR)"
"$TRACKER" -c "$CONF" >"$DIR/tracker.log" 2>&1 &
TPID=$!
pf_own "$TPID"
wait_port "$TPORT" 10 "$TPID" || die "mtrack-tracker did not start"
"$MILTER" -c "$CONF" >"$DIR/milter.log" 2>&1 &
MPID=$!
pf_own "$MPID"
wait_port "$MPORT" 10 "$MPID" || die "mtrack-milter did not start"
say "tracker   $URL  (pid $TPID)"
say "milter    inet:127.0.0.1:$MPORT  (pid $MPID)"

sink_start || die "smtp-sink did not start"
pf_start || die "postfix did not start"
say "postfix   127.0.0.1:$SMTP -> sink 127.0.0.1:$SINK  (smtpd_milters = inet:127.0.0.1:$MPORT)"

say ""
say "== sending $MSG ($(wc -c < "$MSG") bytes) with swaks"
qid=$(pf_send news@example.com reader@example.net "$MSG") || die "swaks failed"
f=$(sink_wait 1 20) || die "the message did not reach the sink"
say "queued as $qid, delivered to $f"

# html_of FILE: the decoded text/html parts of a message (quoted-printable
# and base64 undone), one after the other
html_of() {
	perl -MMIME::QuotedPrint -MMIME::Base64 -0777 -ne '
		sub walk {
			my ($ent) = @_;
			my ($h, $b) = split /\r?\n\r?\n/, $ent, 2;
			$b = "" unless defined $b;
			$h =~ s/\r?\n[ \t]+/ /g;
			my ($ct) = $h =~ /^Content-Type:\s*([^\n]*)/mi;
			$ct = "text/plain" unless defined $ct;
			my ($cte) = $h =~ /^Content-Transfer-Encoding:\s*(\S+)/mi;
			if ($ct =~ m{^multipart/}i) {
				my ($bd) = $ct =~ /boundary="?([^";]+)"?/i;
				return unless defined $bd;
				my @p = split /^--\Q$bd\E(?:--)?[ \t]*\r?\n/m, $b;
				shift @p;
				walk($_) for @p;
			} elsif ($ct =~ m{^text/html}i) {
				$b = decode_qp($b) if defined $cte && $cte =~ /^quoted-printable$/i;
				$b = decode_base64($b) if defined $cte && $cte =~ /^base64$/i;
				print $b;
			}
		}
		walk($_);' -- "$1"
}
# hrefs: the href values of the HTML on stdin, entities &amp; undone, in order
hrefs() {
	perl -0777 -ne 'while (/<(?:a|area|v:roundrect)\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|\x27([^\x27]*)\x27)/gis) {
		my $u = defined $1 ? $1 : $2; $u =~ s/&amp;/&/g; print "$u\n" }'
}

sink_message "$f" > "$DIR/delivered.eml"
html_of "$DIR/delivered.eml" > "$DIR/delivered.html"
html_of "$MSG" > "$DIR/original.html"
hrefs < "$DIR/original.html" > "$DIR/original.links"
hrefs < "$DIR/delivered.html" > "$DIR/delivered.links"

say ""
say "== links in the delivered HTML"
n_orig=$(grep -Eic '^https?://' "$DIR/original.links")
n_dist=$(grep -Ei '^https?://' "$DIR/original.links" | sort -u | wc -l)
n_click=$(grep -c "^$URL/click/" "$DIR/delivered.links")
say "original: $n_orig absolute links to $n_dist distinct URLs; delivered: $n_click tracking links"
# the two lists are in the same order: show original -> rewritten side by side
paste -d ' ' "$DIR/original.links" "$DIR/delivered.links" | awk '{
	if ($1 != $2) printf "  %-48s <- %s\n", $2, (length($1) > 70 ? substr($1, 1, 67) "..." : $1)
	else printf "  %-48s (unchanged)\n", $1 }'
pixel=$(perl -0777 -ne 'print "$1\n" while /<img\b[^>]*?\bsrc\s*=\s*"([^"]*\/open\/[^"]*)"/gis' \
	"$DIR/delivered.html" | head -n 1)
say "open pixel: ${pixel:-none found}"
grep -q "^$URL/click/" "$DIR/delivered.links" || die "no tracking link in the delivered message"

say ""
say "== a click and an open, as a person's browser, then as curl"
# a click within click_min_seconds of sending counts as a scanner's
sleep 2
BROWSER='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'
click=$(grep "^$URL/click/" "$DIR/delivered.links" | head -n 1)
say "GET $click"
say "  -> $(curl -sS -A "$BROWSER" -o /dev/null -w '%{http_code} %{redirect_url}' "$click")"
if [ -n "$pixel" ]; then
	say "GET $pixel"
	say "  -> $(curl -sS -A "$BROWSER" -o "$DIR/pixel.png" -w '%{http_code} %{content_type} %{size_download} bytes' "$pixel")"
fi
say "GET $click (curl's own User-Agent: counted as a bot)"
say "  -> $(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$click")"

say ""
say "== more readers and machines, from other loopback addresses"
# visit SRC USER-AGENT URL [curl options]: one request from 127.0.0.SRC
visit() {
	src=$1 ua=$2 url=$3
	shift 3
	curl -sS -o /dev/null --interface "127.0.0.$src" -A "$ua" "$@" "$url" || return 1
	[ "${url#"$URL"/click/}" != "$url" ] && CLICKS=$((CLICKS + 1))
	return 0
}
SAFARI='Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'
GMAIL='Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'
l1=$(grep "^$URL/click/" "$DIR/delivered.links" | sed -n 1p)
l2=$(grep "^$URL/click/" "$DIR/delivered.links" | sed -n 2p)
l3=$(grep "^$URL/click/" "$DIR/delivered.links" | sed -n 3p)
l4=$(grep "^$URL/click/" "$DIR/delivered.links" | sed -n 4p)
CLICKS=2
if [ -n "$pixel" ] && [ -n "$l4" ]; then
	visit 2 "$BROWSER" "$pixel" && visit 2 "$BROWSER" "$l2" && visit 2 "$BROWSER" "$l3" &&
	visit 3 "$SAFARI" "$pixel" && visit 3 "$SAFARI" "$l1" &&
	visit 4 "$GMAIL" "$pixel" && visit 5 'Mozilla/5.0' "$pixel" &&
	visit 6 "$BROWSER" "$l1" -I &&
	visit 7 'Mozilla/5.0 SafeLinks' "$l1" && visit 7 'Mozilla/5.0 SafeLinks' "$l2" &&
	visit 7 'Mozilla/5.0 SafeLinks' "$l3" &&
	visit 8 'python-requests/2.31' "$l4" || die "a request to the tracker failed"
	say "two people (Firefox, Safari), Gmail's image proxy, Apple Mail Privacy Protection,"
	say "a HEAD prefetch, a link scanner (SafeLinks) and a script: $CLICKS clicks in all"
fi

# the tracker commits events in batches: wait (briefly) until the clicks show
n=0
while [ $n -lt 100 ]; do
	"$CTL" stats -c "$CONF" --json 2>/dev/null | grep -Eq "\"clicks\": *$CLICKS" && break
	sleep 0.05
	n=$((n + 1))
done

say ""
say "== mtrackctl stats -c CONF"
"$CTL" stats -c "$CONF" || die "mtrackctl stats failed"
say ""
say "== mtrackctl stats -c CONF --by link (the first rows)"
"$CTL" stats -c "$CONF" --by link | head -n 4 || die "mtrackctl stats failed"
say ""
say "== mtrackctl show MESSAGE-ID"
mid=$(sed -n 's/^Message-ID: *//Ip' "$DIR/delivered.eml" 2>/dev/null | head -n 1 | tr -d '\r')
[ -n "$mid" ] && "$CTL" show -c "$CONF" "$mid" | tail -n 4
say ""
say "== mtrackctl stats -c CONF --json"
"$CTL" stats -c "$CONF" --json | head -n 6 || die "mtrackctl stats --json failed"
say ""
say "== mtrackctl report -c CONF --html > demo-report.html"
"$CTL" report -c "$CONF" --html > "$TOP/demo-report.html" || die "mtrackctl report failed"
say "(while the demo ran, its tracker served the same page on its admin listener:"
say " http://127.0.0.1:$APORT/report)"
if [ -n "${DEMO_SHOT:-}" ]; then
	# DEMO_SHOT=docs/report.png make demo: the README's screenshot
	command -v chromium >/dev/null 2>&1 || die "DEMO_SHOT needs chromium"
	timeout 120 chromium --headless --disable-gpu --no-sandbox --no-first-run \
		--user-data-dir="$DIR/chromium" --hide-scrollbars --window-size=1140,1700 \
		--screenshot="$TOP/$DEMO_SHOT" "file://$TOP/demo-report.html" >/dev/null 2>&1 ||
		die "chromium could not take the screenshot"
	say "screenshot: $DEMO_SHOT"
fi
say ""
if [ -n "${DEMO_KEEP:-}" ]; then
	say "== done: stopping everything; kept $DIR (delivered.eml, *.log, mtrack.conf)"
else
	say "== done: stopping everything and removing $DIR"
fi
say "open the report in a browser: xdg-open demo-report.html (or file://$TOP/demo-report.html)"
