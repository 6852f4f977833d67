# tap.sh - minimal TAP producer for shell tests (sourced).
# ok COND-EXIT-STATUS NAME; is GOT WANT NAME; like GOT REGEX NAME; done_testing.
TAP_N=0
TAP_FAIL=0
# The tests' daemons run as whoever runs the test and use its temp dirs:
# as root the tracker would otherwise become the "mtrack" user.
[ "$(id -u)" != 0 ] || export MTRACK_USER=root
ok() {
	_st=$1; shift
	TAP_N=$((TAP_N + 1))
	if [ "$_st" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAIL=$((TAP_FAIL + 1))
	fi
}
is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"
	fi
}
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"; echo "#   got:  '$(printf '%s' "$1" | head -c 400)'"; echo "#   want match: '$2'"
	fi
}
diag() { echo "# $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
bail() { echo "Bail out! $*"; exit 255; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAIL" -eq 0 ]; }
