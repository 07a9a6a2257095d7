#!/usr/bin/env bats
# ecg-pack: JSON lines into a stream; pack | dump round-trips.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; }

@test "ecg-pack < x.jsonl | ecg-dump -a round-trips exactly" {
	"$FIX/mkjsonl" 20 30 > x.jsonl
	ecg-pack < x.jsonl | ecg-dump -a > y.jsonl
	cmp x.jsonl y.jsonl
}

@test "floats keep every bit: float32 and float64" {
	printf '%s\n' '{"e":{"dtype":"float32","shape":[4],"data":[0.1,-3.4028235e+38,1e-45,"NaN"]},"d":0.30000000000000004,"t":{"dtype":"float64","shape":[2],"data":["Infinity",5e-324]}}' > x.jsonl
	ecg-pack x.jsonl | ecg-dump -a > y.jsonl
	cmp x.jsonl y.jsonl
}

@test "blank lines and a header line are skipped" {
	{ echo '{"format":"merit-stream","version":1}'; echo; echo '{"id":"a"}'; } > x.jsonl
	run ecg-pack x.jsonl -o s.ecgz
	[ "$(ecg-cat -c s.ecgz)" = 1 ]
}

@test "bad JSON names the line; nothing is left" {
	printf '{"id":"a"}\n{"id":\n' > x.jsonl
	run --separate-stderr ecg-pack -o s.ecgz x.jsonl
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: x.jsonl: line 2: not JSON: unexpected token near end of file"
	[ ! -e s.ecgz ]; refute_leftovers .
}

@test "a line that is not an object" {
	printf '[1,2]\n' > x.jsonl
	run --separate-stderr ecg-pack -o s.ecgz x.jsonl
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: x.jsonl: line 1: not a JSON object"
	[ ! -e s.ecgz ]
}

@test "tensor errors: data length, range, summary without data, bad dtype" {
	printf '%s\n' '{"s":{"dtype":"int16","shape":[2,2],"data":[1,2,3]}}' > a.jsonl
	run --separate-stderr ecg-pack -o s.ecgz a.jsonl
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: a.jsonl: line 1: field s: tensor data has 3 values, shape needs 4"
	printf '%s\n' '{"s":{"dtype":"int16","shape":[1],"data":[40000]}}' > b.jsonl
	run --separate-stderr ecg-pack -o s.ecgz b.jsonl
	assert_equal "$stderr" "ecg-pack: b.jsonl: line 1: field s: data[0] = 40000 out of range for int16"
	printf '%s\n' '{"s":{"dtype":"int16","shape":[1],"min":1}}' > c.jsonl
	run --separate-stderr ecg-pack -o s.ecgz c.jsonl
	assert_equal "$stderr" "ecg-pack: c.jsonl: line 1: field s: tensor without data (ecg-dump writes data only with -a)"
	printf '%s\n' '{"s":{"dtype":"float16","shape":[1],"data":[1]}}' > d.jsonl
	run --separate-stderr ecg-pack -o s.ecgz d.jsonl
	assert_equal "$stderr" "ecg-pack: d.jsonl: line 1: field s: unknown tensor dtype"
	printf '%s\n' '{"s":{"dtype":"int16","shape":[-1],"data":[]}}' > e.jsonl
	run --separate-stderr ecg-pack -o s.ecgz e.jsonl
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: e.jsonl: line 1: field s: tensor shape[0] is not a size"
	[ ! -e s.ecgz ]; refute_leftovers .
}

@test "the trailer's field name is reserved" {
	printf '{"end":1}\n' > x.jsonl
	run --separate-stderr ecg-pack -o s.ecgz x.jsonl
	assert_failure 1
	assert_equal "$stderr" 'ecg-pack: x.jsonl: line 1: field "end" is reserved for the stream trailer'
}

@test "refuses to write to a terminal" {
	"$FIX/mkjsonl" 1 2 > x.jsonl
	run script -qec "ecg-pack x.jsonl" /dev/null
	assert_failure 1
	assert_output --partial "ecg-pack: stdout is a terminal"
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-pack
}

# ---- defects found by fuzz/fuzz_pack; each case failed before its fix

@test "a line nested deeper than a stream may be is refused, not written unreadable" {
	# it was written, and every reader failed on it with "out of memory"
	printf '{"a":%s1%s}\n' "$(printf '[%.0s' $(seq 32))" "$(printf ']%.0s' $(seq 32))" > x.jsonl
	run --separate-stderr ecg-pack -o s.ecgz x.jsonl
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: x.jsonl: line 1: field a: nested deeper than 32 levels"
	[ ! -e s.ecgz ]; refute_leftovers .
	printf '{"a":%s1%s}\n' "$(printf '[%.0s' $(seq 31))" "$(printf ']%.0s' $(seq 31))" > y.jsonl
	ecg-pack y.jsonl | ecg-dump > y.out
	cmp y.jsonl y.out
}

@test "a field that is a map with a dtype must be a tensor" {
	# {"dtype": ...} without a shape was packed as a map that readers refuse
	printf '{"t":{"dtype":"x"}}\n' > x.jsonl
	run --separate-stderr ecg-pack -o s.ecgz x.jsonl
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: x.jsonl: line 1: field t: unknown tensor dtype"
	printf '{"t":{"dtype":"int8","data":[1]}}\n' > y.jsonl
	run --separate-stderr ecg-pack -o s.ecgz y.jsonl
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: y.jsonl: line 1: field t: tensor shape is not an array of at most 8 sizes"
	[ ! -e s.ecgz ]; refute_leftovers .
	# deeper down a dtype is only a key
	printf '{"t":{"u":{"dtype":"x"}}}\n' > z.jsonl
	ecg-pack z.jsonl | ecg-dump > z.out
	cmp z.jsonl z.out
}

@test "writing past ulimit -f: File too large, and no temporary file left" {
	"$FIX/mkjsonl" 200 500 > x.jsonl
	run --separate-stderr bash -c 'ulimit -f 64; ecg-pack -o s.ecgz x.jsonl'
	assert_failure 1
	assert_equal "$stderr" "ecg-pack: s.ecgz: File too large"
	[ ! -e s.ecgz ]; refute_leftovers .
}
