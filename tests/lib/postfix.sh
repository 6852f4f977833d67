# postfix.sh - a private Postfix instance on loopback for tests (sourced, POSIX sh).
#
# Nothing here touches the system's /etc/postfix or its default instance: the
# instance lives in one directory (config, queue, data, log, sink captures) and
# listens on 127.0.0.1 only. Needs root (postfix start, smtp-sink -u postfix).
#
#   DIR=$(pf_tmpdir)
#   trap pf_cleanup EXIT; trap 'exit 130' INT TERM HUP
#   SMTP=$(free_port); SINK=$(free_port "$SMTP")
#   pf_setup "$DIR" "$SMTP" "$SINK" [inet:127.0.0.1:PORT] ['key = value'...]
#   sink_start && pf_start
#   qid=$(pf_send from@example.com to@example.net msg.eml)
#   f=$(sink_wait 1 10)                 paths of the complete captures
#   sink_message "$f" > delivered.eml   (or sink_headers / sink_body)
#
# Functions: pf_tmpdir, free_port, port_listening, wait_port, pf_setup,
# pf_postconf, pf_reload, pf_start, pf_stop, pf_running, pf_log, pf_queue, pf_flush,
# sink_start, sink_stop, sink_files, sink_count, sink_wait, sink_headers,
# sink_body, sink_message, pf_send, pf_sendmail, pf_own, pf_use, pf_cleanup.
#
# A capture (smtp-sink -d) holds, with LF line ends and dots unstuffed:
# smtp-sink's X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args,
# X-Rcpt-Args lines and a 3-line "Received: ... by smtp-sink" header, then the
# message as Postfix sent it (its own Received header first), then one empty
# line that smtp-sink appends.
#
# Call pf_tmpdir, pf_setup, sink_start, pf_start and pf_own from the test's
# own shell (pf_tmpdir inside $(...) is fine): they keep their state in PF_*
# variables (PF_DIR, PF_CONF, PF_SMTP_PORT, PF_SINK_PORT, PF_SINK_DIR,
# PF_SINK_PID, PF_MASTER_PID, PF_MILTER). The state is also written under DIR,
# so a later pf_setup can clean up after a test that was killed, and
# pf_cleanup still stops what this shell started if DIR has disappeared.
# One instance per shell at a time (pf_use switches between several).
#
# Messages from the library go to stderr, prefixed with "# " (TAP comments).
# PF_KEEP=1 keeps DIR after pf_cleanup (for a look at maillog and the queue).

PF_MARKER=.mtrack-private-postfix

_pf_say() { printf '# %s\n' "$*" >&2; }

# Print a file to stderr as TAP comments.
_pf_cat() { [ -f "$1" ] && sed 's/^/#   /' "$1" >&2; return 0; }

# pf_tmpdir: make a temp dir for an instance (mode 755: postfix must traverse
# it). pf_cleanup removes it when it is the pf_setup DIR. It records the
# calling shell's pid: once that shell is gone without cleaning up, a later
# pf_setup stops what runs in the dir (instances in it or one level down,
# pf_own processes) and removes it.
pf_tmpdir() {
	_pf_t=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-pf.XXXXXX") || return 1
	echo $$ > "$_pf_t/.owner"
	chmod 755 "$_pf_t" && printf '%s\n' "$_pf_t"
}

# free_port [EXCLUDE...]: print a TCP port that no socket on this host uses,
# below the kernel's ephemeral range (so no outgoing connection takes it).
free_port() {
	_pf_lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ -n "$_pf_lo" ] && [ "$_pf_lo" -gt 12000 ] || _pf_lo=32768
	_pf_used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk 'NR > 1 { split($2, a, ":"); print a[2] }' | sort -u)
	_pf_i=0
	while [ $_pf_i -lt 200 ]; do
		_pf_i=$((_pf_i + 1))
		_pf_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_pf_p=$((10000 + _pf_r % (_pf_lo - 10000)))
		_pf_hex=$(printf '%04X' "$_pf_p")
		case " $* " in *" $_pf_p "*) continue ;; esac
		printf '%s\n' "$_pf_used" | grep -qx "$_pf_hex" && continue
		printf '%s\n' "$_pf_p"
		return 0
	done
	_pf_say "free_port: no free port found"
	return 1
}

# port_listening PORT: true when something listens on TCP PORT (any address).
port_listening() {
	_pf_hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$_pf_hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == p) f = 1 }
			END { exit !f }'
}

