#!/usr/bin/env bats
# merit-eval generate: BLEU and METEOR against nltk 3.8 (Debian's
# python3-nltk) on the same token lists, ROUGE-L and CIDEr-D against the
# definitions (tests/fixtures/textmetrics_ref.py) and by hand, the
# tokenisation of the man page, Porter and WordNet against nltk,
# finding-level scores counted by hand, outputs, bad input.

load test_helper

REF="/usr/bin/python3 $FIX/textmetrics_ref.py"
UNIT=${UNIT_DIR:-$MERIT_ROOT/build/rel/tests}/test_textmetrics

# 300 PTB-XL reports and 200 ecg-synth reports (English and German), each
# paired with a perturbed copy or another report
setup_file() {
	cd "$BATS_FILE_TMPDIR"
	{ ecg-synth -n 100 -s 3 --fs 100 --seconds 2; ecg-synth -n 100 -s 4 --fs 100 --seconds 2 --lang de; } |
		ecg-dump | jq -c '{id, fold, report}' > synth.jsonl
	$REF pairs "$FIX/ptbxl/ptbxl_database.csv" synth.jsonl 300 1 > pairs.jsonl
	ecg-pack < pairs.jsonl > pairs.ecgz
}

setup() { cd "$BATS_TEST_TMPDIR"; D=$BATS_FILE_TMPDIR; }

# records from JSON lines "gen<TAB>report", fold 10, ids r1, r2, ...
pairs() { jq -Rc 'split("\t") | {id: "r\(input_line_number)", fold: 10, gen: .[0], report: .[1]}' | ecg-pack; }

@test "BLEU and METEOR equal nltk's, ROUGE-L and CIDEr-D the definitions', to 1e-6, on 500 pairs" {
	run --separate-stderr merit-eval generate --test 1-10 -B 20 -j m.json -c m.tsv --tokens m.tok "$D/pairs.ecgz"
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "generate: 500 records of folds 1-10, gen against report, 20 bootstrap resamples"
	assert_line "no field truth.findings: no finding-level scores"
	# the man page's tokenisation, written again in python, gives merit's tokens
	run $REF tokens "$D/pairs.jsonl" m.tok
	assert_success
	assert_line "500 records, 0 differ"
	$REF score /usr/share/wordnet m.tok > ref.json
	run $REF check m.json m.tsv ref.json 1e-6
	echo "$output"
	assert_success
	# the stem and synonym stages of METEOR are exercised, not only exact matches
	[ "$(jq '.stages.stem > 10 and .stages.synonym > 5' ref.json)" = true ]
	# the corpus is not trivial: scores spread between 0 and 1
	[ "$(jq '([.records[].METEOR] | min < 0.2) and ([.records[]["ROUGE-L"]] | max == 1)' ref.json)" = true ]
	[ "$(jq '.corpus["BLEU-4"] > 0.3 and .corpus["BLEU-4"] < 0.9' ref.json)" = true ]
}

@test "BLEU differs from pycocoevalcap's as the man page says: 1e-12 without short texts" {
	merit-eval generate --test 1-10 -B 1 -j all.json --tokens all.tok "$D/pairs.ecgz" > /dev/null
	$REF coco all.tok > coco.json
	[ "$(jq '.short' coco.json)" -gt 10 ]
	# records of fewer than n tokens lower nltk's BLEU-n (n-gram counts max(1, .))
	[ "$(jq -s '.[0].summary[3].value < .[1]["BLEU-4"] * 0.999' all.json coco.json)" = true ]
	# without them the two agree to 1e-12 (relative)
	awk -F'\t' 'NR > 1 && split($2, w, " ") >= 4 { print $1 }' all.tok > long.ids
	jq -c --rawfile ids long.ids 'select(.id as $i | $ids | split("\n") | index($i))' "$D/pairs.jsonl" | ecg-pack > long.ecgz
	merit-eval generate --test 1-10 -B 1 -j long.json --tokens long.tok long.ecgz > /dev/null
	$REF coco long.tok > coco.json
	[ "$(jq .short coco.json)" = 0 ]
	[ "$(jq '.records' long.json)" -gt 400 ]
	run jq -s '[range(4) as $k | (.[0].summary[$k].value / .[1]["BLEU-\($k + 1)"] - 1) | fabs] | max' long.json coco.json
	echo "largest relative difference $output"
	[ "$(jq -n "$output < 1e-12")" = true ]
}

