# tracker.sh - what the tracker's end-to-end tests share (sourced, bash).
# shellcheck disable=SC2034  # T, TRACKER, CTL, RC are for the sourcing test
#
#   trk_init NAME TOOL...   skip unless built and TOOLs exist; make $T with
#                           copies of the binaries ($TRACKER, $CTL): a "make"
#                           during the run must not swap them under the test
#   running PID             the process exists and is not a zombie
#   stop [SIGNAL]           signal $PID, wait 10 s at most; RC is its status

trk_init() {
	local name=$1 t
	shift
	[ -x "$TOP/tracker/mtrack-tracker" ] && [ -x "$TOP/ctl/mtrackctl" ] ||
	    skip_all "build first: make"
	for t in "$@"; do
		command -v "$t" >/dev/null || skip_all "$t is not installed"
	done
	T=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-$name.XXXXXX") || bail "mktemp"
	mkdir "$T/bin" && cp "$TOP/tracker/mtrack-tracker" "$TOP/ctl/mtrackctl" \
	    "$T/bin/" || bail "cannot copy the binaries"
	TRACKER=$T/bin/mtrack-tracker
	CTL=$T/bin/mtrackctl
	PID=
}

running() {
	[ -r "/proc/$1/status" ] &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop() {
	local i
	kill -"${1:-TERM}" "$PID"
	for i in $(seq 500); do running "$PID" || break; sleep 0.02; done
	running "$PID" && kill -9 "$PID"
	{ wait "$PID"; } 2>/dev/null
	RC=$?
	PID=
}
