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
	assert_output '[["age","baseline","fold","fs","gain","id","labels","leads","missing","patient","report","sex","sig","source","truth"],"int16",[12,5000],500,"I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6",[1000],[0],"synth",["axis","findings","hr","omitted","pr","qrs","qt","silent"]]'
	[ "$(ecg-dump a.ecgz | jq -c '.truth.silent' | sort -u)" = '[]' ]
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

# English and German words of the silent findings below (1AVB, LAFB, LVH,
# IRBBB, LVOLT), written here: names, abbreviations, and what implies them
# (a PR or PQ figure, an axis, voltage)
silent_words='(^|[^[:alnum:]])(1avb|first degree|1st degree|av block|av-block|pr prolonged|pr [0-9]|pq|lafb|fascicular|hemiblock|lah|linkstyp|axis|lvh|hypertroph|sokolow|voltage|niedervoltage|irbbb|incomplete|inkomplett)'
S=1AVB,LAFB,LVH,IRBBB,LVOLT
P=1AVB=0.4,LAFB=0.4,LVH=0.4,IRBBB=0.4,LVOLT=0.4,CRBBB=0.1,IMI=0.1,STD_=0.1,PVC=0.1,LNGQT=0.1

@test "--silent: 2000 records a language, silent findings drawn often, never in a report" {
	for lang in en de; do
		ecg-synth -n 2000 -s 5 --fs 50 --seconds 2 -N none --lang $lang --silent $S --prevalence $P -o $lang.ecgz
		ecg-dump $lang.ecgz | jq -c '{report, f: .truth.findings, s: .truth.silent, o: .truth.omitted, l: (.labels | keys)}' > $lang.jsonl
		[ "$(wc -l < $lang.jsonl)" = 2000 ]
		# truth.silent: the drawn findings of the list; left out; still labels
		[ "$(jq -c '[.s == [.f[] | select(IN("1AVB","LAFB","LVH","IRBBB","LVOLT"))], (.s - .o == []), (.l == (.f | sort))] | all' $lang.jsonl | sort -u)" = true ]
		# drawn often: each code in over 400 records, 3000 silent findings in all
		[ "$(jq -s '[.[].s[]] | group_by(.) | map(length) | [length, min > 400, add > 3000]' $lang.jsonl | jq -c .)" = '[5,true,true]' ]
		# not one word of them in any report
		run bash -c "jq -r .report $lang.jsonl | grep -ciE '$silent_words'"
		assert_output 0
		# the same records without --silent say them, and the waveforms are the same
		ecg-synth -n 2000 -s 5 --fs 50 --seconds 2 -N none --lang $lang --prevalence $P -o $lang-said.ecgz
		[ "$(ecg-dump $lang-said.ecgz | jq -r .report | grep -ciE "$silent_words")" -gt 1500 ]
		[ "$(ecg-dump -a $lang.ecgz | jq -c '[.id, .sig]' | md5sum)" = "$(ecg-dump -a $lang-said.ecgz | jq -c '[.id, .sig]' | md5sum)" ]
	done
	# a record is called normal when it is abnormal only by silent findings (over
	# 200 records), else not when it has an abnormal finding
	only='.s != [] and (.f - .s - ["SR","SBRAD","SARRH"]) == []'
	[ "$(jq -c "select($only)" en.jsonl | wc -l)" -gt 200 ]
	said='select(.f | index("NORM") | not) | [('"$only"'), (.report | test($w; "i"))] | .[0] == .[1]'
	[ "$(jq -c --arg w 'normal ecg|normal tracing|within normal limits' "$said" en.jsonl | sort -u)" = true ]
	[ "$(jq -c --arg w 'normales ekg|ekg im normbereich' "$said" de.jsonl | sort -u)" = true ]
}

@test "--silent with --omit: the other findings are left out as without it" {
	ecg-synth -n 300 -s 9 --fs 50 --seconds 2 --omit 0.3 --silent $S --prevalence $P -o a.ecgz
	ecg-synth -n 300 -s 9 --fs 50 --seconds 2 --omit 0.3 --prevalence $P -o b.ecgz
	other='.truth.omitted - ["1AVB","LAFB","LVH","IRBBB","LVOLT"]'
	[ "$(ecg-dump a.ecgz | jq -c "$other" | md5sum)" = "$(ecg-dump b.ecgz | jq -c "$other" | md5sum)" ]
	[ "$(ecg-dump a.ecgz | jq -c "$other" | grep -vc '^\[\]$')" -gt 100 ]
	[ "$(ecg-dump a.ecgz | jq -c '.truth.silent - .truth.omitted' | sort -u)" = '[]' ]
	run bash -c "ecg-dump a.ecgz | jq -r .report | grep -ciE '$silent_words'"
	assert_output 0
}

