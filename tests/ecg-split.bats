#!/usr/bin/env bats
# ecg-split: files by a field's value.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; make_stream a.ecgz 25 5; }

@test "splits by fold into fold-N.ecgz, every record once" {
	ecg-split a.ecgz
	for k in 1 2 3 4 5 6 7 8 9 10; do
		[ -f "fold-$k.ecgz" ]
		[ "$(ecg-dump "fold-$k.ecgz" | jq -r .fold | sort -u)" = "$k" ]
	done
	[ "$(cat fold-*.ecgz | ecg-cat -c)" = 25 ]
	refute_leftovers .
}

@test "splits by a string field with a prefix" {
	ecg-split -F sex -p out/by-sex- < a.ecgz 2>/dev/null || { mkdir out; ecg-split -F sex -p out/by-sex- < a.ecgz; }
	[ "$(ecg-cat -c out/by-sex-M.ecgz)" = 13 ]
	[ "$(ecg-cat -c out/by-sex-F.ecgz)" = 12 ]
}

@test "a record without the field: error, and no file is left" {
	{ "$FIX/mkjsonl" 3 2; echo '{"id":"nofold"}'; } | ecg-pack > b.ecgz
	run --separate-stderr ecg-split b.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-split: b.ecgz: record 4: no field fold"
	[ -z "$(ls fold-* 2>/dev/null)" ]; refute_leftovers .
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-split
}
