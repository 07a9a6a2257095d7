#!/usr/bin/env bats
# make demo-small: the demo's every step on a small dataset.

load test_helper

png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$(stat -c %s "$1")" -gt 10000 ]; }

@test "make demo-small: four models side by side with intervals, and the pictures" {
	d=$BATS_TEST_TMPDIR/ds
	run make -s -C "$MERIT_ROOT" --no-print-directory demo-small DEMO_SMALL_DIR="$d"
	assert_success
	assert_line "demo-small: results in $d/ (compare.txt, rec-val.tsv, leads.txt, curves.png, roc.png, map.png, recon.png)"
	# a progress line for the steps
	assert_line "demo: synthesising the PTB-XL-shaped dataset"
	assert_line "pretrain $d/merit: epoch 2"
	assert_line "demo: cma: zero-shot ptbxl-super"
	# the table: a column per model, every cell filled, intervals on the full probes
	run head -n 1 "$d/compare.txt"
	assert_output --regexp '^ +random +rec +cma +merit *$'
	for t in silent reported ptbxl-super ptbxl-form ptbxl-rhythm; do
		for f in 1% 10% 100%; do
			grep -Eq "^$t $f AUROC( +0\.[0-9]{4} (± 0\.[0-9]{4}|\[0\.[0-9]{4}, [01]\.[0-9]{4}\])){4} *$" "$d/compare.txt"
		done
	done
	grep -Eq '^ptbxl-super zero-shot AUROC( +0\.[0-9]{4} \[0\.[0-9]{4}, [01]\.[0-9]{4}\]){4} *$' "$d/compare.txt"
	# the table leads with the silent findings, then the reported ones
	[ "$(sed -n '2p;8p' "$d/compare.txt" | cut -d' ' -f 1 | tr '\n' ' ')" = "silent reported " ]
	# the findings set has silent findings, and no report names one
	[ "$(ecg-dump "$d/findings.ecgz" | jq -s 'map(.truth.silent | length) | add')" -gt 50 ]
	[ "$(ecg-dump "$d/findings.ecgz" | jq -r .report | grep -ci -e 'av block' -e 'fascicular' -e 'hypertrophy' -e 'low .*voltage' -e 'incomplete right')" = 0 ]
	for p in curves roc map recon; do png "$d/$p.png"; done
	# validation L_rec: a row per model; rec-only reconstructs better than
	# random init, and its ratio to the predict-zero level is below 1
	run cut -f 1 "$d/rec-val.tsv"
	assert_output "$(printf 'model\nrandom\nrec\ncma\nmerit')"
	awk -F '\t' '$1 == "random" { r = $4 } $1 == "rec" { q = $4 } END { exit !(q < r && q < 1) }' \
	    "$d/rec-val.tsv"
	# the lead-subset rows: lead I, the limb leads and all 12, every model
	for s in I limb 12; do
		grep -Eq "^leads-$s 100% AUROC( +0\.[0-9]{4} \[0\.[0-9]{4}, [01]\.[0-9]{4}\]){4} *$" "$d/leads.txt"
	done
	# the subsets re-encode the test fold (10) only
	[ "$(ecg-cat -c "$d/ptbxl-test.ecgz")" = "$(ecg-dump "$d/ptbxl.ecgz" | jq 'select(.fold == 10) | .id' | wc -l)" ]
	# the map has a point per findings record
	[ "$(tail -n +2 "$d/map.tsv" | wc -l)" = "$(ecg-cat -c "$d/enc/merit-findings.ecgz")" ]
	# curves from all three trained models' logs, two epochs of steps each
	for m in rec cma merit; do
		[ "$(wc -l < "$d/$m/log.jsonl")" = "$(merit-step --info -m "$d/$m/model.safetensors" | awk '$1 == "step" { print $2 }')" ]
	done
}