@test "--prevalence: the chance of a finding in records drawn at random" {
	ecg-synth -n 200 --fs 50 --seconds 2 --prevalence LVH=1,WPW=0,LVOLT=1,CLBBB=0 -o a.ecgz
	# LVH in every record, WPW in none, LVOLT dropped as it cannot coexist with LVH
	[ "$(ecg-dump a.ecgz | jq -c '[(.truth.findings | index("LVH") != null), (.truth.findings | index("WPW") == null), (.truth.findings | index("LVOLT") == null)]' | sort -u)" = '[true,true,true]' ]
	n=$(ecg-synth -n 1000 --fs 50 --seconds 2 --prevalence 1AVB=0.5 | ecg-dump | jq -c 'select(.truth.findings | index("1AVB"))' | wc -l)
	# 1AVB cannot coexist with AFIB or AFLT (13% of rhythms): about 435 of 1000
	[ "$n" -gt 380 ] && [ "$n" -lt 490 ]
}

@test "--silent and --prevalence: bad codes and combinations" {
	run --separate-stderr ecg-synth -n 2 --silent LVH,FOO -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: --silent: unknown finding FOO" ]
	run --separate-stderr ecg-synth --silent 1AVB,AFIB -o a.ecgz
	[ "$stderr" = "ecg-synth: --silent: AFIB is a rhythm, not a finding that can be silent" ]
	run --separate-stderr ecg-synth --silent NORM -o a.ecgz
	[ "$stderr" = "ecg-synth: --silent: NORM is the absence of findings, not a finding that can be silent" ]
	run --separate-stderr ecg-synth --silent LVH --like "$FIX/ptbxl-head/ptbxl_database.csv" -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: --silent: not with --like, whose reports are the rows' own" ]
	run --separate-stderr ecg-synth --prevalence LVH=1.5 -o a.ecgz
	[ "$stderr" = "ecg-synth: --prevalence: out of range [0, 1]: 1.5" ]
	run --separate-stderr ecg-synth --prevalence LVH -o a.ecgz
	[ "$stderr" = "ecg-synth: --prevalence: not code=p: LVH" ]
	run --separate-stderr ecg-synth --prevalence XYZ=0.1 -o a.ecgz
	[ "$stderr" = "ecg-synth: --prevalence: unknown finding XYZ" ]
	run --separate-stderr ecg-synth --prevalence SR=0.1 -o a.ecgz
	[ "$stderr" = "ecg-synth: --prevalence: SR is a rhythm, not a finding that can be given a prevalence" ]
	run --separate-stderr ecg-synth -F LVH --prevalence LVH=0.1 -o a.ecgz
	[ "$status" -eq 1 ]
	[ "$stderr" = "ecg-synth: --prevalence: not with -F, whose findings are not drawn at random" ]
	[ ! -e a.ecgz ]
	refute_leftovers .
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
	run bash -c "ecg-head -n 1 a.ecgz | ecg-dump | jq -c '[.id, .report, .fold, .age, .sex, .patient, .labels, .truth.unshown, .sig.shape]'"
	assert_output '["1","sinusrhythmus periphere niederspannung",3,56,"F",15709,{"NORM":100,"LVOLT":0,"SR":0},["NORM"],[12,5000]]'
	# quoted fields with commas come through whole
	[ "$(ecg-dump a.ecgz | jq -r 'select(.id == "7") | .report')" = "$(python3 -c 'import csv,sys; print([r for r in csv.DictReader(open(sys.argv[1])) if r["ecg_id"] == "7"][0]["report"])' "$csv")" ]
	# every label is drawn (truth.findings, aliases such as ILMI -> IMI) or listed unshown
	[ "$(ecg-dump a.ecgz | jq '. as $r | [.labels | keys[] | select(. as $c | ($r.truth.unshown | index($c)) == null) | {"ILMI":"IMI","IPLMI":"IMI","IPMI":"IMI","ALMI":"AMI","VCLVH":"LVH","LPR":"1AVB"}[.] // . | . as $c | ($r.truth.findings | index($c)) != null] | all' | sort -u)" = true ]
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
