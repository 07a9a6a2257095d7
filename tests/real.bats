#!/usr/bin/env bats
# pipelines/real.mk: make ptbxl, mimic-pretrain and shift on real records
# (tests/fixtures) with a merit-xs model.
#
# The PTB-XL root is the six real PTB-XL records here: 00001_lr (100 Hz)
# and 6000-6004 (the Challenge's 500 Hz copies, resampled to 100 Hz into
# records100/06000/), with their rows of ptbxl_database.csv.  Their folds
# are 3, 10, 7, 4, 6, 10: the fold lists are variables, set below to what
# exists.  The MIMIC-IV-ECG root is the fixture's one study with a real
# 500 Hz record at its path (as in ecg-ingest.bats).  The Challenge archive
# is tests/fixtures/challenge2021-shift (Georgia and Chapman records).

load test_helper

BOOT=${REAL_TEST_BOOT:-20}
TASKS="ptbxl-super ptbxl-sub ptbxl-form ptbxl-rhythm ptbxl-all"

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	local i
	mkdir -p px/records100/00000 px/records100/06000 hr
	cp "$FIX"/ptbxl/scp_statements.csv px/
	cp "$FIX"/ptbxl/records100/00000/00001_lr.* px/records100/00000/
	awk -F, 'NR == 1 || $1 == 1 || ($1 >= 6000 && $1 <= 6004)' \
	    "$FIX"/ptbxl/ptbxl_database.csv > px/ptbxl_database.csv
	for i in 0 1 2 3 4; do
		local h="$FIX/ptbxl-hr/HR0600$i.hea"
		[ -e "$h" ] || h="$FIX/challenge2021/HR0600$i.hea"
		ecg-ingest --fs 100 "$h" 2>/dev/null | ecg-export --wfdb hr
		sed "s/HR0600$i/0600${i}_lr/g" hr/HR0600$i.hea > px/records100/06000/0600${i}_lr.hea
		mv hr/HR0600$i.dat px/records100/06000/0600${i}_lr.dat
	done
	# the model: merit-xs (100 Hz, 1000 samples, 16 tokens), a vocabulary
	# of the PTB-XL reports
	ecg-ingest -o p.ecgz px 2>/dev/null
	txt-tokenize --learn 300 -o vocab.txt p.ecgz
	merit-step --init --preset merit-xs --vocab vocab.txt -o xs.safetensors 2>/dev/null
	merit-step --init --preset merit-xs --vocab vocab.txt --seed 2 -o xs2.safetensors 2>/dev/null
	# MIMIC-IV-ECG: record_list + machine_measurements, the waveform at its path
	local d=mimic/files/p1000/p10000032/s40689238
	mkdir -p "$d"
	cp "$FIX"/mimic-iv-ecg/record_list.csv "$FIX"/mimic-iv-ecg/machine_measurements.csv mimic/
	cp "$FIX"/challenge2021/E07500.hea "$d/40689238.hea"
	cp "$FIX"/challenge2021/E07500.mat "$d/"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

# mk [VAR=value…] target…
mk() {
	make -s -C "$MERIT_ROOT" --no-print-directory MODEL="$D/xs.safetensors" \
	    REAL_BOOT="$BOOT" THREADS=1 "$@"
}
ptbxl() {
	mk ptbxl PTBXL="$D/px" PTBXL_DIR="$PWD/px" PTBXL_TRAIN=3,6 PTBXL_VAL=7 PTBXL_TEST=4,10 "$@"
}

