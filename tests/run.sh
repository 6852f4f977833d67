#!/bin/sh
# run.sh - every test through prove: unit tests (normal and ASan/UBSan build),
# then the end-to-end tests. Ends with prove's summary and a plain
# "N passed, N failed" line.
O=${1:-build}
SAN=${2:-build/san}
cd "$(dirname "$0")/.." || exit 1
export MTRACK_TOP=$(pwd)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp)
set --
for t in "$O"/tests/test_* "$SAN"/tests/test_*; do [ -x "$t" ] && set -- "$@" "$t"; done
for t in tests/*.t tests/e2e/*.t; do [ -f "$t" ] && set -- "$@" "$t"; done
# prove's own status, not tee's (sh has no pipefail)
rcf=$(mktemp)
{ prove --exec '' --timer -f "$@" 2>&1; echo $? > "$rcf"; } | tee "$log"
rc=$(cat "$rcf")
rm -f "$rcf"
files=$(grep -E '^Files=' "$log" | sed -E 's/^Files=([0-9]+), Tests=([0-9]+).*/\2/')
bad=$(grep -E '^Failed [0-9]+/[0-9]+ subtests' "$log" | awk -F'[ /]' '{s+=$2} END {print s+0}')
total=${files:-0}
rm -f "$log"
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
echo "$((total - bad)) passed, $bad failed"
exit $rc