@test "tokens: every PTB-XL report is split as the man page says; a report against itself" {
	/usr/bin/python3 -c '
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print(json.dumps({"id": r["ecg_id"], "fold": 10, "report": r["report"], "gen": r["report"]}))' \
		"$FIX/ptbxl/ptbxl_database.csv" > all.jsonl
	ecg-pack < all.jsonl > all.ecgz
	merit-eval generate -B 1 -c s.tsv --tokens t.tsv all.ecgz > /dev/null
	run $REF tokens all.jsonl t.tsv
	assert_success
	assert_line "21837 records, 0 differ"
	# against itself a record of m >= 4 tokens scores BLEU-4 1, ROUGE-L 1,
	# METEOR 1 - 0.5 / m^3 (one chunk); a shorter one BLEU-4 0 (nltk counts
	# max(1, 0) 4-grams), an empty one 0
	run awk -F'\t' 'NR == FNR { m[$1] = split($2, w, " "); next } FNR > 1 {
		k = m[$1]; met = k ? 1 - 0.5 / (k * k * k) : 0
		if ((k >= 4) != ($5 == 1) || (k > 0) != ($8 == 1) || ($6 - met) ^ 2 > 1e-24) bad++
		short += k < 4; n++ } END { print n, bad + 0, short }' t.tsv s.tsv
	assert_output --regexp '^21837 0 [1-9][0-9]*$'
}

@test "METEOR: nltk's documented example gives 0.6944, no match gives 0" {
	h='It is a guide to action which ensures that the military always obeys the commands of the party'
	r='It is a guide to action that ensures that the military will forever heed Party commands'
	printf '%s\t%s\nnon matching hypothesis\tthis is a cat\n' "$h" "$r" | pairs > d.ecgz
	merit-eval generate -B 1 -c s.tsv d.ecgz > /dev/null
	[ "$(awk -F'\t' 'NR == 2 { printf "%.4f", $6 }' s.tsv)" = 0.6944 ]
	[ "$(awk -F'\t' 'NR == 3 { print $6 }' s.tsv)" = 0 ]
	[ "$(head -1 s.tsv | cut -f6)" = METEOR ]
}

@test "Porter stems equal nltk's on every WordNet lemma and PTB-XL word" {
	# lower-case words (the stemmer is given lower-case tokens, as nltk)
	{ grep -hv '^ ' /usr/share/wordnet/index.* | cut -d' ' -f1 | tr _ '\n'
	  cut -d, -f11 "$FIX/ptbxl/ptbxl_database.csv" | tr ' .,()' '\n\n\n\n\n'; } |
		/usr/bin/python3 -c 'import sys; [print(l.rstrip("\n").lower()) for l in sys.stdin]' |
		grep -v '^$' | sort -u > words
	[ "$(wc -l < words)" -gt 90000 ]
	"$UNIT" stem < words > merit
	/usr/bin/python3 -c '
import sys
from nltk.stem.porter import PorterStemmer
p = PorterStemmer()
for w in open(sys.argv[1], encoding="utf-8"):
    print(p.stem(w.rstrip("\n")))' words > nltk
	run diff merit nltk
	assert_success
	# the words are not all their own stems
	[ "$(paste words merit | awk -F'\t' '$1 != $2' | wc -l)" -gt 40000 ]
}

@test "WordNet lemma names equal nltk's synsets' for 12,000 lemmas and their stems" {
	grep -hv '^ ' /usr/share/wordnet/index.* | cut -d' ' -f1 | sort -u | awk 'NR % 12 == 0' > lemmas
	"$UNIT" stem < lemmas | sort -u > stems
	cat lemmas stems > words
	"$UNIT" lemmas /usr/share/wordnet < words > merit
	/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import textmetrics_ref as T
wn = T.wordnet_reader("/usr/share/wordnet")
for w in open(sys.argv[2], encoding="utf-8"):
    w = w.rstrip("\n")
    print(w + "".join(" " + l.name() for s in wn.synsets(w) for l in s.lemmas() if "_" not in l.name()))' \
		"$FIX" words > nltk
	run diff merit nltk
	assert_success
	[ "$(awk 'NF > 2' merit | wc -l)" -gt 8000 ]
	run "$UNIT" lemmas /nonexistent < /dev/null
	assert_failure
	assert_output "test_textmetrics: /nonexistent/index.noun: No such file or directory"
}

