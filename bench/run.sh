#!/bin/sh
# bench/run.sh - mtrack benchmarks; every figure is set against a baseline
# measured in the same run (alternating rounds, medians). See bench/README.md.
#
#   sh bench/run.sh                 (what "make bench" runs; ~5-10 min on 2 cores)
#   BENCH_QUICK=1 sh bench/run.sh   (~2-4 min: 3 rounds, shorter, smaller loads)
#
# Knobs: BENCH_ROUNDS (default 5, quick 3; keep 5 for figures you publish),
# BENCH_SECONDS (length of one HTTP round, default 5; quick 2), BENCH_LINKS
# (stored links, 1000000), BENCH_ONLY (space separated section numbers, e.g.
# "1 5"), BENCH_OUT (results file, default bench/results.md; BENCH_OUT=- writes
# none), BENCH_KEEP=1 keeps the work directory. The HTTP sections wait for the
# tracker's writer to catch up between rounds: a slow writer lengthens the run.
#
# Needs root (Postfix, smtp-sink -u postfix), wrk, nginx, valgrind, Postfix,
# smtp-source/smtp-sink. Loopback only. A benchmark that cannot run prints
# "n/a (reason)" in its row. Everything started here is stopped on exit.

# bash for arithmetic on fractions of seconds and arrays; the Makefile uses sh
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
export LC_ALL=C

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
export MTRACK_TOP=$TOP

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
ROUNDS=${BENCH_ROUNDS:-${QUICK:+3}}
ROUNDS=${ROUNDS:-5}
SECS=${BENCH_SECONDS:-${QUICK:+2}}
SECS=${SECS:-5}
NLINKS=${BENCH_LINKS:-1000000}
ONLY=${BENCH_ONLY:-1 2 3 4 5 6 7 8}
OUT=${BENCH_OUT:-$TOP/bench/results.md}
WRK_CONNS=64
WRK_THREADS=2
if [ -n "$QUICK" ]; then
	WRITER_EVENTS=30000 MILTER_MSGS=300 LAT_MSGS=60 KILL_TRIALS=1
	BIG_MB=5 CG_N=6 RW_N=50 MEM_MSGS=20 IDLE_CONNS=10000
else
	WRITER_EVENTS=100000 MILTER_MSGS=1000 LAT_MSGS=200 KILL_TRIALS=3
	BIG_MB=5 CG_N=12 RW_N=200 MEM_MSGS=20 IDLE_CONNS=10000
fi

. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/mtrack.sh"

say() { printf '%s\n' "$*" >&2; }
now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- cleanup
WORK=
PIDS=
NGX_PID=
cleanup() {
	trap - EXIT INT TERM HUP
	set +u	# the test libraries expect unset variables to be empty
	local p
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	mt_stop 2>/dev/null
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	pf_cleanup 2>/dev/null
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ -n "${BENCH_KEEP:-}" ]; then
			say "# kept $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	[ -n "${SHMDIR:-}" ] && rm -rf "$SHMDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
own() { PIDS="$PIDS $*"; }
disown_pid() {
	local p n=
	for p in $PIDS; do [ "$p" = "$1" ] || n="$n $p"; done
	PIDS=$n
}
# stop PID: SIGTERM, wait up to 5 s, then SIGKILL
stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	local n=100
	while [ $n -gt 0 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.05
		n=$((n - 1))
		# our own children: reap
		if ! _pf_alive "$1"; then break; fi
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	disown_pid "$1"
}

# ---------------------------------------------------------------- numbers
# med N...: the median
med() { printf '%s\n' "$@" | grep -E '^-?[0-9.]+(e[-+]?[0-9]+)?$' | sort -g | awk '{ v[++n] = $1 } END {
	if (!n) { print "nan"; exit }
	if (n % 2) print v[(n + 1) / 2]; else print (v[n / 2] + v[n / 2 + 1]) / 2 }'; }
# calc EXPR: awk arithmetic, 10 significant digits (enough for a time stamp)
calc() { awk "BEGIN { x = $1; printf \"%.10g\\n\", x }"; }
# fmt N [DECIMALS]: thousands separators
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN {
	if (x == "nan" || x == "") { print "?"; exit }
	s = sprintf("%." d "f", x); neg = s ~ /^-/; sub(/^-/, "", s)
	i = index(s, "."); ip = i ? substr(s, 1, i - 1) : s; fp = i ? substr(s, i) : ""
	while (length(ip) > 3) { out = "," substr(ip, length(ip) - 2) out; ip = substr(ip, 1, length(ip) - 3) }
	print (neg ? "-" : "") ip out fp }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.3f\n", a / b }'; }

# ---------------------------------------------------------------- results
ROWS=
NOTES=
# row SECTION "what" "mtrack" "baseline" "ratio" "target" "met"
row() {
	ROWS="$ROWS$1|$2|$3|$4|$5|$6|$7
"
	printf '  %-58s %-22s %-26s %-10s %-16s %s\n' "$2" "$3" "$4" "$5" "$6" "$7" >&2
}
na() { row "$1" "$2" "n/a ($3)" "" "" "${4:-}" ""; }
note() { NOTES="$NOTES- $*
"; say "  note: $*"; }
# met VALUE OP LIMIT: yes/no
met() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	if (v == "nan" || v == "") { print "?"; exit }
	r = (op == ">=") ? v >= l : v <= l; print r ? "yes" : "**no**" }'; }
