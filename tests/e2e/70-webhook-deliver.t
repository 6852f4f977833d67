#!/bin/bash
# 70-webhook-deliver.t - signed webhooks to a real receiver (tests/lib/whreceiver.py):
# 200 clicks and 200 opens over five messages, each delivered exactly once by
# webhook-id, every signature verified with the Standard Webhooks scheme, each
# body with the Message-ID, URL, position and class the store holds; the secret
# masked by -n and never in a log. MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port
. "$TOP/tests/lib/webhook.sh"

trk_init wh-deliver curl python3 perl mdb_dump
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	wh_stop
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

SECRET=whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')
SECRET_B64=${SECRET#whsec_}
wh_start "$T" "$SECRET" || bail "the receiver did not start"
PORT=$(free_port "$WH_PORT") || bail "no free port"
APORT=$(free_port "$PORT" "$WH_PORT") || bail "no free port"
BASE=http://127.0.0.1:$PORT
wh_tracker_conf "$PORT" "$APORT" "webhook_url = $WH_URL" "webhook_secret = $SECRET"

out=$("$TRACKER" -n -c "$T/conf" 2>&1)
ok $? "-n accepts the webhook keys"
like "$out" "# webhook_secret = whsec_\*\*\*\* \(32 bytes\)" "-n shows the secret masked"
case $out in *"$SECRET_B64"*) ok 1 "-n never prints the secret" ;; *) ok 0 "-n never prints the secret" ;; esac
out=$("$CTL" -n -c "$T/conf" 2>&1)
case $out in *"$SECRET_B64"*) ok 1 "mtrackctl -n never prints the secret" ;; *) ok 0 "mtrackctl -n never prints the secret" ;; esac
sed 's/^webhook_secret = .*/webhook_secret = whsec_c2hvcnQ=/' "$T/conf" > "$T/bad.conf"
out=$("$TRACKER" -n -c "$T/bad.conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q 'bad.conf:[0-9]*: webhook_secret: the secret decodes to 5 bytes'
ok $? "a short secret is refused with its line"

"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
PID=$!
wait_port "$PORT" 10 "$PID" || bail "the tracker did not start"

# five messages of four links each, recorded by the rewriter (the milter's code)
: > "$T/links"
for m in 1 2 3 4 5; do
	wh_rewrite "wh-$m" "r$m@example.org" "<html><body><a href=\"https://example.com/$m/a\">a</a> <a href=\"https://example.com/$m/b?x=1&amp;y=2\">b</a> <a href=\"https://example.net/$m/c\">c</a> <a href=\"https://example.org/$m/d\">d</a></body></html>"
	grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/wh-$m.out" >> "$T/links"
	grep -o "$BASE/open/[A-Za-z0-9_-]*\.png" "$T/wh-$m.out" >> "$T/opens"
done
is "$(grep -c . "$T/links") $(grep -c . "$T/opens")" "20 5" "20 links and 5 pixels recorded"

# 200 clicks (10 per link, two rounds of them from curl: class bot) and 200 opens (40 per pixel)
for i in $(seq 10); do
	while read -r l; do
		if [ $((i % 4)) -eq 0 ]; then echo "url = \"$l\""; echo "user-agent = \"curl/8\""
		else echo "url = \"$l\""; echo "user-agent = \"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\""; fi
		echo "output = /dev/null"; echo "next"
	done < "$T/links"
done | sed '$d' > "$T/clicks.cfg"
for i in $(seq 40); do
	while read -r l; do echo "url = \"$l\""; echo "user-agent = \"Mozilla/5.0 (X11; Linux x86_64) Thunderbird/115\""; echo "output = /dev/null"; echo "next"; done < "$T/opens"
done | sed '$d' > "$T/opens.cfg"
curl -s -K "$T/clicks.cfg"
curl -s -K "$T/opens.cfg"

wh_wait 400 180
ok $? "the receiver got 400 distinct webhook-ids"
sleep 1	# anything sent twice would arrive now
is "$(wh_ids | grep -c .)" 400 "exactly 400 distinct webhook-ids"
is "$(wh_count 'True')" 400 "exactly 400 requests: each event once"
is "$(wh_bad)" 0 "every signature verifies"

# every body against the store: Message-ID, URL, position, class, type
mdb_dump -p -s events "$T/db" > "$T/events.dump"
mdb_dump -p -s messages "$T/db" > "$T/messages.dump"
mdb_dump -p -s links "$T/db" > "$T/links.dump"
res=$(python3 - "$WH_LOG" "$T" <<'PY'
import json, sys
def dump(path):
    recs, key = {}, None
    for line in open(path):
        if line.startswith(" ") and key is None:
            key = line[1:].rstrip("\n")
        elif line.startswith(" "):
            recs[key] = json.loads(line[1:].replace("\\\\", "\\"))
            key = None
    return recs
t = sys.argv[2]
ev, msgs, links = dump(t + "/events.dump"), dump(t + "/messages.dump"), dump(t + "/links.dump")
bad, n, kinds = [], 0, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = r["body"]; d = b["data"]
    key = r["id"][4:]
    e = ev.get(key)
    n += 1
    if e is None or d["id"] != r["id"]:
        bad.append("unknown " + r["id"]); continue
    m = msgs[e["msg"]]
    want = {"message_id": m["message_id"], "class": e["class"], "reason": e["reason"],
            "recipients": m["rcpt"], "user_agent": e["ua"], "ip": e["ip"]}
    if b["type"] != e["type"]:
        bad.append("type " + key)
    if e["type"] == "click":
        l = links[e["link"]]
        want["url"] = l["url"]; want["position"] = l["n"]
    for k, v in want.items():
        if d.get(k) != v:
            bad.append("%s %s: %r != %r" % (key, k, d.get(k), v))
    if not b["timestamp"].endswith("Z") or b["timestamp"][10] != "T":
        bad.append("timestamp " + b["timestamp"])
    kinds[(b["type"], d["class"])] = kinds.get((b["type"], d["class"]), 0) + 1
print(n, len(bad), " ".join("%s/%s=%d" % (k[0], k[1], v) for k, v in sorted(kinds.items())), bad[:3])
PY
)
like "$res" "^400 0 " "every body matches the store (Message-ID, URL, position, class, recipients)"
like "$res" "click/bot=40 click/human=160 open/human=200" "classes as the store has them: 40 bot clicks (curl), 160 human, 200 opens"
like "$(grep -h '"url": "https://example.com/1/b' "$WH_LOG" | head -1)" '"url": "https://example.com/1/b\?x=1&y=2"' \
    "the URL is the decoded one the click redirected to"

list=$("$CTL" webhook list -c "$T/conf" 2>&1)
like "$list" "delivered  400" "webhook list: 400 delivered"
like "$list" "pending    0 " "webhook list: none pending"
metrics=$(curl -s "http://127.0.0.1:$APORT/metrics")
like "$metrics" 'mtrack_webhook_delivered_total\{endpoint="[0-9a-f]{16}"\} 400' "/metrics: 400 delivered"

stop TERM
is "$RC" 0 "the tracker stops cleanly"
if grep -rqF "$SECRET_B64" "$T/log" "$T/receiver.err" 2>/dev/null; then ok 1 "the secret is in no log"; else ok 0 "the secret is in no log"; fi
done_testing
