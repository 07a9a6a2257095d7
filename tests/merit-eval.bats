#!/usr/bin/env bats
# merit-eval: probes on planted linear signals, selection never looking at
# the test fold, retrieval by hand, compare, describe, bad input.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; }

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
	assert_failure 1
	assert_equal "$stderr" "merit-eval: zeroshot: not in this build"
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
