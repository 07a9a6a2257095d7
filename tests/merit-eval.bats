#!/usr/bin/env bats
# merit-eval: probes on planted linear signals, selection never looking at
# the test fold, retrieval by hand, compare, describe, bad input.

load test_helper

# a randomly initialised merit-xs checkpoint with a tokenizer learned from
# synthetic reports (for zeroshot)
setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ecg-synth -n 20 -s 3 --fs 100 | txt-tokenize -L 400 -o v.txt
	merit-step --init --preset merit-xs --vocab v.txt --seed 2 -o ck.safetensors 2>/dev/null
	merit-step --init --preset merit-xs --seed 2 -o notok.safetensors 2>/dev/null
}

setup() { cd "$BATS_TEST_TMPDIR"; D=$BATS_FILE_TMPDIR; }

# The text tower's embedding of each line "code<TAB>text" of a prompt file,
# as JSON lines {"id": code, "t": tensor}, through txt-tokenize and ecg-encode.
textemb() {
	jq -Rc 'split("\t") | {id: .[0], report: .[1]}' "$1" | ecg-pack |
		txt-tokenize -v "$D/v.txt" -m 16 | ecg-encode -m "$D/ck.safetensors" --text |
		ecg-dump -a | jq -c '{id, t}'
}
# 60 records, folds 9 and 10, one class each in turn from CLASSES (a jq
# array), whose e is that class's text embedding from EMB (textemb output)
planted() {
	jq -nc --slurpfile c "$2" --argjson k "$1" '($c | map({(.id): .t}) | add) as $t |
		range(60) as $i | $k[$i % ($k | length)] as $y |
		{id: "r\($i)", fold: (if $i < 30 then 9 else 10 end), e: $t[$y], labels: {($y): 100.0}}' | ecg-pack
}

feat() { "$FIX/mkfeat" "$@" | ecg-pack; }

@test "probe recovers a planted signal; scores file covers every record and class" {
	feat 600 8 1 > f.ecgz
	run --separate-stderr merit-eval probe -t codes -f 1 -B 200 -j r.json -c s.tsv f.ecgz
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "task codes, features h (8-d), 3 classes; train 480 (folds 1-8), val 60 (9), test 60 (10); 0 records without a label of the task dropped"
	[ "$(jq '.summary[0].value > 0.9' r.json)" = true ]
	[ "$(jq -r '.classes | join(" ")' r.json)" = "A B C" ]
	[ "$(jq '[.runs[0].classes[].converged] | all' r.json)" = true ]
	[ "$(jq '[.runs[0].classes[].grad_norm] | max < 1e-8' r.json)" = true ]
	[ "$(head -1 s.tsv)" = "$(printf 'id\tclass\tsplit\tlabel\tscore')" ]
	[ "$(wc -l < s.tsv)" = $((600 * 3 + 1)) ]
	[ "$(awk -F'\t' '$3 == "test"' s.tsv | wc -l)" = $((60 * 3)) ]
	# the labels in the scores file are the stream's: r0001 has only B (likelihood 0 counts)
	[ "$(awk -F'\t' '$1 == "r0001" { printf "%s%s ", $2, $4 }' s.tsv)" = "A0 B1 C0 " ]
}

