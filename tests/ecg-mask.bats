#!/usr/bin/env bats
# ecg-mask: which patches are hidden, deterministic from (seed, id).

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	"$FIX/mkjsonl" 12 1000 > a.jsonl
	ecg-pack a.jsonl > a.ecgz
}

masks() { ecg-dump -a "$1" | jq -c '[.id, .mask.shape, .mask.data]' | sort; }

@test "every record gets a [12, 20] mask with 60 visible patches at ratio 0.75" {
	ecg-mask -s 1 a.ecgz > m.ecgz
	run bash -c "ecg-dump -a m.ecgz | jq -c '[.mask.shape, (.mask.data | map(select(. == 0)) | length), (.mask.data | map(select(. == 1)) | length)]' | sort -u"
	assert_output '[[12,20],60,180]'
	# all other fields are kept unchanged
	[ "$(ecg-dump -a m.ecgz | jq -c 'del(.mask)')" = "$(jq -c . a.jsonl)" ]
}

@test "the visible count rounds half away from zero" {
	# 240 * (1 - 0.7) = 72; 240 * 0.5 = 120; 40 patches * 0.5625 visible = 22.5 -> 23
	[ "$(ecg-mask -r 0.7 a.ecgz | ecg-dump -a | jq '.mask.data | map(select(. == 0)) | length' | sort -u)" = 72 ]
	"$FIX/mkjsonl" 2 200 | ecg-pack > b.ecgz
	# 12 leads x 4 patches of 50 = 48; 48 * 0.3125 = 15 ; ratio 0.6875
	[ "$(ecg-mask -r 0.6875 b.ecgz | ecg-dump -a | jq '.mask.data | map(select(. == 0)) | length' | sort -u)" = 15 ]
	# 48 * (1 - 0.59375) = 19.5 -> 20
	[ "$(ecg-mask -r 0.59375 b.ecgz | ecg-dump -a | jq '.mask.data | map(select(. == 0)) | length' | sort -u)" = 20 ]
}

@test "deterministic from (seed, id): independent of order and sharding" {
	ecg-mask -s 5 a.ecgz > m1.ecgz
	ecg-shuffle -s 9 a.ecgz | ecg-mask -s 5 > m2.ecgz
	[ "$(masks m1.ecgz)" = "$(masks m2.ecgz)" ]
	ecg-split -p part- a.ecgz
	for p in part-*.ecgz; do ecg-mask -s 5 "$p"; done | ecg-cat > m3.ecgz
	[ "$(masks m1.ecgz)" = "$(masks m3.ecgz)" ]
	ecg-mask -s 6 a.ecgz > m4.ecgz
	[ "$(masks m1.ecgz)" != "$(masks m4.ecgz)" ]
	# records differ from each other
	[ "$(ecg-dump -a m1.ecgz | jq -c .mask.data | sort -u | wc -l)" -eq 12 ]
}

@test "missing leads are always hidden and never targets" {
	jq -c '.missing = ["V1","V2","V3"]' a.jsonl | ecg-pack | ecg-mask -s 2 > m.ecgz
	run bash -c "ecg-dump -a m.ecgz | jq -c '[(.mask.data[120:180] | unique), (.mask.data | map(select(. == 0)) | length), (.mask.data | map(select(. == 2)) | length)]' | sort -u"
	assert_output '[[2],60,60]'
}

@test "lead scheme hides whole leads; time scheme whole time blocks" {
	ecg-mask -S lead -s 3 a.ecgz | ecg-dump -a | jq -c '[.mask.data | _nwise(20) | unique | length] | unique' > leads.txt
	[ "$(sort -u leads.txt)" = "[1]" ]
	ecg-mask -S time -s 3 a.ecgz | ecg-dump -a | jq -c '[[.mask.data | _nwise(20)] | transpose[] | unique | length] | unique' > cols.txt
	[ "$(sort -u cols.txt)" = "[1]" ]
	# time: 60 visible = 5 whole columns, contiguous (cyclically)
	[ "$(ecg-mask -S time -s 3 a.ecgz | ecg-dump -a | jq '.mask.data | map(select(. == 0)) | length' | sort -u)" = 60 ]
}

# per record: [leads with a visible patch, visible patches, targets, missing patches]
leadstats() { ecg-dump -a "$1" | jq -c '[([.mask.data | _nwise(20) | select(index(0) != null)] | length),
	(.mask.data | map(select(. == 0)) | length), (.mask.data | map(select(. == 1)) | length),
	(.mask.data | map(select(. == 2)) | length)]'; }