x() { [ "$1" = nan ] && { echo "?"; return; }; printf '%.2fx\n' "$1"; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

# ---------------------------------------------------------------- setup
need() { command -v "$1" >/dev/null 2>&1; }
WORK=$(pf_tmpdir) || exit 1
mkdir -p "$WORK/bin" "$WORK/data"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	SHMDIR=$(mktemp -d /dev/shm/mtrack-bench.XXXXXX)
else
	SHMDIR=$(mktemp -d "$WORK/shm.XXXXXX")
fi
ulimit -n 20000 2>/dev/null || true
START=$(now)
say "# mtrack bench: rounds=$ROUNDS seconds=$SECS${QUICK:+ (quick)} work=$WORK"

for b in milter/mtrack-milter tracker/mtrack-tracker ctl/mtrackctl build/libmtrack.a; do
	[ -e "$b" ] || { say "bench: $b missing: run make first"; exit 1; }
done

# the same libraries as the Makefile links the programs with
MKVARS=$(printf 'print-bench-vars:\n\t@echo "$(PKGS)"\n\t@echo "$(LIBS)"\n' |
	make -s --no-print-directory -f Makefile -f - print-bench-vars 2>/dev/null)
PKGS=$(printf '%s\n' "$MKVARS" | sed -n 1p)
BCFLAGS="-std=gnu11 -O2 -g -D_GNU_SOURCE -Ishared $(pkg-config --cflags $PKGS)"
BLIBS="build/libmtrack.a $(printf '%s\n' "$MKVARS" | sed -n 2p)"
for d in mkstore writer_bench rewrite_bench idle_conns noop_milter sealgen; do
	# shellcheck disable=SC2086
	${CC:-cc} $BCFLAGS -o "$WORK/bin/$d" "bench/$d.c" $BLIBS ||
		{ say "bench: cannot build bench/$d.c"; exit 1; }
done

# one configuration for the tracker, the milter and the store. wrk is one
# source that follows links of every message many times a second: with burst
# detection on, the whole load is one endless scanner burst, and every burst
# re-labels its earlier clicks in the writer. The click path is measured
# without it (bench/README.md: what a scanner storm costs).
mt_config "$WORK/mt" "log_level = warning" "burst_links = 0" \
    "tracker_ip_connection_limit = 1000000" || exit 1
APORT=$(free_port "$MT_MPORT" "$MT_TPORT")
echo "admin_listen = 127.0.0.1:$APORT" >> "$MT_CONF"
# the tracker opens sealed links too (section 1, sealed row)
ctl/mtrackctl keygen 1 > "$WORK/link_keys" && chmod 600 "$WORK/link_keys" &&
	echo "link_keys = $WORK/link_keys" >> "$MT_CONF" || exit 1
stat_json() { ctl/mtrackctl -c "$MT_CONF" stats --json 2>/dev/null; }
stat_of() { stat_json | sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" | head -n 1; }

# the machine's CPU use by other processes, over one second (in %, of all cores)
bg_load() {
	local a b
	a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	sleep 1
	b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	echo "$a $b" | awk '{ t = $4 - $2; printf "%.0f\n", t ? 100 * ($3 - $1) / t : 0 }'
}
BG0=$(bg_load)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
NCPU=$(nproc)

# --------------------------------------------------------- HTTP helpers
# cpu_ticks PID...: utime+stime of the processes (all threads)
cpu_ticks() {
	local p s=0 t
	for p in "$@"; do
		t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
		s=$((s + ${t:-0}))
	done
	echo $s
}
ngx_pids() { echo "$NGX_PID $(pgrep -P "$NGX_PID" | tr '\n' ' ')"; }
# wrk_run PORT IDS PREFIX SUFFIX SECONDS OUTFILE: run wrk
wrk_run() {
	wrk -t$WRK_THREADS -c$WRK_CONNS -d"$5"s --timeout 5s --latency \
		-s "$TOP/bench/ids.lua" "http://127.0.0.1:$1" -- "$2" "$3" "$4" > "$6" 2>&1
}
# wrk_parse FILE: "rps p50_us p99_us requests bad"
wrk_parse() {
	awk 'function us(s) { v = s + 0
		if (s ~ /us$/) return v; if (s ~ /ms$/) return v * 1000
		if (s ~ /m$/) return v * 60e6; if (s ~ /s$/) return v * 1e6; return v }
	/Requests\/sec:/ { rps = $2 }
	/ requests in / { req = $1 }
	/Non-2xx or 3xx/ { bad += $NF }
	/Socket errors:/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
	$1 == "50%" { p50 = us($2) } $1 == "99%" { p99 = us($2) }
	END { printf "%s %s %s %s %d\n", rps ? rps : "nan", p50 ? p50 : "nan",
		p99 ? p99 : "nan", req ? req : 0, bad }' "$1"
}

start_nginx() {
	need nginx || return 1
	NGX_PORT=$(free_port "$MT_MPORT" "$MT_TPORT" "$APORT") || return 1
	mkdir -p "$WORK/nginx/nginx-tmp"
	sed -e "s#@PORT@#$NGX_PORT#g" -e "s#@DIR@#$WORK/nginx#g" \
		bench/nginx.conf.in > "$WORK/nginx/nginx.conf"
	nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx/stderr" &
	NGX_PID=$!
	own "$NGX_PID"
	wait_port "$NGX_PORT" 10 "$NGX_PID" || { cat "$WORK/nginx/stderr" >&2; return 1; }
}
start_tracker() {
	mt_start_tracker || { tail -n 5 "$MT_DIR/tracker.log" >&2; return 1; }
	own "$MT_TRACKER_PID"
}
stop_tracker() { stop_pid "$MT_TRACKER_PID"; MT_TRACKER_PID=; }
metric() { curl -s "http://127.0.0.1:$APORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
# clicks committed to the store: from the running tracker (cheap), else the store
clicks_now() {
	local v
	v=$(metric 'mtrack_store_records{kind="clicks"}')
	if [ -n "$v" ]; then echo "$v"; else stat_of clicks; fi
}
# tracker thread CPU split: writer (the thread named like the process, not
# the main one) vs HTTP workers
thread_ticks() {
	local t c v
	for t in /proc/"$1"/task/*; do
		c=$(cat "$t/comm" 2>/dev/null)
		v=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null)
		echo "$(basename "$t") $c $v"
	done
}

# http_section NAME IDS PREFIX SUFFIX clicks|none: alternating rounds
# tracker/nginx; fills the T_* (tracker), N_* (nginx) and R_* (ratio) arrays;
# with "clicks", also E2E (durable clicks/s) and LAG (commit lag after a round)
http_section() {
	local name=$1 ids=$2 prefix=$3 suffix=$4 check=$5
	local r order who port pids c0 c1 rps p50 p99 req bad ev0 ev1 tstart tend tdone n cpu
	T_RPS=() N_RPS=() T_P50=() N_P50=() T_P99=() N_P99=() T_CPU=() N_CPU=()
	R_RPS=() R_P50=() R_P99=() R_CPU=() E2E=() LAG=() FOLD=() T_BAD=0 N_BAD=0
	# warm-up, not counted
	wrk_run "$MT_TPORT" "$ids" "$prefix" "$suffix" 1 "$WORK/warm.out"
	wrk_run "$NGX_PORT" "$ids" "$prefix" "$suffix" 1 "$WORK/warm.out"
	wait_drained 60
	W0=$(thread_ticks "$MT_TRACKER_PID")
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then order="nginx tracker"; else order="tracker nginx"; fi
		for who in $order; do
			if [ $who = nginx ]; then port=$NGX_PORT; pids=$(ngx_pids)
			else port=$MT_TPORT; pids=$MT_TRACKER_PID; fi
			[ $who = tracker ] && [ "$check" = clicks ] && ev0=$(clicks_now)
			c0=$(cpu_ticks $pids)
			tstart=$(now)
			wrk_run "$port" "$ids" "$prefix" "$suffix" "$SECS" "$WORK/wrk.$name.$who.$r"
			c1=$(cpu_ticks $pids)
			tend=$(now)
			read -r rps p50 p99 req bad <<EOF
$(wrk_parse "$WORK/wrk.$name.$who.$r")
EOF
			if [ $who = nginx ]; then
				cpu=$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$req" \
					'BEGIN { printf "%.2f\n", n ? d * 1e6 / hz / n : 0 }')
				N_RPS+=("$rps"); N_P50+=("$p50"); N_P99+=("$p99"); N_CPU+=("$cpu")
				N_BAD=$((N_BAD + bad))
			else
				T_RPS+=("$rps"); T_P50+=("$p50"); T_P99+=("$p99")
				T_BAD=$((T_BAD + bad))
				if [ "$check" = clicks ]; then
					# durable end to end: the round's clicks over the
					# round plus the time until the last one is committed;
					# the fold's own rate while it catches up after the burst
					n=$((req - bad))
					f0=$(metric mtrack_journal_folded_total)
					wait_clicks $((ev0 + n)) 60
					tdone=$(now)
					f1=$(metric mtrack_journal_folded_total)
					ev1=$(clicks_now)
					E2E+=("$(calc "($ev1 - $ev0) / ($SECS + $tdone - $tend)")")
					LAG+=("$(calc "$tdone - $tend")")
					if [ -n "$f0" ] && [ -n "$f1" ] && [ $((f1 - f0)) -gt 1000 ]; then
						FOLD+=("$(calc "($f1 - $f0) / ($tdone - $tend)")")
					fi
				fi
				# the next round starts with the writer idle; the CPU
				# per request includes writing the round's events
				wait_drained 60
				c1=$(cpu_ticks $pids)
				cpu=$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$req" \
					'BEGIN { printf "%.2f\n", n ? d * 1e6 / hz / n : 0 }')
				T_CPU+=("$cpu")
			fi
			say "  $name round $r $who: rps=$rps p50=${p50}us p99=${p99}us cpu=${cpu}us/req bad=$bad"
		done
		R_RPS+=("$(ratio "${T_RPS[-1]}" "${N_RPS[-1]}")")
		R_P50+=("$(ratio "${T_P50[-1]}" "${N_P50[-1]}")")
		R_P99+=("$(ratio "${T_P99[-1]}" "${N_P99[-1]}")")
		R_CPU+=("$(ratio "${T_CPU[-1]}" "${N_CPU[-1]}")")
	done
	W1=$(thread_ticks "$MT_TRACKER_PID")
}
# wait_clicks N TIMEOUT: until the store counts N clicks
wait_clicks() {
	local deadline c
	deadline=$(calc "$(now) + $2")
	while :; do
		c=$(clicks_now)
		[ "${c:-0}" -ge "$1" ] && return 0
		[ "$(calc "$(now) > $deadline")" = 1 ] && { say "  clicks: $c of $1 after $2 s"; return 1; }
		sleep 0.02
	done
}
# wait_drained [TIMEOUT]: until the tracker's writer has written every event
# queued (clicks and opens; default 60 s)
wait_drained() {
	local i q j
	for i in $(seq 1 $(( ${1:-60} * 20 ))); do
		q=$(curl -s "http://127.0.0.1:$APORT/metrics" | awk '
			$1 ~ /^mtrack_events_queued_total/ { q += $2 }
			$1 == "mtrack_store_jobs_total" { j = $2 }
			END { if (j != "") print q + 0, j }')
		[ -z "$q" ] && return 1
		read -r q j <<<"$q"
		[ "$j" -ge "$q" ] && return 0
		sleep 0.05
	done
	say "  the tracker's writer still has $((q - j)) events queued after ${1:-60} s"
	return 1
}
# wait_folded [TIMEOUT]: until the tracker's event journal is folded
wait_folded() {
	local i
	for i in $(seq 1 $(( ${1:-60} * 20 ))); do
		[ "$(metric mtrack_journal_pending_bytes)" = 0 ] && return 0
		sleep 0.05
	done
	say "  the journal is not folded after ${1:-60} s"
	return 1
}
# split of tracker CPU by thread between W0 and W1
thread_split() {
	printf '%s\n---\n%s\n' "$W0" "$W1" | awk '
	$0 == "---" { after = 1; next }
	!after { b[$1] = $3; next }
	{ d = $3 - b[$1]; tot += d
	  if ($2 ~ /^MHD-worker/) w += d; else if ($2 ~ /^MHD/) m += d; else o += d }
	END { if (tot) printf "HTTP workers %.0f%%, writer and other threads %.0f%%, MHD listener %.0f%%\n",
		100 * w / tot, 100 * o / tot, 100 * m / tot }'
}

# ================================================================ 1-3: HTTP
LINKS_IDS=$WORK/data/links.txt
MSGS_IDS=$WORK/data/msgs.txt
SEALED_IDS=$WORK/data/sealed.txt
HTTP_OK=
if want 1 || want 2 || want 3 || want 7 || want 8; then
	say "# store: $NLINKS links"
	if ! "$WORK/bin/mkstore" "$MT_CONF" "$NLINKS" 100 "$LINKS_IDS" "$MSGS_IDS" >&2; then
		say "bench: mkstore failed"
	elif ! need wrk; then
		HTTP_WHY="wrk not installed"
	elif ! start_nginx; then
		HTTP_WHY="nginx did not start"
	elif ! start_tracker; then
		HTTP_WHY="mtrack-tracker did not start"
	else
		HTTP_OK=1
	fi
fi

if want 1; then
	say "# 1. click redirects: mtrack-tracker vs nginx return 302 (wrk -t$WRK_THREADS -c$WRK_CONNS, ${SECS}s x $ROUNDS rounds)"
	if [ -z "$HTTP_OK" ]; then
		na 1 "1. Click 302, req/s" "${HTTP_WHY:-setup failed}"
	else
		http_section click "$LINKS_IDS" /click/ "" clicks
		C_T_RPS=$(med "${T_RPS[@]}") C_N_RPS=$(med "${N_RPS[@]}") C_R=$(med "${R_RPS[@]}")
		row 1 "1. Click 302 (events on, 1M links): req/s" "$(fmt "$C_T_RPS")" "nginx $(fmt "$C_N_RPS")" "$(x "$C_R")" ">= 1.0x" "$(met "$C_R" '>=' 1)"
		R=$(med "${R_P50[@]}")
		row 1 "   p50 latency" "$(fmt "$(med "${T_P50[@]}")") us" "$(fmt "$(med "${N_P50[@]}")") us" "$(x "$R")" "" ""
		R=$(med "${R_P99[@]}")
		row 1 "   p99 latency" "$(fmt "$(med "${T_P99[@]}")") us" "$(fmt "$(med "${N_P99[@]}")") us" "$(x "$R")" "<= 1.5x" "$(met "$R" '<=' 1.5)"
		R=$(med "${R_CPU[@]}")
		row 1 "   server CPU per request" "$(printf '%.1f' "$(med "${T_CPU[@]}")") us" "$(printf '%.1f' "$(med "${N_CPU[@]}")") us" "$(x "$R")" "" ""
		CLICK_E2E=$(med "${E2E[@]}")
		CLICK_LAG=$(med "${LAG[@]}")
		# the burst is absorbed by the journal; what the box sustains is
		# the fold: both figures, side by side
		if [ ${#FOLD[@]} -gt 0 ]; then
			F=$(med "${FOLD[@]}")
			row 1 "   sustained: fold after the burst (journal -> LMDB), events/s" "$(fmt "$F")" "burst $(fmt "$C_T_RPS") req/s" "$(x "$(ratio "$F" "$C_T_RPS")")" ">= 100,000/s" "$(met "$F" '>=' 100000)"
		else
			row 1 "   sustained: fold after the burst, events/s" "n/a (no backlog: the fold kept up)" "burst $(fmt "$C_T_RPS") req/s" "" "" ""
		fi
		row 1 "   sustained: durable clicks/s, burst + its fold" "$(fmt "$CLICK_E2E")" "burst $(fmt "$C_T_RPS") req/s" "$(x "$(ratio "$CLICK_E2E" "$C_T_RPS")")" "" ""
		CLICK_SPLIT=$(thread_split)
		[ -n "$CLICK_SPLIT" ] && note "tracker CPU during the click rounds: $CLICK_SPLIT"
		[ "$T_BAD" -gt 0 ] && note "click: $T_BAD tracker responses were errors or not 302"
		[ "$N_BAD" -gt 0 ] && note "click: $N_BAD nginx responses were errors"
		# sealed links: the URL in the token, no store lookup
		say "# 1. click redirects, sealed links"
		if ! "$WORK/bin/sealgen" "$WORK/link_keys" 100000 "$SEALED_IDS" >&2; then
			na 1 "   sealed links: req/s" "sealgen failed"
		else
			http_section sealed "$SEALED_IDS" /click/ "" clicks
			S_T_RPS=$(med "${T_RPS[@]}")
			row 1 "   sealed links (no store lookup): req/s" "$(fmt "$S_T_RPS")" "nginx $(fmt "$(med "${N_RPS[@]}")")" "$(x "$(med "${R_RPS[@]}")")" ">= 1.0x" "$(met "$(med "${R_RPS[@]}")" '>=' 1)"
			row 1 "   sealed vs stored click rate" "$(fmt "$S_T_RPS")" "stored $(fmt "$C_T_RPS")" "$(x "$(ratio "$S_T_RPS" "$C_T_RPS")")" "" ""
			R=$(med "${R_CPU[@]}")
			row 1 "   sealed: server CPU per request" "$(printf '%.1f' "$(med "${T_CPU[@]}")") us" "$(printf '%.1f' "$(med "${N_CPU[@]}")") us" "$(x "$R")" "" ""
			[ "$T_BAD" -gt 0 ] && note "sealed: $T_BAD tracker responses were errors or not 302"
		fi
	fi
fi

if want 2; then
	say "# 2. open pixel: mtrack-tracker vs nginx empty_gif"
	if [ -z "$HTTP_OK" ]; then
		na 2 "2. Open pixel, req/s" "${HTTP_WHY:-setup failed}"
	else
		http_section open "$MSGS_IDS" /open/ .png none
		R=$(med "${R_RPS[@]}")
		row 2 "2. Open pixel (events on): req/s" "$(fmt "$(med "${T_RPS[@]}")")" "nginx $(fmt "$(med "${N_RPS[@]}")")" "$(x "$R")" ">= 1.0x" "$(met "$R" '>=' 1)"
		R=$(med "${R_P50[@]}")
		row 2 "   p50 latency" "$(fmt "$(med "${T_P50[@]}")") us" "$(fmt "$(med "${N_P50[@]}")") us" "$(x "$R")" "" ""
		R=$(med "${R_P99[@]}")
		row 2 "   p99 latency" "$(fmt "$(med "${T_P99[@]}")") us" "$(fmt "$(med "${N_P99[@]}")") us" "$(x "$R")" "" ""
		R=$(med "${R_CPU[@]}")
		row 2 "   server CPU per request" "$(printf '%.1f' "$(med "${T_CPU[@]}")") us" "$(printf '%.1f' "$(med "${N_CPU[@]}")") us" "$(x "$R")" "" ""
		[ "$T_BAD" -gt 0 ] && note "open: $T_BAD tracker responses were errors or not 200"
	fi
fi

if want 3; then
	say "# 3. durable event writes"
	WS=() WL=() WR=()
	for r in $(seq 1 "$ROUNDS"); do
		rm -rf "$WORK/w.store" "$WORK/w.lmdb"
		# the shape of the click store: 10,000 messages of 100 links
		s=$(WB_MSGS=10000 "$WORK/bin/writer_bench" store "$WORK/w.store" "$WRITER_EVENTS" 10 16384 | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
		l=$("$WORK/bin/writer_bench" lmdb "$WORK/w.lmdb" "$WRITER_EVENTS" 16384 | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
		say "  writer round $r: store=$s/s lmdb=$l/s"
		WS+=("$s") WL+=("$l") WR+=("$(ratio "$s" "$l")")
	done
	rm -rf "$WORK/w.store" "$WORK/w.lmdb"
	WSM=$(med "${WS[@]}")
	row 3 "3. Fold alone (journal -> LMDB, 1M links): durable events/s" "$(fmt "$WSM")" "bare LMDB $(fmt "$(med "${WL[@]}")")" "$(x "$(med "${WR[@]}")")" ">= 100,000/s" "$(met "$WSM" '>=' 100000)"
	if [ -n "${CLICK_E2E:-}" ]; then
		row 3 "   end to end (HTTP click -> committed): events/s" "$(fmt "$CLICK_E2E")" "writer alone" "$(x "$(ratio "$CLICK_E2E" "$WSM")")" ">= 40,000/s" "$(met "$CLICK_E2E" '>=' 40000)"
		note "end to end: after a ${SECS} s click round the last answered click was committed $(printf '%.2f' "$CLICK_LAG") s later (median)"
	else
		na 3 "   end to end events/s" "needs section 1" ">= 40,000/s"
	fi
	# loss window: answered clicks that were not durable when the tracker died
	if [ -n "$HTTP_OK" ]; then
		LOST=() LOSTMS=()
		RATE=${C_T_RPS:-}
		for r in $(seq 1 "$KILL_TRIALS"); do
			[ -n "$MT_TRACKER_PID" ] || start_tracker || break
			wait_drained
			ev0=$(stat_of clicks)
			wrk_run "$MT_TPORT" "$LINKS_IDS" /click/ "" $((SECS + 2)) "$WORK/wrk.kill.$r" &
			wp=$!
			own $wp
			# wrk loads the IDs first: let it run at full speed, then kill
			sleep $((SECS / 2 + 2))
			kill -KILL "$MT_TRACKER_PID"
			wait "$MT_TRACKER_PID" 2>/dev/null
			disown_pid "$MT_TRACKER_PID"
			MT_TRACKER_PID=
			wait $wp
			disown_pid $wp
			read -r _ _ _ req bad <<EOF
$(wrk_parse "$WORK/wrk.kill.$r")
EOF
			# what the kill left in the journal is folded at the next start
			start_tracker && wait_folded 120
			ev1=$(clicks_now)
			non302=$(awk '/Non-2xx or 3xx/ { print $NF }' "$WORK/wrk.kill.$r")
			lost=$((req - ${non302:-0} - (ev1 - ev0)))
			[ -z "$RATE" ] && RATE=$(wrk_parse "$WORK/wrk.kill.$r" | awk '{ print $1 }')
			ms=$(printf '%.1f' "$(calc "$lost * 1000 / $RATE")")
			say "  SIGKILL trial $r: answered=$((req - ${non302:-0})) stored=$((ev1 - ev0)) lost=$lost (~${ms} ms)"
			LOST+=("$lost") LOSTMS+=("$ms")
		done
		if [ ${#LOST[@]} -gt 0 ]; then
			worst=$(printf '%s\n' "${LOST[@]}" | sort -n | tail -n 1)
			worstms=$(printf '%s\n' "${LOSTMS[@]}" | sort -g | tail -n 1)
			BATCH_MS=$(ctl/mtrackctl -n -c "$MT_CONF" 2>/dev/null | sed -n 's/^batch_ms *= *//p')
			row 3 "   worst loss on SIGKILL (of ${#LOST[@]}), clicks answered not stored" "$worst events = $(printf '%.1f' "$worstms") ms" "batch_ms ${BATCH_MS:-10} ms" "$(x "$(ratio "$worstms" "${BATCH_MS:-10}")")" "0 (journal)" "$(met "$worst" '<=' 0)"
		fi
		[ -n "$MT_TRACKER_PID" ] || start_tracker >/dev/null 2>&1 || true
	else
		na 3 "   worst loss window on SIGKILL" "${HTTP_WHY:-setup failed}"
	fi
fi

# the HTTP part is over: free the CPU for the rest
if [ -n "$NGX_PID" ]; then stop_pid "$NGX_PID"; NGX_PID=; fi
[ -n "${MT_TRACKER_PID:-}" ] && stop_tracker

# ================================================================ 4: milter
# message generators (perl, core modules only)
# gen_html OUT HTML_BYTES LINKS: a multipart/alternative message whose HTML
# part (quoted-printable, like the sample newsletter) has LINKS links spread
# over HTML_BYTES of markup
gen_html() {
	perl -MMIME::QuotedPrint -e '
	my ($size, $links) = @ARGV;
	my $text = "Spring arrived early this year, and with it the first long evenings on the terrace. " x 3;
	my $html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>td{font-family:Georgia,serif}</style></head><body><table width=\"600\" cellpadding=\"0\" cellspacing=\"0\">\n";
	my $per = $links ? int($size / $links) : $size;
	my $i = 0;
	while (length($html) < $size) {
		my $chunk = "<tr><td style=\"padding:12px 24px;color:#333333;font-size:15px;line-height:22px\">";
		if ($i < $links) {
			$chunk .= "<a href=\"https://www.example.com/articles/$i/spring-collection?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=2026-03\" style=\"color:#0b6e4f\">Item $i</a> ";
			$i++;
		}
		my $fill = $per - length($chunk) - 11;
		$chunk .= substr($text x (1 + int($fill / length($text))), 0, $fill > 0 ? $fill : 0) . "</td></tr>\n";
		$html .= $chunk;
	}
	$html .= "</table></body></html>\n";
	my $qp = encode_qp($html);
	print "From: news\@example.com\nTo: reader\@example.net\nSubject: Field notes\nDate: Fri, 06 Mar 2026 10:00:00 +0000\n",
	  "Message-ID: <bench.$size.$links\@example.com>\nMIME-Version: 1.0\n",
	  "Content-Type: multipart/alternative; boundary=\"b1\"\n\n--b1\n",
	  "Content-Type: text/plain; charset=utf-8\n\nPlain version.\n\n--b1\n",
	  "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
	  $qp, "\n--b1--\n";
	' "$2" "$3" > "$1"
}

queue_empty() {
	[ -z "$(find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" \
		"$PF_DIR/queue/deferred" "$PF_DIR/queue/maildrop" -type f 2>/dev/null | head -n 1)" ]
}
wait_queue() {
	local i
	for i in $(seq 1 "$(( $1 * 20 ))"); do
		queue_empty && return 0
		sleep 0.05
	done
	return 1
}
# all CPU time of the machine (user, nice, system, irq, softirq), in ticks
sys_busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# smtp_run PORT SESSIONS MESSAGES FILE: prints "accept_seconds total_seconds
# machine_cpu_ticks milter_cpu_ticks"
smtp_run() {
	local t0 t1 t2 c0 c1 m0 m1
	c0=$(sys_busy)
	m0=$(cpu_ticks $MT_MILTER_PID)
	t0=$(now)
	smtp-source -s "$2" -m "$3" -F "$4" -f news@example.com -t reader@example.net \
		-M client.localdomain "127.0.0.1:$1" 2>>"$WORK/smtp-source.err" || return 1
	t1=$(now)
	wait_queue 120 || return 1
	t2=$(now)
	c1=$(sys_busy)
	m1=$(cpu_ticks $MT_MILTER_PID)
	echo "$(calc "$t1 - $t0") $(calc "$t2 - $t0") $((c1 - c0)) $((m1 - m0))"
}

PF_OK=
setup_postfix() {
	need smtp-source && need smtp-sink && need postfix || { PF_WHY="Postfix tools missing"; return 1; }
	PF_SMTP=$(free_port "$MT_MPORT" "$MT_TPORT" "$APORT") || return 1
	PF_SINK=$(free_port "$MT_MPORT" "$MT_TPORT" "$APORT" "$PF_SMTP") || return 1
	PF_SMTP2=$(free_port "$MT_MPORT" "$MT_TPORT" "$APORT" "$PF_SMTP" "$PF_SINK") || return 1
	PF_SMTP3=$(free_port "$MT_MPORT" "$MT_TPORT" "$APORT" "$PF_SMTP" "$PF_SINK" "$PF_SMTP2") || return 1
	pf_setup "$WORK/pf" "$PF_SMTP" "$PF_SINK" - \
		"message_size_limit = 60000000" "default_process_limit = 200" \
		"milter_content_timeout = 120s" "milter_command_timeout = 60s" \
		>/dev/null || { PF_WHY="pf_setup failed"; return 1; }
	# the same instance: a second listener with mtrack as its milter, a
	# third with a milter that does nothing but takes the same protocol
	# steps (the cost of the protocol). Both on a unix socket under the
	# queue directory, named relative to it, as contrib/postfix recommends.
	MT_SOCK=$PF_DIR/queue/mtrack/mtrack.sock
	NOOP_SOCK=$PF_DIR/queue/noop/noop.sock
	sed -i "s|^milter_socket = .*|milter_socket = unix:$MT_SOCK|" "$MT_CONF"
	echo "milter_socket_group = postfix" >> "$MT_CONF"
	printf '127.0.0.1:%s inet n - n - - smtpd -o smtpd_milters=unix:%s\n' \
		"$PF_SMTP2" mtrack/mtrack.sock "$PF_SMTP3" noop/noop.sock >> "$PF_CONF/master.cf"
	_pf_age_conf
	# a sink that keeps nothing (no -d): it is not what is measured
	smtp-sink -u postfix "127.0.0.1:$PF_SINK" 256 </dev/null >"$WORK/sink.log" 2>&1 &
	PF_SINK_PID=$!
	echo "$PF_SINK_PID" > "$PF_DIR/sink.pid"
	wait_port "$PF_SINK_PORT" 10 "$PF_SINK_PID" || { PF_WHY="smtp-sink did not start"; return 1; }
	pf_start >/dev/null || { PF_WHY="postfix did not start"; return 1; }
	wait_port "$PF_SMTP3" 10 || { PF_WHY="the milter listeners of smtpd did not start"; return 1; }
	PF_OK=1
}
# wait_sock PATH PID: until the unix socket PATH exists (10 s), or PID exited
wait_sock() {
	local i
	for i in $(seq 1 200); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# the milters run as root here: umask 0 lets smtpd (user postfix) connect
start_milter() {
	mkdir -p "${MT_SOCK%/*}" && rm -f "$MT_SOCK"
	(umask 0; exec "$TOP/milter/mtrack-milter" -c "$MT_CONF") 2>>"$MT_DIR/milter.log" &
	MT_MILTER_PID=$!
	own "$MT_MILTER_PID"
	wait_sock "$MT_SOCK" "$MT_MILTER_PID" || { tail -n 5 "$MT_DIR/milter.log" >&2; return 1; }
}
start_noop() {
	mkdir -p "${NOOP_SOCK%/*}"
	(umask 0; exec "$WORK/bin/noop_milter" "unix:$NOOP_SOCK") 2>"$WORK/noop.log" &
	NOOP_PID=$!
	own "$NOOP_PID"
	wait_sock "$NOOP_SOCK" "$NOOP_PID"
}

if want 4 || want 6 || want 8; then
	setup_postfix || say "bench: Postfix: ${PF_WHY:-setup failed}"
	[ -n "$PF_OK" ] && { start_milter || { PF_OK=; PF_WHY="mtrack-milter did not start"; }; }
fi

if want 4; then
	say "# 4. milter: Postfix + mtrack vs the same Postfix without milter (smtp-source -s 20, $MILTER_MSGS x 50 KB)"
	NEWS=contrib/examples/newsletter.eml
	if [ -z "$PF_OK" ]; then
		na 4 "4. Milter, messages/s" "${PF_WHY:-setup failed}" ">= 0.9x"
	else
		start_noop || note "milter: the no-op milter did not start"
		port_of() { case $1 in plain) echo "$PF_SMTP" ;; mtrack) echo "$PF_SMTP2" ;; noop) echo "$PF_SMTP3" ;; esac; }
		declare -A MS
		# warm-up: processes forked, caches filled
		for who in plain noop mtrack; do smtp_run "$(port_of $who)" 20 100 "$NEWS" >/dev/null; done
		m0=$(stat_of messages)
		failed=
		for r in $(seq 1 "$ROUNDS"); do
			case $((r % 3)) in
			1) order="plain noop mtrack" ;; 2) order="mtrack plain noop" ;; *) order="noop mtrack plain" ;;
			esac
			for who in $order; do
				res=$(smtp_run "$(port_of $who)" 20 "$MILTER_MSGS" "$NEWS") || { failed=$who; break 2; }
				read -r acc tot cpu mcpu <<<"$res"
				MS[$who.a]+="$(calc "$MILTER_MSGS / $acc") "
				MS[$who.e]+="$(calc "$MILTER_MSGS / $tot") "
				MS[$who.c]+="$(calc "$cpu * 1e6 / $CLK_TCK / $MILTER_MSGS") "
				[ $who = mtrack ] && MS[$who.m]+="$(calc "$mcpu * 1e6 / $CLK_TCK / $MILTER_MSGS") "
				say "  milter round $r $who: accepted in ${acc}s, delivered in ${tot}s"
			done
			for who in mtrack noop; do
				MS[$who.re]+="$(ratio "$(echo ${MS[$who.e]} | awk '{ print $NF }')" "$(echo ${MS[plain.e]} | awk '{ print $NF }')") "
				MS[$who.ra]+="$(ratio "$(echo ${MS[$who.a]} | awk '{ print $NF }')" "$(echo ${MS[plain.a]} | awk '{ print $NF }')") "
				MS[$who.rc]+="$(ratio "$(echo ${MS[$who.c]} | awk '{ print $NF }')" "$(echo ${MS[plain.c]} | awk '{ print $NF }')") "
			done
			# latency: one session, messages one after the other
			for who in plain noop mtrack; do
				res=$(smtp_run "$(port_of $who)" 1 "$LAT_MSGS" "$NEWS") || { failed=$who; break 2; }
				read -r acc _ <<<"$res"
				MS[$who.l]+="$(calc "$acc * 1000 / $LAT_MSGS") "
			done
			say "  latency round $r (ms/msg): plain $(echo ${MS[plain.l]} | awk '{ print $NF }') noop $(echo ${MS[noop.l]} | awk '{ print $NF }') mtrack $(echo ${MS[mtrack.l]} | awk '{ print $NF }')"
		done
		m1=$(stat_of messages)
		mm() { med ${MS[$1]}; }
		if [ -n "$failed" ]; then
			na 4 "4. Milter, messages/s" "a run through the $failed listener failed" ">= 0.9x"
			pf_log 20
		else
			R=$(mm mtrack.re)
			row 4 "4. Milter, 50 KB/64 links, 20 sessions: msg/s delivered" "$(fmt "$(mm mtrack.e)")" "no milter $(fmt "$(mm plain.e)")" "$(x "$R")" ">= 0.9x" "$(met "$R" '>=' 0.9)"
			row 4 "   the same through a no-op milter (protocol cost)" "no-op $(fmt "$(mm noop.e)")" "no milter $(fmt "$(mm plain.e)")" "$(x "$(mm noop.re)")" "" ""
			row 4 "   msg/s accepted by smtpd (smtp-source done)" "$(fmt "$(mm mtrack.a)")" "no milter $(fmt "$(mm plain.a)")" "$(x "$(mm mtrack.ra)")" "" ""
			row 4 "   machine CPU per message (all processes)" "$(printf '%.0f' "$(mm mtrack.c)") us" "$(printf '%.0f' "$(mm plain.c)") us (no-op milter $(printf '%.0f' "$(mm noop.c)"))" "$(x "$(mm mtrack.rc)")" "" ""
			note "milter: mtrack-milter itself used $(printf '%.0f' "$(mm mtrack.m)") us of CPU per message (all its threads)"
			LD=$(calc "$(mm mtrack.l) - $(mm plain.l)")
			row 4 "   added latency per message (1 session)" "+$(printf '%.2f' "$LD") ms" "$(printf '%.2f' "$(mm plain.l)") ms/msg" "$(x "$(ratio "$(mm mtrack.l)" "$(mm plain.l)")")" "" ""
			row 4 "   added latency per message, no-op milter" "+$(printf '%.2f' "$(calc "$(mm noop.l) - $(mm plain.l)")") ms" "" "" "" ""
			want_m=$(( ROUNDS * (MILTER_MSGS + LAT_MSGS) ))
			[ $((m1 - m0)) -lt "$want_m" ] && note "milter: only $((m1 - m0)) of $want_m messages were recorded as tracked"
		fi
	fi
