#!/bin/bash
# 29-milter-socket.t - the milter's unix socket gets the mode and group the
# configuration says, whatever the umask it was started with; the milter
# says at start when it stays root and when Postfix cannot connect; a real
# Postfix then reaches it through milter_socket_group.
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (chown, a private Postfix)"
getent group postfix >/dev/null || skip_all "no postfix group"
[ -x "$TOP/milter/mtrack-milter" ] || bail "build first (make)"

W=$(pf_tmpdir)
trap 'mt_stop; pf_cleanup; [ -n "${PF_KEEP:-}" ] || rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

# start_unix SOCK [key = value...]: the milter on unix:SOCK, as root, with
# the umask a shell usually has (022): no systemd UMask to help
start_unix() {
	_s=$1; shift
	mt_config "$W/mt.$(basename "$_s")" "$@"
	sed -i "s|^milter_socket = .*|milter_socket = unix:$_s|" "$MT_CONF"
	(umask 022; exec "$TOP/milter/mtrack-milter" -c "$MT_CONF") 2>>"$MT_DIR/milter.log" &
	MT_MILTER_PID=$!
	for _ in $(seq 600); do
		grep -q 'start socket=' "$MT_DIR/milter.log" 2>/dev/null && return 0
		kill -0 "$MT_MILTER_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
perm() { stat -c '%A %G' "$1"; }

# --- defaults: 0660, the group it was created with --------------------------
mkdir -p "$W/plain"
start_unix "$W/plain/m.sock"; ok $? "milter started on a unix socket"
is "$(perm "$W/plain/m.sock")" "srw-rw---- root" "mode 0660 despite umask 022"
log=$(cat "$MT_DIR/milter.log")
like "$log" 'running as root: set user' "warns that it runs as root without user"
like "$log" 'Postfix \(group postfix\) cannot connect to .*m\.sock.*mail will pass untracked' \
	"says plainly that Postfix cannot connect"
like "$log" 'milter_socket_group = postfix' "and how to fix it"
mt_stop

# --- a bad value is refused ---------------------------------------------------
mt_config "$W/bad" "milter_socket_mode = 999"
"$TOP/milter/mtrack-milter" -n -c "$MT_CONF" >/dev/null 2>"$W/bad.err"
ok $(( $? == 0 )) "milter_socket_mode = 999 is refused"
like "$(cat "$W/bad.err")" 'milter_socket_mode.*octal' "with the reason"

# --- milter_socket_group: a real Postfix connects -----------------------------
SMTP=$(free_port); SINK=$(free_port "$SMTP")
pf_setup "$W/pf" "$SMTP" "$SINK" "unix:mtrack/mtrack.sock"; ok $? "postfix configured"
sock=$PF_DIR/queue/mtrack/mtrack.sock
mkdir -p "${sock%/*}"	# root's, 0755, no set-group-ID bit
start_unix "$sock" "milter_socket_group = postfix" "milter_socket_mode = 0660"
ok $? "milter started with milter_socket_group = postfix"
is "$(perm "$sock")" "srw-rw---- postfix" "socket group postfix, mode 0660"
! grep -q 'cannot connect' "$MT_DIR/milter.log"; ok $? "no warning about Postfix then"
sink_start && pf_start; ok $? "postfix and sink started"
pf_send news@example.com reader@example.net "$TOP/tests/data/e2e/links.eml" >/dev/null
f=$(sink_wait 1 30 | tail -1)
grep -q "/click/[A-Za-z0-9_-]\{22\}" "$f"; ok $? "mail through the socket is tracked"

done_testing
