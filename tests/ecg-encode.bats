#!/usr/bin/env bats
# ecg-encode: h and e (or t, or recon and xn) added to every record, in
# order, other fields untouched, the same whatever the batch; bad records
# named, no partial output.

load test_helper

# 20 synthetic merit-xs records (100 Hz, 1000 samples) with tok and mask,
# and a randomly initialised merit-xs checkpoint with their tokenizer.
setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ecg-synth -n 20 -s 3 --fs 100 -o s.ecgz
	txt-tokenize -L 400 -o v.txt s.ecgz
	txt-tokenize -v v.txt --max-len 16 s.ecgz | ecg-mask -s 1 > m.ecgz
	merit-step --init --preset merit-xs --vocab v.txt --seed 4 -o ck.safetensors 2>/dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

# |v|^2 of a dumped float vector field, one line per record
norms() { ecg-dump -a "$1" | jq "[.$2.data[] | . * .] | add"; }

@test "h [32] and e [12] added; order and every other field kept; e has unit norm" {
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" -o e.ecgz "$D/m.ecgz"
	assert_success
	assert_equal "$stderr" ""
	[ "$(ecg-dump -a e.ecgz | jq -c 'del(.h, .e)')" = "$(ecg-dump -a "$D/m.ecgz" | jq -c .)" ]
	[ "$(ecg-dump e.ecgz | jq -c '[.h.dtype, .h.shape, .e.dtype, .e.shape]' | sort -u)" = '["float32",[32],"float32",[12]]' ]
	[ "$(norms e.ecgz e | awk '$1 < 0.99999 || $1 > 1.00001' | wc -l)" = 0 ]
	[ "$(ecg-cat -c e.ecgz)" = 20 ]
	# records differ, so do their embeddings
	[ "$(ecg-dump -a e.ecgz | jq -c .e.data | sort -u | wc -l)" = 20 ]
}

@test "the same bits whatever the batch: --batch 1, 7 and the default 64" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" > a.ecgz
	ecg-encode -m "$D/ck.safetensors" --batch 1 "$D/m.ecgz" > b.ecgz
	ecg-encode -m "$D/ck.safetensors" --batch 7 --threads 1 < "$D/m.ecgz" > c.ecgz
	ecg-dump -a a.ecgz > a.jsonl; ecg-dump -a b.ecgz > b.jsonl; ecg-dump -a c.ecgz > c.jsonl
	cmp a.jsonl b.jsonl
	cmp a.jsonl c.jsonl
	# and the same as one record on its own
	ecg-head -n 1 "$D/m.ecgz" | ecg-encode -m "$D/ck.safetensors" | ecg-dump -a > one.jsonl
	[ "$(cat one.jsonl)" = "$(head -1 a.jsonl)" ]
}

@test "fields h and e already present are replaced, not doubled" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" > a.ecgz
	ecg-encode -m "$D/ck.safetensors" --batch 3 a.ecgz > b.ecgz
	[ "$(ecg-dump -a a.ecgz)" = "$(ecg-dump -a b.ecgz)" ]
}

@test "--text: t [12] of unit norm from tok; h and e of an earlier pass kept" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-encode -m "$D/ck.safetensors" --text --batch 6 > t.ecgz
	[ "$(ecg-dump -a t.ecgz | jq -c 'del(.t)')" = "$(ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a | jq -c .)" ]
	[ "$(ecg-dump t.ecgz | jq -c '[.t.dtype, .t.shape]' | sort -u)" = '["float32",[12]]' ]
	[ "$(norms t.ecgz t | awk '$1 < 0.99999 || $1 > 1.00001' | wc -l)" = 0 ]
	# the same report, the same t; --text needs no signal
	ecg-dump -a "$D/m.ecgz" | jq -c '{id, tok}' | ecg-pack > tok.ecgz
	[ "$(ecg-encode -m "$D/ck.safetensors" --text tok.ecgz | ecg-dump -a | jq -c .t)" = "$(ecg-dump -a t.ecgz | jq -c .t)" ]
}

@test "--recon: xn and recon [12, 1000]; xn is the lead-normalised signal" {
	ecg-encode -m "$D/ck.safetensors" --recon --batch 8 "$D/m.ecgz" > r.ecgz
	[ "$(ecg-dump r.ecgz | jq -c '[.xn.shape, .recon.shape, .h.shape, .e.shape]' | sort -u)" = '[[12,1000],[12,1000],[32],[12]]' ]
	# every lead of xn: mean 0, population standard deviation 1
	run bash -c "ecg-dump -a r.ecgz | jq -r '.xn.data as \$x | range(12) as \$l | \$x[\$l * 1000:(\$l + 1) * 1000] | (add / 1000) as \$m | [\$m, ((map((. - \$m) * (. - \$m)) | add) / 1000)] | @tsv' | awk '\$1 > 1e-4 || \$1 < -1e-4 || \$2 < 0.999 || \$2 > 1.001' | wc -l"
	assert_output 0
	# h and e as without --recon
	[ "$(ecg-dump -a r.ecgz | jq -c '[.h, .e]')" = "$(ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a | jq -c '[.h, .e]')" ]
}

