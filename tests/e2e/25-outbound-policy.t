#!/bin/bash
# 25-outbound-policy.t - trusted_networks is authoritative for SMTP clients:
# with loopback not trusted, an unauthenticated SMTP client on 127.0.0.1 whose
# name is "localhost" is not tracked, while local submission (sendmail ->
# pickup -> cleanup, non_smtpd_milters) still is. The macros and the client
# port the real Postfix sends on each path are logged by the milter and
# checked here: they are the signal the milter relies on.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to run a private Postfix"
[ -x "$TOP/milter/mtrack-milter" ] || bail "build first (make)"
[ "$(getent hosts 127.0.0.1 | awk '{ print $2; exit }')" = localhost ] ||
	skip_all "127.0.0.1 does not resolve to localhost here"

W=$(pf_tmpdir)
trap 'mt_stop; pf_cleanup; [ -n "${PF_KEEP:-}" ] || rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

mt_config "$W/mt" "trusted_networks = 192.0.2.0/24" "log_level = debug"
mt_start_milter; ok $? "milter that trusts only 192.0.2.0/24 listens"

SMTP=$(free_port "$MT_MPORT" "$MT_TPORT")
SINK=$(free_port "$MT_MPORT" "$MT_TPORT" "$SMTP")
# peer name lookup on: the SMTP client on 127.0.0.1 is named "localhost",
# exactly what the non-SMTP path presents
pf_setup "$W/pf" "$SMTP" "$SINK" "inet:127.0.0.1:$MT_MPORT" \
	"smtpd_peername_lookup = yes"; ok $? "postfix configured"
sink_start && pf_start; ok $? "postfix and sink started"

IN=$TOP/tests/data/e2e/links.eml
tracked() { grep -q "/click/[A-Za-z0-9_-]\{22\}" "$1"; }
# connect_line N: the Nth "connect" debug line of the milter
connect_line() { grep ' connect host=' "$MT_DIR/milter.log" | sed -n "${1}p"; }

# --- an SMTP client on loopback, not in trusted_networks --------------------
qid=$(pf_send news@example.com reader@example.net "$IN")
ok $? "SMTP submission from 127.0.0.1 accepted ($qid)"
f=$(sink_wait 1 30 | tail -1)
ok $? "delivered"
! tracked "$f"; ok $? "loopback SMTP client, loopback untrusted, no auth: not tracked"
c=$(connect_line 1)
like "$c" 'host="localhost" port=[1-9][0-9]* ' "smtpd: client named localhost, with its real port"
like "$c" 'daemon=mtrack-test\.localdomain daemon_addr=127\.0\.0\.1 ' "smtpd: {daemon_name}, {daemon_addr}"
like "$c" 'client="localhost \[127\.0\.0\.1\]"' "smtpd: the _ macro"
like "$c" 'local=0 trusted=0' "smtpd: neither local nor trusted"
# smtpd asks the milter at MAIL FROM, before the queue id exists
like "$(cat "$MT_DIR/milter.log")" "NOQUEUE: skip reason=inbound" "logged as inbound"

# --- local submission: sendmail -> pickup -> cleanup (non_smtpd_milters) ----
pf_sendmail news@example.com reader@example.net "$IN"
ok $? "sendmail submission accepted"
f=$(sink_wait 2 30 | tail -1)
ok $? "delivered"
tracked "$f"; ok $? "local submission (sendmail) is tracked"
c=$(connect_line 2)
like "$c" 'host="localhost" port=0 ' "cleanup: localhost with client port 0"
like "$c" 'daemon=mtrack-test\.localdomain daemon_addr=127\.0\.0\.1 ' \
	"cleanup: the same {daemon_name} and {daemon_addr} as smtpd"
like "$c" 'client="localhost \[127\.0\.0\.1\]"' "cleanup: the same _ macro as smtpd"
like "$c" 'local=1 trusted=0' "cleanup: local"

# --- loopback trusted again: the same SMTP client is tracked ----------------
mt_stop
mt_config "$W/mt2" "log_level = debug"
mt_start_milter; ok $? "milter with the default trusted_networks (loopback)"
pf_postconf -e "smtpd_milters = inet:127.0.0.1:$MT_MPORT" \
	"non_smtpd_milters = inet:127.0.0.1:$MT_MPORT" && pf_reload
ok $? "postfix points at the new milter"
n=0
while [ $n -lt 100 ]; do	# reload: new smtpd processes read the new port
	pf_send news@example.com reader@example.net "$IN" >/dev/null || break
	f=$(sink_wait $((3 + n)) 30 | tail -1)
	grep -q ' connect host=' "$MT_DIR/milter.log" 2>/dev/null && break
	n=$((n + 1))
	sleep 0.2
done
tracked "$f"; ok $? "loopback SMTP client with loopback trusted: tracked"

done_testing
