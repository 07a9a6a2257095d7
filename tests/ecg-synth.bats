#!/usr/bin/env bats
# ecg-synth: reproducible synthetic 12-lead records with findings and reports.

load test_helper

setup() { cd "$BATS_TEST_TMPDIR"; }

@test "same seed, same bytes; another seed, other records; record i independent of -n" {
	ecg-synth -n 3 -s 7 -o a.ecgz
	ecg-synth -n 3 -s 7 -o b.ecgz
	cmp a.ecgz b.ecgz
	ecg-synth -n 3 -s 8 -o c.ecgz
	! cmp -s a.ecgz c.ecgz
	[ "$(ecg-synth -n 5 -s 7 | ecg-dump | head -n 3)" = "$(ecg-dump a.ecgz)" ]
}

@test "records carry the ingest fields and the ground truth" {
	ecg-synth -n 20 -s 3 -o a.ecgz
	run bash -c "ecg-dump a.ecgz | jq -c '[(keys | sort), .sig.dtype, .sig.shape, .fs, (.leads | join(\",\")), (.gain | unique), (.baseline | unique), .source, (.truth | keys | sort)]' | sort -u"
	assert_output '[["age","baseline","fold","fs","gain","id","labels","leads","missing","patient","report","sex","sig","source","truth"],"int16",[12,5000],500,"I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6",[1000],[0],"synth",["axis","findings","hr","omitted","pr","qrs","qt"]]'
	# one rhythm each, labels are exactly the findings, folds 1-10, sexes M/F
	[ "$(ecg-dump a.ecgz | jq -c '(.labels | keys | sort) == (.truth.findings | sort)' | sort -u)" = true ]
	[ "$(ecg-dump a.ecgz | jq '[.truth.findings[] | select(. == "SR" or . == "SBRAD" or . == "STACH" or . == "SARRH" or . == "AFIB" or . == "AFLT")] | length' | sort -u)" = 1 ]
	[ "$(ecg-dump a.ecgz | jq '.fold >= 1 and .fold <= 10 and (.sex == "M" or .sex == "F")' | sort -u)" = true ]
	[ "$(ecg-dump a.ecgz | jq -r .id | sort -u | wc -l)" = 20 ]
}

@test "--fs, --seconds and forced findings" {
	ecg-synth -n 2 --fs 100 --seconds 8 -F AFIB,CLBBB -o a.ecgz
	run bash -c "ecg-dump a.ecgz | jq -c '[.sig.shape, .fs, (.labels | keys | sort), .truth.pr, (.truth.qrs > 120)]' | sort -u"
	assert_output '[[12,800],100,["AFIB","CLBBB"],null,true]'
	# codes with PTB-XL's trailing underscore, with or without it
	[ "$(ecg-synth -n 1 -F STE,STD_ | ecg-dump | jq -c '.labels | keys | sort')" = '["SR","STD_","STE_"]' ]
	# a requested rate
	ecg-synth -n 5 --hr 50 -N none -o b.ecgz
	[ "$(ecg-dump b.ecgz | jq '.truth.hr > 47 and .truth.hr < 53' | sort -u)" = true ]
	# the rate picks the sinus rhythm
	[ "$(ecg-synth -n 3 --hr 50 -F SR | ecg-dump | jq -c '.labels | has("SBRAD") and (has("SR") | not)' | sort -u)" = true ]
	[ "$(ecg-synth -n 3 --hr 120 -F SR | ecg-dump | jq -c '.labels | has("STACH")' | sort -u)" = true ]
}

@test "-N flat marks one lead missing, its row zero; -N none is clean" {
	ecg-synth -n 3 -N flat -o a.ecgz
	[ "$(ecg-dump a.ecgz | jq '.missing | length' | sort -u)" = 1 ]
	run bash -c "ecg-dump -a a.ecgz | jq -c '.missing[0] as \$m | (.leads | index(\$m)) as \$i | [(.sig.data[\$i*5000:(\$i+1)*5000] | unique), .gain[\$i]]' | sort -u"
	assert_output '[[0],1]'
	[ "$(ecg-synth -n 3 -N none | ecg-dump | jq '.missing | length' | sort -u)" = 0 ]
}

@test "--omit 1 leaves every finding out of the report; --lang de writes German" {
	ecg-synth -n 10 --omit 1 -o a.ecgz
	[ "$(ecg-dump a.ecgz | jq '(.truth.omitted | sort) == (.truth.findings | sort)' | sort -u)" = true ]
	[ "$(ecg-synth -n 10 | ecg-dump | jq '.truth.omitted | length' | sort -u)" = 0 ]
	ecg-synth -n 30 --lang de | ecg-dump | jq -r .report > de.txt
	grep -qi -e sinusrhythmus -e ekg -e vorhof de.txt
	! grep -qi -e 'sinus rhythm' -e 'normal ecg' de.txt
}