@test "make ptbxl: ingest, encode, five probes at 1/10/100%, zero-shot on each task, compare" {
	run ptbxl
	assert_success
	assert_line "$PWD/px/ptbxl.ecgz: 6 records"
	[ "$(ecg-cat -c px/enc.ecgz)" = 6 ]
	[ "$(ecg-dump px/enc.ecgz | jq -c '[.fs, .sig.shape, .h.shape, .e.shape]' | sort -u)" = \
	    '[100,[12,1000],[32],[12]]' ]
	for t in $TASKS; do
		[ "$(jq -r '[.kind, .task, .model, .folds.train, .folds.val, .folds.test] | join(" ")' \
		    px/probe-$t.json)" = "probe $t merit 3,6 7 4,10" ]
		[ "$(jq -c '[.summary[] | .setting + " " + .metric]' px/probe-$t.json)" = \
		    '["1% AUROC","1% F1","10% AUROC","10% F1","100% AUROC","100% F1"]' ]
		[ "$(jq -c '[.summary[] | select(.setting == "1%") | .runs] | unique' px/probe-$t.json)" = '[3]' ]
		[ "$(jq -r '[.kind, .task, .records.test > 0] | join(" ")' px/zeroshot-$t.json)" = \
		    "zeroshot $t true" ]
		[ -s px/probe-$t.txt ] && [ -s px/zeroshot-$t.txt ]
	done
	[ "$(jq '.classes | length' px/probe-ptbxl-super.json)" = 5 ]
	[ "$(jq '.classes | length' px/probe-ptbxl-all.json)" = 71 ]
	[ "$(jq '.records.test' px/zeroshot-ptbxl-super.json)" = 3 ]
	# the table: the ten result files of one model make one row, with a
	# column per task, setting and metric
	[ "$(tail -n +2 px/compare.txt | awk '{ print $1 }')" = "merit" ]
	for t in $TASKS; do
		head -n 1 px/compare.txt | grep -q "$t 100% AUROC"
		head -n 1 px/compare.txt | grep -q "$t zero-shot AUROC"
	done
	assert_line "ptbxl: results in $PWD/px/ (compare.txt probe-*.json|txt zeroshot-*.json|txt)"
	# nothing to do the second time; another model re-encodes and re-evaluates
	run ptbxl
	assert_success
	refute_output -p "ptbxl: linear probe"
	run ptbxl MODEL="$D/xs2.safetensors"
	assert_success
	assert_line "ptbxl: encoding with $D/xs2.safetensors"
	assert_line "ptbxl: linear probe ptbxl-super"
	refute_output -p "ingesting"
}

@test "make ptbxl without a model says how to make one, before ingesting" {
	run make -s -C "$MERIT_ROOT" --no-print-directory ptbxl PTBXL="$D/px" \
	    PTBXL_DIR="$PWD/px" PRETRAIN_DIR="$PWD/none"
	assert_failure
	assert_output -p "the model $PWD/none/model.safetensors does not exist: train one (make pretrain"
	[ ! -e px/ptbxl.ecgz ]
}

@test "the targets without their archives say which variable is missing" {
	run make -s -C "$MERIT_ROOT" --no-print-directory ptbxl PTBXL=
	[ "$status" -eq 2 ]
	assert_output -p "make ptbxl needs PTBXL=/path/to/ptb-xl"
	run make -s -C "$MERIT_ROOT" --no-print-directory mimic-pretrain MIMIC=
	[ "$status" -eq 2 ]
	assert_output -p "make mimic-pretrain needs MIMIC=/path/to/mimic-iv-ecg"
	run make -s -C "$MERIT_ROOT" --no-print-directory shift PTBXL="$D/px" CHALLENGE=
	[ "$status" -eq 2 ]
	assert_output -p "make shift needs PTBXL=/path/to/ptb-xl and CHALLENGE="
}

@test "make mimic-pretrain: the MIMIC-IV-ECG root at 100 Hz, then pretrain.mk's epochs" {
	run mk mimic-pretrain MIMIC="$D/mimic" MIMIC_DIR="$PWD/mimic" PRESET=merit-xs EPOCHS=2 \
	    BATCH=1 VOCAB_SIZE=300
	assert_success
	assert_line "pretrain $PWD/mimic: epoch 2"
	assert_line "mimic-pretrain: $PWD/mimic/model.safetensors (log: $PWD/mimic/log.jsonl)"
	run jq -c '[.id, .source, .fs, .sig.shape, .report]' <(ecg-dump mimic/train.ecgz)
	assert_output '["40689238","mimic",100,[12,1000],"Sinus rhythm; Possible right atrial abnormality; Borderline ECG"]'
	[ -s mimic/vocab.txt ]
	[ "$(ecg-dump mimic/train.tok.ecgz | jq -c .tok.shape)" = '[16]' ]
	info() { merit-step --info -m "$1" | awk -F'\t' -v k="$2" '$1 == k { print $2 }'; }
	[ "$(info mimic/model.safetensors preset)" = merit-xs ]
	[ "$(info mimic/model.safetensors step)" = 2 ]
	[ "$(wc -l < mimic/log.jsonl)" = 2 ]
	cmp mimic/model.safetensors mimic/epoch-2.safetensors
	# the model is one make ptbxl can use
	run ptbxl MODEL="$PWD/mimic/model.safetensors" PTBXL_TASKS=ptbxl-super PTBXL_ZEROSHOT=ptbxl-super
	assert_success
	[ "$(jq -r .task px/zeroshot-ptbxl-super.json)" = ptbxl-super ]
}

