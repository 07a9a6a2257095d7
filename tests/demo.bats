#!/usr/bin/env bats
# make demo-small: the demo's every step on a small dataset.

load test_helper

png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$(stat -c %s "$1")" -gt 10000 ]; }

@test "make demo-small: four models side by side with intervals, and the pictures; make robust on it" {
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
	# make robust on its MERIT model: every condition under both probes
	r=$BATS_TEST_TMPDIR/rb
	run make -s -C "$MERIT_ROOT" --no-print-directory robust MODEL="$d/merit/model.safetensors" \
	    DEMO_DIR="$d" DEMO_ROWS=1500 ROBUST_DIR="$r" ROBUST_BOOT=100 ROBUST_LEADS='I limb 12' \
	    ROBUST_NOISE='bw-12 em-6'
	assert_success
	assert_line "robust: results in $r/ (compare.txt, eval/*.json|txt)"
	head -n 1 "$r/compare.txt" | grep -Eq '^model +12-lead-probe 100% AUROC +12-lead-probe 100% F1 +own-probe 100% AUROC +own-probe 100% F1 *$'
	[ "$(tail -n +2 "$r/compare.txt" | cut -d' ' -f 1 | tr '\n' ' ')" = "leads-I leads-limb leads-12 noise-bw-12 noise-em-6 rate-500 " ]
	for c in leads-I leads-limb leads-12 noise-bw-12 noise-em-6 rate-500; do
		grep -Eq "^$c( +0\.[0-9]{4} \[0\.[0-9]{4}, [01]\.[0-9]{4}\]){4} *$" "$r/compare.txt"
		for p in 12-lead-probe own-probe; do
			jq -e --arg c "$c" '.model == $c' "$r/eval/$c-$p.json" >/dev/null
		done
	done
	# with all 12 leads the two protocols are the same probe on the same features
	[ "$(jq -c '[.summary[].value]' "$r/eval/leads-12-12-lead-probe.json")" = "$(jq -c '[.summary[].value]' "$r/eval/leads-12-own-probe.json")" ]
	# the 500 Hz records come back at 100 Hz with their ids and labels
	[ "$(ecg-dump "$r/raw/rate-500.ecgz" | jq -c '[.id, .fs, .labels]' | sort | md5sum)" = \
	    "$(ecg-dump "$d/ptbxl.ecgz" | jq -c '[.id, .fs, .labels]' | sort | md5sum)" ]
}