# wait_port PORT [TIMEOUT] [PID]: wait until TCP PORT listens. Fails after
# TIMEOUT seconds (default 10), or at once when process PID has exited.
wait_port() {
	_pf_n=$(( ${2:-10} * 20 ))
	while [ "$_pf_n" -gt 0 ]; do
		port_listening "$1" && return 0
		if [ -n "$3" ] && ! _pf_alive "$3"; then
			_pf_say "wait_port: process $3 exited before port $1 listened"
			return 1
		fi
		sleep 0.05
		_pf_n=$((_pf_n - 1))
	done
	_pf_say "wait_port: nothing listens on port $1 after ${2:-10}s"
	return 1
}

# _pf_alive PID: true while process PID runs (a zombie counts as gone: some
# init processes, in containers in particular, reap orphans a second late).
_pf_alive() {
	_pf_s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $_pf_s in "" | Z* | X*) return 1 ;; esac
	return 0
}

# _pf_load DIR: restore PF_* variables from DIR (for pf_cleanup in another shell).
_pf_load() {
	[ -n "$1" ] || return 1
	PF_DIR=$1
	PF_CONF=$1/etc
	PF_SINK_DIR=$1/sink
	PF_SINK_PID=''
	PF_MASTER_PID=''
	PF_OWNED=''
	[ -f "$1/smtp.port" ] && PF_SMTP_PORT=$(cat "$1/smtp.port")
	[ -f "$1/sink.port" ] && PF_SINK_PORT=$(cat "$1/sink.port")
	[ -f "$1/sink.pid" ] && PF_SINK_PID=$(cat "$1/sink.pid")
	return 0
}

# _pf_master_pid DIR: print the pid of the instance's running master, if any.
_pf_master_pid() {
	_pf_mp=$(sed -n '1s/[^0-9]//gp' "$1/queue/pid/master.pid" 2>/dev/null)
	[ -n "$_pf_mp" ] || return 1
	# the pid must still be a Postfix master (pids are reused)
	case $(cat "/proc/$_pf_mp/comm" 2>/dev/null) in
	master) _pf_alive "$_pf_mp" && printf '%s\n' "$_pf_mp" ;;
	*) return 1 ;;
	esac
}