@test "bad options: message, status, no output left" {
	run --separate-stderr ecg-synth -n 2 -F FOO -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: -F: unknown finding FOO" ]
	run --separate-stderr ecg-synth -N hum -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: -N: unknown noise hum (bw, mains, muscle, em, flat, clip, all, none)" ]
	run --separate-stderr ecg-synth --fs 10 -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: --fs: out of range [50, 10000]: 10" ]
	run --separate-stderr ecg-synth --lang fr -o a.ecgz
	[ "$stderr" = "ecg-synth: --lang: unknown language fr (en, de)" ]
	run --separate-stderr ecg-synth --mains 55 -o a.ecgz
	[ "$stderr" = "ecg-synth: --mains: not 50 or 60: 55" ]
	run --separate-stderr ecg-synth -n x
	[ "$stderr" = "ecg-synth: -n: not a number: x" ]
	run --separate-stderr ecg-synth extra
	[ "$status" -eq 2 ]
	[[ "$stderr" == "usage: ecg-synth "* ]]
	run --separate-stderr ecg-synth -n 1 -o nodir/a.ecgz
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ecg-synth: nodir/a.ecgz: No such file or directory" ]]
	[ ! -e a.ecgz ]
	refute_leftovers .
}

@test "--like: one record per CSV row, with the row's id, report, fold, age, sex and labels" {
	csv=$FIX/ptbxl-head/ptbxl_database.csv
	ecg-synth --like "$csv" -N none -o a.ecgz
	[ "$(ecg-dump a.ecgz | wc -l)" = 30 ]
	run bash -c "ecg-head -n 1 a.ecgz | ecg-dump | jq -c '[.id, .report, .fold, .age, .sex, .patient, .labels, .unshown, .sig.shape]'"
	assert_output '["1","sinusrhythmus periphere niederspannung",3,56,"F",15709,{"NORM":100,"LVOLT":0,"SR":0},["NORM"],[12,5000]]'
	# quoted fields with commas come through whole
	[ "$(ecg-dump a.ecgz | jq -r 'select(.id == "7") | .report')" = "$(python3 -c 'import csv,sys; print([r for r in csv.DictReader(open(sys.argv[1])) if r["ecg_id"] == "7"][0]["report"])' "$csv")" ]
	# every label is drawn (truth.findings, aliases such as ILMI -> IMI) or listed unshown
	[ "$(ecg-dump a.ecgz | jq '. as $r | [.labels | keys[] | select(. as $c | ($r.unshown | index($c)) == null) | {"ILMI":"IMI","IPLMI":"IMI","IPMI":"IMI","ALMI":"AMI","VCLVH":"LVH","LPR":"1AVB"}[.] // . | . as $c | ($r.truth.findings | index($c)) != null] | all' | sort -u)" = true ]
	[ "$(ecg-dump a.ecgz | jq -r 'select(.id == "18") | .truth.findings | join(",")')" = AFLT ]
	# -n takes the first rows; the seed changes waveforms, not rows
	[ "$(ecg-synth --like "$csv" -n 4 | ecg-dump | jq -r .id | tr '\n' ' ')" = "1 2 3 4 " ]
}

@test "--like: bad CSV input is an error naming the file and row" {
	printf 'ecg_id,patient_id,age,sex,report,strat_fold\n1,2,3,0,x,1\n' > nocol.csv
	run --separate-stderr ecg-synth --like nocol.csv -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: nocol.csv: no column scp_codes" ]
	printf 'ecg_id,patient_id,age,sex,report,scp_codes,strat_fold\n1,2,3,0,x,"{'"'"'SR'"'"': 0.0}",1\n2,2,3,0,x,"[SR]",1\n' > bad.csv
	run --separate-stderr ecg-synth --like bad.csv -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: bad.csv: row 2: scp_codes: not a dict of codes: [SR]" ]
	printf 'ecg_id,patient_id,age,sex,report,scp_codes,strat_fold\n1,2,3,0,"open,{},1\n' > quote.csv
	run --separate-stderr ecg-synth --like quote.csv -o a.ecgz
	[ "$stderr" = "ecg-synth: quote.csv: row 1: unterminated quote" ]
	printf 'ecg_id,patient_id,age,sex,report,scp_codes,strat_fold\n1,2,3,0,x,{},11\n' > fold.csv
	run --separate-stderr ecg-synth --like fold.csv -o a.ecgz
	[ "$stderr" = "ecg-synth: fold.csv: row 1: strat_fold: not 1 to 10: 11" ]
	run --separate-stderr ecg-synth --like nothere.csv -o a.ecgz
	[ "$stderr" = "ecg-synth: nothere.csv: No such file or directory" ]
	[ ! -e a.ecgz ]
	refute_leftovers .
}

@test "a reader that stops early ends the generator quietly" {
	run --separate-stderr bash -c 'ecg-synth -n 200 | ecg-head -n 1 | ecg-dump | wc -l'
	[ "$output" = 1 ]
	[ -z "$stderr" ]
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-synth
}
