#!/usr/bin/env bats
# ecg-shuffle: bounded-buffer shuffle with a seed.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; make_stream a.ecgz 40 3; }

ids() { ecg-dump "$1" | jq -r .id; }

@test "a permutation of the input" {
	ecg-shuffle -s 1 a.ecgz > s.ecgz
	[ "$(ids s.ecgz | sort)" = "$(ids a.ecgz)" ]
	[ "$(ids s.ecgz)" != "$(ids a.ecgz)" ]
}

@test "the same seed gives the same order (and bytes); another seed another" {
	ecg-shuffle -s 7 a.ecgz > s1.ecgz
	ecg-shuffle -s 7 < a.ecgz > s2.ecgz
	ecg-shuffle -s 8 a.ecgz > s3.ecgz
	cmp s1.ecgz s2.ecgz
	[ "$(ids s1.ecgz)" != "$(ids s3.ecgz)" ]
}

@test "a small buffer still gives a permutation, and moves records" {
	ecg-shuffle -b 4 -s 3 a.ecgz > s.ecgz
	[ "$(ids s.ecgz | sort)" = "$(ids a.ecgz)" ]
	[ "$(ids s.ecgz)" != "$(ids a.ecgz)" ]
}

@test "bad input leaves nothing" {
	head -c 100 a.ecgz > t.ecgz
	run --separate-stderr ecg-shuffle -o s.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-shuffle: t.ecgz: truncated zstd frame"
	[ ! -e s.ecgz ]; refute_leftovers .
	run --separate-stderr ecg-shuffle -b 0 a.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-shuffle: -b: out of range [1, 16777216]: 0"
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-shuffle
}

@test "--seed and --buffer are -s and -b" {
	ecg-shuffle -s 9 -b 8 a.ecgz > a.s
	ecg-shuffle --seed 9 --buffer 8 a.ecgz > b.s
	cmp a.s b.s
	ecg-shuffle --seed 10 --buffer 8 a.ecgz > c.s
	run ! cmp -s a.s c.s
}