# _pf_reap_stale: remove the pf_tmpdir dirs of tests that were killed before
# their cleanup ran (owner pid gone, no "keep" file), after stopping the
# instances (in the dir or one level down) and the pf_own processes in them.
_pf_reap_stale() {
	for _pf_d in "${TMPDIR:-/tmp}"/mtrack-pf.*; do
		_pf_o=$(cat "$_pf_d/.owner" 2>/dev/null)
		[ -n "$_pf_o" ] || continue
		_pf_alive "$_pf_o" && continue
		for _pf_i in "$_pf_d" "$_pf_d"/*; do
			[ -f "$_pf_i/keep" ] && continue 2
		done
		_pf_say "removing $_pf_d, left by process $_pf_o"
		for _pf_i in "$_pf_d" "$_pf_d"/*; do
			[ -f "$_pf_i/$PF_MARKER" ] || continue
			# shellcheck disable=SC2030
			(_pf_load "$_pf_i" && sink_stop && pf_stop && _pf_stop_owned)
		done
		rm -rf "$_pf_d"
	done
}

# _pf_master_cf SMTPPORT: Debian's master.cf, chroot off everywhere, the smtp
# inet service on 127.0.0.1:SMTPPORT, no other inet or pipe services, postlog on.
_pf_master_cf() {
	_pf_src=/usr/share/postfix/master.cf.dist
	[ -f "$_pf_src" ] || _pf_src=/etc/postfix/master.cf
	[ -f "$_pf_src" ] || { _pf_say "no master.cf to copy"; return 1; }
	echo "# generated by tests/lib/postfix.sh from $_pf_src"
	awk -v port="$1" '
	/^#/ || /^[ \t]*$/ { next }
	/^[ \t]/ { if (keep) print; next }
	{
		keep = 1
		if ($2 == "inet") {
			keep = 0
			if ($1 == "smtp" && !done) {
				printf "127.0.0.1:%s inet n - n - - smtpd\n", port
				done = 1
			}
			next
		}
		if ($8 == "pipe") { keep = 0; next }
		if ($1 == "postlog") postlog = 1
		$5 = "n"
		line = sprintf("%-10s %-10s %-3s %-3s %-3s %-6s %-3s", $1, $2, $3, $4, $5, $6, $7)
		for (i = 8; i <= NF; i++) line = line " " $i
		print line
	}
	END {
		if (!postlog) print "postlog    unix-dgram n   -   n   -      1   postlogd"
		if (!done) printf "127.0.0.1:%s inet n - n - - smtpd\n", port
	}' "$_pf_src"
}

# _pf_postfix COMMAND: run "postfix -c CONF COMMAND". postfix(1) reports
# errors and warnings only to syslog (here: the maillog) or to a tty, so give
# it one with script(1); show what it said when it failed or warned.
_pf_postfix() {
	script -qec "postfix -c '$PF_CONF' $1" /dev/null </dev/null >"$PF_DIR/postfix.out" 2>&1
	_pf_st=$?
	if [ $_pf_st -ne 0 ] || grep -Eqi 'warning|fatal|error' "$PF_DIR/postfix.out"; then
		_pf_say "postfix -c $PF_CONF $1 (exit $_pf_st):"
		tr -d '\r' < "$PF_DIR/postfix.out" | awk '!seen[$0]++ { print "#   " $0 }' >&2
	fi
	return $_pf_st
}

# _pf_age_conf: date the config files 10s back. Postfix programs that read a
# main.cf modified in the last 2 seconds sleep (300 ms steps) until it is
# older, in case an editor is still writing it: 2 s lost on every fresh setup.
_pf_age_conf() {
	touch -d "@$(( $(date +%s) - 10 ))" "$PF_CONF/main.cf" "$PF_CONF/master.cf"
}

# pf_setup DIR SMTPPORT SINKPORT [MILTER_SPEC] ['key = value'...]:
# write the instance's config and directories; run "postfix check".
# MILTER_SPEC (e.g. inet:127.0.0.1:8891) goes to smtpd_milters and
# non_smtpd_milters; "" or "-" for none. Extra lines override the defaults.
pf_setup() {
	if [ $# -lt 3 ]; then
		_pf_say "usage: pf_setup DIR SMTPPORT SINKPORT [MILTER_SPEC] [main.cf lines...]"
		return 2
	fi
	mkdir -p "$1" && chmod 755 "$1" || return 1
	PF_DIR=$(cd "$1" && pwd -P) || return 1
	PF_SMTP_PORT=$2
	PF_SINK_PORT=$3
	PF_MILTER=${4:-}
	[ "$PF_MILTER" = - ] && PF_MILTER=
	shift 3
	[ $# -gt 0 ] && shift
	PF_CONF=$PF_DIR/etc
	PF_SINK_DIR=$PF_DIR/sink
	PF_SINK_PID=

	# leftovers of killed tests; a stale instance in this very dir
	_pf_reap_stale
	if _pf_master_pid "$PF_DIR" >/dev/null; then
		_pf_say "stopping the instance still running in $PF_DIR"
		pf_stop
	fi
	[ -f "$PF_DIR/sink.pid" ] && sink_stop

	: > "$PF_DIR/$PF_MARKER"
	echo "$PF_SMTP_PORT" > "$PF_DIR/smtp.port"
	echo "$PF_SINK_PORT" > "$PF_DIR/sink.port"
	mkdir -p "$PF_CONF" "$PF_DIR/queue" "$PF_DIR/data" "$PF_SINK_DIR" || return 1
	chown postfix "$PF_DIR/data" "$PF_SINK_DIR" || return 1
	chmod 700 "$PF_DIR/data"
	# postlogd reopens the log as postfix; make it once so both can write it
	: > "$PF_DIR/maillog"
	chmod 644 "$PF_DIR/maillog"

	_pf_master_cf "$PF_SMTP_PORT" > "$PF_CONF/master.cf" || return 1

	cat > "$PF_CONF/main.cf" <<EOF
# private Postfix instance for mtrack tests (tests/lib/postfix.sh)
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-mtrack-test
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
myhostname = mtrack-test.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
readme_directory = no
relayhost = [127.0.0.1]:$PF_SINK_PORT
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_peername_lookup = no

# fast: deliver at once, retry within a second or two, never warn or throttle
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtp_connect_timeout = 5s
smtp_connection_cache_on_demand = yes

# milters: mtrack must never make mail bounce in tests either
milter_default_action = accept
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
smtpd_milters = $PF_MILTER
non_smtpd_milters = $PF_MILTER
milter_macro_daemon_name = \$myhostname
# Postfix 3.7 defaults, spelt out: mtrack reads {daemon_name} and {auth_authen}
milter_connect_macros = j {daemon_name} {daemon_addr} v _
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}
EOF
	# extra lines replace a default in place (postconf -e) instead of repeating it
	for _pf_l in "$@"; do
		postconf -c "$PF_CONF" -e "$_pf_l" || return 1
	done
	_pf_age_conf

	_pf_postfix check
}

# pf_postconf [ARGS...]: postconf for the instance (e.g. pf_postconf -h relayhost,
# pf_postconf -e 'key = value'; then pf_reload if it runs).
pf_postconf() { postconf -c "$PF_CONF" "$@"; _pf_r=$?; _pf_age_conf; return $_pf_r; }

# pf_reload: make the running instance read its config again.
pf_reload() { _pf_postfix reload; }

# pf_start: start the instance, wait until its smtpd port listens.
pf_start() {
	[ -n "$PF_CONF" ] || { _pf_say "pf_start: run pf_setup first"; return 1; }
	_pf_postfix start || { pf_log 20; return 1; }
	PF_MASTER_PID=$(_pf_master_pid "$PF_DIR")
	wait_port "$PF_SMTP_PORT" 10 || { pf_log 20; return 1; }
}

# pf_stop: stop the instance and wait until its master (and children) exited.
# Faster than "postfix stop", whose wait loop sleeps whole seconds.
pf_stop() {
	[ -n "$PF_DIR" ] || return 0
	_pf_m=$(_pf_master_pid "$PF_DIR")
	# the pid file gone with DIR: the pid pf_start saw, if still a master
	if [ -z "$_pf_m" ] && [ -n "${PF_MASTER_PID:-}" ] && _pf_alive "$PF_MASTER_PID" &&
		[ "$(cat "/proc/$PF_MASTER_PID/comm" 2>/dev/null)" = master ]; then
		_pf_m=$PF_MASTER_PID
	fi
	PF_MASTER_PID=
	[ -n "$_pf_m" ] || return 0
	kill -TERM "$_pf_m" 2>/dev/null
	_pf_n=200
	while [ $_pf_n -gt 0 ] && _pf_alive "$_pf_m"; do
		sleep 0.05
		_pf_n=$((_pf_n - 1))
	done
	if _pf_alive "$_pf_m"; then
		_pf_say "pf_stop: master $_pf_m did not exit; killing its process group"
		kill -KILL -- "-$_pf_m" 2>/dev/null || kill -KILL "$_pf_m" 2>/dev/null
	fi
	return 0
}

# pf_running: true while the instance's master runs.
pf_running() { _pf_master_pid "$PF_DIR" >/dev/null; }

# pf_log [N]: the last N (default 30) lines of the instance's maillog, to stderr.
pf_log() {
	[ -f "$PF_DIR/maillog" ] || return 0
	_pf_say "maillog ($PF_DIR/maillog), last ${1:-30} lines:"
	tail -n "${1:-30}" "$PF_DIR/maillog" | sed 's/^/#   /' >&2
}

# pf_queue: print the instance's queue (postqueue -p).
pf_queue() { postqueue -c "$PF_CONF" -p; }

# pf_flush: ask the instance to retry deferred mail now.
pf_flush() { postqueue -c "$PF_CONF" -f; }

# sink_start: smtp-sink on 127.0.0.1:SINKPORT, one capture file per message
# under DIR/sink, in the background; waits until it listens.
sink_start() {
	[ -n "$PF_SINK_DIR" ] || { _pf_say "sink_start: run pf_setup first"; return 1; }
	smtp-sink -u postfix -d "$PF_SINK_DIR/%M." "127.0.0.1:$PF_SINK_PORT" 64 \
		</dev/null >"$PF_DIR/sink.log" 2>&1 &
	PF_SINK_PID=$!
	echo "$PF_SINK_PID" > "$PF_DIR/sink.pid"
	wait_port "$PF_SINK_PORT" 10 "$PF_SINK_PID" || { _pf_cat "$PF_DIR/sink.log"; return 1; }
}

# sink_stop: stop smtp-sink.
sink_stop() {
	[ -n "$PF_SINK_PID" ] || { [ -f "$PF_DIR/sink.pid" ] && PF_SINK_PID=$(cat "$PF_DIR/sink.pid"); }
	[ -n "$PF_SINK_PID" ] || return 0
	if [ "$(cat "/proc/$PF_SINK_PID/comm" 2>/dev/null)" = smtp-sink ]; then
		kill -TERM "$PF_SINK_PID" 2>/dev/null
		_pf_n=100
		while [ $_pf_n -gt 0 ] && _pf_alive "$PF_SINK_PID"; do
			sleep 0.05
			_pf_n=$((_pf_n - 1))
		done
		kill -KILL "$PF_SINK_PID" 2>/dev/null
	fi
	wait "$PF_SINK_PID" 2>/dev/null
	PF_SINK_PID=
	rm -f "$PF_DIR/sink.pid"
	return 0
}

# sink_files: print the complete capture files, oldest first. smtp-sink keeps
# a capture open while the transaction is in progress: a file it still holds
# open is not complete yet.
sink_files() {
	[ -d "$PF_SINK_DIR" ] || return 0
	_pf_open=
	_pf_sp=${PF_SINK_PID:-$(cat "$PF_DIR/sink.pid" 2>/dev/null)}
	if [ -n "$_pf_sp" ] && [ -d "/proc/$_pf_sp/fd" ]; then
		_pf_open=$(for _pf_fd in "/proc/$_pf_sp/fd"/*; do
			_pf_l=$(readlink "$_pf_fd" 2>/dev/null)
			case $_pf_l in "$PF_SINK_DIR"/*) printf '%s\n' "$_pf_l" ;; esac
		done)
	fi
	find "$PF_SINK_DIR" -type f -printf '%T@ %p\n' | sort -n | cut -d' ' -f2- |
		_PF_OPEN=$_pf_open awk 'BEGIN { n = split(ENVIRON["_PF_OPEN"], a, "\n")
			for (i = 1; i <= n; i++) open[a[i]] = 1 } !($0 in open)'
}

# sink_count: the number of complete captures.
sink_count() { sink_files | wc -l | tr -d ' '; }

# sink_wait N [TIMEOUT]: wait until N complete messages arrived (TIMEOUT
# seconds, default 10); print their paths, oldest first. On timeout, print the
# queue and the log to stderr and fail.
sink_wait() {
	_pf_want=${1:-1}
	_pf_n=$(( ${2:-10} * 20 ))
	while :; do
		_pf_have=$(sink_count)
		if [ "$_pf_have" -ge "$_pf_want" ]; then
			sink_files
			return 0
		fi
		[ "$_pf_n" -le 0 ] && break
		sleep 0.05
		_pf_n=$((_pf_n - 1))
	done
	_pf_say "sink_wait: $_pf_have of $_pf_want messages after ${2:-10}s"
	pf_queue 2>&1 | sed 's/^/#   /' >&2
	pf_log 20
	return 1
}

# sink_headers FILE: the header of a capture (smtp-sink's own X-* and
# Received first, then the message header as Postfix sent it).
sink_headers() { perl -0777 -ne 's/\n\n.*\z/\n/s; print' -- "$1"; }

# sink_body FILE: the message body of a capture, without the empty line that
# smtp-sink appends (line ends are LF, dots unstuffed).
sink_body() { perl -0777 -ne 's/\A.*?\n\n//s or $_ = ""; s/\n\z//; print' -- "$1"; }

# sink_message FILE: the message as Postfix delivered it: the capture without
# smtp-sink's own X-Client-Addr..X-Rcpt-Args and Received lines at the top and
# without the empty line it appends (line ends are LF).
sink_message() {
	perl -0777 -ne 's/\A(?:X-[A-Za-z-]+:[^\n]*\n)*Received:[^\n]*\n(?:[ \t][^\n]*\n)*//;
		s/\n\z//; print' -- "$1"
}

