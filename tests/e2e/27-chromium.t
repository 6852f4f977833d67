#!/bin/bash
# 27-chromium.t - what a reader sees and where a link takes them do not
# change, in headless Chromium:
# - it renders the first HTML part of every corpus message as it was and as
#   mtrackctl rewrite leaves it, 800 and 375 px wide, with the open pixel
#   served by a real mtrack-tracker, at the bottom (default) and at the top
#   (pixel_position = top): the screenshots must be identical;
# - links relative to a <base href> with backslashes, tabs and newlines
#   (WHATWG URL rules): the tracker redirects each tracked one exactly where
#   Chromium resolves the original.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

command -v chromium >/dev/null || skip_all "chromium is not installed"
[ -x "$TOP/tracker/mtrack-tracker" ] && [ -x "$TOP/ctl/mtrackctl" ] ||
	bail "build first (make)"

W=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-visual.XXXXXX")
SPID=
trap 'mt_stop; [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
visual() { python3 "$TOP/tests/tools/visual.py" "$@"; }

mt_config "$W/mt"
mt_start_tracker; ok $? "tracker listens on $MT_TPORT"
HPORT=$(free_port "$MT_MPORT" "$MT_TPORT")
mkdir -p "$W/html"
python3 "$TOP/tests/tools/visual.py" serve "$HPORT" "$W/html" &
SPID=$!
wait_port "$HPORT" 10 "$SPID"; ok $? "page server listens on $HPORT"

printf 'pixel_position = top\n' | cat "$MT_CONF" - > "$W/top.conf"
: > "$W/urls"
names=
for eml in "$TOP"/tests/data/corpus/*.eml; do
	name=$(basename "$eml" .eml)
	visual extract "$eml" "$W/html/$name.orig.html" || continue
	names="$names $name"
	echo "http://127.0.0.1:$HPORT/$name.orig.html" >> "$W/urls"
	for pos in bottom top; do
		conf=$MT_CONF
		[ $pos = top ] && conf=$W/top.conf
		"$TOP/ctl/mtrackctl" -c "$conf" rewrite --quiet --from a@example.com \
			--to b@example.net < "$eml" > "$W/$name.$pos.eml" &&
			visual extract "$W/$name.$pos.eml" "$W/html/$name.$pos.html"
		ok $? "$name: rewritten with the pixel at the $pos"
		grep -q "<img src=\"$MT_URL/open/" "$W/html/$name.$pos.html"
		ok $? "$name: the $pos pixel is in the HTML"
		echo "http://127.0.0.1:$HPORT/$name.$pos.html" >> "$W/urls"
	done
done
n=$(echo $names | wc -w)
[ "$n" -ge 10 ]; ok $? "$n corpus messages with an HTML part"

# one Chromium per width renders every page
mkdir -p "$W/shot"
for w in 800 375; do
	timeout 600 python3 "$TOP/tests/tools/visual.py" shoot $w 1200 "$W/urls" \
		"$W/shot" "$W" > "$W/loaded.$w"
	st=$?
	ok $st "chromium rendered $(wc -l < "$W/loaded.$w") of $(wc -l < "$W/urls") pages $w px wide"
	[ $st = 0 ] || tail -5 "$W/chromium.$w.log" | sed 's/^/#   /'
done

for name in $names; do
	for w in 800 375; do
		for pos in bottom top; do
			is "$(grep "^$name.$pos.html " "$W/loaded.$w" | cut -d' ' -f2-)" "1 1" \
				"$name, pixel at the $pos, $w px: the tracker served it"
			d=$(visual same "$W/shot/$name.orig.html.$w.png" "$W/shot/$name.$pos.html.$w.png")
			ok $? "$name, pixel at the $pos, $w px: screenshot identical to the original"
			[ -n "$d" ] && diag "$d"
		done
	done
done

# and the tracker counted them: one open per rendering
want=$((n * 4))
for _ in $(seq 50); do
	s=$(mt_ctl stats --json | tr -d ' \n')
	echo "$s" | grep -q "\"opens\":$want[,}]" && break
	sleep 0.1
done
like "$s" "\"opens\":$want[,}]" "the tracker recorded $want opens"

# --- <base href>: the redirect goes where the browser goes -------------------
# (tabs and newlines written as they would be in a mail's HTML)
printf '%s\r\n' "From: a@example.com" "To: b@example.net" "Subject: base" \
	"MIME-Version: 1.0" "Content-Type: text/html; charset=utf-8" "" > "$W/base.eml"
printf '%b' '<html><head><base href="https:\\\\b.example\\dir\\page.html?q"></head><body>\r\n' \
	'<a href="\\\\evil.example\\bs">1</a> <a href="/\\evil.example/sbs">2</a>\r\n' \
	'<a href="\\sub\\x.html">3</a> <a href="sub\\x?a\\b#c\\d">4</a>\r\n' \
	'<a href="..\\..\\up">5</a> <a href="///e.example/x">6</a>\r\n' \
	'<a href=" \t/p\n/q\r">7</a> <a href="x\ny">8</a> <a href="//">9</a>\r\n' \
	'<a href="a/%2E%2e/b">10</a> <a href="https://e.example/abs">11</a>\r\n' \
	'</body></html>\r\n' >> "$W/base.eml"
visual extract "$W/base.eml" "$W/html/base.orig.html"
"$TOP/ctl/mtrackctl" -c "$MT_CONF" rewrite --quiet < "$W/base.eml" > "$W/base.out.eml" &&
	visual extract "$W/base.out.eml" "$W/html/base.out.html"
ok $? "the <base href> page rewritten"
timeout 120 python3 "$TOP/tests/tools/visual.py" hrefs "http://127.0.0.1:$HPORT/base.orig.html" "$W" \
	> "$W/base.want"
ok $? "chromium resolved the original links"
timeout 120 python3 "$TOP/tests/tools/visual.py" hrefs "http://127.0.0.1:$HPORT/base.out.html" "$W" \
	> "$W/base.out"
is "$(wc -l < "$W/base.out")" 11 "11 links on the rewritten page"
i=0 tracked=0
while read -r href; do
	i=$((i + 1))
	want=$(sed -n "${i}p" "$W/base.want")
	case $href in
	"$MT_URL"/click/*)
		tracked=$((tracked + 1))
		got=$(curl -sS -o /dev/null -w '%{redirect_url}' -A 'Mozilla/5.0 (e2e)' "$href")
		is "$got" "$want" "link $i: the redirect goes where Chromium goes ($want)" ;;
	*)
		is "$href" "$want" "link $i: left as written" ;;
	esac
done < "$W/base.out"
is "$tracked" 9 "9 of the 11 links tracked (// and %2E%2e stay as written)"

done_testing