fi

# ================================================================ 5: rewrite
if want 5; then
	say "# 5. rewrite engine alone vs GMime parse + serialize"
	RWCONF=$WORK/rw.conf
	printf 'db_path = %s/rwdb\ntracking_url = https://track.example.com\nlog_level = warning\n' \
		"$SHMDIR" > "$RWCONF"
	NEWS=contrib/examples/newsletter.eml
	RB=$WORK/bin/rewrite_bench
	cg() {	# cg OUT [VALGRIND-OPTION] ARGS...: instructions collected
		local out=$1 opt=
		shift
		case $1 in --*) opt=$1; shift ;; esac
		valgrind --tool=callgrind $opt --callgrind-out-file="$out" "$@" 2>&1 >/dev/null |
			sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
	}
	if need valgrind; then
		lo=2 hi=$CG_N
		# one profile file per thread: inclusive costs stay exact per thread
		a=$(cg "$WORK/cg.rw.lo" --separate-threads=yes "$RB" rewrite "$RWCONF" "$NEWS" $lo)
		b=$(cg "$WORK/cg.rw.hi" --separate-threads=yes "$RB" rewrite "$RWCONF" "$NEWS" $hi)
		c=$(cg "$WORK/cg.gm.lo" "$RB" gmime "$NEWS" $lo)
		d=$(cg "$WORK/cg.gm.hi" "$RB" gmime "$NEWS" $hi)
		if [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && [ -n "$d" ]; then
			IR=$(calc "($b - $a) / ($hi - $lo)")
			IG=$(calc "($d - $c) / ($hi - $lo)")
			R=$(ratio "$IR" "$IG")
			row 5 "5. Rewrite newsletter (50 KB): instructions/msg" "$(fmt "$IR")" "GMime $(fmt "$IG")" "$(x "$R")" "<= 1.5x" "$(met "$R" '<=' 1.5)"
			# where the instructions of one message go (inclusive, all threads)
			# per function: inclusive cost summed over the threads' files
			PROFILE=$(for f in "$WORK/cg.rw.lo" "$WORK/cg.rw.hi"; do
				for t in "$f"-*; do
					callgrind_annotate --inclusive=yes --threshold=100 "$t" 2>/dev/null |
						awk '/=>/ { next } $2 ~ /^\(/ { n = $1; gsub(/,/, "", n); f = $0
							sub(/^[^)]*\) +/, "", f); sub(/ \[.*$/, "", f); sub(/^.*:/, "", f)
							if (!(f in seen)) { seen[f] = 1; print f, n } }'
				done
				echo ---
			done | awk -v k=$((hi - lo)) -v tot="$IR" '
				$0 == "---" { part++; next }
				part == 0 { lo[$1] += $2; next }
				part == 1 { hi[$1] += $2 }
				END {
					for (f in hi) { d = (hi[f] - lo[f]) / k; if (d > 0) v[f] = d }
					split("rewrite_message mime_parse g_mime_parser_construct_message mime_decode html_rewrite rw_link mime_encode store_writer apply_msg put_json json_dumps memmem", fs, " ")
					for (i = 1; fs[i] != ""; i++) if (fs[i] in v)
						printf "| %s | %d | %.0f%% |\n", fs[i], v[fs[i]], 100 * v[fs[i]] / tot }')
		else
			na 5 "5. Rewrite newsletter: instructions/msg" "callgrind failed" "<= 1.5x"
		fi
	else
		na 5 "5. Rewrite newsletter: instructions/msg" "valgrind not installed" "<= 1.5x"
	fi
	# wall clock: alternate engine and baseline on each message
	rb_rate() {	# rb_rate MODE FILE N: MB/s and us/msg
		if [ "$1" = rewrite ]; then "$RB" rewrite "$RWCONF" "$2" "$3"; else "$RB" gmime "$2" "$3"; fi |
			sed -n 's/.*per_msg_us=\([0-9.]*\) mbps=\([0-9.]*\).*/\2 \1/p'
	}
	gen_html "$WORK/data/html-small.eml" $((BIG_MB * 1024 * 1024 / 10)) $((BIG_MB * 80))
	gen_html "$WORK/data/html-big.eml" $((BIG_MB * 1024 * 1024)) $((BIG_MB * 800))
	gen_html "$WORK/data/links-1k.eml" 120000 1000
	gen_html "$WORK/data/links-10k.eml" 1200000 10000
	declare -A RW
	for r in $(seq 1 "$ROUNDS"); do
		for spec in "news:$NEWS:$RW_N" "small:$WORK/data/html-small.eml:10" \
			"big:$WORK/data/html-big.eml:2" "l1k:$WORK/data/links-1k.eml:20" \
			"l10k:$WORK/data/links-10k.eml:2"; do
			IFS=: read -r tag file n <<<"$spec"
			read -r mb us <<<"$(rb_rate rewrite "$file" "$n")"
			read -r gmb gus <<<"$(rb_rate gmime "$file" "$n")"
			RW[$tag.mb]+="$mb " RW[$tag.us]+="$us " RW[$tag.gmb]+="$gmb " RW[$tag.gus]+="$gus "
			RW[$tag.r]+="$(ratio "$mb" "$gmb") "
		done
		say "  rewrite round $r done"
	done
	m() { printf '%.1f\n' "$(med ${RW[$1]})"; }
	row 5 "   newsletter wall time per message" "$(m news.us) us" "GMime $(m news.gus) us" "$(x "$(ratio "$(m news.us)" "$(m news.gus)")")" "" ""
	row 5 "   ${BIG_MB} MB HTML part (${BIG_MB}k links): MB/s" "$(m big.mb)" "GMime $(m big.gmb)" "$(x "$(m big.r)")" "" ""
	row 5 "   10,000 links (1.2 MB): us per link" "$(printf '%.2f' "$(calc "$(m l10k.us) / 10000")")" "GMime $(printf '%.2f' "$(calc "$(m l10k.gus) / 10000")")" "$(x "$(ratio "$(m l10k.us)" "$(m l10k.gus)")")" "" ""
	# growth, in instructions (exact, unlike time on a shared machine): one
	# message = a run with one minus a run with none
	if need valgrind; then
		cg1() { # cg1 FILE: instructions of one rewrite of FILE
			local z o
			z=$(cg "$WORK/cg.z" "$RB" rewrite "$RWCONF" "$1" 0)
			o=$(cg "$WORK/cg.o" "$RB" rewrite "$RWCONF" "$1" 1)
			[ -n "$z" ] && [ -n "$o" ] && echo $((o - z))
		}
		S_SM=$(stat -c %s "$WORK/data/html-small.eml") S_BG=$(stat -c %s "$WORK/data/html-big.eml")
		I_SM=$(cg1 "$WORK/data/html-small.eml") I_BG=$(cg1 "$WORK/data/html-big.eml")
		I_1K=$(cg1 "$WORK/data/links-1k.eml") I_10K=$(cg1 "$WORK/data/links-10k.eml")
		LIN=$(ratio "$(calc "$I_BG / $S_BG")" "$(calc "$I_SM / $S_SM")")
		row 5 "   linear in size: instructions/byte at ${BIG_MB} MB / at $((BIG_MB * 100)) KB" "$(printf '%.0f / %.0f' "$(calc "$I_BG / $S_BG")" "$(calc "$I_SM / $S_SM")")" "wall: $(m big.mb) / $(m small.mb) MB/s" "$(x "$LIN")" "~1.0x (<= 1.2)" "$(met "$LIN" '<=' 1.2)"
		LIN=$(ratio "$(calc "$I_10K / 10000")" "$(calc "$I_1K / 1000")")
		row 5 "   linear in links: instructions/link at 10k / at 1k" "$(fmt "$(calc "$I_10K / 10000")") / $(fmt "$(calc "$I_1K / 1000")")" "wall: $(printf '%.2f / %.2f' "$(calc "$(m l10k.us) / 10000")" "$(calc "$(m l1k.us) / 1000")") us/link" "$(x "$LIN")" "~1.0x (<= 1.2)" "$(met "$LIN" '<=' 1.2)"
	else
		LIN=$(ratio "$(m big.mb)" "$(m small.mb)")
		row 5 "   linear in size: MB/s at ${BIG_MB} MB / at $((BIG_MB * 100)) KB" "$(m big.mb) / $(m small.mb)" "GMime $(m big.gmb) / $(m small.gmb)" "$(x "$LIN")" "~1.0x (>= 0.8)" "$(met "$LIN" '>=' 0.8)"
		LIN=$(ratio "$(calc "$(m l10k.us) / 10000")" "$(calc "$(m l1k.us) / 1000")")
		row 5 "   linear in links: us per link at 10k / at 1k" "$(m l10k.us) / $(m l1k.us) us/msg" "" "$(x "$LIN")" "~1.0x (<= 1.25)" "$(met "$LIN" '<=' 1.25)"
	fi
