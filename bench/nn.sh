#!/usr/bin/env bash
# lib/nn against the PyTorch reference (../shared/bench/merit_ref.py) on the
# same machine and threads: merit-s, batch 64, training and ECG embedding
# throughput (medians of BENCH_RUNS interleaved runs, A B A B ...), GFLOP/s,
# share of the sgemm peak measured in this run, peak RSS.
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

torch=0
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$ref" ]; then torch=1; fi
# PyTorch with the allocator tuning that makes it fastest (README there)
pyt=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=268435456
     /usr/bin/python3 "$ref" --threads "$MERIT_THREADS")

peak=$("$nn" sgemm | field gflops)
echo "sgemm peak (OpenBLAS, $MERIT_THREADS threads, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}): $peak GFLOP/s"
for mode in train embed; do
	: > "$dir/a.$mode"; : > "$dir/b.$mode"
	for i in $(seq "$BENCH_RUNS"); do
		if [ $mode = train ]; then
			run "$dir/a.$mode" "$nn" train "$BENCH_STEPS" 2
			[ $torch = 1 ] && run "$dir/b.$mode" "${pyt[@]}" --mode train --steps "$BENCH_STEPS" --warmup 2
		else
			run "$dir/a.$mode" "$nn" embed "$BENCH_STEPS" 2
			[ $torch = 1 ] && run "$dir/b.$mode" "${pyt[@]}" --mode embed --iters "$BENCH_STEPS" --warmup 2
		fi
	done
	sa=$(awk '{print $1}' "$dir/a.$mode" | median); ga=$(awk '{print $2}' "$dir/a.$mode" | median)
	ra=$(awk '{print $3}' "$dir/a.$mode" | median)
	printf 'nn %-5s merit-s b64: %7.2f samples/s  %6.1f GFLOP/s  %4.0f%% of sgemm peak  peak RSS %5d MiB\n' \
		$mode "$sa" "$ga" "$(echo "100 * $ga / $peak" | bc -l)" $((ra / 1024))
	if [ $torch = 1 ]; then
		sb=$(awk '{print $1}' "$dir/b.$mode" | median); gb=$(awk '{print $2}' "$dir/b.$mode" | median)
		rb=$(awk '{print $3}' "$dir/b.$mode" | median)
		printf 'PyTorch %-5s        : %7.2f samples/s  %6.1f GFLOP/s  %4.0f%% of sgemm peak  peak RSS %5d MiB\n' \
			$mode "$sb" "$gb" "$(echo "100 * $gb / $peak" | bc -l)" $((rb / 1024))
		printf 'ratio nn/PyTorch %-5s: %.2f (target >= 2), RSS ratio %.2f (target <= 0.5)\n' \
			$mode "$(echo "$sa / $sb" | bc -l)" "$(echo "$ra / $rb" | bc -l)"
	else
		echo "PyTorch $mode: skipped (python3-torch not importable by /usr/bin/python3)"
	fi
done