@test "test AUROC recomputed from the scores file by pair counting" {
	feat 300 6 4 > f.ecgz
	merit-eval probe -t codes -f 1 -B 10 -j r.json -c s.tsv f.ecgz > /dev/null
	got=$(awk -F'\t' '$3 == "test" && $2 == "A" { s[++n] = $5; y[n] = $4 }
		END { for (i = 1; i <= n; i++) for (j = 1; j <= n; j++) if (y[i] == 1 && y[j] == 0) {
			p++; u += (s[i] > s[j]) ? 1 : (s[i] == s[j]) ? 0.5 : 0 }
			printf "%.10f", u / p }' s.tsv)
	[ "$got" = "$(jq -r '.runs[0].classes[0].auroc * 1e10 | round / 1e10 | tostring' r.json | awk '{ printf "%.10f", $1 }')" ]
}

@test "fractions below 100% run over seeds; same seed, same results" {
	feat 400 5 3 > f.ecgz
	merit-eval probe -t codes -f 0.1,1 -n 3 -B 50 -j a.json f.ecgz > /dev/null
	merit-eval probe -t codes -f 0.1,1 -n 3 -B 50 -j b.json f.ecgz > /dev/null
	cmp a.json b.json
	[ "$(jq -c '[.runs[] | [.fraction, .seed, .n_train]]' a.json)" = "[[0.1,1,32],[0.1,2,32],[0.1,3,32],[1,1,320]]" ]
	[ "$(jq -c '[.summary[] | [.setting, .metric, .runs]]' a.json)" = '[["10%","AUROC",3],["10%","F1",3],["100%","AUROC",1],["100%","F1",1]]' ]
	merit-eval probe -t codes -f 0.1 -n 3 -S 2 -B 50 -j c.json f.ecgz > /dev/null
	[ "$(jq -c '[.runs[].n_train]' c.json)" = "[32,32,32]" ]
	jq '.runs[0].classes' a.json > a.cl; jq '.runs[0].classes' c.json > c.cl
	run cmp -s a.cl c.cl
	assert_failure
}

@test "nothing is chosen on the test fold: shuffled test labels change no choice" {
	"$FIX/mkfeat" 500 6 5 > a.jsonl
	# rotate the labels among the fold-10 records
	awk '/"fold":10,/ { n++; line[n] = $0; lab[n] = substr($0, index($0, "\"labels\"")); next } { print }
		END { for (i = 1; i <= n; i++) { j = i % n + 1; l = line[i]; sub(/"labels".*/, "", l); print l lab[j] } }' a.jsonl > b.jsonl
	run cmp -s a.jsonl b.jsonl
	assert_failure
	ecg-pack a.jsonl > a.ecgz; ecg-pack b.jsonl > b.ecgz
	merit-eval probe -t codes -f 0.1,1 -n 2 -B 20 -j a.json a.ecgz > /dev/null
	merit-eval probe -t codes -f 0.1,1 -n 2 -B 20 -j b.json b.ecgz > /dev/null
	choices='[.runs[] | {lambda, lambda_grid, t: [.classes[].threshold]}]'
	[ "$(jq -c "$choices" a.json)" = "$(jq -c "$choices" b.json)" ]
	[ "$(jq '.runs[-1].test.macro_auroc' a.json)" != "$(jq '.runs[-1].test.macro_auroc' b.json)" ]
}

@test "retrieval: recall@k by hand" {
	v() { printf '{"dtype":"float32","shape":[2],"data":[%s]}' "$1"; }
	{
		echo "{\"id\":\"a\",\"fold\":10,\"e\":$(v 1,0),\"t\":$(v 1,0)}"
		echo "{\"id\":\"b\",\"fold\":10,\"e\":$(v 0,1),\"t\":$(v 0.6,0.8)}"
		echo "{\"id\":\"c\",\"fold\":10,\"e\":$(v 0.6,0.8),\"t\":$(v 0,1)}"
		echo "{\"id\":\"d\",\"fold\":3,\"e\":$(v 0,1),\"t\":$(v 0,1)}"
	} | ecg-pack > r.ecgz
	run --separate-stderr merit-eval retrieval -B 10 -j r.json r.ecgz
	assert_success
	assert_line --index 0 "retrieval among 3 records of folds 10 (e, t, 2-d)"
	[ "$(jq -c '[.summary[] | [.setting, .metric, (.value * 10000 | round)]]' r.json)" = '[["ECG->report","R@1",3333],["ECG->report","R@5",10000],["ECG->report","R@10",10000],["report->ECG","R@1",3333],["report->ECG","R@5",10000],["report->ECG","R@10",10000]]' ]
}

@test "compare: one row per model, columns task x setting x metric" {
	feat 300 6 6 > f.ecgz
	merit-eval probe -t codes -f 1 -B 20 -N random -j a.json f.ecgz > /dev/null
	merit-eval probe -t codes -f 1 -B 20 -N merit -j b.json f.ecgz > /dev/null
	run --separate-stderr merit-eval compare a.json b.json
	assert_success
	[ "${#lines[@]}" = 3 ]
	assert_line --index 0 --regexp '^model +codes 100% AUROC +codes 100% F1 *$'
	assert_line --index 1 --regexp '^random +0\.[0-9]{4} \[0\.[0-9]{4}, [01]\.[0-9]{4}\] +0\.[0-9]{4} \['
	assert_line --index 2 --regexp '^merit '
	# two files of one model are one row; -t turns the table
	merit-eval probe -t codes -f 1 -B 20 -N merit -S 2 -j c.json f.ecgz > /dev/null
	jq '.summary[].task = "other"' c.json > d.json
	run --separate-stderr merit-eval compare a.json b.json d.json
	[ "${#lines[@]}" = 3 ]
	assert_line --index 0 --regexp '^model +codes 100% AUROC +codes 100% F1 +other 100% AUROC +other 100% F1 *$'
	assert_line --index 1 --regexp '^random +0\.[0-9]{4} \[.* +0\.[0-9]{4} \[.* +- +- *$'
	assert_line --index 2 --regexp '^merit +0\.[0-9]{4} \[.* +0\.[0-9]{4} \[.* +0\.[0-9]{4} \[.* +0\.[0-9]{4} \['
	run --separate-stderr merit-eval compare -t a.json b.json d.json
	assert_success
	[ "${#lines[@]}" = 5 ]
	assert_line --index 0 --regexp '^ +random +merit *$'
	assert_line --index 3 --regexp '^other 100% AUROC +- +0\.[0-9]{4} \['
	echo '{"model": "x"}' > bad.json
	run --separate-stderr merit-eval compare a.json bad.json
	assert_failure 1
	assert_equal "$stderr" "merit-eval: bad.json: not a merit-eval result (no model or summary)"
}

@test "describe and ptbxl-super: class counts per fold from scp_statements.csv" {
	h='"h":{"dtype":"float32","shape":[1],"data":[0.5]}'
	{
		echo "{\"id\":1,\"fold\":3,$h,\"labels\":{\"NORM\":100.0,\"LVOLT\":0.0,\"SR\":0.0}}"
		echo "{\"id\":140,\"fold\":9,$h,\"labels\":{\"LVH\":100.0,\"ISC_\":100.0,\"SR\":0.0}}"
		echo "{\"id\":143,\"fold\":9,$h,\"labels\":{\"PACE\":100.0}}"
		echo "{\"id\":182,\"fold\":6,$h,\"labels\":{\"ASMI\":35.0,\"LAFB\":100.0,\"1AVB\":100.0,\"SR\":0.0}}"
		echo "{\"id\":9998,\"fold\":1,$h,\"labels\":{\"NDT\":100.0,\"STD_\":0.0,\"NT_\":0.0,\"SR\":0.0}}"
	} | ecg-pack > p.ecgz
	run --separate-stderr merit-eval describe -t ptbxl-super -s "$FIX/ptbxl-scp/scp_statements.csv" p.ecgz
	assert_success
	assert_equal "$output" "fold              1      3      6      9   total
CD                0      0      1      0       1
HYP               0      0      0      1       1
MI                0      0      1      0       1
NORM              0      1      0      0       1
STTC              1      0      0      1       2
(records)         1      1      1      1       4
1 records without a label of the task dropped, 0 of other folds skipped"
}

# the class names of the per-class table of a probe's or zeroshot's output
per_class() { sed -n '/^per class/,/^$/p' "$1" | awk 'NR > 2 && NF { print $1 }' | tr '\n' ' '; }

@test "--codes, --exclude-codes: a task kept to some of its classes, same records, same fits" {
	feat 600 8 1 > f.ecgz
	merit-eval probe -t codes -f 1 -L 0.01 -B 50 -j all.json f.ecgz > all.txt
	run --separate-stderr merit-eval probe -t codes -f 1 -L 0.01 -B 50 --codes C,A -j ca.json f.ecgz
	assert_success
	echo "$output" > ca.txt
	assert_line --index 0 "task codes:C,A, features h (8-d), 2 classes; train 480 (folds 1-8), val 60 (9), test 60 (10); 0 records without a label of the task dropped"
	[ "$(per_class all.txt)" = "A B C " ]
	[ "$(per_class ca.txt)" = "A C " ]
	[ "$(jq -c '[.task, .label_task, .codes, .classes, (.summary | map(.task) | unique), (.runs[0].classes | map(.name))]' ca.json)" = '["codes:C,A","codes",["C","A"],["A","C"],["codes:C,A"],["A","C"]]' ]
	# each class is fitted alone (one lambda): A and C as in the whole task
	fit='[.runs[0].classes[] | select(.name != "B") | [.name, .test_pos, .auroc, .f1, .threshold]]'
	[ "$(jq -c "$fit" ca.json)" = "$(jq -c "$fit" all.json)" ]
	# the complement, named
	run --separate-stderr merit-eval probe -t codes -f 1 -L 0.01 -B 50 --exclude-codes A,C --task-name reported -j b.json f.ecgz
	assert_success
	echo "$output" > b.txt
	[ "$(per_class b.txt)" = "B " ]
	[ "$(jq -c '[.task, .exclude_codes, .classes, (.summary | map(.task) | unique)]' b.json)" = '["reported",["A","C"],["B"],["reported"]]' ]
	[ "$(jq -c '.runs[0].classes[0] | [.auroc, .threshold]' b.json)" = "$(jq -c '.runs[0].classes[1] | [.auroc, .threshold]' all.json)" ]
	run merit-eval compare -t ca.json b.json
	assert_line --index 1 --regexp '^codes:C,A 100% AUROC +0\.[0-9]{4} \['
	assert_line --index 3 --regexp '^reported 100% AUROC +0\.[0-9]{4} \['
	# describe counts the kept classes only
	run --separate-stderr merit-eval describe -t codes --exclude-codes B f.ecgz
	assert_success
	[ "$(echo "$output" | awk 'NF { print $1 }' | tr '\n' ' ')" = "fold A C (records) 0 " ]
}

@test "--codes on a PTB-XL task: its classes kept, records dropped as by the whole task" {
	h='"h":{"dtype":"float32","shape":[1],"data":[0.5]}'
	{
		echo "{\"id\":1,\"fold\":3,$h,\"labels\":{\"NORM\":100.0,\"SR\":0.0}}"
		echo "{\"id\":143,\"fold\":9,$h,\"labels\":{\"PACE\":100.0}}"
		echo "{\"id\":182,\"fold\":6,$h,\"labels\":{\"ASMI\":35.0,\"LAFB\":100.0,\"1AVB\":100.0}}"
		echo "{\"id\":9998,\"fold\":1,$h,\"labels\":{\"NDT\":100.0,\"STD_\":0.0}}"
	} | ecg-pack > p.ecgz
	run --separate-stderr merit-eval describe -t ptbxl-super -s "$FIX/ptbxl-scp/scp_statements.csv" --codes MI,NORM p.ecgz
	assert_success
	# the STTC-only record stays, a negative; the PACE-only one is dropped
	assert_equal "$output" "fold              1      3      6   total
MI                0      0      1       1
NORM              0      1      0       1
(records)         1      1      1       3
1 records without a label of the task dropped, 0 of other folds skipped"
	run --separate-stderr merit-eval describe -t ptbxl-super -s "$FIX/ptbxl-scp/scp_statements.csv" --codes MI,IMI p.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: --codes: IMI is not a class of task ptbxl-super (classes: CD HYP MI NORM STTC)"
}

@test "--codes: an unknown code, no class left, an empty code, both options: errors, no output" {
	feat 100 4 2 > f.ecgz
	run --separate-stderr merit-eval probe -t codes --codes A,LVH -j r.json -c s.tsv f.ecgz
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "merit-eval: --codes: LVH is not a class of task codes (classes: A B C)"
	[ ! -e r.json ]; [ ! -e s.tsv ]; refute_leftovers .
	run --separate-stderr merit-eval probe -t codes --exclude-codes C,B,A -j r.json f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: --exclude-codes: no class of task codes left"
	run --separate-stderr merit-eval probe -t codes --codes A,,B f.ecgz
	assert_equal "$stderr" "merit-eval: --codes: an empty code in A,,B"
	run --separate-stderr merit-eval probe -t codes --codes '' f.ecgz
	assert_equal "$stderr" "merit-eval: --codes: no code"
	run --separate-stderr merit-eval probe -t codes --codes A --exclude-codes B f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: --codes and --exclude-codes: give one of them"
	# task codes: the classes are the training folds' codes, C only in 9 and 10
	"$FIX/mkfeat" 100 4 2 | jq -c 'if .fold <= 8 then .labels |= del(.C) else . end' | ecg-pack > g.ecgz
	run --separate-stderr merit-eval probe -t codes --codes C g.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: --codes: C is not a class of task codes (classes: A B)"
	[ ! -e r.json ]; refute_leftovers .
}

@test "bad input: record without the feature field" {
	"$FIX/mkfeat" 20 4 1 > a.jsonl
	sed '7s/"h":/"x":/' a.jsonl | ecg-pack > f.ecgz
	run --separate-stderr merit-eval probe -t codes -j r.json -c s.tsv f.ecgz
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "merit-eval: f.ecgz: record 7: no feature field h"
	[ ! -e r.json ]; [ ! -e s.tsv ]; refute_leftovers .
}

@test "bad input: mismatched feature sizes" {
	{ "$FIX/mkfeat" 5 4 1; "$FIX/mkfeat" 5 3 1; } | ecg-pack > f.ecgz
	run --separate-stderr merit-eval probe -t codes -j r.json f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: f.ecgz: record 6: feature h has 3 values, earlier records 4"
	[ ! -e r.json ]; refute_leftovers .
}

@test "bad input: a task whose labels never occur in the training folds" {
	feat 50 4 1 > f.ecgz
	run --separate-stderr merit-eval probe -t ptbxl-super -s "$FIX/ptbxl-scp/scp_statements.csv" -j r.json -c s.tsv f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: task ptbxl-super: no label of the task occurs in the training folds (1-8)"
	[ ! -e r.json ]; [ ! -e s.tsv ]; refute_leftovers .
	run --separate-stderr merit-eval probe -t codes --train 11 -j r.json f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: task codes: no label of the task occurs in the training folds (11)"
}

@test "bad input: no fold, unknown task, no statements table, overlapping folds, usage" {
	printf '{"id":"a","h":{"dtype":"float32","shape":[1],"data":[1]},"labels":{}}\n' | ecg-pack > f.ecgz
	run --separate-stderr merit-eval probe -t codes f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: f.ecgz: record 1: no integer field fold"
	run --separate-stderr merit-eval probe -t ptbxl f.ecgz
	assert_equal "$stderr" "merit-eval: unknown task ptbxl (ptbxl-super, ptbxl-sub, ptbxl-form, ptbxl-rhythm, ptbxl-all, codes)"
	run --separate-stderr merit-eval probe -t ptbxl-sub f.ecgz
	assert_equal "$stderr" "merit-eval: task ptbxl-sub needs the statements table (-s scp_statements.csv)"
	run --separate-stderr merit-eval probe -t codes --val 8 f.ecgz
	assert_equal "$stderr" "merit-eval: the train and val folds overlap"
	run --separate-stderr merit-eval probe f.ecgz
	assert_failure 2
	run --separate-stderr merit-eval frobnicate
	assert_failure 2
	run --separate-stderr merit-eval zeroshot -t ptbxl-super
	assert_failure 2
}

@test "labels as an array in another field; TSV summary; -D prints the counts first" {
	"$FIX/mkfeat" 200 4 7 | jq -c '.codes = (.labels | keys) | del(.labels)' > a.jsonl
	grep -q '"codes":\["A","C"\]}$' a.jsonl
	run grep -c labels a.jsonl
	assert_output 0
	ecg-pack a.jsonl > f.ecgz
	run --separate-stderr merit-eval probe -t codes -l codes -f 1 -B 20 -D -T r.tsv -N m f.ecgz
	assert_success
	assert_line --index 0 --regexp '^fold +1 +2 +3 +4 +5 +6 +7 +8 +9 +10 +total$'
	assert_line --index 1 --regexp '^A( +[0-9]+){11}$'
	[ "$(head -1 r.tsv)" = "$(printf 'model\ttask\tsetting\tmetric\tvalue\tlo\thi\tsd\truns')" ]
	[ "$(cut -f 1-4,9 r.tsv | tail -n +2 | tr '\t' ' ')" = "m codes 100% AUROC 1
m codes 100% F1 1" ]
}

@test "a class without test positives is listed and left out of the macros" {
	"$FIX/mkfeat" 300 5 8 | jq -c 'if .fold == 10 then .labels |= del(.C) else . end' | ecg-pack > f.ecgz
	run --separate-stderr merit-eval probe -t codes -f 1 -B 20 -j r.json f.ecgz
	assert_success
	assert_line --regexp '^C +0 +- +- .*  excluded: test lacks positives or negatives$'
	[ "$(jq -c '.runs[0].excluded' r.json)" = '["C"]' ]
	[ "$(jq '.runs[0] | (.classes[0].auroc + .classes[1].auroc) / 2 - .test.macro_auroc | fabs < 1e-15' r.json)" = true ]
	[ "$(jq '.runs[0] | (.classes[0].f1 + .classes[1].f1) / 2 - .test.macro_f1 | fabs < 1e-15' r.json)" = true ]
}

@test "zeroshot: records whose e is a class text's embedding score 1 for that class" {
	printf 'A\tatrial fibrillation\nB\tsinus bradycardia\n# a comment\n\nC\tleft bundle branch block\n' > p.tsv
	textemb <(grep -v '^#' p.tsv | grep .) > t.jsonl
	planted '["A","B","C"]' t.jsonl > z.ecgz
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p p.tsv -B 50 -N zs -j z.json -c s.tsv -T z.tsv z.ecgz
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "zero-shot task codes, features e (12-d), 3 classes, texts from p.tsv; checkpoint $D/ck.safetensors; val 30 (folds 9), test 30 (10); 0 records without a label of the task dropped"
	assert_line --regexp '^   1\.0000  1\.0000 \[1\.0000, 1\.0000\] +1\.0000 \[1\.0000, 1\.0000\]$'
	assert_line "C            left bundle branch block"
	[ "$(jq -c '[.classes, .test.macro_auroc, .test.macro_f1, [.per_class[].auroc]]' z.json)" = '[["A","B","C"],1,1,[1,1,1]]' ]
	[ "$(jq -r '.texts.B' z.json)" = "sinus bradycardia" ]
	# the scores file: val and test records only, cosine 1 with the own class
	[ "$(wc -l < s.tsv)" = $((60 * 3 + 1)) ]
	[ "$(cut -f 3 s.tsv | tail -n +2 | sort | uniq -c | tr -s ' ')" = " 90 test
 90 val" ]
	[ "$(awk -F'\t' 'NR > 1 && $4 == 1 && ($5 < 0.999999 || $5 > 1.000001)' s.tsv | wc -l)" = 0 ]
	[ "$(awk -F'\t' 'NR > 1 && $4 == 0 && $5 > 0.999' s.tsv | wc -l)" = 0 ]
	# compare reads it like a probe's result
	run merit-eval compare z.json
	assert_line --index 0 --regexp '^model +codes zero-shot AUROC +codes zero-shot F1 *$'
	[ "$(tail -1 z.tsv | cut -f 1-5)" = "$(printf 'zs\tcodes\tzero-shot\tF1\t1')" ]
}

@test "zeroshot: the checkpoint's tokenizer, or --vocab; none is an error" {
	printf 'A\tatrial fibrillation\nB\tsinus bradycardia\n' > p.tsv
	textemb p.tsv > t.jsonl
	planted '["A","B"]' t.jsonl > z.ecgz
	merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p p.tsv -B 20 -j a.json z.ecgz > /dev/null
	merit-eval zeroshot -m "$D/notok.safetensors" --vocab "$D/v.txt" -l labels -p p.tsv -B 20 -j b.json z.ecgz > /dev/null
	[ "$(jq -c .per_class a.json)" = "$(jq -c .per_class b.json)" ]
	[ "$(jq .test.macro_auroc a.json)" = 1 ]
	run --separate-stderr merit-eval zeroshot -m "$D/notok.safetensors" -l labels -p p.tsv -j c.json z.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: $D/notok.safetensors: no tokenizer in the checkpoint (give --vocab FILE)"
	[ ! -e c.json ]
}

@test "zeroshot: PTB-XL classes get their scp_statements descriptions unless a prompt says otherwise" {
	scp=$FIX/ptbxl-scp/scp_statements.csv
	printf 'AFIB\tatrial fibrillation\nSR\tsinus rhythm\n' > d.tsv
	textemb d.tsv > t.jsonl
	planted '["AFIB","SR"]' t.jsonl > z.ecgz
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -t ptbxl-rhythm -s "$scp" -B 20 -j z.json z.ecgz
	assert_success
	assert_line --index 0 --partial ", 12 classes, texts: their descriptions; "
	[ "$(jq -r '.texts.AFIB, .texts.SR, .texts.STACH' z.json)" = "atrial fibrillation
sinus rhythm
sinus tachycardia" ]
	# only AFIB and SR have test positives; both are found exactly
	[ "$(jq -c '[(.excluded | length), .test.macro_auroc]' z.json)" = "[10,1]" ]
	printf 'SR\tnormal sinus rhythm\nXYZ\tnot a class\n' > p.tsv
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -t ptbxl-rhythm -s "$scp" -p p.tsv -B 20 -j p.json z.ecgz
	assert_success
	assert_line --index 0 --partial ", 12 classes, 1 texts from p.tsv, 11 descriptions; "
	assert_line --index 1 "1 prompts for codes that are not classes of the task, unused"
	[ "$(jq -r '.texts.SR' p.json)" = "normal sinus rhythm" ]
	[ "$(jq -c '[.per_class[] | select(.name == "SR" or .name == "AFIB") | .prompt]' p.json)" = "[false,true]" ]
}

@test "zeroshot bad input: embedding size, prompt file, codes without prompts, no test label" {
	"$FIX/mkfeat" 40 4 1 | jq -c '.e = .h | .fold = (if .fold < 9 then 9 else .fold end)' | ecg-pack > f.ecgz
	printf 'A\taaa\n' > p.tsv
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p p.tsv -j r.json -c s.tsv -r roc.tsv f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: f.ecgz: feature e has 4 values, the checkpoint's embeddings 12"
	[ ! -e r.json ]; [ ! -e s.tsv ]; [ ! -e roc.tsv ]; refute_leftovers .
	printf 'A\taaa\nB bbb\n' > bad.tsv
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p bad.tsv f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: bad.tsv: line 2: no tab between the code and its text"
	printf 'A\taaa\nA\tbbb\n' > bad.tsv
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p bad.tsv f.ecgz
	assert_equal "$stderr" "merit-eval: bad.tsv: line 2: a second text for A"
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -t codes f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: task codes needs the class texts (-p prompts)"
	printf 'Q\tqqq\n' > q.tsv
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p q.tsv f.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: task codes: no label of the task occurs in the test folds (10)"
	run --separate-stderr merit-eval zeroshot -l labels -p p.tsv f.ecgz
	assert_failure 2
}

@test "zeroshot --codes, --exclude-codes: the prompt file's classes kept" {
	printf 'A\tatrial fibrillation\nB\tsinus bradycardia\nC\tleft bundle branch block\n' > p.tsv
	textemb p.tsv > t.jsonl
	planted '["A","B","C"]' t.jsonl > z.ecgz
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p p.tsv -B 20 --codes C,A --task-name silent -j z.json z.ecgz
	assert_success
	echo "$output" > z.txt
	assert_line --index 0 "zero-shot task silent, features e (12-d), 2 classes, texts from p.tsv; checkpoint $D/ck.safetensors; val 30 (folds 9), test 30 (10); 0 records without a label of the task dropped"
	[ "$(per_class z.txt)" = "A C " ]
	[ "$(jq -c '[.task, .label_task, .codes, .classes, [.per_class[].name], (.texts | keys), .test.macro_auroc]' z.json)" = '["silent","codes",["C","A"],["A","C"],["A","C"],["A","C"],1]' ]
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p p.tsv -B 20 --exclude-codes C,A -j y.json z.ecgz
	assert_success
	[ "$(jq -c '[.task, .exclude_codes, .classes]' y.json)" = '["codes:-C,A",["C","A"],["B"]]' ]
	run --separate-stderr merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p p.tsv --codes D -j x.json z.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: --codes: D is not a class of task codes (classes: A B C)"
	[ ! -e x.json ]
}

# area under the ROC rows of each class by trapezoids: "class area points"
roc_area() {
	awk -F'\t' 'NR > 1 && NF == 3 { if ($1 != c) { if (c != "") printf "%s %.12f %d\n", c, a, n; c = $1; a = 0; n = 0 }
		else a += ($2 - x) * ($3 + y) / 2; x = $2; y = $3; n++ }
		END { printf "%s %.12f %d\n", c, a, n }' "$1"
}

@test "--roc: every threshold of the test fold; the area is the AUROC; gnuplot draws it" {
	feat 400 6 9 > f.ecgz
	merit-eval probe -t codes -f 0.5,1 -n 2 -B 10 -j r.json -r roc.tsv f.ecgz > /dev/null
	[ "$(head -1 roc.tsv)" = "$(printf 'class\tfpr\ttpr')" ]
	# the 100% run's test AUROC per class
	want=$(jq -r '.runs[] | select(.fraction == 1) | .classes[] | "\(.name) \(.auroc * 1e9 | round)"' r.json)
	[ "$(roc_area roc.tsv | awk '{ printf "%s %.0f\n", $1, $2 * 1e9 }')" = "$want" ]
	# from (0, 0) to (1, 1), never down, blocks apart by two blank lines
	[ "$(awk -F'\t' 'NF == 3 && NR > 1 && $2 == 0 && $3 == 0' roc.tsv | wc -l)" = 3 ]
	[ "$(awk -F'\t' 'NF == 3 && $2 == 1 && $3 == 1' roc.tsv | wc -l)" = 3 ]
	[ "$(awk -F'\t' 'NF == 3 && NR > 1 { if ($1 == c && ($2 < x || $3 < y)) bad++; c = $1; x = $2; y = $3 } END { print bad + 0 }' roc.tsv)" = 0 ]
	[ "$(grep -c '^$' roc.tsv)" = 4 ]
	# one point per distinct test score, plus the origin
	merit-eval probe -t codes -f 1 -B 10 -c s.tsv f.ecgz > /dev/null
	n=$(awk -F'\t' '$3 == "test" && $2 == "A" { print $5 }' s.tsv | sort -u | wc -l)
	[ "$(roc_area roc.tsv | awk '$1 == "A" { print $3 }')" = $((n + 1)) ]
	if command -v gnuplot > /dev/null; then
		run --separate-stderr gnuplot -e "set terminal dumb; set datafile separator '\t'; plot for [i=0:2] 'roc.tsv' index i using 2:3 with lines title word('A B C', i + 1)"
		assert_success
		assert_equal "$stderr" ""
	fi
}

@test "zeroshot --roc: a class found exactly reaches (0, 1)" {
	printf 'A\tatrial fibrillation\nB\tsinus bradycardia\n' > p.tsv
	textemb p.tsv > t.jsonl
	planted '["A","B"]' t.jsonl > z.ecgz
	merit-eval zeroshot -m "$D/ck.safetensors" -l labels -p p.tsv -B 20 -r roc.tsv z.ecgz > /dev/null
	[ "$(awk -F'\t' '$2 == 0 && $3 == 1 { print $1 }' roc.tsv | sort -u | tr '\n' ' ')" = "A B " ]
	[ "$(roc_area roc.tsv | cut -d' ' -f 1,2)" = "A 1.000000000000
B 1.000000000000" ]
}