@test "ROUGE-L and CIDEr-D on corpora computed by hand" {
	# LCS(a b c d e, a c e f) = 3: P 3/5, R 3/4, F (1 + 1.2^2) P R / (R + 1.2^2 P)
	printf 'a b c d e\ta c e f\n' | pairs > r.ecgz
	merit-eval generate -B 1 -j r.json r.ecgz > /dev/null
	want=$(awk 'BEGIN { p = 3 / 5; r = 3 / 4; printf "%.12f %.12f %.12f", 2.44 * p * r / (r + 1.44 * p), p, r }')
	[ "$(jq -r '[.summary[] | select(.metric | startswith("ROUGE")) | .value * 1e12 | round / 1e12] | map(tostring) | join(" ")' r.json |
		awk '{ printf "%.12f %.12f %.12f", $1, $2, $3 }')" = "$want" ]
	# CIDEr-D, N = 2: a record equal to its reference scores 10 (1 + 1 + 0 + 0) / 4
	printf 'a b\ta b\nc\td\n' | pairs > c1.ecgz
	merit-eval generate -B 1 -j c1.json c1.ecgz > /dev/null
	[ "$(jq '.summary[] | select(.metric == "CIDEr-D") | .value' c1.json)" = 2.5 ]
	# N = 3, df(a) = 2: "a" against "a c" scores
	# 10/4 idf(a) / sqrt(idf(a)^2 + idf(c)^2) exp(-1/72) (bigrams 0 against 1)
	printf 'a b\ta b\na\ta c\nx\ty\n' | pairs > c2.ecgz
	merit-eval generate -B 1 -j c2.json c2.ecgz > /dev/null
	want=$(awk 'BEGIN { a = log(3) - log(2); c = log(3); printf "%.10f", (5 + 2.5 * a / sqrt(a * a + c * c) * exp(-1 / 72)) / 3 }')
	[ "$(jq '.summary[] | select(.metric == "CIDEr-D") | .value' c2.json | awk '{ printf "%.10f", $1 }')" = "$want" ]
}

