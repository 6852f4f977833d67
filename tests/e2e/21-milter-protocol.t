#!/bin/bash
# 21-milter-protocol.t - the milter protocol as Postfix 3.7 speaks it: which
# events mtrack-milter answers (DATA and end of message only), where mail
# that is left alone is accepted (DATA), and no Nagle delay between the new
# body and the verdict over TCP.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ -x "$TOP/milter/mtrack-milter" ] || bail "build first (make)"

W=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-proto.XXXXXX")
trap 'mt_stop; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
client() { perl "$TOP/tests/lib/milter.pl" "$MT_MPORT" "$@"; }

mt_config "$W/mt"
mt_start_milter; ok $? "milter listens on $MT_MPORT"

client tracked 3 > "$W/tracked" 2>&1
ok $? "three messages on one connection"
mask=$(sed -n 's/^negotiated //p' "$W/tracked")
# SMFIP_NR_CONN, _MAIL, _RCPT, _HDR, _BODY; SMFIP_NOHELO, _NOUNKNOWN, _NOEOH
want=$((0x1000 | 0x4000 | 0x8000 | 0x80 | 0x80000 | 0x2 | 0x100 | 0x40))
is "$(( ${mask:-0} & want ))" "$want" "no reply asked for connect, MAIL, RCPT, headers, body; no HELO, unknown, end of header"
is "$(( ${mask:-0} & 0x10000 ))" 0 "DATA keeps its reply (SMFIP_NR_DATA not asked)"
is "$(grep '^early' "$W/tracked" | sort -u)" "early 0" "no reply to any event Postfix does not wait for"
is "$(grep -c '^data c$' "$W/tracked")" 3 "DATA answered with continue"
is "$(grep -c '^eom b*a$' "$W/tracked")" 3 "end of message: the new body, then accept"
is "$(grep -c '^tracked yes$' "$W/tracked")" 3 "every message rewritten"
gap=$(sed -n 's/^gap //p' "$W/tracked" | sort -n | head -n 1)
awk -v g="${gap:-999}" 'BEGIN { exit !(g < 20) }'
ok $? "the verdict follows the new body at once over TCP (${gap:-?} ms; Nagle would hold it 40 ms)"

client inbound > "$W/inbound" 2>&1
ok $? "a message from an untrusted client"
is "$(grep -v '^negotiated' "$W/inbound" | tr '\n' ' ')" "early 0 data a " \
	"accepted at DATA: Postfix sends neither headers nor body"

done_testing
