# Shared by every tests/*.bats: bats-support, bats-assert, paths.
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