# pf_send FROM TO FILE [SWAKS_OPTION...]: submit FILE (a whole message, LF or
# CRLF line ends) over SMTP to the instance; print the queue ID. The bytes go
# out as they are: only CRLF line ends and dot-stuffing are added (swaks runs
# with --no-data-fixup; otherwise it replaces a literal backslash-n and
# %TOKENS% in the data, strips a leading "From " line and adds an empty line
# at the end).
pf_send() {
	[ -f "$3" ] || { _pf_say "pf_send: no file $3"; return 1; }
	_pf_from=$1 _pf_to=$2 _pf_file=$3
	shift 3
	_pf_wire=$(mktemp "$PF_DIR/send.XXXXXX") || return 1
	perl -0777 -pe 's/\r?\n/\r\n/g; s/^\./../mg;
		$_ .= "\r\n" if length && !/\r\n\z/; $_ .= "."' -- "$_pf_file" > "$_pf_wire"
	swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --helo client.localdomain \
		--from "$_pf_from" --to "$_pf_to" --no-data-fixup --data "@$_pf_wire" \
		--timeout 60 "$@" >"$_pf_wire.log" 2>&1
	_pf_st=$?
	if [ $_pf_st -ne 0 ]; then
		_pf_say "pf_send: swaks failed (exit $_pf_st):"
		grep -E '^ *(<[~*-]|\*\*\*|=== Conn)' "$_pf_wire.log" | tail -n 20 | sed 's/^/#   /' >&2
	else
		sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$_pf_wire.log" | tail -n 1
	fi
	rm -f "$_pf_wire" "$_pf_wire.log"
	return $_pf_st
}