@test "-D: lead dropout hides whole leads with probability p, keeping 60 visible patches" {
	# -D 0 draws nothing: the masks of no -D
	[ "$(ecg-mask -s 4 -D 0 a.ecgz | ecg-dump -a | jq -c .mask)" = "$(ecg-mask -s 4 a.ecgz | ecg-dump -a | jq -c .mask)" ]
	"$FIX/mkjsonl" 300 1000 | ecg-pack > many.ecgz
	ecg-mask -s 4 -D 0.5 many.ecgz > d.ecgz
	leadstats d.ecgz > st.txt
	# every record: 60 visible, 180 targets (a dropped lead is a target), at
	# least the 3 leads 60 visible patches need
	[ "$(jq -c '.[1:]' st.txt | sort -u)" = "[60,180,0]" ]
	[ "$(jq '.[0] < 3' st.txt | sort -u)" = false ]
	# leads dropped: 12 - leads with a visible patch; mean near 12 * 0.5 less
	# the leads given back when fewer than 3 stay (P(Bin(12, 1/2) <= 2) = 2%)
	run bash -c "jq '12 - .[0]' st.txt | awk '{ s += \$1 } END { printf \"%.3f\", s / NR }'"
	echo "mean leads dropped: $output"
	awk -v m="$output" 'BEGIN { exit !(m > 5.6 && m < 6.3) }'
	# records differ in which leads are dropped
	[ "$(ecg-dump -a d.ecgz | jq -c '[.mask.data | _nwise(20) | index(0) != null]' | sort -u | wc -l)" -gt 100 ]
	# -D 1: exactly the 3 leads of 60 visible patches are kept, all visible
	[ "$(ecg-mask -s 4 -D 1 a.ecgz > one.ecgz && leadstats one.ecgz | sort -u)" = "[3,60,180,0]" ]
	# deterministic from (seed, id), other seeds drop other leads
	[ "$(ecg-shuffle -s 2 many.ecgz | ecg-mask -s 4 -D 0.5 | ecg-dump -a | jq -c '[.id, .mask.data]' | sort)" = "$(ecg-dump -a d.ecgz | jq -c '[.id, .mask.data]' | sort)" ]
	[ "$(ecg-mask -s 5 -D 0.5 many.ecgz | ecg-dump -a | jq -c .mask.data)" != "$(ecg-dump -a d.ecgz | jq -c .mask.data)" ]
}

@test "-D with missing leads and the lead scheme; a probability out of range" {
	# missing leads stay 2 and are never given back; dropped leads are targets
	jq -c '.missing = ["V1","V2","V3"]' a.jsonl | ecg-pack | ecg-mask -s 2 -D 1 -S lead > m.ecgz
	[ "$(leadstats m.ecgz | sort -u)" = "[3,60,120,60]" ]
	[ "$(ecg-dump -a m.ecgz | jq -c '.mask.data[120:180] | unique' | sort -u)" = "[2]" ]
	[ "$(ecg-mask -s 2 --drop-leads=0.3 a.ecgz | ecg-dump -a | jq -c .mask)" = "$(ecg-mask -s 2 -D 0.3 a.ecgz | ecg-dump -a | jq -c .mask)" ]
	run --separate-stderr ecg-mask -D 1.5 a.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-mask: -D: out of range [0, 1]: 1.5"
	run --separate-stderr ecg-mask -D -0.1 a.ecgz
	assert_failure 1
}

@test "too few non-missing patches is an error naming the record" {
	{ head -n 2 a.jsonl; sed -n 3p a.jsonl | jq -c '.missing = ["I","II","III","aVR","aVL","aVF","V1","V2","V3","V4"]'; } | ecg-pack > b.ecgz
	run --separate-stderr ecg-mask -o m.ecgz b.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-mask: b.ecgz: record 3: 40 non-missing patches, fewer than the 60 visible ones"
	[ ! -e m.ecgz ]; refute_leftovers .
}

@test "samples not a multiple of the patch, records without id or sig" {
	run --separate-stderr ecg-mask -p 30 -o m.ecgz a.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-mask: a.ecgz: record 1: 1000 samples are not a multiple of the patch (30)"
	echo '{"id":"x"}' | ecg-pack > c.ecgz
	run --separate-stderr ecg-mask c.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-mask: c.ecgz: record 1: no field sig of shape [leads, samples]"
	sed -n 1p a.jsonl | jq -c 'del(.id)' | ecg-pack > d.ecgz
	run --separate-stderr ecg-mask d.ecgz
	assert_equal "$stderr" "ecg-mask: d.ecgz: record 1: no string field id (the mask is drawn from it)"
	run --separate-stderr ecg-mask -S diagonal a.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-mask: -S: unknown scheme diagonal (random, lead, time)"
	[ ! -e m.ecgz ]; refute_leftovers .
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-mask
}

@test "long names: --seed, --scheme, --ratio, --patch, --output are -s, -S, -r, -p, -o; a missing argument is named" {
	ecg-mask -s 4 -S lead -r 0.5 -p 100 -o a.m a.ecgz
	ecg-mask --seed 4 --scheme=lead --ratio 0.5 --patch 100 --output b.m a.ecgz
	cmp a.m b.m
	ecg-mask -s 5 -o c.m a.ecgz
	run ! cmp -s a.m c.m
	run --separate-stderr ecg-mask a.ecgz -s
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "${stderr%%$'\n'*}" "ecg-mask: option '-s' needs an argument"
	assert_equal "${stderr#*$'\n'}" "$(ecg-mask --help)"
	run --separate-stderr ecg-mask a.ecgz --seed
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "ecg-mask: option '--seed' needs an argument"
	run --separate-stderr ecg-mask --force=1 a.ecgz
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "ecg-mask: option '--force' takes no argument"
}
