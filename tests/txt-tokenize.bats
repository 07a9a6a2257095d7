#!/usr/bin/env bats
# txt-tokenize: learning from the real PTB-XL reports, encoding streams
# and text, decoding, bad vocabulary files.
load test_helper

setup_file() {
	export TT="$BATS_FILE_TMPDIR"
	# the 21,837 real reports, one a line (newlines inside folded)
	python3 - "$SHARED/data/ptbxl/ptbxl_database.csv" > "$TT/reports.txt" <<-'EOF'
	import csv, sys
	for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")):
	    print(r["report"].replace("\n", " ").replace("\r", " "))
	EOF
	txt-tokenize --learn 4096 --text -o "$TT/v" "$TT/reports.txt"
}

# the normalisation of merit-vocab(5), written independently in Python
normalise() {
	python3 -c '
import re, sys
for l in sys.stdin.buffer.read().split(b"\n")[:-1]:
    s = re.sub(rb"[ \t\n\v\f\r]+", b" ", l).strip(b" ")
    t = s.decode("utf-8", "surrogateescape").lower()
    sys.stdout.buffer.write(t.encode("utf-8", "surrogateescape") + b"\n")'
}

@test "learning the PTB-XL reports: 4096 entries, specials, bytes, merges" {
	run head -n 1 "$TT/v"
	assert_output "merit-vocab 1 4096"
	run sed -n '2,6p' "$TT/v"
	assert_output "$(printf '0\tspecial\t[PAD]\n1\tspecial\t[UNK]\n2\tspecial\t[CLS]\n3\tspecial\t[SEP]\n4\tspecial\t[MASK]')"
	run sed -n '104p;263p' "$TT/v"
	assert_output "$(printf '102\tbyte\ta\n261\tmerge\t110\t115\tin')"
	[ "$(wc -l < "$TT/v")" -eq 4097 ]
}

@test "the same corpus gives the same file; a stream's reports the same as text" {
	txt-tokenize -L 4096 -t -o "$BATS_TEST_TMPDIR/v2" < "$TT/reports.txt"
	cmp "$TT/v" "$BATS_TEST_TMPDIR/v2"
	head -n 300 "$TT/reports.txt" | python3 -c '
import json, sys
for i, l in enumerate(sys.stdin.read().split("\n")[:-1]):
    print(json.dumps({"id": i, "report": l}))' | ecg-pack > "$BATS_TEST_TMPDIR/s"
	head -n 300 "$TT/reports.txt" | txt-tokenize -L 500 -t -o "$BATS_TEST_TMPDIR/a"
	run --separate-stderr txt-tokenize -L 500 -o "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/s"
	assert_success
	assert_equal "$stderr" ""
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "round trip: decode(encode(report)) is the normalised report, all 21,837" {
	normalise < "$TT/reports.txt" > "$BATS_TEST_TMPDIR/want"
	txt-tokenize -v "$TT/v" -t --max-len 2048 "$TT/reports.txt" |
		txt-tokenize -v "$TT/v" -t -d > "$BATS_TEST_TMPDIR/got"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/got")" -eq 21837 ]
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	grep -q 'ä' "$BATS_TEST_TMPDIR/got"
}

@test "invalid UTF-8 bytes survive the round trip" {
	printf 'A\xff\xc3 \x80B \xf0\x9f\x98 \xc3\x84\n' > "$BATS_TEST_TMPDIR/in"
	txt-tokenize -v "$TT/v" -t --max-len 64 "$BATS_TEST_TMPDIR/in" |
		txt-tokenize -v "$TT/v" -t -d > "$BATS_TEST_TMPDIR/out"
	printf 'a\xff\xc3 \x80b \xf0\x9f\x98 \xc3\xa4\n' > "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "ids: [CLS] first, [SEP] last, [PAD] after; truncation keeps [SEP]" {
	run --separate-stderr txt-tokenize -v "$TT/v" -t --max-len 8 <<< "Sinusrhythmus"
	assert_success
	read -r -a ids <<< "$output"
	[ "${#ids[@]}" -eq 8 ]
	[ "${ids[0]}" -eq 2 ]
	run txt-tokenize -v "$TT/v" -t -d <<< "$output"
	assert_output "sinusrhythmus"
	run txt-tokenize -v "$TT/v" -t --max-len 4 <<< "sinusrhythmus 1 2 3 4 5 6 7 8 9"
	read -r -a ids <<< "$output"
	[ "${#ids[@]}" -eq 4 ]
	[ "${ids[0]}" -eq 2 ] && [ "${ids[3]}" -eq 3 ]
	run txt-tokenize -v "$TT/v" -t -d <<< "${ids[*]}"
	assert_output "sinusrhythmus 1"
	run txt-tokenize -v "$TT/v" -t --max-len 3 <<< ""
	assert_output "2 3 0"
}

