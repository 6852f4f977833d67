#!/bin/bash
# 45-verdict-trace.t - people or machines with the default configuration, on
# a labelled trace (tests/data/verdict-trace.tsv: browsers, mail clients,
# security gateways, image proxies, link previews, office link checks,
# tools, bursts): machine recall >= 95%, no person called a machine, bursts
# labelled whole, counters equal to the events; and `mtrackctl verdict check`.
# Also what real clients send: headless Chromium, Firefox and curl through
# the tracker (the no-browser-headers rule is safe for browsers).
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port

trk_init verdict curl python3
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

PORT=$(free_port) || bail "no free port"
BASE=http://127.0.0.1:$PORT
# the defaults but for the trusted proxy that carries each source's address
{
	echo "db_path = $T/db"
	echo "tracker_listen = 127.0.0.1:$PORT"
	echo "tracking_url = $BASE"
	echo "batch_ms = 5"
	echo "trusted_proxies = 127.0.0.1/32"
} > "$T/conf"
cat > "$T/m.eml" <<'EML'
From: news@example.com
To: reader@example.net
Subject: Five links
Message-ID: <m1@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><p>Hello</p>
<a href="https://example.com/a">A</a> <a href="https://example.com/b">B</a>
<a href="https://example.com/c">C</a> <a href="https://example.com/d">D</a>
<a href="https://example.com/e">E</a>
</body></html>
EML