# pf_sendmail FROM TO FILE: submit FILE through the instance's sendmail(1)
# (the local route, which non_smtpd_milters sees).
pf_sendmail() {
	[ -f "$3" ] || { _pf_say "pf_sendmail: no file $3"; return 1; }
	sendmail -C "$PF_CONF" -i -f "$1" -- "$2" < "$3"
}

# pf_own PID...: background processes of the test (a milter, a tracker) that
# pf_cleanup stops too: SIGTERM, up to 5 s, then SIGKILL. Recorded in DIR, so
# a later pf_setup also stops them if this test gets killed.
pf_own() {
	[ -n "$PF_DIR" ] || { _pf_say "pf_own: run pf_setup first"; return 1; }
	for _pf_p in "$@"; do
		_pf_c=$(cat "/proc/$_pf_p/comm" 2>/dev/null)
		printf '%s %s\n' "$_pf_p" "$_pf_c" >> "$PF_DIR/owned.pids"
		# shellcheck disable=SC2031
		PF_OWNED="${PF_OWNED:-}$_pf_p $_pf_c
"
	done
}

# _pf_stop_owned: stop what pf_own recorded (only if the pid still runs the
# same program: pids are reused).
_pf_stop_owned() {
	_pf_pids=
	_pf_list=$({ cat "$PF_DIR/owned.pids" 2>/dev/null; printf '%s' "${PF_OWNED:-}"; } | sort -u)
	PF_OWNED=
	[ -n "$_pf_list" ] || return 0
	while read -r _pf_p _pf_c; do
		[ -n "$_pf_p" ] || continue
		[ "$(cat "/proc/$_pf_p/comm" 2>/dev/null)" = "$_pf_c" ] || continue
		kill -TERM "$_pf_p" 2>/dev/null && _pf_pids="$_pf_pids $_pf_p"
	done <<EOF
$_pf_list
EOF
	for _pf_p in $_pf_pids; do
		_pf_n=100
		while [ $_pf_n -gt 0 ] && _pf_alive "$_pf_p"; do
			sleep 0.05
			_pf_n=$((_pf_n - 1))
		done
		if _pf_alive "$_pf_p"; then
			_pf_say "pid $_pf_p ignored SIGTERM for 5 s: SIGKILL"
			kill -KILL "$_pf_p" 2>/dev/null
		fi
		wait "$_pf_p" 2>/dev/null
	done
	rm -f "$PF_DIR/owned.pids"
	return 0
}

# pf_use DIR: make the instance set up in DIR this shell's current one (a
# test with several instances sets each up, then switches between them; call
# pf_cleanup once for each).
pf_use() {
	[ -f "$1/$PF_MARKER" ] || { _pf_say "pf_use: no instance in $1"; return 1; }
	_pf_load "$1"
}

# pf_cleanup: stop the instance, the sink and the pf_own processes; remove
# DIR (unless PF_KEEP is set). Safe to call twice, before pf_setup, and from
# an EXIT trap.
pf_cleanup() {
	[ -n "$PF_DIR" ] || return 0
	# stop what this shell started even if DIR is gone; remove only our DIR
	sink_stop
	pf_stop
	_pf_stop_owned
	[ -f "$PF_DIR/$PF_MARKER" ] || return 0
	if [ -n "${PF_KEEP:-}" ]; then
		: > "$PF_DIR/keep"
		_pf_say "kept $PF_DIR"
	else
		rm -rf "$PF_DIR"
	fi
	return 0
}
