#!/usr/bin/env bats
# ecg-dump: streams as JSON lines.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; make_stream a.ecgz 4 7; }

@test "one JSON object a line, fields in stream order" {
	run --separate-stderr ecg-dump a.ecgz
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	for l in "${lines[@]}"; do echo "$l" | jq -e . >/dev/null; done
	[ "$(echo "${lines[0]}" | jq -r 'keys_unsorted[0:3] | join(",")')" = "id,fs,leads" ]
}

@test "tensors are summarised by default, in full with -a" {
	ecg-dump a.ecgz | head -n 1 > s.json
	jq -e '.sig.shape == [12,7] and .sig.dtype == "int16" and (.sig.data == null) and (.sig.min | type) == "number"' s.json
	ecg-dump -a a.ecgz | head -n 1 > f.json
	jq -e '(.sig.data | length) == 84' f.json
	# the summary is right: min/max/mean of the full data
	jq -e --slurpfile f f.json '.sig.min == ($f[0].sig.data | min) and .sig.max == ($f[0].sig.data | max)' s.json
}

@test "-H prints the header first" {
	run ecg-dump -H a.ecgz
	assert_line --index 0 --partial '"format":"merit-stream","version":1,"writer":"ecg-pack"'
}

@test "strings that are not UTF-8 and bins survive dump | pack" {
	printf '{"id":{"$str":"/w=="},"b":{"$bin":"AAEC/w=="},"f":1.5,"i":-3,"x":[true,null]}\n' > in.jsonl
	ecg-pack in.jsonl | ecg-dump -a > out.jsonl
	cmp in.jsonl out.jsonl
}

@test "a bad stream: message and status" {
	printf 'nope' > bad
	run --separate-stderr ecg-dump bad
	assert_failure 1
	assert_equal "$stderr" "ecg-dump: bad: not a zstd stream"
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-dump
}
