#!/usr/bin/env bats
# ecg-filter: zero-phase Butterworth filtering against scipy.signal
# (butter + iirnotch + sosfiltfilt, through tests/fixtures/filter_ref.py) on
# real PTB-XL, Challenge and LUDB records and on synthetic ones; the fields
# it writes and keeps; the options; bad input named, no partial output.

load test_helper

PY=/usr/bin/python3

# Real records: 500 Hz 12-lead (Challenge 2021, PTB-XL in Challenge form,
# LUDB) and PTB-XL's 100 Hz record 1; synthetic 500 Hz records; each also
# as `ecg-dump -a` JSON lines, the reference's input.
setup_file() {
	cd "$BATS_FILE_TMPDIR"
	"$PY" -c 'import scipy.signal' ||
	    { echo "$PY has no scipy: apt-get install python3-scipy" >&2; return 1; }
	for h in "$FIX"/challenge2021/*.hea "$FIX"/ptbxl-hr/*.hea "$FIX"/ludb/1.hea; do
		ecg-ingest "$h" 2>/dev/null
	done | ecg-cat > real500.ecgz
	ecg-ingest "$FIX/ptbxl/records100/00000/00001_lr.hea" 2>/dev/null > ptb100.ecgz
	ecg-cat real500.ecgz ptb100.ecgz > real.ecgz
	# for the many-filter tests: a Challenge, a PTB-XL (500 Hz) and LUDB record
	ecg-ingest "$FIX/challenge2021/JS20000.hea" "$FIX/ptbxl-hr/HR06002.hea" \
	    "$FIX/ludb/1.hea" 2>/dev/null > some500.ecgz
	ecg-cat some500.ecgz ptb100.ecgz > some.ecgz
	ecg-synth -n 3 -s 5 --fs 500 --seconds 10 > synth.ecgz
	for s in real500 ptb100 real some500 some synth; do ecg-dump -a $s.ecgz > $s.jsonl; done
	[ "$(ecg-cat -c real500.ecgz)" = 8 ]
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

# against STREAM KIND ORDER LO HI NOTCH Q [ecg-filter options...]: filter
# D/STREAM.ecgz with the options and compare every sample with scipy's.
against() {
	local s=$1 kind=$2 order=$3 lo=$4 hi=$5 notch=$6 q=$7
	shift 7
	ecg-filter "$@" "$D/$s.ecgz" | ecg-dump -a > out.jsonl
	"$PY" "$FIX/filter_ref.py" check "$kind" "$order" "$lo" "$hi" "$notch" "$q" \
	    "$D/$s.jsonl" out.jsonl
}

@test "default: ST-MEM's 0.67-40 Hz order-5 band-pass of real records, as scipy to 1e-6" {
	ecg-filter "$D/real.ecgz" > a.ecgz
	ecg-dump -a a.ecgz > out.jsonl
	run "$PY" "$FIX/filter_ref.py" check bandpass 5 0.67 40 0 0 "$D/real.jsonl" out.jsonl
	assert_success
	assert_output --regexp '^records 9 samples 492000 max_rel '
	# the same bytes when given explicitly
	ecg-filter --band 0.67,40 --order 5 "$D/real.ecgz" | cmp - a.ecgz
	# the comparison tells filters apart: order 4 is not order 5, 0.7 Hz not 0.67
	run "$PY" "$FIX/filter_ref.py" check bandpass 4 0.67 40 0 0 "$D/real.jsonl" out.jsonl
	assert_failure
	run "$PY" "$FIX/filter_ref.py" check bandpass 5 0.7 40 0 0 "$D/real.jsonl" out.jsonl
	assert_failure
}

@test "high-pass, low-pass, band-pass of several orders on real records, as scipy" {
	local c
	while read -r c; do
		set -- $c
		run against some "$@"
		assert_success
		assert_output --partial 'records 4 samples 192000'
	done <<-'EOF'
	highpass 1 0.5 0 0 0 --highpass 0.5 --order 1
	highpass 4 0.05 0 0 0 --highpass 0.05 --order 4
	lowpass 2 0 40 0 0 --lowpass 40 --order 2
	lowpass 7 0 45 0 0 --lowpass 45 --order 7
	bandpass 1 0.5 45 0 0 --band 0.5,45 --order 1
	bandpass 10 1 30 0 0 --band 1,30 --order 10
	EOF
}

@test "with a 50 or 60 Hz notch (one more section), real and synthetic records, as scipy" {
	local c
	while read -r c; do
		set -- $c
		run against "$@"
		assert_success
	done <<-'EOF'
	real500 bandpass 5 0.67 40 50 30 --notch 50
	some500 bandpass 3 0.5 150 60 20 --band 0.5,150 --order 3 --notch 60 --q 20
	some500 highpass 2 0.5 0 50 35 --highpass 0.5 --order 2 --notch 50 --q 35
	some500 lowpass 6 0 100 60 30 --lowpass 100 --order 6 --notch 60
	synth bandpass 5 0.67 40 50 30 --notch 50
	synth bandpass 8 0.5 100 0 0 --band 0.5,100 --order 8
	synth highpass 5 0.67 0 0 0 --highpass 0.67
	synth lowpass 3 0 25 60 10 --lowpass 25 --order 3 --notch 60 --q 10
	EOF
}

@test "float32 input (ecg-ingest --fs resampled) and a stream of mixed rates, as scipy" {
	ecg-ingest --fs 250 "$FIX/challenge2021/E07500.hea" 2>/dev/null > f.ecgz
	[ "$(ecg-dump f.ecgz | jq -r .sig.dtype)" = float32 ]
	ecg-cat f.ecgz "$D/ptb100.ecgz" f.ecgz > mixed.ecgz
	ecg-dump -a mixed.ecgz > mixed.jsonl
	ecg-filter --band 0.5,40 mixed.ecgz | ecg-dump -a > out.jsonl
	run "$PY" "$FIX/filter_ref.py" check bandpass 5 0.5 40 0 30 mixed.jsonl out.jsonl
	assert_success
	assert_output --regexp '^records 3 samples '
}

@test "sig becomes float32 mV, gain 1, baseline 0; filter says what was done; the rest kept" {
	ecg-filter --notch 60 --q 25 -o f.ecgz "$D/real500.ecgz"
	[ "$(ecg-cat -c f.ecgz)" = 8 ]
	run bash -c "ecg-dump f.ecgz | jq -c '[.sig.dtype, .sig.shape[0], (.gain | unique), (.baseline | unique), .filter]' | sort -u"
	assert_output '["float32",12,[1],[0],{"kind":"bandpass","order":5,"lo":0.67,"hi":40,"notch":60,"q":25}]'
	# every other field unchanged, in order
	[ "$(ecg-dump -a f.ecgz | jq -c 'del(.sig, .gain, .baseline, .filter)')" = \
	  "$(jq -c 'del(.sig, .gain, .baseline)' "$D/real500.jsonl")" ]
	run bash -c "ecg-filter --highpass 0.5 --order 3 '$D/synth.ecgz' | ecg-dump | jq -c .filter | sort -u"
	assert_output '{"kind":"highpass","order":3,"lo":0.5}'
	run bash -c "ecg-filter --lowpass 40 '$D/synth.ecgz' | ecg-dump | jq -c .filter | sort -u"
	assert_output '{"kind":"lowpass","order":5,"hi":40}'
}

@test "missing leads (zero rows) stay zero" {
	jq -c 'if .id == "E07500" then .missing = ["V2"] | .sig.data |= (.[0:35000] + [range(5000) | 0] + .[40000:]) else . end' \
	    "$D/real500.jsonl" | ecg-pack > m.ecgz
	ecg-filter m.ecgz | ecg-dump -a | jq -c 'select(.id == "E07500") | [.missing, (.sig.data[35000:40000] | unique), (.sig.data[30000:35000] | unique | length > 100)]' > got
	[ "$(cat got)" = '[["V2"],[0],true]' ]
}

@test "-h and --help: usage on stdout, exit 0; --version; unknown options: usage on stderr, exit 2" {
	run --separate-stderr ecg-filter -h
	assert_success
	assert_output --partial 'usage: ecg-filter [-f] [-o file] [--band lo,hi'
	assert_equal "$stderr" ""
	run --separate-stderr ecg-filter --help
	assert_success
	assert_output --partial 'usage: ecg-filter'
	run --separate-stderr ecg-filter --version
	assert_success
	assert_output --regexp '^ecg-filter \(merit\) [0-9]'
	# messages name the program by its basename, whatever the path
	run --separate-stderr "$MERIT_BIN/ecg-filter" --bogus
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "ecg-filter: unknown option '--bogus'"
	assert_equal "${stderr_lines[1]%% *}" "usage:"
	run --separate-stderr ecg-filter -x
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "ecg-filter: unknown option '-x'"
	run --separate-stderr ecg-filter --order
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "ecg-filter: option '--order' needs an argument"
	run --separate-stderr ecg-filter --force=1
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "ecg-filter: option '--force' takes no argument"
	run --separate-stderr ecg-filter a.ecgz b.ecgz
	assert_failure 2
}

# fails EXPECTED-STDERR ARGS...: ecg-filter -o out.ecgz ARGS fails with exit
# 1 and exactly that message, leaving no output and no temporary file.
fails() {
	local want=$1
	shift
	run --separate-stderr ecg-filter -o out.ecgz "$@"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "$want"
	[ ! -e out.ecgz ]
	refute_leftovers .
}

@test "bad options: lo >= hi, order out of range, not a frequency, --q alone" {
	fails "ecg-filter: --band: low cut-off 40 Hz is not below the high cut-off 0.5 Hz" --band 40,0.5 "$D/real.ecgz"
	fails "ecg-filter: --band: low cut-off 40 Hz is not below the high cut-off 40 Hz" --band 40,40 "$D/real.ecgz"
	fails "ecg-filter: --band: not LO,HI in Hz: 40" --band 40 "$D/real.ecgz"
	fails "ecg-filter: --band: 0 Hz is not above 0" --band 0,40 "$D/real.ecgz"
	fails "ecg-filter: --order: out of range [1, 10]: 11" --order 11 "$D/real.ecgz"
	fails "ecg-filter: --order: out of range [1, 10]: 0" --order 0 "$D/real.ecgz"
	fails "ecg-filter: --order: not a number: five" --order five "$D/real.ecgz"
	fails "ecg-filter: --lowpass: -5 Hz is not above 0" --lowpass -5 "$D/real.ecgz"
	fails "ecg-filter: --highpass: not a number: nan" --highpass nan "$D/real.ecgz"
	fails "ecg-filter: --q: no --notch to set the quality of" --q 10 "$D/real.ecgz"
}

@test "a cut-off or notch at or above the record's Nyquist frequency names the record" {
	# record 9 (PTB-XL, 100 Hz) after eight 500 Hz records: nothing written
	fails "ecg-filter: $D/real.ecgz: record 9: cut-off 60 Hz is at or above the Nyquist frequency 50 Hz (fs 100 Hz)" \
	    --band 0.5,60 "$D/real.ecgz"
	fails "ecg-filter: $D/real.ecgz: record 9: cut-off 50 Hz is at or above the Nyquist frequency 50 Hz (fs 100 Hz)" \
	    --lowpass 50 "$D/real.ecgz"
	fails "ecg-filter: $D/real.ecgz: record 1: cut-off 250 Hz is at or above the Nyquist frequency 250 Hz (fs 500 Hz)" \
	    --highpass 250 "$D/real.ecgz"
	fails "ecg-filter: $D/real.ecgz: record 9: notch 50 Hz is not between 0 and the Nyquist frequency 50 Hz (fs 100 Hz)" \
	    --band 0.5,40 --notch 50 "$D/real.ecgz"
	# on standard input the file is "stdin"
	run --separate-stderr ecg-filter --lowpass 50 < "$D/ptb100.ecgz"
	assert_failure 1
	assert_equal "$stderr" "ecg-filter: stdin: record 1: cut-off 50 Hz is at or above the Nyquist frequency 50 Hz (fs 100 Hz)"
}

@test "a record not longer than the padding is refused: 33 samples for order 5, 34 filtered" {
	"$FIX/mkjsonl" 3 34 | jq -c 'if .id == "rec00002" then .sig.shape[1] = 33 | .sig.data |= .[0:396] else . end' |
	    ecg-pack > s.ecgz
	fails "ecg-filter: s.ecgz: record 2: 33 samples, not more than the filter's padding of 33" s.ecgz
	# 34 samples are enough; a low-pass of order 5 pads 18, so 33 are too
	"$FIX/mkjsonl" 3 34 | ecg-pack > ok.ecgz
	ecg-dump -a ok.ecgz > ok.jsonl
	ecg-filter ok.ecgz | ecg-dump -a > out.jsonl
	run "$PY" "$FIX/filter_ref.py" check bandpass 5 0.67 40 0 0 ok.jsonl out.jsonl
	assert_success
	ecg-dump -a s.ecgz > s.jsonl
	ecg-filter --lowpass 20 s.ecgz | ecg-dump -a > out.jsonl
	run "$PY" "$FIX/filter_ref.py" check lowpass 5 0 20 0 0 s.jsonl out.jsonl
	assert_success
}

@test "invalid samples: padding at the ends kept, the span between filtered as scipy; inside refused" {
	# ecg-ingest --seconds pads a 10 s record to 12 s with invalid samples
	ecg-ingest --seconds 12 "$FIX/challenge2021/E07500.hea" 2>/dev/null > p.ecgz
	"$FIX/mkjsonl" 2 1000 | jq -c '.fs = 500 | if .id == "rec00002" then
	    .sig.data[0:40] = [range(40) | -32768] | .sig.data[11990:12000] = [range(10) | -32768] |
	    .sig.data[3000:4000] = [range(1000) | -32768] else . end' | ecg-pack > q.ecgz
	ecg-cat p.ecgz q.ecgz > pq.ecgz
	ecg-dump -a pq.ecgz > pq.jsonl
	ecg-filter --notch 50 pq.ecgz | ecg-dump -a > out.jsonl
	run "$PY" "$FIX/filter_ref.py" check bandpass 5 0.67 40 50 30 pq.jsonl out.jsonl
	assert_success
	assert_output --regexp '^records 3 samples 96000 max_rel '
	# the padding is still invalid, the rest finite; an all-invalid lead stays so
	run bash -c "jq -c '[(.sig.data[4999] | type), .sig.data[5000], .sig.data[5999], (.sig.data[6000] | type), .sig.data[71999]]' out.jsonl | head -n 1"
	assert_output '["number","NaN","NaN","number","NaN"]'
	run bash -c "jq -c '[.sig.data[6000:12000][] | numbers] | length' out.jsonl | head -n 1"
	assert_output 5000
	run bash -c "jq -c '[(.sig.data[0:40] | unique), (.sig.data[3000:4000] | unique), (.sig.data[40:41] | map(type))]' out.jsonl | sed -n 3p"
	assert_output '[["NaN"],["NaN"],["number"]]'

	# an invalid sample between valid ones, an infinite one: refused
	"$FIX/mkjsonl" 3 1000 | jq -c 'if .id == "rec00002" then .sig.data[6130] = -32768 | .sig.data[9000] = -32768 else . end' |
	    ecg-pack > n.ecgz
	fails "ecg-filter: n.ecgz: record 2: lead V1: sample 130 is NaN (invalid) between valid samples" n.ecgz
	"$FIX/mkjsonl" 1 1000 | jq -c '.sig.dtype = "float32" | .sig.data |= map(. / 1000) | .sig.data[1999] = "Infinity"' |
	    ecg-pack > i.ecgz
	fails "ecg-filter: i.ecgz: record 1: lead II: sample 999 is infinite" --lowpass 40 i.ecgz
	# a valid span not longer than the padding
	"$FIX/mkjsonl" 1 100 | jq -c '.sig.data[200:270] = [range(70) | -32768]' | ecg-pack > t.ecgz
	fails "ecg-filter: t.ecgz: record 1: lead III: 30 valid samples (from sample 70), not more than the filter's padding of 33" t.ecgz
}

@test "other bad records: no fs, no sig, a zero gain, already filtered" {
	"$FIX/mkjsonl" 2 200 | jq -c 'if .id == "rec00002" then del(.fs) else . end' | ecg-pack > a.ecgz
	fails "ecg-filter: a.ecgz: record 2: no number field fs (the sampling rate)" --lowpass 20 a.ecgz
	"$FIX/mkjsonl" 1 200 | jq -c 'del(.sig)' | ecg-pack > b.ecgz
	fails "ecg-filter: b.ecgz: record 1: no field sig of shape [leads, samples]" --lowpass 20 b.ecgz
	"$FIX/mkjsonl" 1 200 | jq -c '.gain[3] = 0' | ecg-pack > c.ecgz
	fails "ecg-filter: c.ecgz: record 1: field sig: value out of range (a gain is zero or not finite)" --lowpass 20 c.ecgz
	ecg-filter "$D/synth.ecgz" > once.ecgz
	fails "ecg-filter: once.ecgz: record 1: already filtered (it has a field filter)" once.ecgz
}

@test "the man page's examples run as written" {
	ecg-ingest "$FIX/challenge2021/E07500.hea" 2>/dev/null > train.ecgz
	ecg-filter -o train-f.ecgz train.ecgz
	ecg-filter --highpass 0.5 --order 2 --notch 50 train.ecgz | ecg-dump | jq -c .filter > got
	[ "$(cat got)" = '{"kind":"highpass","order":2,"lo":0.5,"notch":50,"q":30}' ]
	[ "$(ecg-cat -c train-f.ecgz)" = 1 ]
	run mandoc -Tlint -W warning "$MERIT_ROOT/man/ecg-filter.1"
	assert_success
	assert_output ""
}

@test "-h, --help and an unknown option, as every filter answers them" {
	check_help_and_bad_option ecg-filter
}