@test "make shift: probe trained on PTB-XL, tested on Challenge records over the shared classes" {
	run mk shift PTBXL="$D/px" CHALLENGE="$FIX/challenge2021-shift" PTBXL_DIR="$PWD/px" \
	    SHIFT_DIR="$PWD/sh" SHIFT_TRAIN=3,6,7 SHIFT_VAL=4 PTBXL_TEST=10
	assert_success
	assert_line "$PWD/sh/challenge.ecgz: 14 records"
	# the classes of the table, by record (the Challenge records in fold 11)
	run jq -r '[.id, .fold, (.shared | join(","))] | @tsv' <(ecg-dump sh/shared.ecgz)
	assert_output "$(printf '%s\n' 1$'\t'3$'\t'LQRSV,NSR 6000$'\t'10$'\t'NSR,TAb \
	    6001$'\t'7$'\t'NSR,STC 6002$'\t'4$'\t'IRBBB,SB 6003$'\t'6$'\t'STach 6004$'\t'10$'\t'NSR \
	    E07501$'\t'11$'\t'STach E07502$'\t'11$'\t'STach E07503$'\t'11$'\t'STach \
	    E07504$'\t'11$'\t'LQT E07505$'\t'11$'\t'LVH E07506$'\t'11$'\t'NSR E07507$'\t'11$'\t'LQT \
	    E07508$'\t'11$'\t'STach E07509$'\t'11$'\t'RBBB,SB JS20001$'\t'11$'\t'NSIVCB,PAC,STach \
	    JS20002$'\t'11$'\t'PAC,TAb,TInv JS20003$'\t'11$'\t'LVHV,PAC,PVC,STach,TAb \
	    JS20004$'\t'11$'\t'LVHV,PAC,PVC,STach JS20005$'\t'11$'\t'PAC,PVC,RVH,STach)"
	[ "$(ecg-dump sh/shared.ecgz | jq -c 'has("sig")' | sort -u)" = false ]
	# trained on the PTB-XL folds, tested on the 14 Challenge records; the
	# classes are those of the training folds
	[ "$(jq -c '[.task, .model, .folds, .records]' sh/shift.json)" = \
	    '["codes","merit-shift",{"train":"3,6-7","val":"4","test":"11"},{"train":3,"val":1,"test":14,"dropped":0}]' ]
	[ "$(jq -c .classes sh/shift.json)" = \
	    '["LQRSV","NSR","STC","STach"]' ]
	[ "$(jq -c '[.model, .folds.test, .records.test]' sh/ptbxl.json)" = '["merit-ptbxl","10",2]' ]
	[ "$(tail -n +2 sh/compare.txt | awk '{ print $1 }' | tr '\n' ' ')" = "merit-ptbxl merit-shift " ]
	head -n 1 sh/compare.txt | grep -q "codes 100% AUROC"
}

@test "shift-labels.tsv: every code is in scp_statements.csv or the Challenge tables, in one class" {
	local t="$MERIT_ROOT/pipelines/shift-labels.tsv"
	# SCP codes (column 2) against PTB-XL's statements, without trailing '_'
	run bash -c "awk -F'\t' '!/^#/ && \$1 != \"class\" { n = split(\$2, a, \" \"); for (i = 1; i <= n; i++) print a[i] }' '$t' |
	    grep -vxF -f <(cut -d, -f1 '$FIX/ptbxl/scp_statements.csv')"
	assert_output ""
	run bash -c "awk -F'\t' '!/^#/ && \$1 != \"class\" { n = split(\$3, a, \" \"); for (i = 1; i <= n; i++) print a[i] }' '$t' |
	    grep -vxF -f <(cut -d, -f2 '$FIX'/challenge2021/dx_mapping_*.csv)"
	assert_output ""
	# no code twice, classes unique
	run bash -c "awk -F'\t' '!/^#/ && \$1 != \"class\" { n = split(\$2 \" \" \$3, a, \" \"); for (i = 1; i <= n; i++) print a[i] }' '$t' | sort | uniq -d"
	assert_output ""
	run bash -c "awk -F'\t' '!/^#/ && \$1 != \"class\" { print \$1 }' '$t' | sort | uniq -d"
	assert_output ""
}

@test "make mimic-pretrain FILTER=…: ingested records are filtered, no raw file left" {
	run mk "$PWD/mimic/train.ecgz" MIMIC="$D/mimic" MIMIC_DIR="$PWD/mimic" FILTER='--highpass 0.5'
	assert_success
	[ "$(ecg-dump mimic/train.ecgz | jq -c '[.filter.kind, .filter.lo, .sig.dtype, .fs]')" = '["highpass",0.5,"float32",100]' ]
	[ -z "$(find mimic -name '*.raw.ecgz')" ]
}
