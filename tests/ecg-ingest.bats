#!/usr/bin/env bats
# ecg-ingest: real records against the WFDB reference values, the PTB-XL,
# Challenge and MIMIC-IV-ECG joins, sharding, resampling, bad inputs.

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# stats STREAM: per present lead and extra signal of every record,
# "name<TAB>n<TAB>first5<TAB>sum<TAB>sumsq<TAB>min<TAB>max", summed in
# double precision in sample order like the expected/ TSVs; int32 invalid
# samples counted as -32768 as rdsamp prints them.
stats() {
	ecg-dump -a "$1" | jq -r '. as $r | $r.sig.shape[1] as $n |
	    ([range(0; 12) | . as $i | select(any($r.missing[]; . ==
	    $r.leads[$i]) | not) | [$r.leads[$i], ($r.sig.data[$i * $n:
	    ($i + 1) * $n] | map(tostring) | join(" "))]] +
	    [($r.extra // {}) | to_entries[] | [.key, (.value.sig.data |
	    map(tostring) | join(" "))]])[] | @tsv' |
	awk -F'\t' '{ n = split($2, v, " "); s = 0; q = 0; f = ""
	    for (i = 1; i <= n; i++) { x = v[i] + 0
	        if (x == -2147483648) x = -32768
	        s += x; q += x * x
	        if (i == 1 || x < mn) mn = x
	        if (i == 1 || x > mx) mx = x
	        if (i == 1) f = x
	        else if (i <= 5) f = f "," x }
	    printf "%s\t%d\t%s\t%.0f\t%.0f\t%d\t%d\n", $1, n, f, s, q, mn, mx }'
}

# compare_expected STATS TSV: every column of every signal of TSV matches
# the line of STATS whose name is the TSV's lead (case and blanks aside;
# rdsamp's column heads keep only the tail of a description with blanks).
compare_expected() {
	awk -F'\t' 'function key(s) { gsub(/[ \t]/, "", s); return tolower(s) }
	    NR == FNR { k = key($1); got[k] = $0; names[++nn] = k; next }
	    /^#/ { next }
	    { want = key($3); line = ""
	      if (want in got) line = got[want]
	      else for (i = 1; i <= nn; i++)
	          if (substr(names[i], length(names[i]) - length(want) + 1) == want) line = got[names[i]]
	      if (line == "") { print "no signal " $3 " in " $1; bad++; next }
	      split(line, g, "\t")
	      for (c = 2; c <= 7; c++) if (g[c] != $(c + 2)) {
	          print $1 " " $3 " column " (c + 2) ": " g[c] " != " $(c + 2)
	          bad++ }
	      checked++ }
	    END { print checked " signals checked"; exit bad > 0 }' "$1" "$2"
}

