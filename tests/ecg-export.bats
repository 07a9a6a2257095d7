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
