#!/usr/bin/env bash
# ecg-encode throughput: records/s of the whole filter (decompression,
# unpacking, lead normalisation, the merit-s encoder, packing, compression)
# on BENCH_ENCODE_RECORDS synthetic 100 Hz records with a randomly
# initialised merit-s checkpoint, against the PyTorch reference's embed mode
# (../shared/bench/merit_ref.py: the encoder alone on tensors already in
# memory, batch 64) on the same threads; medians of BENCH_RUNS interleaved
# runs (A B A B ...); also --text on the same records, peak RSS, lead
# I alone (--leads I: 20 tokens a record instead of 240) and the limb leads
# (120), with their speed-up over 12 leads; and --precision bf16 against
# PyTorch's --bf16 where the CPU has AVX512_BF16.
# PyTorch runs when /usr/bin/python3 imports torch, unless MERIT_BENCH_TORCH=0.
set -euo pipefail
: "${BENCH_RUNS:=5}" "${MERIT_THREADS:=2}" "${BENCH_ENCODE_RECORDS:=384}"
ref=${MERIT_ROOT:-.}/../shared/bench/merit_ref.py
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

ecg-synth -n "$BENCH_ENCODE_RECORDS" -s 1 --fs 100 | txt-tokenize -L 4096 -o "$dir/v.txt" 2>/dev/null
ecg-synth -n "$BENCH_ENCODE_RECORDS" -s 1 --fs 100 | txt-tokenize -v "$dir/v.txt" --max-len 64 -o "$dir/in.ecgz"
merit-step --init --preset merit-s --vocab "$dir/v.txt" -o "$dir/ck.safetensors" 2>/dev/null
echo "ecg-encode: $BENCH_ENCODE_RECORDS records, merit-s (random init), batch 64, $MERIT_THREADS threads, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"

bf=0
grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo && bf=1
torch=0
if [ "${MERIT_BENCH_TORCH:-1}" != 0 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null &&
	[ -f "$ref" ]; then torch=1; fi
# PyTorch with the allocator tuning that makes it fastest (README there)
pyt=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=268435456
     /usr/bin/python3 "$ref" --threads "$MERIT_THREADS")

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# records/s and peak RSS (KiB) of one ecg-encode run, appended to FILE
encode() {
	local file=$1; shift
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$dir/rss" ecg-encode -m "$dir/ck.safetensors" --threads "$MERIT_THREADS" "$@" \
		"$dir/in.ecgz" > "$dir/out.ecgz"
	t1=$(date +%s.%N)
	echo "$(echo "$BENCH_ENCODE_RECORDS / ($t1 - $t0)" | bc -l) $(cat "$dir/rss")" >> "$file"
}
torch_embed() {
	"${pyt[@]}" "${@:3}" --mode "$1" --iters 6 --warmup 2 2>/dev/null | grep '^RESULT' |
		grep -o '"samples_per_s": [0-9.e+-]*' | awk '{print $2}' >> "$2"
}

: > "$dir/a"; : > "$dir/b"; : > "$dir/ta"; : > "$dir/tb"; : > "$dir/l1"; : > "$dir/l6"
: > "$dir/ba"; : > "$dir/bb"
for i in $(seq "$BENCH_RUNS"); do
	encode "$dir/a"
	encode "$dir/l1" --leads I
	encode "$dir/l6" --leads limb
	[ $torch = 1 ] && torch_embed embed "$dir/b"
	encode "$dir/ta" --text
	[ $torch = 1 ] && torch_embed text "$dir/tb"
	if [ $bf = 1 ]; then
		encode "$dir/ba" --precision bf16
		[ $torch = 1 ] && torch_embed embed "$dir/bb" --bf16
	fi
done
a=$(awk '{print $1}' "$dir/a" | median); ra=$(awk '{print $2}' "$dir/a" | median)
ta=$(awk '{print $1}' "$dir/ta" | median)
printf 'ecg-encode         : %7.2f records/s  peak RSS %4d MiB\n' "$a" $((ra / 1024))
printf 'ecg-encode --text  : %7.1f records/s\n' "$ta"
l1=$(awk '{print $1}' "$dir/l1" | median); l6=$(awk '{print $1}' "$dir/l6" | median)
printf 'ecg-encode --leads I   : %7.2f records/s (%.2fx the 12 leads)\n' "$l1" "$(echo "$l1 / $a" | bc -l)"
printf 'ecg-encode --leads limb: %7.2f records/s (%.2fx the 12 leads)\n' "$l6" "$(echo "$l6 / $a" | bc -l)"
if [ $torch = 1 ]; then
	b=$(median < "$dir/b"); tb=$(median < "$dir/tb")
	printf 'PyTorch embed      : %7.2f samples/s (encoder only, batch 64)\n' "$b"
	printf 'PyTorch text       : %7.1f samples/s (text tower only, batch 64)\n' "$tb"
	printf 'ratio ecg-encode/PyTorch: ECG %.2f, text %.2f\n' "$(echo "$a / $b" | bc -l)" \
		"$(echo "$ta / $tb" | bc -l)"
	if [ $bf = 1 ]; then
		ba=$(awk '{print $1}' "$dir/ba" | median); bb=$(median < "$dir/bb")
		printf 'ecg-encode bf16    : %7.2f records/s; PyTorch embed --bf16 %.2f; ratio %.2f (target >= 1.5)\n' \
			"$ba" "$bb" "$(echo "$ba / $bb" | bc -l)"
	fi
else
	echo "PyTorch: skipped (MERIT_BENCH_TORCH=0, or python3-torch not importable by /usr/bin/python3)"
fi
