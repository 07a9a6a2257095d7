#!/usr/bin/env bats
# ecg-plot: 12-lead ECG paper as SVG.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; ecg-synth -n 3 -s 2 -N none -o a.ecgz; }

@test "one record: well-formed SVG, 12 leads and a rhythm strip on a 25 mm/s grid" {
	ecg-plot -o a.svg a.ecgz
	xmllint --noout a.svg
	[ "$(grep -c '<polyline' a.svg)" = 13 ]
	grep -q 'viewBox="0 0 260 ' a.svg
	for l in I II III aVR aVL aVF V1 V2 V3 V4 V5 V6; do grep -q ">$l</text>" a.svg; done
	# the rhythm strip: 5000 points over 250 mm (10 s at 25 mm/s)
	strip=$(grep '<polyline' a.svg | tail -n 1)
	[ "$(tr ' ' '\n' <<<"$strip" | grep -c ,)" = 5000 ]
	[ "$(tr ' ' '\n' <<<"$strip" | grep , | tail -n 1 | cut -d, -f1 | sed 's/points="//')" = 249.95 ]
	grep -q "$(ecg-dump a.ecgz | head -n 1 | jq -r .id)" a.svg
}

@test "-n stacks records in one file; -d writes one file per record" {
	ecg-plot -n 3 a.ecgz > all.svg
	xmllint --noout all.svg
	[ "$(grep -c '<polyline' all.svg)" = 39 ]
	mkdir d
	ecg-plot -n 2 -d d a.ecgz
	[ "$(ls d | tr '\n' ' ')" = "synth2-000001.svg synth2-000002.svg " ]
	xmllint --noout d/synth2-000002.svg
}

@test "bad input: message, status, no output left" {
	echo '{"id":"a","fs":500.0}' | ecg-pack > nosig.ecgz
	run --separate-stderr ecg-plot -o p.svg nosig.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-plot: nosig.ecgz: record 1: no field sig of shape [leads, samples]" ]
	[ ! -e p.svg ]
	run --separate-stderr ecg-plot -o p.svg -d . a.ecgz
	[ "$status" -eq 2 ]
	run --separate-stderr ecg-plot -n 0 a.ecgz
	[ "$stderr" = "ecg-plot: -n: out of range [1, 100000]: 0" ]
	refute_leftovers .
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-plot
}
