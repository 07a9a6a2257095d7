#!/usr/bin/env bats
# ecg-cat: concatenation, counting, and every bad input of the stream format.

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	make_stream a.ecgz 5
	make_stream b.ecgz 3
}

@test "passes a stream through unchanged, record for record" {
	run ecg-cat a.ecgz
	ecg-cat a.ecgz | ecg-dump -a > out.jsonl
	ecg-dump -a a.ecgz > in.jsonl
	cmp in.jsonl out.jsonl
}

@test "concatenates files and stdin (-) into one stream" {
	ecg-cat a.ecgz - b.ecgz < b.ecgz > ab.ecgz
	run ecg-cat -c ab.ecgz
	assert_success
	assert_output 11
	run ecg-dump ab.ecgz
	assert_line --index 5 --partial '"id":"rec00001"'
}

@test "-c counts records; raw cat of streams reads as one stream" {
	cat a.ecgz b.ecgz | ecg-cat -c > n
	[ "$(cat n)" = 8 ]
}

@test "-o writes the file atomically" {
	run ecg-cat -o out.ecgz a.ecgz
	assert_success
	[ -s out.ecgz ]
	refute_leftovers .
	[ "$(ecg-cat -c out.ecgz)" = 5 ]
}

@test "-o creates the file with mode 0666 less the umask, not mkstemp's 0600" {
	(umask 022 && ecg-cat -o out.ecgz a.ecgz)
	assert_equal "$(stat -c %a out.ecgz)" 644
	(umask 077 && ecg-cat -o out2.ecgz a.ecgz)
	assert_equal "$(stat -c %a out2.ecgz)" 600
}

