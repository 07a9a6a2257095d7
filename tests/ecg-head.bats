#!/usr/bin/env bats
# ecg-head: the first N records.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; make_stream a.ecgz 15 5; }

@test "-n N keeps the first N records in order" {
	ecg-head -n 3 a.ecgz > h.ecgz
	run ecg-dump h.ecgz
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 2 --partial '"id":"rec00003"'
}

@test "default 10; -n 0 gives an empty, valid stream; N beyond the end gives all" {
	[ "$(ecg-head a.ecgz | ecg-cat -c)" = 10 ]
	[ "$(ecg-head -n 0 a.ecgz | ecg-cat -c)" = 0 ]
	[ "$(ecg-head -n 99 < a.ecgz | ecg-cat -c)" = 15 ]
}

@test "a bad count and a bad stream" {
	run --separate-stderr ecg-head -n -1 a.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-head: -n: out of range [0, 9223372036854775807]: -1"
	head -c 30 a.ecgz > t.ecgz
	run --separate-stderr ecg-head -o h.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-head: t.ecgz: truncated zstd frame"
	[ ! -e h.ecgz ]; refute_leftovers .
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-head
}