@test "every column of the fixture records matches expected/ through the stream" {
	local n=0 t rec
	for t in "$FIX"/expected/*.tsv; do
		rec=$(awk -F'\t' '!/^#/ { print $1; exit }' "$t")
		ecg-ingest --keep-extra "$FIX/$rec.hea" > r.ecgz 2> err
		stats r.ecgz > s.tsv
		run compare_expected s.tsv "$t"
		assert_success
		refute_output --partial "!="
		n=$((n + 1))
	done
	[ "$n" -ge 18 ]
}

@test "Challenge record: leads, int16 values, gains, Dx codes, abbreviations, age, sex" {
	run --separate-stderr ecg-ingest "$FIX/challenge2021/E07500.hea"
	assert_success
	assert_equal "$stderr" "ecg-ingest: read 1, written 1, skipped 0"
	ecg-ingest "$FIX/challenge2021/E07500.hea" 2>/dev/null |
	    ecg-dump > d.json
	run jq -c '[.id, .source, .fs, .leads, .sig.dtype, .sig.shape, .gain[0],
	    .baseline[11], .missing, .labels, .label_abbr, .age, .sex]' d.json
	assert_output '["E07500","challenge",500,["I","II","III","aVR","aVL","aVF","V1","V2","V3","V4","V5","V6"],"int16",[12,5000],1000,0,[],{"67741000119109":100,"426177001":100},{"67741000119109":"LAE","426177001":"SB"},78,"M"]'
	run jq -c '.comments[2]' d.json
	assert_output '"Dx: 67741000119109,426177001"'
}

@test "LUDB: lower-case lead names mapped, gains with baselines 1716(6)/mV, diagnoses as report" {
	ecg-ingest "$FIX/ludb/1.hea" 2>/dev/null | ecg-dump > d.json
	run jq -c '[.gain[0], .baseline[0], .gain[5], .baseline[5], .age,
	    .sex, .missing]' d.json
	assert_output '[1716,6,698,-1,51,"F",[]]'
	run jq -r .report d.json
	assert_output --partial 'Rhythm: Sinus bradycardia. Electric axis of the heart: left axis deviation.'
}

@test "leads in any spelling and order land in the standard rows; absent ones are zeros, gain 1, missing" {
	cp "$FIX/ludb/1.dat" .
	# LUDB's 12 signals renamed: II and III swapped, V6 called MLII, lead I
	# in uV
	awk 'BEGIN { split("Lead_I III DII AVR aVl avf ECG_V1 v2 V-3 V.4 v 5 MLII", n, " ")
	    n[11] = "v 5"; n[12] = "MLII" }
	    NR == 1 { print; next } NR <= 13 { k = NR - 1; sub(/[^ ]+$/, n[k])
	    if (k == 1) sub(/\/mV/, "/uV"); print }' "$FIX/ludb/1.hea" > x.hea
	ecg-ingest x.hea 2>/dev/null | ecg-dump -a > d.json
	run jq -c '[.missing, .gain[0:3], .gain[11], .baseline[0:3],
	    .sig.data[0:3], .sig.data[5000:5003], .sig.data[10000:10003],
	    .sig.data[55000:55003]]' d.json
	assert_output '[["V6"],[1716000,1229,1206],1,[6,-5,2],[-120,-43,35],[145,140,160],[25,97,195],[0,0,0]]'
	ecg-ingest --keep-extra x.hea 2>/dev/null | ecg-dump -a > e.json
	run jq -c '[.extra.MLII.sig.data[0:3], .extra.MLII.gain]' e.json
	assert_output '[[-25,67,152],1457]'
}

@test "format 24 and 32 signals make an int32 tensor; invalid values stay the dtype minimum" {
	ecg-ingest --keep-extra "$FIX/wfdb/binformats.hea" 2>/dev/null | ecg-dump > d.json
	run jq -c '[.sig.dtype, .extra["sig 9, fmt 32"].sig.dtype, (.missing | length)]' d.json
	assert_output '["int32","int32",12]'
	ecg-ingest --keep-extra "$FIX/wfdb/multi-segment-fixed1/v102s.hea" 2>/dev/null |
	    ecg-dump -a > v.json
	run jq -c '[.sig.dtype, .sig.shape, .leads[1], (.sig.data[225000:450000] | min), (.extra | keys)]' v.json
	assert_output '["int16",[12,225000],"II",-32768,["PLETH","RESP","V"]]'
}

@test "samples per frame > 1: fs is the highest rate" {
	ecg-ingest --keep-extra "$FIX/wfdb/test01_00s_frame.hea" 2>/dev/null | ecg-dump > d.json
	run jq -c '[.fs, .extra.ECG_1.sig.shape]' d.json
	assert_output '[1000,[8000]]'
}

# A PTB-XL root with a few real rows of ptbxl_database.csv: ecg_id 1 (its
# own 100 Hz record), 6000 (the 500 Hz waveform the Challenge copied), and
# 2 (whose waveform is not here).
ptbxl_root() {
	mkdir -p ptb/records100/00000 ptb/records500/06000
	awk -F, 'NR == 1 || $1 == 1 || $1 == 2 || $1 == 6000' \
	    "$FIX/ptbxl/ptbxl_database.csv" > ptb/ptbxl_database.csv
	cp "$FIX"/ptbxl/records100/00000/00001_lr.* ptb/records100/00000/
	cp "$FIX/challenge2021/HR06000.hea" ptb/records500/06000/06000_hr.hea
	cp "$FIX/challenge2021/HR06000.mat" ptb/records500/06000/
}

@test "PTB-XL root: rows joined to filename_lr with report, scp_codes, fold, patient, age, sex" {
	ptbxl_root
	run --separate-stderr ecg-ingest -o out.ecgz ptb
	assert_failure 1
	assert_equal "$stderr" "ecg-ingest: ptb/ptbxl_database.csv: line 3: ptb/records100/00000/00002_lr.hea: No such file or directory
ecg-ingest: ptb/ptbxl_database.csv: line 4: ptb/records100/06000/06000_lr.hea: No such file or directory
ecg-ingest: read 3, written 1, skipped 2 (missing file 2)"
	ecg-dump out.ecgz > d.json
	run jq -c '[.id, .source, .fs, .sig.shape, .report, .labels, .fold,
	    .patient, .age, .sex, .gain[0]]' d.json
	assert_output '["1","ptbxl",100,[12,1000],"sinusrhythmus periphere niederspannung",{"NORM":100,"LVOLT":0,"SR":0},3,15709,56,"F",1000]'
}

@test "PTB-XL --hr: filename_hr; the CSV's codes, not the header's Dx" {
	ptbxl_root
	run --separate-stderr ecg-ingest --hr -o out.ecgz ptb
	assert_failure 1
	assert_equal "${stderr##*$'\n'}" "ecg-ingest: read 3, written 1, skipped 2 (missing file 2)"
	ecg-dump out.ecgz > d.json
	run jq -c '[.id, .fs, .sig.shape, .report, .labels, .fold, .patient,
	    .age, .sex]' d.json
	assert_output '["6000",500,[12,5000],"sinus rhythm. minor non-specific t wave flattening in v3,4.",{"NORM":100,"NT_":0,"SR":0},10,5028,59,"F"]'
}

@test "MIMIC-IV-ECG root: record_list joined with machine_measurements, report_0..17 in order" {
	local d=mimic/files/p1000/p10000032/s40689238
	mkdir -p "$d"
	cp "$FIX"/mimic-iv-ecg/record_list.csv "$FIX"/mimic-iv-ecg/machine_measurements.csv mimic/
	cp "$FIX/challenge2021/HR06000.hea" "$d/40689238.hea"
	cp "$FIX/challenge2021/HR06000.mat" "$d/"
	run --separate-stderr ecg-ingest -o out.ecgz mimic
	assert_success
	ecg-dump out.ecgz > d.json
	run jq -c '[.id, .source, .patient, .report, .sig.shape]' d.json
	assert_output '["40689238","mimic",10000032,"Sinus rhythm; Possible right atrial abnormality; Borderline ECG",[12,5000]]'
}

@test "--list with GNU Parallel shards; ecg-cat joins the shards into every record" {
	ls "$FIX"/challenge2021/*.hea "$FIX"/ludb/1.hea > list
	parallel --pipe -N2 ecg-ingest --list '>' shard-{#}.ecgz < list 2> err
	[ "$(ls shard-*.ecgz | wc -l)" -eq 2 ]
	ecg-cat shard-*.ecgz | ecg-dump | jq -r .id | sort > ids
	run cat ids
	assert_output "1
E07500
HR06000
JS20000"
}

@test "--fs 100 resamples to float32 mV; --seconds crops and pads with NaN" {
	ecg-ingest --fs 100 "$FIX/challenge2021/HR06000.hea" 2>/dev/null | ecg-dump -a > d.json
	run jq -c '[.fs, .sig.dtype, .sig.shape, .gain[0], .baseline[0]]' d.json
	assert_output '[100,"float32",[12,1000],1,0]'
	# the 100 Hz record follows the 500 Hz one (lead II, mean abs error)
	ecg-ingest "$FIX/challenge2021/HR06000.hea" 2>/dev/null | ecg-dump -a > o.json
	run jq -n --slurpfile a d.json --slurpfile b o.json '
	    [range(10; 990) | ($a[0].sig.data[1000 + .] -
	    $b[0].sig.data[5000 + 5 * .] / $b[0].gain[1]) | fabs] | add / length < 0.02'
	assert_output true
	ecg-ingest --seconds 4 "$FIX/challenge2021/HR06000.hea" 2>/dev/null | ecg-dump -a > c.json
	run jq -c '[.sig.shape, .sig.data[0:3] == $o[0].sig.data[0:3]]' --slurpfile o o.json c.json
	assert_output '[[12,2000],true]'
	ecg-ingest --seconds 12 "$FIX/challenge2021/HR06000.hea" 2>/dev/null | ecg-dump -a > p.json
	run jq -c '[.sig.shape, .sig.data[4999], .sig.data[5000], .sig.data[5999]]' p.json
	assert_output "[[12,6000],$(jq '.sig.data[4999]' o.json),-32768,-32768]"
}

# bad INPUT MESSAGE: ecg-ingest skips it with MESSAGE and exit 1 (a valid
# stream of 0 records), and with --strict dies leaving no output file.
bad() {
	run --separate-stderr ecg-ingest -o out.ecgz "$1"
	assert_failure 1
	assert_equal "$stderr" "ecg-ingest: $1: $2
ecg-ingest: read 1, written 0, skipped 1 ($3 1)"
	run ecg-cat -c out.ecgz
	assert_output 0
	rm out.ecgz
	run --separate-stderr ecg-ingest --strict -o out.ecgz "$1"
	assert_failure 1
	assert_equal "$stderr" "ecg-ingest: $1: $2"
	[ ! -e out.ecgz ]
	refute_leftovers .
}

@test "hostile header: 10,000 signals" {
	printf 'x 10000 500 5000\n' > x.hea
	bad x.hea "line 1: 10000 signals (at most 1024)" "over a limit"
}

@test "hostile header: absurd sample count refused before allocating" {
	cp "$FIX/ludb/1.dat" .
	sed '1s/.*/1 12 500 999999999999999/' "$FIX/ludb/1.hea" > x.hea
	bad x.hea "size mismatch: 1.dat holds 5000 frames, the header says 999999999999999" "size mismatch"
}

