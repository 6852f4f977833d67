#!/bin/bash
# 12-tracker-privacy.t - what the tracker keeps about the people who click:
# anonymize_ip (IPv4 /24, IPv6 /48, also for addresses from a trusted
# proxy), store_user_agent = no, raw_retention_days (old events planted with
# mdb_load lose IP and User-Agent at start, counts stay), all three changed
# by SIGHUP. Events are read with mdb_dump. MTRACK_KEEP=1 keeps the temp dir.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/tracker.sh"
. "$TOP/tests/lib/postfix.sh"	# free_port, wait_port

trk_init privacy curl python3 perl mdb_stat mdb_dump mdb_load
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$PID" ] && kill -9 $PID 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

PORT=$(free_port) || bail "no free port"
APORT=$(free_port "$PORT") || bail "no free port"
BASE=http://127.0.0.1:$PORT

# write_conf [EXTRA LINE]... - the configuration of every phase
write_conf() {
	{
		echo "db_path = $T/db"
		echo "tracker_listen = 127.0.0.1:$PORT"
		echo "admin_listen = 127.0.0.1:$APORT"
		echo "tracking_url = $BASE"
		echo "tracker_threads = 2"
		echo "batch_ms = 5"
		echo "trusted_proxies = 127.0.0.1/32"
		for l in "$@"; do echo "$l"; done
	} > "$T/conf"
}

start() {
	"$TRACKER" -c "$T/conf" >>"$T/log" 2>&1 &
	PID=$!
	wait_port "$PORT" 10 "$PID" 2>/dev/null
}


hup() {
	local n i
	n=$(grep -c 'reload=done' "$T/log")
	kill -HUP $PID
	for i in $(seq 200); do
		[ "$(grep -c 'reload=done' "$T/log")" -gt "$n" ] && return 0
		sleep 0.02
	done
	return 1
}

nevents() { mdb_stat -s events "$T/db" | awk '/Entries:/ { print $2 }'; }
# event KEY - the stored record of one event
event() { mdb_dump -p -s events "$T/db" | grep -A1 "^ $1\$" | tail -1; }
# last - the newest event record
last() { mdb_dump -p -s events "$T/db" | grep '^ {' | tail -1; }
counts() {
	"$CTL" stats -c "$T/conf" --json 2>/dev/null |
	    python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["opens"], d["clicks"])'
}

# hit [CURL ARGS]... URL - one request; wait until its event is stored
hit() {
	local n i
	n=$(nevents)
	curl -s -o /dev/null "$@"
	for i in $(seq 200); do [ "$(nevents)" -gt "$n" ] && return 0; sleep 0.02; done
	return 1
}

# -- configuration -----------------------------------------------------------
write_conf "anonymize_ip = yes" "store_user_agent = no" "raw_retention_days = 30"
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
ok $? "-n accepts the privacy keys"
out=$("$TRACKER" -n -c "$T/conf" 2>&1 | grep -e '^anonymize_ip' -e '^store_user_agent' -e '^raw_retention')
is "$(printf '%s' "$out" | tr '\n' ' ')" "anonymize_ip = yes store_user_agent = no raw_retention_days = 30" \
    "-n prints the three keys"
write_conf "raw_retention_days = -1"
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q 'conf:[0-9]*: raw_retention_days: out of range'
ok $? "a negative raw_retention_days is refused with its line"
write_conf "anonymize_ip = maybe"
out=$("$TRACKER" -n -c "$T/conf" 2>&1)
[ $? -ne 0 ] && printf '%s' "$out" | grep -q 'anonymize_ip: want yes or no'
ok $? "anonymize_ip wants yes or no"

# -- a store with a link, and two events planted: 40 and 10 days old -------
write_conf "anonymize_ip = yes" "store_user_agent = no" "raw_retention_days = 30"
printf '%s\r\n' "From: a@example.com" "To: b@example.org" "Subject: t" \
    "Message-ID: <e2e-privacy@example.com>" "MIME-Version: 1.0" \
    "Content-Type: text/html; charset=utf-8" "" \
    '<html><body><p><a href="https://example.com/p">P</a></p></body></html>' > "$T/in.eml"
"$CTL" rewrite -c "$T/conf" < "$T/in.eml" 2>/dev/null |
    perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' > "$T/out.eml"
CLICK=$(grep -o "$BASE/click/[A-Za-z0-9_-]*" "$T/out.eml" | head -1)
OPEN=$(grep -o "$BASE/open/[A-Za-z0-9_-]*\.png" "$T/out.eml" | head -1)
[ -n "$CLICK" ] && [ -n "$OPEN" ]
ok $? "the rewriter recorded a link and a pixel"
[ -n "$CLICK" ] || bail "no tracking link to test"