# -- mtrackctl verdict check ---------------------------------------------------
out=$("$CTL" -c "$T/conf" verdict check 40.92.18.33 \
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0' 2>&1)
is "$out" "scanner microsoft-eop" "verdict check: the built-in network list is on by default"
echo "verdict_networks = none" >> "$T/conf.none"
cat "$T/conf" "$T/conf.none" > "$T/conf2"
out=$("$CTL" -c "$T/conf2" verdict check 40.92.18.33 \
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0' 2>&1)
is "$out" "human -" "verdict check: verdict_networks = none turns the list off"
out=$("$CTL" -c "$T/conf" verdict check --json 81.2.69.142 \
    'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' 2>&1)
is "$out" '{"class":"prefetch","reason":"link-preview"}' "verdict check --json: a link preview"
out=$("$CTL" -c "$T/conf" verdict check --open 81.2.69.142 \
    'Mozilla/4.0 (compatible; ms-office; MSOffice 16)' 2>&1)
is "$out" "human -" "verdict check: Outlook for Windows loading images is a person"
out=$("$CTL" -c "$T/conf" verdict check 81.2.69.142 \
    'Mozilla/4.0 (compatible; ms-office; MSOffice 16)' 2>&1)
is "$out" "prefetch office-link-check" "verdict check: Outlook checking a link is not"
out=$("$CTL" -c "$T/conf" verdict check --no-accept 81.2.69.142 \
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0' 2>&1)
is "$out" "bot no-browser-headers" "verdict check --no-accept"
out=$("$CTL" -c "$T/conf" verdict check 300.1.2.3 2>&1); rc=$?
ok $((rc == 2 ? 0 : 1)) "verdict check: a bad address exits 2"
like "$out" 'not an IP address' "verdict check: and says why"

"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
PID=$!
wait_port "$PORT" 10 "$PID" 2>/dev/null || bail "tracker did not start: $(tail -3 "$T/log")"

# -- what real clients send (measured, not assumed) ----------------------------
# A header-echo page is no use here: the tracker itself records the verdict.
read -r mid links pixel < <(python3 - "$CTL" "$T/conf" "$T/m.eml" <<'PY'
import re, subprocess, sys
ctl, conf, eml = sys.argv[1:]
src = open(eml).read().replace("<m1@", "<real@")
out = subprocess.run([ctl, "-c", conf, "rewrite", "--quiet"], input=src.encode(),
                     capture_output=True, check=True).stdout.decode()
l = re.findall(r'href="[^"]*(/click/[^"]+)"', out)
p = re.findall(r'src="[^"]*(/open/[^"]+)"', out)
print("<real@example.com>", ",".join(l), p[0])
PY
)
sleep 2.5	# past click_min_seconds
IFS=, read -r l1 l2 l3 _ <<<"$links"
curl -s -o /dev/null "$BASE$l1"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROMIUM" ]; then
	timeout 60 "$CHROMIUM" --headless --disable-gpu --no-sandbox \
	    --user-data-dir="$T/chrome" --user-agent='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36' \
	    --dump-dom "$BASE$l2" >/dev/null 2>&1
fi
FIREFOX=$(command -v firefox-esr || command -v firefox || true)
if [ -n "$FIREFOX" ]; then
	mkdir -p "$T/ff"
	HOME=$T timeout 60 "$FIREFOX" --headless --no-remote -profile "$T/ff" \
	    --screenshot "$T/ff.png" "$BASE$l3" >/dev/null 2>&1
fi
want=$((1 + (${#CHROMIUM} > 0) + (${#FIREFOX} > 0)))
"$CTL" -c "$T/conf" export > "$T/real.jsonl" 2>/dev/null
for i in $(seq 100); do
	[ "$(grep -c . "$T/real.jsonl")" -ge "$want" ] && break
	sleep 0.1; "$CTL" -c "$T/conf" export > "$T/real.jsonl" 2>/dev/null
done
like "$(grep '"ua":"curl' "$T/real.jsonl")" '"class":"bot","reason":"curl"' "curl's click: bot/curl (it sends Accept: */*, no Accept-Language)"
if [ -n "$CHROMIUM" ]; then
	like "$(grep 'Chrome/120' "$T/real.jsonl")" '"class":"human"' "Chromium's click (Accept and Accept-Language sent): human"
else
	ok 0 "# SKIP no chromium"
fi

if [ -n "$FIREFOX" ]; then
	like "$(grep 'Firefox/' "$T/real.jsonl")" '"class":"human"' "Firefox's click (Accept and Accept-Language sent): human"
else
	ok 0 "# SKIP no firefox"
fi

# -- the trace -------------------------------------------------------------------
python3 "$TOP/tests/tools/verdict_trace.py" play "$TOP/tests/data/verdict-trace.tsv" \
    "$BASE" "$CTL" "$T/conf" "$T/m.eml" > "$T/plays.json" 2>"$T/play.err"
ok $? "the trace was played" || diag "$(tail -3 "$T/play.err")"
# wait until the writer has everything: events stop growing
prev=-1
for i in $(seq 100); do
	"$CTL" -c "$T/conf" export > "$T/all.jsonl" 2>/dev/null
	n=$(grep -vc '<real@' "$T/all.jsonl")
	[ "$n" = "$prev" ] && break
	prev=$n
	sleep 0.2
done
grep -v '<real@' "$T/all.jsonl" > "$T/trace.jsonl"
# the counters of the trace alone: its campaign-less messages minus the two above
"$CTL" -c "$T/conf" stats --json > "$T/stats.json" 2>/dev/null
python3 - "$T/stats.json" "$T/real.jsonl" <<'PY' > "$T/stats-trace.json"
import json, sys
st = json.load(open(sys.argv[1]))["rows"][0]
for line in open(sys.argv[2]):
    e = json.loads(line)
    k = "clicks" if e["type"] == "click" else "opens"
    if e["class"] == "human":
        st[k + "_human"] -= 1
    st[k + "_by_class"][e["class"]] = st[k + "_by_class"].get(e["class"], 0) - 1
json.dump(st, sys.stdout)
PY
while read -r word st name; do
	if [ "$word" = CHECK ]; then ok "$st" "$name"; else echo "$word $st $name"; fi
done < <(python3 "$TOP/tests/tools/verdict_trace.py" score \
    "$TOP/tests/data/verdict-trace.tsv" "$T/plays.json" "$T/trace.jsonl" "$T/stats-trace.json")

stop
is "$RC" 0 "the tracker stops cleanly"
done_testing
