#!/bin/sh
# run.sh - "make run": mtrack-tracker and mtrack-milter in the foreground,
# both logging to this terminal, on the configuration var/mtrack.conf
# (written from contrib/mtrack.conf the first time). Ctrl-C stops both.
#
#   sh contrib/run.sh [CONF]        (default: var/mtrack.conf; MTRACK_CONF too)
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
CONF=${1:-${MTRACK_CONF:-var/mtrack.conf}}
TRACKER=tracker/mtrack-tracker
MILTER=milter/mtrack-milter

say() { echo "run: $*" >&2; }
# the files are in this tree, the caller's: as root the tracker stays root
# (it would become the "mtrack" user otherwise)
[ "$(id -u)" != 0 ] || export MTRACK_USER="${MTRACK_USER:-root}"

for b in "$TRACKER" "$MILTER"; do
	[ -x "$b" ] || { say "$b is missing: run make first"; exit 1; }
done

if [ ! -f "$CONF" ]; then
	mkdir -p "$(dirname "$CONF")" var/db || exit 1
	# the example's values are the defaults; pin the database to this tree
	sed -e "s|^db_path = .*|db_path = $TOP/var/db|" \
	    -e '1s|^.*$|# mtrack.conf for "make run" (from contrib/mtrack.conf; edit freely)|' \
	    contrib/mtrack.conf > "$CONF" || exit 1
	say "wrote $CONF"
fi

# conf KEY DEFAULT: the value of KEY in $CONF
conf() {
	v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CONF" | tail -n 1 |
		sed 's/[[:space:]]*$//')
	printf '%s\n' "${v:-$2}"
}
LISTEN=$(conf tracker_listen 127.0.0.1:8080)
ADMIN=$(conf admin_listen 127.0.0.1:8081)
URL=$(conf tracking_url http://127.0.0.1:8080)
SOCK=$(conf milter_socket inet:8891@127.0.0.1)
# libmilter's inet:PORT@HOST is inet:HOST:PORT for Postfix
case $SOCK in
inet:*@* | inet6:*@*)
	p=${SOCK#*:}; PF_SOCK="${SOCK%%:*}:${p#*@}:${p%@*}" ;;
inet:* | inet6:*)
	PF_SOCK="${SOCK%%:*}:127.0.0.1:${SOCK#*:}" ;;
*)
	PF_SOCK=$SOCK ;;
esac

"$TRACKER" -n -c "$CONF" >/dev/null || exit 1

# listening PORT: something listens on TCP PORT (any address)
listening() {
	hex=$(printf '%04X' "$1")
	awk -v p="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == p) f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# the tracker starts without its admin listener when the port is taken (a
# warning in its log): say it here, plainly, with the way out
if [ -n "$ADMIN" ] && listening "${ADMIN##*:}"; then
	say "admin port ${ADMIN##*:} ($ADMIN) is already in use by another program:" \
	    "/metrics and /healthz on it will be off. Choose another port with" \
	    "\"admin_listen = 127.0.0.1:PORT\" in $CONF (or \"admin_listen =\" for none)"
	ADMIN=
fi

TPID=''
MPID=''
stop() {
	trap - INT TERM HUP
	for p in $MPID $TPID; do kill -TERM "$p" 2>/dev/null; done
	# a daemon that ignores SIGTERM for 10 s gets SIGKILL
	( sleep 10; for p in $MPID $TPID; do kill -KILL "$p" 2>/dev/null; done ) &
	wd=$!
	for p in $MPID $TPID; do wait "$p" 2>/dev/null; done
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	say "stopped"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP

# alive PID: still running (not exited, not a zombie)
alive() {
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $s in "" | Z* | X*) return 1 ;; esac
}

# the tracker first: it creates the database before the milter opens it
"$TRACKER" -c "$CONF" &
TPID=$!
i=0
while [ $i -lt 50 ]; do
	alive "$TPID" || break
	listening "${LISTEN##*:}" && break
	sleep 0.1
	i=$((i + 1))
done
if ! alive "$TPID"; then
	wait "$TPID"; st=$?
	say "mtrack-tracker exited (status $st); is $LISTEN already in use?"
	exit 1
fi
"$MILTER" -c "$CONF" &
MPID=$!

say "tracker on http://$LISTEN (links: $URL), milter on $SOCK; attach Postfix with" \
    "smtpd_milters = $PF_SOCK and milter_default_action = accept (contrib/postfix/);" \
    "Ctrl-C stops both"
if [ -n "$ADMIN" ]; then
	say "metrics: curl http://$ADMIN/metrics; health: curl http://$ADMIN/healthz"
else
	say "health: curl http://$LISTEN/healthz (no admin listener: no /metrics)"
fi
say "numbers from the same store: ctl/mtrackctl -c $CONF stats"

# Wait until a signal arrives or a daemon exits; "sleep & wait" keeps the
# traps responsive (the shell runs them only between commands).
while alive "$TPID" && alive "$MPID"; do
	sleep 1 &
	wait $!
done
alive "$TPID" || { wait "$TPID"; say "mtrack-tracker exited (status $?)"; TPID=; }
alive "$MPID" || { wait "$MPID"; say "mtrack-milter exited (status $?)"; MPID=; }
stop
exit 1
