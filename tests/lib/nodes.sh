# nodes.sh - what the node and sealed-link tests share (sourced, bash; after
# tap.sh, tracker.sh and postfix.sh).
# shellcheck disable=SC2034  # MILTER, EML, PORT, MPORT, RC are for the test
#
#   nd_init NAME TOOL...    trk_init, plus a copy of the milter ($MILTER), a
#                           cleanup trap, the test mail ($EML), two free
#                           ports ($PORT: tracker, $MPORT: milter)
#   nd_refused CONF LOG     run the tracker on CONF, which must stop at start:
#                           wait 10 s at most; RC is its status (or 124 if it
#                           still ran and was killed), LOG its output

nd_init() {
	trk_init "$@"
	[ -x "$TOP/milter/mtrack-milter" ] || skip_all "build first: make"
	cp "$TOP/milter/mtrack-milter" "$T/bin/" || bail "cannot copy the milter"
	MILTER=$T/bin/mtrack-milter
	trap nd_cleanup EXIT
	EML=$TOP/tests/data/e2e/links.eml
	PORT=$(free_port) || bail "no port"
	MPORT=$(free_port "$PORT") || bail "no port"
}

nd_cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	[ -n "${MTRACK_KEEP:-}" ] || rm -rf "$T"
}

nd_refused() {
	local i
	"$TRACKER" -c "$1" > "$2" 2>&1 &
	PID=$!
	for i in $(seq 200); do running "$PID" || break; sleep 0.05; done
	if running "$PID"; then
		kill -9 "$PID"
		wait "$PID" 2>/dev/null
		RC=124
	else
		wait "$PID"
		RC=$?
	fi
	PID=
}
