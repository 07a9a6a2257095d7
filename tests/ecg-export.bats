#!/usr/bin/env bats
# ecg-export: streams to WFDB format 16 records.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; mkdir -p w; }

# digital values of a record, frame by frame, from the stream
frames() { ecg-dump -a "$1" | jq -r "select(.id == \"$2\") | .sig.shape as [\$L, \$n] | .sig.data as \$d | [range(\$n) as \$k | range(\$L) as \$l | \$d[\$l * \$n + \$k]] | .[]"; }

@test "format 16 .dat holds the stream's digital values exactly; .hea describes them" {
	ecg-synth -n 2 -s 5 -N all -o a.ecgz
	ecg-export --wfdb w a.ecgz
	[ "$(ls w | sort | tr '\n' ' ')" = "synth5-000001.dat synth5-000001.hea synth5-000002.dat synth5-000002.hea " ]
	for id in synth5-000001 synth5-000002; do
		[ "$(od -An -v -td2 -w2 w/$id.dat | tr -d ' ')" = "$(frames a.ecgz $id)" ]
		[ "$(head -n 1 w/$id.hea)" = "$id 12 500 5000" ]
		# per lead: gain, baseline, first value and checksum (16-bit sum)
		for l in 0 5 11; do
			want=$(ecg-dump -a a.ecgz | jq -r "select(.id == \"$id\") | .sig.data[$l*5000:($l+1)*5000] as \$v | .leads[$l] as \$name | (.gain[$l]) as \$g | (((\$v | add) % 65536 + 65536) % 65536) as \$s | \"\(\$v[0]) \(if \$s >= 32768 then \$s - 65536 else \$s end) \(\$name) \(\$g)\"")
			line=$(sed -n "$((l + 2))p" w/$id.hea)
			set -- $line
			[ "$1 $2 $4 $5" = "$id.dat 16 16 0" ]
			[ "$6 $7 $9 ${3%%(*}" = "$want" ]
		done
	done
	grep -q '^# Labels: ' w/synth5-000001.hea
	grep -q '^# Report: ' w/synth5-000001.hea
}

@test "float signals are scaled by -g; NaN becomes -32768" {
	echo '{"id":"f1","fs":100.0,"sig":{"dtype":"float32","shape":[2,3],"data":[0.5,-0.25,"NaN",1.0,0.0,-1.5]}}' | ecg-pack > f.ecgz
	ecg-export -g 200 --wfdb w f.ecgz
	[ "$(od -An -v -td2 -w2 w/f1.dat | tr -d ' ' | tr '\n' ' ')" = "100 200 -50 0 -32768 -300 " ]
	[ "$(sed -n 2p w/f1.hea)" = "f1.dat 16 200(0)/mV 16 0 100 -32718 0 sig0" ]
}

@test "bad input: message, status, no files" {
	echo '{"id":"a","fs":500.0}' | ecg-pack > nosig.ecgz
	run --separate-stderr ecg-export --wfdb w nosig.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-export: nosig.ecgz: record 1: no field sig of shape [leads, samples]" ]
	echo '{"id":"big","fs":500.0,"sig":{"dtype":"float32","shape":[1,2],"data":[0.5,40.0]}}' | ecg-pack > big.ecgz
	run --separate-stderr ecg-export --wfdb w big.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-export: big.ecgz: record 1: lead 0 sample 1: value out of the format 16 range" ]
	echo '{"fs":500.0,"sig":{"dtype":"int16","shape":[1,1],"data":[1]}}' | ecg-pack > noid.ecgz
	run --separate-stderr ecg-export --wfdb w noid.ecgz
	[ "$stderr" = "ecg-export: noid.ecgz: record 1: no string field id" ]
	[ -z "$(ls w)" ]
	run --separate-stderr ecg-export nosig.ecgz
	[ "$status" -eq 2 ]
	[[ "$stderr" == "usage: ecg-export "* ]]
	ecg-synth -n 1 -o a.ecgz
	run --separate-stderr ecg-export --wfdb nodir a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-export: nodir/synth1-000001.dat: No such file or directory" ]
	refute_leftovers .
}

# the fields a WFDB record carries, one JSON line per record
wfdb_fields() { ecg-dump -a "$1" | jq -c '{id, fs, leads, sig, gain, baseline}'; }

@test "round trip: ecg-synth -> ecg-export --wfdb -> ecg-ingest gives the same ids, leads, fs and digital signals" {
	ecg-synth -n 3 -s 11 -N all --fs 250 --seconds 4 -o a.ecgz
	ecg-export --wfdb w a.ecgz
	run --separate-stderr ecg-ingest -o b.ecgz w
	assert_success
	assert_equal "$stderr" "ecg-ingest: read 3, written 3, skipped 0"
	wfdb_fields a.ecgz > a.jsonl
	wfdb_fields b.ecgz > b.jsonl
	[ "$(wc -l < a.jsonl)" -eq 3 ]
	# int16 signals are written as they are: equal sample for sample
	cmp a.jsonl b.jsonl
	# (a lead ecg-synth lists in missing is exported as a flat lead with
	# gain 1, which WFDB cannot mark, so ecg-ingest reads it as present)
}

@test "round trip of float signals: each sample within half a unit of the export's -g gain" {
	ecg-synth -n 3 -s 12 -N all --fs 250 --seconds 4 -o a.ecgz
	# mV, moved off the 1/1000 mV grid by up to 0.4 units
	ecg-dump -a a.ecgz | jq -c '.sig.shape[1] as $n | .gain as $g | {id, fs, leads,
	    sig: {dtype: "float32", shape: .sig.shape,
	    data: [.sig.data | to_entries[] | .value / $g[.key / $n | floor] + 0.0002 * (.key % 5 - 2)]}}' |
	    ecg-pack > f.ecgz
	ecg-export -g 1000 --wfdb w f.ecgz
	ecg-ingest -o g.ecgz w 2>/dev/null
	ecg-dump -a f.ecgz > f.jsonl
	ecg-dump -a g.ecgz > g.jsonl
	run jq -c '{id, fs, leads, shape: .sig.shape}' f.jsonl
	want=$output
	run jq -c '{id, fs, leads, shape: .sig.shape}' g.jsonl
	assert_equal "$output" "$want"
	[ "$(jq -r '[.gain[], .baseline[]] | unique | map(tostring) | join(" ")' g.jsonl | sort -u)" = "0 1000" ]
	# largest |read back / gain - written| over every sample of every record
	err=$(jq -n --slurpfile f f.jsonl --slurpfile g g.jsonl '[range($f | length) as $i |
	    $f[$i] as $x | $g[$i] as $y | $x.sig.shape[1] as $n |
	    [range($x.sig.data | length) as $k |
	     $y.sig.data[$k] / $y.gain[$k / $n | floor] - $x.sig.data[$k] | fabs] | max] | max')
	awk -v e="$err" 'BEGIN { exit !(e > 0.0003 && e <= 0.0005 + 1e-6) }' || fail "max error $err mV, not within 0.0005 mV"
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-export
}