@test "hostile header: negative length, negative signal count" {
	printf 'x 1 500 -5\nx.dat 16\n' > x.hea
	bad x.hea "line 1: bad sample count '-5'" "bad header"
	printf 'x -3 500\n' > y.hea
	bad y.hea "line 1: bad signal count '-3'" "bad header"
}

@test "hostile header: a line of 1 MB" {
	{ printf 'x 1 500 10\n'; head -c 1048576 /dev/zero | tr '\0' a; printf '\n'; } > x.hea
	bad x.hea "line 2: longer than 4096 bytes" "bad header"
}

@test "missing .dat, unknown format, header syntax error at line N" {
	printf 'x 1 500 10\nnone.dat 16 200 16 0 0 0 0 I\n' > x.hea
	bad x.hea "none.dat: No such file or directory" "missing file"
	printf 'x 1 500 10\nx.dat 99 200 16 0 0 0 0 I\n' > y.hea
	bad y.hea "line 2: unknown format 99" "bad header"
	printf '# c\nx 1 500 10\nx.dat 16 2oo 16 0 0 0 0 I\n' > z.hea
	bad z.hea "line 3: bad gain field '2oo'" "bad header"
}

@test "a record without any of the 12 leads is skipped unless --keep-extra" {
	bad "$FIX/wfdb/310derive.hea" "no standard ECG lead among its 2 signals" "no standard lead"
}

