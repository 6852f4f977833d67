#!/bin/sh
# tests/fuzz/run.sh - libFuzzer targets under ASan and UBSan (make fuzz).
#
#   sh tests/fuzz/run.sh                  build, then fuzz every target
#   sh tests/fuzz/run.sh build            build only
#   sh tests/fuzz/run.sh repro T FILE...  run target T (html, mime) on FILEs
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 600); the targets run in parallel
#   FUZZ_TARGETS  targets to run (default "html mime")
#   FUZZ_WORK     work directory: binaries, corpus, logs, crash files
#                 (default: a new directory under ${TMPDIR:-/tmp})
#   FUZZ_FLAGS    extra libFuzzer flags
#   CLANG         the compiler (default clang)
#
# The targets are built from shared/*.c with clang and
# -fsanitize=fuzzer,address,undefined (not from build/libmtrack.a, which
# gcc builds without coverage instrumentation). New corpus entries go to
# the work directory, never into the repository. Exit status: 0 when no
# target found anything, 1 on a crash, leak, timeout or out-of-memory, 2
# when the targets cannot be built.
set -u

here=$(pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

CLANG=${CLANG:-clang}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_TARGETS=${FUZZ_TARGETS:-html mime}
FUZZ_FLAGS=${FUZZ_FLAGS:-}
# the libraries of the Makefile, but the HTTP server (shared/ never uses it)
PKGS=$(sed -n 's/^PKGS[[:space:]]*=//p' Makefile | tr -s ' \t' '\n' |
    grep -v -e '^$' -e '^libmicrohttpd$' | tr '\n' ' ')
[ -n "$PKGS" ] || PKGS="gmime-3.0 lmdb jansson nettle"

max_len() {
	case $1 in
	html) echo 65536 ;;
	mime) echo 262144 ;;
	*) echo 65536 ;;
	esac
}

# ---- tools ----

have_fuzzer() {
	command -v "$CLANG" >/dev/null 2>&1 || return 1
	d=$(mktemp -d) || return 1
	printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	    '{ (void)d; (void)n; return 0; }' >"$d/t.c"
	"$CLANG" -fsanitize=fuzzer,address,undefined -o "$d/t" "$d/t.c" \
	    >/dev/null 2>&1
	rc=$?
	rm -rf "$d"
	return $rc
}

install_tools() {
	have_fuzzer && return 0
	if [ -x contrib/install-deps-fuzz ]; then
		contrib/install-deps-fuzz
	elif [ -f contrib/install-deps-fuzz ]; then
		sh contrib/install-deps-fuzz
	elif [ "$(id -u)" = 0 ]; then
		echo "fuzz: installing clang and libclang-rt-14-dev" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >&2 || true
		apt-get install -y --no-install-recommends clang \
		    libclang-rt-14-dev >&2
	else
		echo "fuzz: clang with libFuzzer is missing; as root run:" >&2
		echo "  apt-get install -y clang libclang-rt-14-dev" >&2
		return 1
	fi
	have_fuzzer || {
		echo "fuzz: $CLANG cannot build with -fsanitize=fuzzer" >&2
		return 1
	}
}

# ---- build ----

WORK=${FUZZ_WORK:-}
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtrack-fuzz.XXXXXX") || exit 2
fi
mkdir -p "$WORK" || exit 2
WORK=$(cd "$WORK" && pwd)

CFLAGS_FUZZ="-g -O1 -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -Wall -Wextra -Wno-unused-parameter -Ishared"

