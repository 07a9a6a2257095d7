#!/usr/bin/env bash
# lib/nn against the PyTorch reference (../shared/bench/merit_ref.py) on the
# same machine and threads: merit-s, batch 64, training and ECG embedding
# throughput in fp32 and bf16 (merit: MERIT_PRECISION=bf16, PyTorch: --bf16,
# its autocast), medians of BENCH_RUNS interleaved runs (merit fp32, merit
# bf16, PyTorch fp32, PyTorch bf16, again ...), GFLOP/s, share of the fp32
# FMA peak and of the OpenBLAS sgemm peak measured in this run, peak RSS;
# then the model's linear products by OpenBLAS, oneDNN fp32 and oneDNN bf16
# (bench/nn gemm).  bf16 runs only where the CPU has AVX512_BF16 or AMX-BF16.
set -euo pipefail
: "${BENCH_RUNS:=5}" "${MERIT_THREADS:=2}" "${BENCH_STEPS:=6}"
export MERIT_THREADS
ref=${MERIT_ROOT:-.}/../shared/bench/merit_ref.py
nn=$BENCH_DIR/nn
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

field() { grep -o "\"$1\": [0-9.e+-]*" | head -1 | awk '{print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run CMD, append "samples/s gflops peak_rss_kib" to FILE
run() {
	local file=$1; shift
	/usr/bin/time -f 'RSS %M' -o "$dir/time" "$@" > "$dir/out" 2>/dev/null || {
		echo "nn.sh: failed: $*" >&2; return 1; }
	local line; line=$(grep '^RESULT' "$dir/out")
	echo "$(field samples_per_s <<<"$line") $(field gflops <<<"$line") $(awk '/RSS/ {print $2}' "$dir/time")" >> "$file"
}
col() { awk -v c="$1" '{print $c}' "$2" | median; }

torch=0
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$ref" ]; then torch=1; fi
bf=0
grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo && bf=1
# PyTorch with the allocator tuning that makes it fastest (README there)
pyt=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=268435456
     /usr/bin/python3 "$ref" --threads "$MERIT_THREADS")

variants="fp32"
[ $bf = 1 ] && variants="fp32 bf16"
for mode in train embed; do
	for v in $variants; do : > "$dir/m.$mode.$v"; : > "$dir/t.$mode.$v"; done
	: > "$dir/fma.$mode"; : > "$dir/sgemm.$mode"
	for i in $(seq "$BENCH_RUNS"); do
		# the peaks in the same rounds as the runs they are shares of
		"$nn" fma | field gflops >> "$dir/fma.$mode"
		"$nn" sgemm | field gflops >> "$dir/sgemm.$mode"
		for v in $variants; do
			if [ $mode = train ]; then
				run "$dir/m.$mode.$v" env MERIT_PRECISION=$v "$nn" train "$BENCH_STEPS" 2
			else
				run "$dir/m.$mode.$v" env MERIT_PRECISION=$v "$nn" embed "$BENCH_STEPS" 2
			fi
		done
		[ $torch = 1 ] || continue
		for v in $variants; do
			opt=(); [ $v = bf16 ] && opt=(--bf16)
			if [ $mode = train ]; then
				run "$dir/t.$mode.$v" "${pyt[@]}" "${opt[@]}" --mode train --steps "$BENCH_STEPS" --warmup 2
			else
				run "$dir/t.$mode.$v" "${pyt[@]}" "${opt[@]}" --mode embed --iters "$BENCH_STEPS" --warmup 2
			fi
		done
	done
	fma=$(median < "$dir/fma.$mode"); sg=$(median < "$dir/sgemm.$mode")
	echo "nn $mode: fp32 FMA peak $fma GFLOP/s, OpenBLAS sgemm peak $sg GFLOP/s ($MERIT_THREADS threads, medians of $BENCH_RUNS rounds)"
	for who in m t; do
		[ $who = t ] && [ $torch = 0 ] && continue
		for v in $variants; do
			f=$dir/$who.$mode.$v
			s=$(col 1 "$f"); g=$(col 2 "$f"); r=$(col 3 "$f")
			printf '%-7s %-5s %s merit-s b64: %7.2f samples/s  %6.1f GFLOP/s  %4.0f%% of FMA peak  %4.0f%% of sgemm peak  peak RSS %5d MiB\n' \
				"$([ $who = m ] && echo merit || echo PyTorch)" $mode $v "$s" "$g" \
				"$(echo "100 * $g / $fma" | bc -l)" "$(echo "100 * $g / $sg" | bc -l)" $((r / 1024))
		done
	done
	if [ $torch = 1 ]; then
		for v in $variants; do
			printf 'ratio merit/PyTorch %-5s %s: %.2f, RSS %.2f\n' $mode $v \
				"$(echo "$(col 1 "$dir/m.$mode.$v") / $(col 1 "$dir/t.$mode.$v")" | bc -l)" \
				"$(echo "$(col 3 "$dir/m.$mode.$v") / $(col 3 "$dir/t.$mode.$v")" | bc -l)"
		done
		[ $bf = 1 ] && printf 'ratio merit bf16/PyTorch bf16 %s: %.2f (target >= 1.5), RSS %.2f (target <= 0.5)\n' $mode \
			"$(echo "$(col 1 "$dir/m.$mode.bf16") / $(col 1 "$dir/t.$mode.bf16")" | bc -l)" \
			"$(echo "$(col 3 "$dir/m.$mode.bf16") / $(col 3 "$dir/t.$mode.bf16")" | bc -l)"
	else
		echo "PyTorch $mode: skipped (python3-torch not importable by /usr/bin/python3)"
	fi
	[ $bf = 1 ] || echo "bf16 $mode: skipped (the CPU lacks AVX512_BF16 and AMX-BF16)"
done
# the linear products shape by shape (GFLOP/s, medians of 5 interleaved rounds)
echo "linear products of merit-s b64, GFLOP/s: OpenBLAS, oneDNN fp32, oneDNN bf16 (0: not run)"
"$nn" gemm 5 | sed 's/^RESULT //' | jq -r '"  \(.shape) [\(.T)x\(.NI)]x[\(.NI)x\(.O)]: \(.openblas) \(.onednn_fp32) \(.onednn_bf16)"'
