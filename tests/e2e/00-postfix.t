#!/bin/bash
# 00-postfix.t - the private test Postfix works on its own, with no milter:
# a message sent with swaks (SMTP) and one sent with sendmail (local
# submission) both reach the sink with their body bytes unchanged.
# Every other end-to-end test stands on this one.
MTRACK_TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/lib/tap.sh
. "$MTRACK_TOP/tests/lib/tap.sh"
# shellcheck source=tests/lib/postfix.sh
. "$MTRACK_TOP/tests/lib/postfix.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (postfix start, smtp-sink -u postfix)"
for c in postfix postconf smtp-sink swaks sendmail script perl; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed"
done

t0=$(date +%s%N)
DIR=$(pf_tmpdir) || bail "cannot make a temp dir"
trap pf_cleanup EXIT
trap 'exit 130' INT TERM HUP

SMTP=$(free_port) || bail "no free port"
SINK=$(free_port "$SMTP") || bail "no free port"
diag "instance in $DIR, smtpd on 127.0.0.1:$SMTP, sink on 127.0.0.1:$SINK"

pf_setup "$DIR" "$SMTP" "$SINK"
ok $? "pf_setup writes a config that postfix check accepts" || bail "pf_setup failed"
is "$(pf_postconf -h smtpd_milters non_smtpd_milters | tr '\n' '|')" "||" "no milter configured"
is "$(pf_postconf -h config_directory)" "$DIR/etc" "postconf reads the private config"
is "$(pf_postconf -h relayhost)" "[127.0.0.1]:$SINK" "relayhost is the sink"

sink_start
ok $? "smtp-sink listens on $SINK" || bail "no sink"
pf_start
ok $? "postfix starts and listens on $SMTP" || bail "no postfix"
pf_running
ok $? "the private master runs"

# A body that a careless path would change: 8-bit UTF-8, lines starting with
# dots (SMTP dot-stuffing), "From " (mbox escaping), trailing blanks, a tab, a
# 990-byte line (just under the 998 limit), blank lines at the end.
# (pf_send keeps swaks from rewriting the data: see tests/lib/postfix.sh.)
MSG=$DIR/in.eml
long=$(printf 'x%.0s' $(seq 1 990))
{
	printf '%s\n' \
		'From: news@example.com' \
		'To: reader@example.net' \
		'Subject: private postfix check' \
		'Date: Fri, 06 Mar 2026 10:00:00 +0000' \
		'Message-ID: <00-postfix.t@example.com>' \
		'MIME-Version: 1.0' \
		'Content-Type: text/plain; charset=utf-8' \
		'Content-Transfer-Encoding: 8bit' \
		'' \
		'Café — naïve “quotes” ½' \
		'.leading dot' \
		'..two dots' \
		'.' \
		'From the start of a line' \
		'trailing blanks   ' \
		"	tab	inside" \
		'a literal \n and %DATE% (swaks would replace both)'
	printf '%s\n' "$long" '' 'last line' '' ''
} > "$MSG"
want_body=$(perl -0777 -ne 's/\A.*?\n\n//s; print unpack("H*", $_)' "$MSG")

qid=$(pf_send news@example.com reader@example.net "$MSG")
ok $? "swaks submits the message over SMTP"
like "$qid" '^[0-9A-F]{6,}$' "Postfix gave a queue id ($qid)"

files=$(sink_wait 1 10)
ok $? "the message reaches the sink"
f=$(printf '%s\n' "$files" | head -n 1)
diag "capture: $f"
[ -n "$f" ] || bail "no capture file"

got_body=$(sink_body "$f" | perl -0777 -ne 'print unpack("H*", $_)')
is "$got_body" "$want_body" "SMTP route: body bytes unchanged"
hdr=$(sink_headers "$f")
like "$hdr" '^X-Client-Addr: 127\.0\.0\.1' "capture starts with smtp-sink's headers"
like "$hdr" 'X-Rcpt-Args: <reader@example\.net>' "envelope recipient recorded"
like "$hdr" "by mtrack-test\\.localdomain \\(Postfix\\) with ESMTP id $qid" "Postfix added its Received header"
like "$hdr" 'Message-ID: <00-postfix\.t@example\.com>' "Message-ID unchanged"
like "$hdr" 'Subject: private postfix check' "Subject unchanged"
grep -q "$qid: to=<reader@example.net>.*status=sent" "$DIR/maillog"
ok $? "maillog says $qid was sent to the sink"

# local submission (the route non_smtpd_milters sees)
pf_sendmail news@example.com reader@example.net "$MSG"
ok $? "sendmail -C accepts the message"
files=$(sink_wait 2 10)
ok $? "the locally submitted message reaches the sink"
f2=$(printf '%s\n' "$files" | grep -vxF "$f" | head -n 1)
[ -n "$f2" ] || bail "no second capture file"
got_body=$(sink_body "$f2" | perl -0777 -ne 'print unpack("H*", $_)')
is "$got_body" "$want_body" "local route: body bytes unchanged"
like "$(sink_headers "$f2")" 'by mtrack-test\.localdomain \(Postfix, from userid 0\)' "came through pickup"
is "$(sink_count)" 2 "exactly two messages in the sink"

pf_stop
! pf_running
ok $? "pf_stop stops the master"

diag "elapsed: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done_testing