@test "a good record after a bad one is still written; summary counts both" {
	printf 'x 1 500 10\nnone.dat 16\n' > x.hea
	run --separate-stderr ecg-ingest -o out.ecgz x.hea "$FIX/ludb/1.hea"
	assert_failure 1
	assert_equal "$stderr" "ecg-ingest: x.hea: none.dat: No such file or directory
ecg-ingest: read 2, written 1, skipped 1 (missing file 1)"
	run ecg-cat -c out.ecgz
	assert_output 1
}

@test "usage errors exit 2" {
	run --separate-stderr ecg-ingest
	assert_failure 2
	run --separate-stderr ecg-ingest --list x.hea
	assert_failure 2
	run --separate-stderr ecg-ingest --fs 0 x.hea
	assert_failure 1
	assert_equal "$stderr" "ecg-ingest: --fs: out of range [1, 1e+06]: 0"
}

@test "PTB-XL: a CSV row without a record, or with scp_codes that are not a dict, is skipped with its line" {
	ptbxl_root
	awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next }
	    $1 == 1 { print; $1 = 7; $NF = ""; $(NF - 1) = ""; print }' \
	    "$FIX/ptbxl/ptbxl_database.csv" > ptb/ptbxl_database.csv
	sed 's/"{.NORM.: 100.0, .LVOLT.: 0.0, .SR.: 0.0}"/"{NORM: 1}"/' \
	    "$FIX/ptbxl/ptbxl_database.csv" | awk -F, 'NR == 1 || $1 == 1' > ptb2.csv
	run --separate-stderr ecg-ingest -o out.ecgz ptb
	assert_failure 1
	assert_equal "$stderr" "ecg-ingest: ptb/ptbxl_database.csv: line 3: row without a record