@test "bad input: a record without sig, tok or mask is named; exit 1; no partial output" {
	ecg-dump -a "$D/m.ecgz" > m.jsonl
	sed '9s/"sig":/"sug":/' m.jsonl | ecg-pack > nosig.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --batch 4 -o out.ecgz nosig.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: nosig.ecgz: record 9: no field sig"
	[ ! -e out.ecgz ]; refute_leftovers .
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --text -o out.ecgz "$D/s.ecgz"
	assert_failure 1
	[[ $stderr == "ecg-encode: $D/s.ecgz: record 1: no field tok"* ]]
	[ ! -e out.ecgz ]; refute_leftovers .
	jq -c 'if .id == "synth3-000020" then del(.mask) else . end' m.jsonl | ecg-pack > nomask.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --recon -o out.ecgz nomask.ecgz
	assert_failure 1
	assert_equal "${stderr%% (*}" "ecg-encode: nomask.ecgz: record 20: no field mask"
	[ ! -e out.ecgz ]; refute_leftovers .
	# standard input is "stdin"
	run --separate-stderr bash -c "ecg-encode -m '$D/ck.safetensors' < nosig.ecgz > /dev/null"
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: stdin: record 9: no field sig"
}

@test "bad input: a signal of the wrong length for the checkpoint" {
	ecg-synth -n 3 -s 2 --fs 100 --seconds 5 -o short.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" -o out.ecgz short.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: short.ecgz: record 1: sig has shape [12, 500], the model needs [12, 1000] (100 Hz, 1000 samples: ingest with --fs 100 and --seconds)"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "bad checkpoint, usage errors" {
	echo nonsense > bad.safetensors
	run --separate-stderr ecg-encode -m bad.safetensors -o out.ecgz "$D/m.ecgz"
	assert_failure 1
	[[ $stderr == "ecg-encode: bad.safetensors"* ]]
	[ ! -e out.ecgz ]
	run --separate-stderr ecg-encode "$D/m.ecgz"
	assert_failure 2
	assert_equal "$stderr" "usage: ecg-encode -m checkpoint [-f] [-o file] [--batch N] [--threads N] [--precision fp32|bf16|auto] [--text | --recon] [file]"
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --text --recon "$D/m.ecgz"
	assert_failure 2
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --batch 0 "$D/m.ecgz"
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: --batch: out of range [1, 65536]: 0"
}

@test "merit-s: one thread, batches of 16 and of 1 give the same bits" {
	# OpenBLAS rounds a 16-row product (e of 16 records) differently from
	# one of fewer rows; e is projected per record so it does not matter
	merit-step --init --preset merit-s --seed 1 -o s.safetensors 2>/dev/null
	ecg-synth -n 16 -s 5 --fs 100 -o r.ecgz
	ecg-encode -m s.safetensors --threads 1 --batch 16 r.ecgz | ecg-dump -a > a.jsonl
	ecg-encode -m s.safetensors --threads 1 --batch 1 r.ecgz | ecg-dump -a > b.jsonl
	cmp a.jsonl b.jsonl
	[ "$(jq -c '[.h.shape, .e.shape]' a.jsonl | sort -u)" = "[[256],[128]]" ]
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-encode
}

@test "--precision: fp32 is the default; auto falls back to fp32 without bf16; bad values named" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a > def.jsonl
	ecg-encode -m "$D/ck.safetensors" --precision fp32 "$D/m.ecgz" | ecg-dump -a > f.jsonl
	MERIT_NO_BF16=1 ecg-encode -m "$D/ck.safetensors" --precision auto "$D/m.ecgz" | ecg-dump -a > a.jsonl
	cmp def.jsonl f.jsonl
	cmp def.jsonl a.jsonl
	MERIT_NO_BF16=1 run --separate-stderr ecg-encode -m "$D/ck.safetensors" --precision bf16 -o x.ecgz "$D/m.ecgz"
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: bf16 needs a CPU with AVX512_BF16 (or AMX-BF16), which this one lacks"
	[ ! -e x.ecgz ]
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --precision fp16 "$D/m.ecgz"
	assert_failure
	assert_equal "$stderr" "ecg-encode: --precision fp16: fp32, bf16 or auto"
}

@test "--precision bf16: h and e within 2e-2 of fp32's (of each vector's largest |value|)" {
	grep -qw avx512_bf16 /proc/cpuinfo || grep -qw amx_bf16 /proc/cpuinfo ||
		skip "the CPU lacks AVX512_BF16 and AMX-BF16"
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a | jq -c '[.h.data, .e.data]' > f.jsonl
	ecg-encode -m "$D/ck.safetensors" --precision bf16 "$D/m.ecgz" | ecg-dump -a | jq -c '[.h.data, .e.data]' > b.jsonl
	ecg-encode -m "$D/ck.safetensors" --precision auto "$D/m.ecgz" | ecg-dump -a | jq -c '[.h.data, .e.data]' > a.jsonl
	cmp b.jsonl a.jsonl
	! cmp -s f.jsonl b.jsonl
	# worst |bf16 - fp32| / max |fp32| over the vectors h and e of every record
	worst=$(jq -n --slurpfile f f.jsonl --slurpfile b b.jsonl '[range($f | length) as $r |
		range(2) as $k | $f[$r][$k] as $x | $b[$r][$k] as $y | ($x | map(fabs) | max) as $m |
		range($x | length) as $i | (($x[$i] - $y[$i]) | fabs) / $m] | max')
	echo "worst relative difference $worst"
	awk -v w="$worst" 'BEGIN { exit !(w > 0 && w < 2e-2) }'
}
