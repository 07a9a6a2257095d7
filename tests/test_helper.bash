# Shared by every tests/*.bats: bats-support, bats-assert, paths.
bats_require_minimum_version 1.5.0
bats_load_library bats-support 2>/dev/null || load /usr/lib/bats/bats-support/load
bats_load_library bats-assert 2>/dev/null || load /usr/lib/bats/bats-assert/load
: "${MERIT_ROOT:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${MERIT_BIN:=$MERIT_ROOT/bin}"
PATH="$MERIT_BIN:$PATH"
SHARED=${SHARED:-$MERIT_ROOT/../shared}
FIX=$MERIT_ROOT/tests/fixtures
export MERIT_ROOT MERIT_BIN PATH SHARED FIX

# no_files_like DIR PATTERN: assert nothing matching PATTERN is left in DIR
refute_leftovers() {
	local left
	left=$(find "$1" -name "${2:-*.tmp.*}" | head -n 5)
	[ -z "$left" ] || fail "partial output left: $left"
}

# msgpack by hand, for streams no filter would write.
mp_s() { printf "\\x$(printf %02x $((0xa0 + ${#1})))%s" "$1"; }
mp_header() { printf '\x83'; mp_s format; mp_s merit-stream; mp_s version; printf "\\x$(printf %02x "${1:-1}")"; mp_s writer; mp_s test; }
mp_trailer() { printf '\x82'; mp_s end; mp_s merit-stream; mp_s count; printf "\\x$(printf %02x "$1")"; }
# a small well-formed stream of N records (default 5) from mkjsonl
make_stream() { "$FIX/mkjsonl" "${2:-5}" "${3:-20}" | ecg-pack > "$1"; }

# check_help_and_bad_option PROG [SUBCOMMAND]: -h and --help print the usage
# on stdout and exit 0 with nothing on stderr; an unknown option, long or
# short, prints "PROG: unknown option 'X'" and the same usage on stderr and
# exits 2 with nothing on stdout; --version prints "PROG (merit) VERSION".
check_help_and_bad_option() {
	local prog=$1 usage opt
	run --separate-stderr "$@" -h
	assert_success
	assert_equal "$stderr" ""
	[[ $output == "usage: $*"* ]] || fail "$* -h: not its usage: $output"
	usage=$output
	run --separate-stderr "$@" --help
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "$usage"
	for opt in --no-such-option -Z; do
		run --separate-stderr "$@" "$opt"
		assert_failure 2
		assert_equal "$output" ""
		assert_equal "$stderr" "$prog: unknown option '$opt'"$'\n'"$usage"
	done
	run --separate-stderr "$@" --version
	assert_success
	assert_equal "$stderr" ""
	assert_regex "$output" "^$prog \(merit\) [0-9]+\.[0-9]+\$"
}