ecg-ingest: read 2, written 1, skipped 1 (bad CSV row 1)"
	mv ptb2.csv ptb/ptbxl_database.csv
	run --separate-stderr ecg-ingest --strict -o out2.ecgz ptb
	assert_failure 1
	assert_equal "$stderr" "ecg-ingest: ptb/ptbxl_database.csv: line 2: scp_codes is not a dict of numbers: {NORM: 1}"
	[ ! -e out2.ecgz ]
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-ingest
}

# ---- defects found by the fuzzers (fuzz/); each case failed before its fix

@test "a multi-segment header naming itself, or two naming each other, as a segment" {
	# this recursed until the stack overflowed (SIGSEGV, --strict too)
	printf 'x/1 1 500\nx 10\n' > x.hea
	bad x.hea "segment x is itself multi-segment" "bad header"
	printf 'y/2 1 500\nz 10\nz 10\n' > y.hea
	printf 'z/1 1 500\ny 10\n' > z.hea
	bad y.hea "segment z is itself multi-segment" "bad header"
}

@test "1,024 segments of one record: the total is refused before a sample is decoded" {
	# 4 KiB of header for 1 GiB of samples: held in memory before the check
	head -c $((1 << 18)) /dev/zero > s.dat
	# 12 leads of 2^18 samples each, one file each; 1024 segments of it
	{ printf 's 12 500\n'; for l in I II III aVR aVL aVF V1 V2 V3 V4 V5 V6; do
		printf 's%s.dat 8 200 8 0 0 0 0 %s\n' "$l" "$l"; done; } > s.hea
	for l in I II III aVR aVL aVF V1 V2 V3 V4 V5 V6; do ln -f s.dat "s$l.dat"; done
	{ printf 'm/1024 12 500\n'; for i in $(seq 1024); do printf 's 262144\n'; done; } > m.hea
	# (2^28 samples in all: the 86th segment is over, after 1 GiB held)
	bad m.hea "22544384 samples per signal is over the limit" "over a limit"
	/usr/bin/time -f %M -o rss ecg-ingest -o out.ecgz m.hea 2>/dev/null || true
	[ "$(tail -n 1 rss)" -lt 400000 ]
	# the same header over a short file is read in full, end to end
	head -c 3 /dev/zero > s.dat
	for l in I II III aVR aVL aVF V1 V2 V3 V4 V5 V6; do ln -f s.dat "s$l.dat"; done
	{ printf 'm/1024 12 500\n'; for i in $(seq 1024); do printf 's 3\n'; done; } > m.hea
	run --separate-stderr ecg-ingest -o out.ecgz m.hea
	assert_success
	run jq -c '.sig.shape' <(ecg-dump out.ecgz)
	assert_output '[12,3072]'
}