@test "a stream gets a tok field, every other field kept; decoding it" {
	printf '%s\n' '{"id":"a","report":"Sinusrhythmus Linkstyp","fold":3}' \
		'{"id":"b","fold":4}' '{"id":"c","report":null}' \
		'{"id":"d","report":"ÄRGER QRS 120ms","tok":7}' | ecg-pack > "$BATS_TEST_TMPDIR/s"
	run --separate-stderr txt-tokenize -v "$TT/v" --max-len 16 -o "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/s"
	assert_success
	assert_equal "$stderr" "txt-tokenize: 2 records without a report"
	run ecg-dump "$BATS_TEST_TMPDIR/t"
	assert_line --index 0 --partial '"id":"a","report":"Sinusrhythmus Linkstyp","fold":3,"tok":{"dtype":"int32","shape":[16]'
	assert_line --index 1 --partial '"id":"b","fold":4,"tok":{"dtype":"int32","shape":[16],"min":0.0,"max":3.0'
	run txt-tokenize -v "$TT/v" -d "$BATS_TEST_TMPDIR/t"
	assert_output "$(printf 'sinusrhythmus linkstyp\n\n\närger qrs 120ms')"
	# the old tok of record d was replaced, not kept beside the new one
	run ecg-dump "$BATS_TEST_TMPDIR/t"
	assert_line --index 3 --partial '"report":"ÄRGER QRS 120ms","tok":{"dtype":"int32"'
}

bad_vocab() {	# file, want
	run --separate-stderr txt-tokenize -v "$1" -t -o "$BATS_TEST_TMPDIR/out" <<< "sinus"
	assert_failure 1
	assert_equal "$stderr" "txt-tokenize: $1: $2"
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	refute_leftovers "$BATS_TEST_TMPDIR"
}

@test "a truncated vocabulary is refused with its line number" {
	head -n 3000 "$TT/v" > "$BATS_TEST_TMPDIR/v"
	bad_vocab "$BATS_TEST_TMPDIR/v" "line 3001: truncated: 4096 entries expected, 2999 found"
	head -c -3 "$TT/v" > "$BATS_TEST_TMPDIR/v"
	bad_vocab "$BATS_TEST_TMPDIR/v" "line 4097: truncated: no newline at the end of the line"
}

@test "duplicate entries and ids out of range are refused with the line number" {
	sed '300s/^298\t/297\t/' "$TT/v" > "$BATS_TEST_TMPDIR/v"
	bad_vocab "$BATS_TEST_TMPDIR/v" "line 300: duplicate entry 297"
	sed '4097d' "$TT/v" > "$BATS_TEST_TMPDIR/v"
	sed -n '4000p' "$TT/v" | sed 's/^3998\t/4095\t/' >> "$BATS_TEST_TMPDIR/v"
	bad_vocab "$BATS_TEST_TMPDIR/v" "line 4097: duplicate merge $(sed -n '4000p' "$TT/v" | cut -f 3,4 | tr '\t' ' ') (also entry 3998)"
	sed '1000s/^998\t/5000\t/' "$TT/v" > "$BATS_TEST_TMPDIR/v"
	bad_vocab "$BATS_TEST_TMPDIR/v" "line 1000: id 5000 out of range [0, 4096)"
	sed '1000s/^\(998\tmerge\t\)[0-9]*/\1999/' "$TT/v" > "$BATS_TEST_TMPDIR/v"
	bad_vocab "$BATS_TEST_TMPDIR/v" "line 1000: merge 998: parts '999' '$(sed -n '1000p' "$TT/v" | cut -f 4)' not ids in [5, 998)"
}

@test "bad ids, missing tok, usage" {
	run --separate-stderr txt-tokenize -v "$TT/v" -t -d <<< "2 4096 3"
	assert_failure 1
	assert_equal "$stderr" "txt-tokenize: stdin: line 1: id out of range [0, 4096)"
	run --separate-stderr txt-tokenize -v "$TT/v" -t -d <<< "2 x 3"
	assert_failure 1
	assert_equal "$stderr" "txt-tokenize: stdin: line 1: not an id: x 3"
	printf '{"id":1,"report":"x"}\n' | ecg-pack > "$BATS_TEST_TMPDIR/s"
	run --separate-stderr txt-tokenize -v "$TT/v" -d "$BATS_TEST_TMPDIR/s"
	assert_failure 1
	assert_equal "$stderr" "txt-tokenize: $BATS_TEST_TMPDIR/s: record 1: no tok field"
	printf '{"id":1,"report":7}\n' | ecg-pack > "$BATS_TEST_TMPDIR/s"
	run --separate-stderr txt-tokenize -v "$TT/v" -o "$BATS_TEST_TMPDIR/o" "$BATS_TEST_TMPDIR/s"
	assert_failure 1
	assert_equal "$stderr" "txt-tokenize: $BATS_TEST_TMPDIR/s: record 1: report: not a string"
	[ ! -e "$BATS_TEST_TMPDIR/o" ]
	refute_leftovers "$BATS_TEST_TMPDIR"
	run --separate-stderr txt-tokenize -L 100 -t -o "$BATS_TEST_TMPDIR/o" /dev/null
	assert_failure 1
	assert_equal "$stderr" "txt-tokenize: --learn: out of range [261, 1048576]: 100"
	run --separate-stderr txt-tokenize -t
	assert_failure 2
	run --separate-stderr txt-tokenize -L 300 -v "$TT/v"
	assert_failure 2
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option txt-tokenize
}

@test "-m is the shared --model, not --max-len: refused with the usage" {
	run --separate-stderr txt-tokenize -v "$TT/v" -t -m 8 <<< "Sinusrhythmus"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "${stderr%%$'\n'*}" "txt-tokenize: unknown option '-m'"
}