fi

# ================================================================ 6: memory
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null; }
if want 6; then
	say "# 6. memory"
	if [ -z "$PF_OK" ]; then
		na 6 "6. Milter peak RSS, 20 x 10 MB" "${PF_WHY:-setup failed}"
	else
		# a fresh milter, so that its high-water mark is this test's
		stop_pid "$MT_MILTER_PID"
		start_milter
		gen_html "$WORK/data/big10m.eml" 10000000 8000
		SZ=$(stat -c %s "$WORK/data/big10m.eml")
		idle=$(kb "$MT_MILTER_PID" VmRSS)
		m0=$(stat_of messages)
		res=$(smtp_run "$PF_SMTP2" "$MEM_MSGS" "$MEM_MSGS" "$WORK/data/big10m.eml")
		m1=$(stat_of messages)
		hwm=$(kb "$MT_MILTER_PID" VmHWM)
		inflight=$((SZ * MEM_MSGS / 1024))
		if [ -z "$res" ] || [ -z "$hwm" ]; then
			na 6 "6. Milter peak RSS, $MEM_MSGS x 10 MB" "the run failed"
		else
			row 6 "6. Milter peak RSS, $MEM_MSGS concurrent x $((SZ / 1000000)) MB" "$(fmt $((hwm / 1024))) MB" "$(fmt $((inflight / 1024))) MB in flight" "$(x "$(ratio "$hwm" "$inflight")")" "" ""
			note "milter: idle RSS $((idle / 1024)) MB, peak $((hwm / 1024)) MB = $(printf '%.1f' "$(calc "($hwm - $idle) / $MEM_MSGS / 1024")") MB per concurrent $((SZ / 1000000)) MB message; $((m1 - m0)) of $MEM_MSGS rewritten"
		fi
	fi
	# the tracker: idle keep-alive connections, against nginx
	if need nginx && [ -n "$(command -v wrk)" ]; then
		start_nginx && start_tracker || true
		rss_anon() { local p s=0 v; for p in "$@"; do v=$(kb "$p" RssAnon); s=$((s + ${v:-0})); done; echo $s; }
		idle_run() {	# idle_run PORT PIDS...: anon RSS growth in KB with IDLE_CONNS connections
			local port=$1 b a ip out
			shift
			curl -s "http://127.0.0.1:$port/healthz" >/dev/null
			b=$(rss_anon "$@")
			out=$WORK/idle.$port
			"$WORK/bin/idle_conns" 127.0.0.1 "$port" "$IDLE_CONNS" /healthz >"$out" 2>&1 &
			ip=$!
			own $ip
			for _ in $(seq 1 600); do grep -qs ready "$out" && break; sleep 0.05; done
			sleep 0.5
			a=$(rss_anon "$@")
			stop_pid $ip
			grep -q "ready $IDLE_CONNS" "$out" || { echo fail; return; }
			echo "$b $a"
		}
		if [ -n "$NGX_PID" ] && [ -n "$MT_TRACKER_PID" ]; then
			read -r tb ta <<<"$(idle_run "$MT_TPORT" "$MT_TRACKER_PID")"
			read -r nb na_ <<<"$(idle_run "$NGX_PORT" $(ngx_pids))"
			if [ "$tb" = fail ] || [ "$nb" = fail ]; then
				na 6 "   tracker RSS, $IDLE_CONNS idle keep-alive connections" "could not open them all"
			else
				row 6 "   tracker anon RSS, $(fmt "$IDLE_CONNS") idle keep-alive conns" "$(fmt $((ta / 1024))) MB (+$(printf '%.1f' "$(calc "($ta - $tb) / $IDLE_CONNS")") KB/conn)" "nginx $(fmt $((na_ / 1024))) MB (+$(printf '%.1f' "$(calc "($na_ - $nb) / $IDLE_CONNS")") KB/conn)" "$(x "$(ratio $((ta - tb)) $((na_ - nb)))")" "" ""
			fi
		else
			na 6 "   tracker RSS, idle connections" "tracker or nginx did not start"
		fi
	else
		na 6 "   tracker RSS, idle connections" "nginx not installed"
	fi