@test "format 8: differences that leave 32 bits are refused; sums past int16 make int32" {
	# the int32 sum overflowed (undefined; garbage in a plain build)
	printf '\x7f\x7f\x7f\x7f' > d.dat
	{ printf 'x 12 500\n'; for l in I II III aVR aVL aVF V1 V2 V3 V4 V5 V6; do
		printf 'x%s.dat 8 200 8 0 2147483600 0 0 %s\n' "$l" "$l"; done; } > x.hea
	for l in I II III aVR aVL aVF V1 V2 V3 V4 V5 V6; do ln -f d.dat "x$l.dat"; done
	bad x.hea "signal 0: format 8 differences leave the 32-bit range at frame 0" "over a limit"
	# within 32 bits but past int16: values exact, in an int32 tensor
	sed 's/ 2147483600 / 40000 /' x.hea > y.hea
	ecg-ingest y.hea 2>/dev/null | ecg-dump -a > y.json
	run jq -c '[.sig.dtype, .sig.data[0:4]]' y.json
	assert_output '["int32",[40127,40254,40381,40508]]'
}

@test "Challenge Dx: a code given twice is one label; a long code is whole or refused" {
	hea() { # hea NAME DX: a Challenge-like record of 12 leads with # Dx: DX
		{ printf '%s 12 500 2\n' "$1"; for l in I II III aVR aVL aVF V1 V2 V3 V4 V5 V6; do
			printf 'd.dat 16 1000/mV 16 0 0 0 0 %s\n' "$l"; done
		  printf '# Dx: %s\n' "$2"; } > "$1.hea"
	}
	head -c 48 /dev/zero > d.dat
	cp "$FIX/challenge2021/dx_mapping_scored.csv" "$FIX/challenge2021/dx_mapping_unscored.csv" .
	hea a '164889003,426783006, 164889003'
	ecg-ingest a.hea 2>/dev/null | ecg-dump > a.json
	run jq -c '[.labels, .label_abbr]' a.json
	assert_output '[{"164889003":100,"426783006":100},{"164889003":"AF","426783006":"NSR"}]'
	# 62 bytes and a 2-byte character: cut at 63 bytes, it was not UTF-8
	long=$(printf 'a%.0s' $(seq 62))é
	hea b "$long"
	ecg-ingest b.hea 2>/dev/null | ecg-dump > b.json
	run jq -r '.labels | keys[0]' b.json
	assert_output "$long"
	hea c "$(printf 'x%.0s' $(seq 256))"
	bad c.hea "a Dx code longer than 255 bytes" "over a limit"
}

@test "writing past ulimit -f: File too large, and no temporary file left" {
	# SIGXFSZ killed it and left out.ecgz.tmp.XXXXXX behind
	run --separate-stderr bash -c "ulimit -f 64; ecg-ingest -o out.ecgz '$FIX/challenge2021'"
	assert_failure 1
	assert_equal "${stderr##*$'\n'}" "ecg-ingest: out.ecgz: File too large"
	[ ! -e out.ecgz ]; refute_leftovers .
}
