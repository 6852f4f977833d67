# mtrack.sh - start mtrack's daemons for tests (sourced; needs postfix.sh for ports).
#
#   mt_config DIR [key = value...]   write DIR/mtrack.conf on free ports; sets MT_*
#   mt_start_milter / mt_start_tracker   start in the background, wait until they listen
#   mt_stop                          SIGTERM both, wait for them
#   mt_ctl ARGS...                   ctl/mtrackctl -c the config
#   mt_postfix DIR                   a private Postfix in DIR with the milter
#                                    and a sink (sets SMTP, SINK)
#   mt_deliver IN OUT N              send IN through it, wait for the Nth
#                                    delivery, write OUT.head, OUT.body and
#                                    OUT.eml (From: on, blank line, body);
#                                    prints the queue id
TOP=${MTRACK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MT_MILTER_PID=
MT_TRACKER_PID=
# these daemons use the caller's temp dirs: as root the tracker stays root
[ "$(id -u)" != 0 ] || export MTRACK_USER=root

mt_config() {
	MT_DIR=$1
	shift
	mkdir -p "$MT_DIR"
	MT_MPORT=$(free_port) || return 1
	MT_TPORT=$(free_port "$MT_MPORT") || return 1
	MT_CONF=$MT_DIR/mtrack.conf
	MT_URL=http://127.0.0.1:$MT_TPORT
	{
		echo "db_path = $MT_DIR/db"
		echo "milter_socket = inet:$MT_MPORT@127.0.0.1"
		echo "tracker_listen = 127.0.0.1:$MT_TPORT"
		echo "tracking_url = $MT_URL"
		for l in "$@"; do echo "$l"; done
	} > "$MT_CONF"
}

mt_start_milter() {
	"$TOP/milter/mtrack-milter" -c "$MT_CONF" 2>>"$MT_DIR/milter.log" &
	MT_MILTER_PID=$!
	wait_port "$MT_MPORT" 10 "$MT_MILTER_PID"
}

mt_start_tracker() {
	"$TOP/tracker/mtrack-tracker" -c "$MT_CONF" 2>>"$MT_DIR/tracker.log" &
	MT_TRACKER_PID=$!
	wait_port "$MT_TPORT" 10 "$MT_TRACKER_PID"
}

mt_stop() {
	for p in $MT_MILTER_PID $MT_TRACKER_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $MT_MILTER_PID $MT_TRACKER_PID; do
		wait "$p" 2>/dev/null
	done
	MT_MILTER_PID=
	MT_TRACKER_PID=
}

mt_ctl() { "$TOP/ctl/mtrackctl" -c "$MT_CONF" "$@"; }

mt_postfix() {
	SMTP=$(free_port "$MT_MPORT" "$MT_TPORT") || return 1
	SINK=$(free_port "$MT_MPORT" "$MT_TPORT" "$SMTP") || return 1
	pf_setup "$1" "$SMTP" "$SINK" "inet:127.0.0.1:$MT_MPORT" &&
	    sink_start && pf_start
}

mt_deliver() {
	local qid f
	qid=$(pf_send news@example.com reader@example.net "$1") || return 1
	echo "$qid"
	f=$(sink_wait "$3" 20) || return 1
	sink_body "$f" > "$2.body"
	sink_headers "$f" > "$2.head"
	{ sed -n '/^From:/,$p' "$2.head"; echo; cat "$2.body"; } > "$2.eml"
}