fi

# ================================================================ 7: webhooks
# wh_restart on|off: the tracker again, with or without a webhook endpoint
# (nginx's /hook answers 204: the receiver costs next to nothing)
wh_restart() {
	stop_tracker
	sed -i '/^webhook_/d' "$MT_CONF"
	if [ "$1" = on ]; then
		echo "webhook_url = http://127.0.0.1:$NGX_PORT/hook" >> "$MT_CONF"
		echo "webhook_secret = whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >> "$MT_CONF"
	fi
	start_tracker
}
# wh_delivered: the webhooks the running tracker delivered
wh_delivered() {
	curl -s "http://127.0.0.1:$APORT/metrics" |
	    awk '$1 ~ /^mtrack_webhook_delivered_total/ { s += $2 } END { print s + 0 }'
}
if want 7; then
	say "# 7. click redirects with webhooks on vs off (alternating rounds, nginx /hook receiver)"
	# the HTTP part stopped nginx: here it is the webhook receiver
	if [ -n "$HTTP_OK" ] && [ -z "$NGX_PID" ] && ! start_nginx; then
		HTTP_OK= HTTP_WHY="nginx did not start"
	fi
	if [ -z "$HTTP_OK" ]; then
		na 7 "7. Click 302 with webhooks on, req/s" "${HTTP_WHY:-setup failed}"
	else
		WH_ON=() WH_OFF=() WH_R=() WH_LAG=()
		for r in $(seq 1 "$ROUNDS"); do
			if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
			for mode in $order; do
				wh_restart "$mode" || break 2
				wrk_run "$MT_TPORT" "$LINKS_IDS" /click/ "" 1 "$WORK/warm.out"
				wait_drained 60
				d0=$(wh_delivered)
				wrk_run "$MT_TPORT" "$LINKS_IDS" /click/ "" "$SECS" "$WORK/wrk.wh.$mode.$r"
				tend=$(now)
				read -r rps p50 p99 req bad <<EOF