@test "empty input" {
	run --separate-stderr ecg-cat -o out.ecgz < /dev/null
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: stdin: empty input, not a merit stream"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "truncated zstd frame" {
	head -c $(( $(stat -c %s a.ecgz) - 9 )) a.ecgz > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: truncated zstd frame"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "zstd checksum error" {
	cp a.ecgz c.ecgz
	size=$(stat -c %s c.ecgz)
	# the frame's last 4 bytes are its checksum: invert them
	flip=$(tail -c 4 c.ecgz | od -An -tu1 | awk '{ for (i = 1; i <= NF; i++) printf "\\x%02x", 255 - $i }')
	printf "$flip" | dd of=c.ecgz bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null
	run --separate-stderr ecg-cat -o out.ecgz c.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: c.ecgz: zstd checksum error: data is corrupt"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "bytes that are not zstd" {
	echo "hello, not zstd" > t.txt
	run --separate-stderr ecg-cat -o out.ecgz t.txt
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.txt: not a zstd stream"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "valid zstd holding bytes that are not msgpack" {
	printf '\xc1\xc1\xc1' | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: header: not msgpack (byte 0xc1)"
	{ mp_header; printf '\x82'; mp_s id; mp_s x; mp_s y; printf '\xc1'; } | zstd -q -c > u.ecgz
	run --separate-stderr ecg-cat -o out.ecgz u.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: u.ecgz: record 1: not msgpack (byte 0xc1)"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "msgpack that is not a merit stream" {
	{ printf '\x81'; mp_s id; mp_s x; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat t.ecgz
	assert_failure 1
	assert_equal "$stderr" 'ecg-cat: t.ecgz: not a merit stream (header has no format "merit-stream")'
}

@test "a record that is not a map" {
	{ mp_header; printf '\x81'; mp_s id; mp_s ok; printf '\x2a'; mp_trailer 2; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: record 2: not a map"
	[ ! -e out.ecgz ]; refute_leftovers .
}

tensor() { # tensor SHAPE-BYTES DATA-BYTES: a record {sig: tensor int16}
	printf '\x81'; mp_s sig; printf '\x83'; mp_s dtype; mp_s int16; mp_s shape
	printf "$1"; mp_s data; printf "$2"
}

@test "a tensor whose data length does not match dtype x shape" {
	{ mp_header; tensor '\x92\x02\x03' '\xc4\x04\x00\x01\x02\x03'; mp_trailer 1; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: record 1: field sig: tensor data is 4 bytes, int16 shape needs 12"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "a shape with a huge or negative dimension allocates nothing" {
	{ mp_header; tensor '\x92\xcf\x7f\xff\xff\xff\xff\xff\xff\xff\x7f' '\xc4\x00'; mp_trailer 1; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: record 1: field sig: tensor shape dimension 0 is negative, huge or not an integer"
	{ mp_header; tensor '\x91\xff' '\xc4\x00'; mp_trailer 1; } | zstd -q -c > u.ecgz
	run --separate-stderr ecg-cat u.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: u.ecgz: record 1: field sig: tensor shape dimension 0 is negative, huge or not an integer"
	# a bin claiming 4 GiB in a tiny input: refused before any allocation
	{ mp_header; printf '\x81'; mp_s b; printf '\xc6\xff\xff\xff\xf0'; } | zstd -q -c > v.ecgz
	run --separate-stderr ecg-cat v.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: v.ecgz: record 1: larger than 1073741824 bytes"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "a stream missing its trailer" {
	{ mp_header; printf '\x81'; mp_s id; mp_s a; printf '\x81'; mp_s id; mp_s b; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: truncated: stream ends without its trailer after 2 records"
	[ ! -e out.ecgz ]; refute_leftovers .
	# and every reader says so, not just ecg-cat
	run --separate-stderr ecg-dump t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-dump: t.ecgz: truncated: stream ends without its trailer after 2 records"
}

@test "a trailer whose count is wrong" {
	{ mp_header; printf '\x81'; mp_s id; mp_s a; mp_trailer 3; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: trailer says 3 records, stream has 1"
}

@test "a header with a newer format version" {
	{ mp_header 2; mp_trailer 0; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: format version 2 is newer than this reader's (1)"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "output to a terminal is refused" {
	run script -qec "ecg-cat a.ecgz" /dev/null
	assert_failure 1
	assert_output --partial "ecg-cat: stdout is a terminal, not writing binary data"
	# -f forces it
	run script -qec "ecg-cat -f a.ecgz | wc -c" /dev/null
	assert_success
}

@test "a missing input file" {
	run --separate-stderr ecg-cat -o out.ecgz nosuch.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: nosuch.ecgz: No such file or directory"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "usage errors exit 2" {
	run --separate-stderr ecg-cat -Z
	assert_failure 2
	assert_equal "$stderr" "$(printf '%s\n%s' "ecg-cat: unknown option '-Z'" "usage: ecg-cat [-cf] [-L level] [-o file] [file ...]")"
	run --separate-stderr ecg-cat -L 99 a.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: -L: out of range [1, 19]: 99"
}

@test "a write error is reported" {
	[ -w /dev/full ] || skip "no /dev/full"
	run --separate-stderr bash -c 'ecg-cat a.ecgz > /dev/full'
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: stdout: No space left on device"
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-cat
}

# ---- defects found by the fuzzers (fuzz/); each case failed before its fix

@test "2^25 nils in 1 KiB of zstd: refused by object count, in bounded memory" {
	# msgpack-c spends 24 bytes an object: -c used 823 MB and exited 0
	{ mp_header; printf '\x81'; mp_s a; printf '\xdd\x02\x00\x00\x00'
	  head -c $((1 << 25)) /dev/zero | tr '\0' '\300'; mp_trailer 1; } | zstd -q -c > t.ecgz
	[ "$(stat -c %s t.ecgz)" -lt 4096 ]
	run --separate-stderr /usr/bin/time -f %M -o rss ecg-cat -c t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: record 1: more than 4194304 msgpack objects"
	# the 32 MiB record's bytes, not 24 bytes an object (KiB; ASan's included)
	[ "$(tail -n 1 rss)" -lt 400000 ]
	# 2^22 objects in all is the limit, and reads
	{ mp_header; printf '\x81'; mp_s a; printf '\xdd\x00\x3f\xff\xfd'
	  head -c $(((1 << 22) - 3)) /dev/zero | tr '\0' '\300'; mp_trailer 1; } | zstd -q -c > u.ecgz
	run ecg-cat -c u.ecgz
	assert_success
	assert_output 1
}

@test "nesting deeper than 32 levels is reported as nesting, not as out of memory" {
	{ mp_header; printf '\x81'; mp_s a; for i in $(seq 32); do printf '\x91'; done
	  printf '\xc0'; mp_trailer 1; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: record 1: maps and arrays nested deeper than 32 levels"
	[ ! -e out.ecgz ]; refute_leftovers .
	{ mp_header; printf '\x81'; mp_s a; for i in $(seq 31); do printf '\x91'; done
	  printf '\xc0'; mp_trailer 1; } | zstd -q -c > u.ecgz
	run ecg-cat -c u.ecgz
	assert_output 1
}

@test "a field name that is not a string, and the reserved field end, name the record" {
	{ mp_header; printf '\x81'; mp_s id; mp_s a; printf '\x82'; mp_s id; mp_s b; printf '\x07\xc0'
	  mp_trailer 2; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -o out.ecgz t.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: t.ecgz: record 2: field 2: its name is not a string"
	[ ! -e out.ecgz ]; refute_leftovers .
	{ mp_header; printf '\x82'; mp_s id; mp_s a; mp_s end; printf '\x01'; mp_trailer 1; } | zstd -q -c > u.ecgz
	run --separate-stderr ecg-cat u.ecgz
	assert_failure 1
	assert_equal "$stderr" 'ecg-cat: u.ecgz: record 1: field "end" is reserved for the trailer'
}

@test "a trailer whose end is not merit-stream" {
	# only the key was checked
	{ mp_header; printf '\x81'; mp_s id; mp_s a; printf '\x82'; mp_s end; mp_s merit-streak
	  mp_s count; printf '\x01'; } | zstd -q -c > t.ecgz
	run --separate-stderr ecg-cat -c t.ecgz
	assert_failure 1
	assert_equal "$stderr" 'ecg-cat: t.ecgz: record 2: a trailer whose end is not "merit-stream"'
}

@test "writing past ulimit -f: File too large, and no temporary file left" {
	# SIGXFSZ killed it and left out.ecgz.tmp.XXXXXX behind
	ecg-synth -n 8 > big.ecgz
	run --separate-stderr bash -c 'ulimit -f 100; ecg-cat -o out.ecgz big.ecgz'
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: out.ecgz: File too large"
	[ ! -e out.ecgz ]; refute_leftovers .
	run --separate-stderr bash -c 'ulimit -f 100; ecg-mask -o out.ecgz big.ecgz'
	assert_failure 1
	assert_equal "$stderr" "ecg-mask: out.ecgz: File too large"
	[ ! -e out.ecgz ]; refute_leftovers .
	# to standard output as well
	run --separate-stderr bash -c 'ulimit -f 100; ecg-cat big.ecgz > out.ecgz'
	assert_failure 1
	assert_equal "$stderr" "ecg-cat: stdout: File too large"
}