@test "findings: micro and macro P, R, F1 and --silent counted by hand" {
	# every record's gen is the next record's report (no omissions), whose
	# findings are that record's true ones
	ecg-synth -n 80 -s 7 --fs 100 --seconds 2 --omit 0 | ecg-dump | jq -c '{id, fold, report, truth}' > s.jsonl
	jq -sc '. as $a | range(length) as $i | $a[$i] + {gen: $a[($i + 1) % length].report, next: $a[($i + 1) % length].truth.findings}' s.jsonl > g.jsonl
	jq -c 'del(.next)' g.jsonl | ecg-pack > g.ecgz
	run --separate-stderr merit-eval generate --test 1-10 -B 50 --silent PVC,LVH,SR -j g.json -T g.tsv g.ecgz
	assert_success
	assert_line "the parser on the references (report): micro-P 1.0000, micro-R 1.0000, micro-F1 1.0000"
	# micro counts over every code, and over the silent codes
	for set in all silent; do
		want=$(jq -rs --arg set "$set" '
			def keep: if $set == "all" then . else map(select(. == "PVC" or . == "LVH" or . == "SR")) end;
			[.[] | (.truth.findings | keep) as $t | (.next | keep) as $p |
			 {tp: ([$p[] | select(. as $x | $t | index($x))] | length),
			  fp: ([$p[] | select(. as $x | $t | index($x) | not)] | length),
			  fn: ([$t[] | select(. as $x | $p | index($x) | not)] | length)}] |
			(map(.tp) | add) as $tp | (map(.fp) | add) as $fp | (map(.fn) | add) as $fn |
			[$tp / ($tp + $fp), $tp / ($tp + $fn), 2 * $tp / (2 * $tp + $fp + $fn)] | map(. * 1e9 | round) | map(tostring) | join(" ")' g.jsonl)
		setting=$([ "$set" = all ] && echo findings || echo silent)
		got=$(jq -r --arg s "$setting" '[.summary[] | select(.setting == $s and (.metric | startswith("micro"))) | .value * 1e9 | round] | map(tostring) | join(" ")' g.json)
		[ "$got" = "$want" ] || fail "$set: merit $got, by hand $want"
	done
	# macro over the codes with a true positive: the mean of the per-code F1s
	[ "$(jq '[.findings.codes[] | select(.true > 0) | .f1] | add / length * 1e9 | round' g.json)" = \
	  "$(jq '.summary[] | select(.setting == "findings" and .metric == "macro-F1") | .value * 1e9 | round' g.json)" ]
	[ "$(jq -c '[.findings.codes[] | select(.silent) | .code]' g.json)" = '["SR","LVH","PVC"]' ]
	[ "$(grep -c $'\tsilent\t' g.tsv)" = 6 ]
	# the intervals hold their values
	[ "$(jq '[.summary[] | select(.value != null) | .lo <= .value and .value <= .hi] | all' g.json)" = true ]
}

@test "bootstrap: same seed, same results; another seed, other intervals; compare reads the JSON" {
	merit-eval generate --test 1-10 -B 100 -S 3 -N a -j a.json "$D/pairs.ecgz" > a.txt
	merit-eval generate --test 1-10 -B 100 -S 3 -N a -j b.json "$D/pairs.ecgz" > b.txt
	cmp a.json b.json
	cmp a.txt b.txt
	merit-eval generate --test 1-10 -B 100 -S 4 -N c -j c.json "$D/pairs.ecgz" > /dev/null
	[ "$(jq -c '[.summary[].value]' a.json)" = "$(jq -c '[.summary[].value]' c.json)" ]
	[ "$(jq -c '[.summary[].lo]' a.json)" != "$(jq -c '[.summary[].lo]' c.json)" ]
	[ "$(jq '[.summary[] | .lo < .value and .value < .hi] | all' a.json)" = true ]
	[ "$(jq -r '[.summary[] | .task + " " + .setting + " " + .metric] | join(",")' a.json)" = \
	  "generate text BLEU-1,generate text BLEU-2,generate text BLEU-3,generate text BLEU-4,generate text METEOR,generate text METEOR-1.5p,generate text ROUGE-L,generate text ROUGE-L-P,generate text ROUGE-L-R,generate text CIDEr-D" ]
	run merit-eval compare -t a.json c.json
	assert_success
	assert_line --partial "generate text BLEU-4"
	[ "$(grep '^generate text METEOR ' <<< "$output" | awk '{ print $4 }')" = "$(jq '.summary[4].value' a.json | awk '{ printf "%.4f", $1 }')" ]
	# the table and the JSON say the same
	[ "$(awk '$1 == "text" && $2 == "CIDEr-D" { print $3 }' a.txt)" = "$(jq -r '.summary[9].value' a.json | awk '{ printf "%.4f", $1 }')" ]
}

@test "scores and tokens files: a row per record" {
	printf 'Sinus rhythm, normal ECG.\tsinus rhythm. normal ecg\n\tatrial fibrillation\n' | pairs > p.ecgz
	merit-eval generate -B 1 -c s.tsv --tokens t.tsv p.ecgz > /dev/null
	[ "$(head -1 s.tsv)" = "$(printf 'id\tBLEU-1\tBLEU-2\tBLEU-3\tBLEU-4\tMETEOR\tMETEOR-1.5p\tROUGE-L\tROUGE-L-P\tROUGE-L-R\tCIDEr-D')" ]
	[ "$(cat t.tsv)" = "$(printf 'id\tgen\tref\nr1\tsinus rhythm normal ecg\tsinus rhythm normal ecg\nr2\t\tatrial fibrillation')" ]
	# an empty gen scores 0 everywhere
	[ "$(awk -F'\t' '$1 == "r2" { s = 0; for (i = 2; i <= NF; i++) s += $i; print s }' s.tsv)" = 0 ]
	[ "$(awk -F'\t' '$1 == "r1" { print $2, $5, $6, $8 }' s.tsv)" = "1 1 0.9921875 1" ]
}

@test "bad input: a record without gen is named; no output file is left" {
	printf 'a\tb\n' | pairs > ok.ecgz
	{ ecg-dump ok.ecgz; echo '{"id":"x2","fold":10,"report":"sinus rhythm"}'; } | ecg-pack > bad.ecgz
	run --separate-stderr merit-eval generate -j out.json -T out.tsv -c s.tsv bad.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: bad.ecgz: record 2: no text field gen"
	assert_equal "$output" ""
	[ ! -e out.json ] && [ ! -e out.tsv ] && [ ! -e s.tsv ]
	refute_leftovers .
	{ ecg-dump ok.ecgz; echo '{"id":"x2","fold":10,"report":"sinus rhythm","gen":3}'; } | ecg-pack > bad2.ecgz
	run --separate-stderr merit-eval generate -j out.json bad2.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: bad2.ecgz: record 2: field gen is not a string"
	[ ! -e out.json ]
	# records of other folds are not read
	merit-eval generate --test 9 -B 1 bad.ecgz 2>&1 | grep -qx "merit-eval: bad.ecgz: no record in the test folds (9)"
}

@test "bad input: mixed finding fields, --silent codes, WordNet, usage" {
	{ echo '{"id":"a","fold":10,"report":"sinus rhythm","gen":"sinus rhythm","truth":{"findings":["SR"]}}'
	  echo '{"id":"b","fold":10,"report":"sinus rhythm","gen":"sinus rhythm"}'; } | ecg-pack > m.ecgz
	run --separate-stderr merit-eval generate -j o.json m.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: m.ecgz: record 2: no field truth.findings, which earlier records have"
	[ ! -e o.json ]
	printf 'a\tb\n' | pairs > ok.ecgz
	run --separate-stderr merit-eval generate --silent PVC ok.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: --silent: the records have no field truth.findings"
	run --separate-stderr merit-eval generate --silent PVC,XYZ ok.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: --silent: XYZ is not a finding code (see ecg-synth(1))"
	run --separate-stderr merit-eval generate --wordnet /nonexistent -j o.json ok.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-eval: WordNet: /nonexistent/index.noun: No such file or directory (give --wordnet DIR)"
	[ ! -e o.json ]
	run --separate-stderr merit-eval generate --bogus ok.ecgz
	assert_failure 2
	[[ "$stderr" == *"usage: merit-eval generate "* ]]
}

@test "generate: -h, --help and an unknown option, as every filter answers them" {
	check_help_and_bad_option merit-eval generate
}
