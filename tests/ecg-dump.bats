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

@test "map keys that are not UTF-8, hold a NUL or start with \$str: are JSON strings, and pack back" {
	# a non-UTF-8 key was written as {"$str": ...}, which is not JSON
	{ mp_header; printf '\x82'; mp_s id; mp_s a; mp_s labels; printf '\x84'
	  printf '\xa2\xc3\x28\x01'; printf '\xa3a\x00b\x02'; mp_s '$str:x'; printf '\x03'
	  mp_s NORM; printf '\x04'; mp_trailer 1; } | zstd -q -c > k.ecgz
	run --separate-stderr ecg-dump k.ecgz
	assert_success
	echo "$output" | jq -e . > /dev/null
	assert_output '{"id":"a","labels":{"$str:wyg=":1,"$str:YQBi":2,"$str:JHN0cjp4":3,"NORM":4}}'
	ecg-dump -a k.ecgz | ecg-pack | ecg-dump -a > back.jsonl
	ecg-dump -a k.ecgz | cmp - back.jsonl
	# field names too
	printf '{"$str:wyg=":1}\n' | ecg-pack > f.ecgz
	run ecg-dump f.ecgz
	assert_output '{"$str:wyg=":1}'
	# a map whose one key is $str or $bin is a map, not a string or a bin
	{ mp_header; printf '\x82'; mp_s a; printf '\x81'; mp_s '$str'; mp_s x
	  mp_s b; printf '\x81'; mp_s '$bin'; mp_s x; mp_trailer 1; } | zstd -q -c > s.ecgz
	run ecg-dump s.ecgz
	assert_output '{"a":{"$str:JHN0cg==":"x"},"b":{"$str:JGJpbg==":"x"}}'
	ecg-dump -a s.ecgz | ecg-pack | ecg-dump -a > s2.jsonl
	ecg-dump -a s.ecgz | cmp - s2.jsonl
}

@test "an empty map key is the JSON key \"\" and packs back" {
	# fuzz_dump (the long run of issue 18): memchr on the empty key's NULL
	# pointer, undefined behaviour that SANITIZE=1 aborts on
	{ mp_header; printf '\x81'; mp_s labels; printf '\x82\xa0\xc3'; mp_s NORM
	  printf '\x01'; mp_trailer 1; } | zstd -q -c > e.ecgz
	run --separate-stderr ecg-dump e.ecgz
	assert_success
	assert_output '{"labels":{"":true,"NORM":1}}'
	ecg-dump -a e.ecgz | ecg-pack | ecg-dump -a > back.jsonl
	ecg-dump -a e.ecgz | cmp - back.jsonl
}