$(wrk_parse "$WORK/wrk.wh.$mode.$r")
EOF
				if [ "$mode" = on ]; then
					WH_ON+=("$rps")
					# how long after the round its clicks were all delivered
					for i in $(seq 1200); do
						[ "$(wh_delivered)" -ge $((d0 + req - bad)) ] && break
						sleep 0.1
					done
					WH_LAG+=("$(calc "$(now) - $tend")")
				else
					WH_OFF+=("$rps")
				fi
				say "  webhooks $mode round $r: rps=$rps p99=${p99}us bad=$bad"
			done
			[ ${#WH_ON[@]} = ${#WH_OFF[@]} ] && WH_R+=("$(ratio "${WH_ON[-1]}" "${WH_OFF[-1]}")")
		done
		stop_tracker
		sed -i '/^webhook_/d' "$MT_CONF"
		stop_pid "$NGX_PID"
		NGX_PID=
		if [ ${#WH_R[@]} -gt 0 ]; then
			R=$(med "${WH_R[@]}")
			row 7 "7. Click 302 with webhooks on: req/s" "$(fmt "$(med "${WH_ON[@]}")")" "webhooks off $(fmt "$(med "${WH_OFF[@]}")")" "$(x "$R")" ">= 0.95x" "$(met "$R" '>=' 0.95)"
			note "webhooks: a ${SECS} s click round was delivered in full (signed POSTs to nginx) $(printf '%.1f' "$(med "${WH_LAG[@]}")") s after it ended (median; at most 120 s waited)"
		else
			na 7 "7. Click 302 with webhooks on, req/s" "the tracker did not restart"
		fi
	fi
fi

# ================================================================ 8: stream
# the cost of publishing to NATS JetStream: the same tracker and milter with
# and without stream_url (a one-node JetStream server on loopback, file
# storage), alternating rounds; then how fast the events are published and
# how fast a collector applies the whole stream to a store of its own
if want 8; then
	say "# 8. publishing to NATS JetStream: with vs without stream_url"
	NATS_OK=
	if ! need nats-server; then
		NATS_WHY="nats-server not installed"
	else
		NPORT=$(free_port "$MT_MPORT" "$MT_TPORT" "$APORT" ${PF_SMTP:-} ${PF_SINK:-} ${PF_SMTP2:-} ${PF_SMTP3:-})
		NHTTP=$(free_port "$MT_MPORT" "$MT_TPORT" "$APORT" "$NPORT" ${PF_SMTP:-} ${PF_SINK:-} ${PF_SMTP2:-} ${PF_SMTP3:-})
		mkdir -p "$WORK/nats"
		nats-server -a 127.0.0.1 -p "$NPORT" -m "$NHTTP" -js -sd "$WORK/nats" \
			>"$WORK/nats.log" 2>&1 &
		NATS_PID=$!
		own "$NATS_PID"
		if wait_port "$NPORT" 20 "$NATS_PID"; then NATS_OK=1; else NATS_WHY="nats-server did not start"; fi
	fi
	CONF_OFF=$MT_CONF
	CONF_ON=$WORK/mt/stream.conf
	{ cat "$MT_CONF"; echo "stream_url = nats://127.0.0.1:${NPORT:-1}"; } > "$CONF_ON"
	if [ -z "$NATS_OK" ] || [ -z "$HTTP_OK" ]; then
		na 8 "8. Click 302 with stream_url: req/s" "${NATS_WHY:-${HTTP_WHY:-setup failed}}"
	else
		declare -A SR
		for r in $(seq 1 "$ROUNDS"); do
			if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
			for who in $order; do
				stop_tracker
				if [ $who = on ]; then MT_CONF=$CONF_ON; else MT_CONF=$CONF_OFF; fi
				start_tracker || break 2
				p0=$(metric mtrack_stream_published_total)
				t0=$(now)
				wrk_run "$MT_TPORT" "$LINKS_IDS" /click/ "" "$SECS" "$WORK/wrk.stream.$who.$r"
				read -r rps _ _ _ _ <<<"$(wrk_parse "$WORK/wrk.stream.$who.$r")"
				SR[$who]+="$rps "
				if [ $who = on ]; then
					# every click of the round published: the publisher's pace
					for i in $(seq 1 2400); do
						b=$(metric mtrack_stream_backlog)
						[ "${b:-1}" = 0 ] && break
						sleep 0.05
					done
					t1=$(now)
					p1=$(metric mtrack_stream_published_total)
					SR[pub]+="$(calc "(${p1:-0} - ${p0:-0}) / ($t1 - $t0)") "
					SR[lag]+="$(calc "$t1 - $t0 - $SECS") "
				fi
				wait_drained 60
				say "  stream round $r $who: $(fmt "$rps") req/s"
			done
			SR[ratio]+="$(ratio "$(echo ${SR[on]} | awk '{ print $NF }')" "$(echo ${SR[off]} | awk '{ print $NF }')") "
		done
		stop_tracker
		MT_CONF=$CONF_OFF
		start_tracker
		R=$(med ${SR[ratio]})
		row 8 "8. Click 302 with stream_url: req/s" "$(fmt "$(med ${SR[on]})")" "without $(fmt "$(med ${SR[off]})")" "$(x "$R")" "" ""
		row 8 "   events published (JetStream, 1 node, file): /s" "$(fmt "$(med ${SR[pub]})")" "" "" "" ""
		note "stream: the last click of a round was acknowledged by JetStream $(printf '%.1f' "$(med ${SR[lag]})") s after the round ended (median)"
		# a collector on a store of its own reads the whole stream (its
		# messages are not in it: the events wait, parked, which costs
		# the same write); records handled, from its log
		n=$(curl -s "http://127.0.0.1:$NHTTP/jsz" | sed -n 's/^ *"messages": *\([0-9]*\).*/\1/p' | head -n 1)
		printf 'db_path = %s/collector\nstream_url = nats://127.0.0.1:%s\nlog_level = debug\n' \
			"$WORK" "$NPORT" > "$WORK/collector.conf"
		t0=$(now)
		ctl/mtrackctl -c "$WORK/collector.conf" collect 2>>"$WORK/collector.log" &
		CPID=$!
		own "$CPID"
		c=0
		for i in $(seq 1 1200); do
			c=$(grep 'collect batch=' "$WORK/collector.log" | tail -n 1 |
				awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(applied|duplicates|parked)=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }')
			[ "$c" -ge "${n:-0}" ] && break
			sleep 0.1
		done
		t1=$(now)
		stop_pid "$CPID"
		row 8 "   collector: records applied/s (whole stream)" "$(fmt "$(calc "$c / ($t1 - $t0)")")" "$c of ${n:-?} records" "" "" ""
	fi
	if [ -z "$NATS_OK" ] || [ -z "$PF_OK" ]; then
		na 8 "   milter with stream_url: msg/s" "${NATS_WHY:-${PF_WHY:-setup failed}}"
	else
		NEWS=contrib/examples/newsletter.eml
		declare -A SM
		for r in $(seq 1 "$ROUNDS"); do
			if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
			for who in $order; do
				stop_pid "$MT_MILTER_PID"
				disown_pid "$MT_MILTER_PID"
				if [ $who = on ]; then MT_CONF=$CONF_ON; else MT_CONF=$CONF_OFF; fi
				start_milter || break 2
				res=$(smtp_run "$PF_SMTP2" 20 "$MILTER_MSGS" "$NEWS") || break 2
				read -r _ tot _ mcpu <<<"$res"
				SM[$who]+="$(calc "$MILTER_MSGS / $tot") "
				SM[$who.c]+="$(calc "$mcpu * 1e6 / $CLK_TCK / $MILTER_MSGS") "
				say "  milter stream round $r $who: delivered in ${tot}s"
			done
		done
		MT_CONF=$CONF_OFF
		R=$(ratio "$(med ${SM[on]})" "$(med ${SM[off]})")
		row 8 "   milter with stream_url: msg/s delivered" "$(fmt "$(med ${SM[on]})")" "without $(fmt "$(med ${SM[off]})")" "$(x "$R")" "" ""
		row 8 "   milter CPU per message, with vs without" "$(printf '%.0f' "$(med ${SM[on.c]})") us" "$(printf '%.0f' "$(med ${SM[off.c]})") us" "$(x "$(ratio "$(med ${SM[on.c]})" "$(med ${SM[off.c]})")")" "" ""
	fi
fi

# ================================================================ report
BG1=$(bg_load)
if [ "$BG0" -gt 5 ] || [ "$BG1" -gt 5 ]; then
	note "other processes used ${BG0}% of the machine's CPU before the run and ${BG1}% after it: figures are noisier than usual (the rounds alternate, so ratios suffer less than absolute values)"
fi
END_T=$(now)
ELAPSED=$(calc "$END_T - $START")
say "# done in $(printf '%.0f' "$ELAPSED") s"
table() {
	echo "| Benchmark | mtrack | baseline | ratio | target | met |"
	echo "|---|---|---|---|---|---|"
	printf '%s' "$ROWS" | awk -F'|' 'NF >= 7 { printf "| %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7 }'
}
report() {
	echo "# mtrack benchmark results"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $CPU_MODEL, $NCPU cores; kernel $(uname -r)"
	echo "- Tree: $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "- Settings: $ROUNDS alternating rounds (medians; ratios are medians of per-round ratios), HTTP rounds of ${SECS}s, wrk -t$WRK_THREADS -c$WRK_CONNS on the same machine${QUICK:+, quick mode}; total ${ELAPSED%.*} s"
	echo "- Versions: $(nginx -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }'), postfix $(postconf -h mail_version 2>/dev/null), libmicrohttpd $(pkg-config --modversion libmicrohttpd), lmdb $(pkg-config --modversion lmdb), gmime $(pkg-config --modversion gmime-3.0)"
	echo
	table
	if [ -n "$NOTES" ]; then
		echo
		echo "Notes:"
		echo
		printf '%s' "$NOTES"
	fi
	if [ -n "${PROFILE:-}" ]; then
		echo
		echo "Where the instructions of one rewritten newsletter go (callgrind, inclusive; rewrite_message runs on the caller's thread, store_writer on the store's writer thread, which records the links):"
		echo
		echo "| function | instructions | share |"
		echo "|---|---|---|"
		printf '%s\n' "$PROFILE"
	fi
	echo
	echo "Reproduce: \`make bench\` (or \`sh bench/run.sh\`); method in bench/README.md."
}
echo
table
if [ "$OUT" != - ]; then
	report > "$OUT"
	say "# results written to ${OUT#"$TOP"/}"
fi
exit 0