now=$(date +%s)
OLD_US=$(( (now - 40 * 86400) * 1000000 ))
MID_US=$(( (now - 10 * 86400) * 1000000 ))
OLD_KEY=$(printf '%016x0000' "$OLD_US")
MID_KEY=$(printf '%016x0000' "$MID_US")
planted() {
	printf '{"time":%s,"type":"click","link":"0000000000000001","msg":"0000000000000001","ip":"192.0.2.55","ua":"planted-agent/1.0","method":"GET","host":"planted.example","class":"human","reason":"-"}' "$1"
}
printf '%s\n%s\n%s\n%s\n' "$OLD_KEY" "$(planted $OLD_US)" "$MID_KEY" "$(planted $MID_US)" |
    mdb_load -T -s events "$T/db"
ok $? "two old events planted with mdb_load"
is "$(nevents)" 2 "the events database holds them"
before=$(counts)

# -- raw_retention_days: scrubbed at start -----------------------------------
start
ok $? "tracker starts"
[ -n "$PID" ] && running $PID || bail "the tracker did not start: $(tail -5 "$T/log")"
for i in $(seq 200); do
	event "$OLD_KEY" | grep -q '"ip":null' && break
	sleep 0.05
done
ev=$(event "$OLD_KEY")
like "$ev" '"ip":null' "40-day-old event: IP erased"
like "$ev" '"ua":null' "40-day-old event: User-Agent erased"
like "$ev" '"method":"GET".*"host":"planted.example"' "40-day-old event: the other fields stay"
like "$ev" "\"time\":$OLD_US" "40-day-old event: its time stays"
ev=$(event "$MID_KEY")
like "$ev" '"ip":"192.0.2.55"' "10-day-old event: IP kept"
like "$ev" '"ua":"planted-agent/1.0"' "10-day-old event: User-Agent kept"
is "$(nevents)" 2 "no event removed"
is "$(counts)" "$before" "counts unchanged"
grep -q 'retention days=30 scrubbed=1' "$T/log"
ok $? "the scrub is logged"

# -- anonymize_ip, store_user_agent = no --------------------------------------
hit -A "privacy-agent/1.0" "$CLICK"
ok $? "click from 127.0.0.1 stored"
ev=$(last)
like "$ev" '"ip":"127.0.0.0"' "anonymize_ip: 127.0.0.1 stored as 127.0.0.0"
like "$ev" '"ua":null' "store_user_agent = no: no User-Agent"
like "$ev" '"type":"click"' "the event is the click"
hit -A "privacy-agent/1.0" -H 'X-Forwarded-For: 2001:db8:abcd:1234::5' "$CLICK"
like "$(last)" '"ip":"2001:db8:abcd::"' "anonymize_ip: IPv6 from a trusted proxy kept to /48"
hit -A "privacy-agent/1.0" -H 'X-Forwarded-For: 198.51.100.77' "$CLICK"
like "$(last)" '"ip":"198.51.100.0"' "anonymize_ip: IPv4 from a trusted proxy kept to /24"
hit -A "privacy-agent/1.0" "$OPEN"
ev=$(last)
like "$ev" '"type":"open".*"ip":"127.0.0.0".*"ua":null' "the pixel: same rules"
! mdb_dump -p -s events "$T/db" | grep -q -e 'privacy-agent' -e '127\.0\.0\.1"' -e '198\.51\.100\.77' -e ':1234:'
ok $? "no full address and no User-Agent anywhere in the events"

# -- SIGHUP: the keys apply at once ------------------------------------------
write_conf "anonymize_ip = no" "store_user_agent = yes" "raw_retention_days = 5"
hup
ok $? "SIGHUP: reloaded"
hit -A "reload-agent/2.0" "$CLICK"
ev=$(last)
like "$ev" '"ip":"127.0.0.1"' "after SIGHUP with anonymize_ip = no: the whole address"
like "$ev" '"ua":"reload-agent/2.0"' "after SIGHUP with store_user_agent = yes: the User-Agent"
for i in $(seq 200); do
	event "$MID_KEY" | grep -q '"ip":null' && break
	sleep 0.05
done
like "$(event "$MID_KEY")" '"ip":null,"ua":null' \
    "after SIGHUP with raw_retention_days = 5: the 10-day-old event is scrubbed at once"
like "$(last)" '"ua":"reload-agent/2.0"' "recent events keep theirs"

stop
is "$RC" 0 "SIGTERM: exit 0"
is "$(counts)" "1 4" "counts: every open and click answered"

done_testing