build() {
	install_tools || return 2
	# shellcheck disable=SC2086
	cflags=$(pkg-config --cflags $PKGS) || {
		echo "fuzz: pkg-config cannot find $PKGS (make deps)" >&2
		return 2
	}
	# shellcheck disable=SC2086
	libs=$(pkg-config --libs $PKGS)
	mkdir -p "$WORK/obj"
	objs=
	for src in shared/*.c; do
		o=$WORK/obj/$(basename "$src" .c).o
		# shellcheck disable=SC2086
		"$CLANG" $CFLAGS_FUZZ -fsanitize=fuzzer-no-link $cflags \
		    -c -o "$o" "$src" || return 2
		objs="$objs $o"
	done
	for t in $FUZZ_TARGETS; do
		echo "fuzz: building $WORK/fuzz_$t" >&2
		# the harness itself without coverage: only the library guides
		# shellcheck disable=SC2086
		"$CLANG" $CFLAGS_FUZZ $cflags -c -o "$WORK/obj/fuzz_$t.o" \
		    "tests/fuzz/fuzz_$t.c" || return 2
		# shellcheck disable=SC2086
		"$CLANG" $CFLAGS_FUZZ -fsanitize=fuzzer -o "$WORK/fuzz_$t" \
		    "$WORK/obj/fuzz_$t.o" $objs $libs -lpthread || return 2
	done
}

# the sanitizers stop at the first error; GLib allocates with malloc
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export G_SLICE=always-malloc

# the store of fuzz_mime: tmpfs when there is one (commits fsync)
store_tmp() {
	for d in /dev/shm "${TMPDIR:-/tmp}"; do
		if [ -d "$d" ] && [ -w "$d" ]; then
			mktemp -d "$d/mtrack-fuzz-store.XXXXXX" && return 0
		fi
	done
	return 1
}

case ${1:-} in
build)
	build || exit 2
	echo "fuzz: targets in $WORK" >&2
	exit 0
	;;
repro)
	[ $# -ge 3 ] || { echo "usage: $0 repro TARGET FILE..." >&2; exit 2; }
	t=$2
	shift 2
	case " $FUZZ_TARGETS " in *" $t "*) ;; *) FUZZ_TARGETS="$FUZZ_TARGETS $t" ;; esac
	[ -x "$WORK/fuzz_$t" ] || build || exit 2
	st=$(store_tmp) || exit 2
	for f in "$@"; do
		case $f in
		/*|-*) set -- "$@" "$f" ;;
		*) set -- "$@" "$here/$f" ;;
		esac
		shift
	done
	TMPDIR=$st "$WORK/fuzz_$t" -runs=1 "$@"
	rc=$?
	rm -rf "$st"
	exit $rc
	;;
"") ;;
*)
	echo "usage: $0 [build | repro TARGET FILE...]" >&2
	exit 2
	;;
esac

build || exit 2
st=$(store_tmp) || exit 2
trap 'rm -rf "$st"' EXIT
trap 'exit 130' INT TERM

# seeds: the project's own test data, plus the few inputs kept for fuzzing only
seeds() {
	case $1 in
	html) echo tests/data/html tests/fuzz/corpus/html ;;
	mime) echo tests/data/corpus tests/data/mime-samples tests/data/fuzz-regressions ;;
	esac
}

echo "fuzz: $FUZZ_SECONDS s per target, work directory $WORK" >&2
for t in $FUZZ_TARGETS; do
	mkdir -p "$WORK/corpus-$t" "$WORK/artifacts-$t"
	date +%s >"$WORK/$t.start"
	# shellcheck disable=SC2086
	(
		TMPDIR=$st "$WORK/fuzz_$t" -max_len="$(max_len "$t")" \
		    -max_total_time="$FUZZ_SECONDS" -timeout=30 \
		    -rss_limit_mb=4096 -print_final_stats=1 \
		    -artifact_prefix="$WORK/artifacts-$t/" $FUZZ_FLAGS \
		    "$WORK/corpus-$t" $(seeds "$t") \
		    >"$WORK/$t.log" 2>&1
		echo $? >"$WORK/$t.rc"
		date +%s >"$WORK/$t.end"
	) &
done
wait

status=0
for t in $FUZZ_TARGETS; do
	log=$WORK/$t.log
	rc=$(cat "$WORK/$t.rc" 2>/dev/null || echo 99)
	secs=$(( $(cat "$WORK/$t.end") - $(cat "$WORK/$t.start") ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ -z "$execs" ]; then
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
	fi
	execs=${execs:-0}
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	[ -n "$rate" ] || rate=$(( secs > 0 ? execs / secs : execs ))
	found=$(find "$WORK/artifacts-$t" -type f | sort)
	ncrash=$(printf '%s' "$found" | grep -c . || true)
	if [ "$rc" != 0 ] && [ "$ncrash" = 0 ]; then
		ncrash=1
	fi
	corpus=$(find "$WORK/corpus-$t" -type f | wc -l)
	printf 'fuzz_%s: %s s, %s executions, %s exec/s, corpus %s, crashes %s\n' \
	    "$t" "$secs" "$execs" "$rate" "$corpus" "$ncrash"
	if [ "$ncrash" != 0 ]; then
		status=1
		echo "fuzz_$t: FAILED (exit $rc), log $log"
		grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_[a-z]+\.c:[0-9]+: invariant|.*runtime error)' "$log" | sed 's/^/  /'
		for f in $found; do
			echo "  crash file: $f"
			echo "  reproduce:  FUZZ_WORK=$WORK sh tests/fuzz/run.sh repro $t $f"
		done
	fi
done
exit $status
