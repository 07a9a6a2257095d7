#!/usr/bin/env bash
# merit-step, the filter, on merit-s with batch 64, fed by a pipe as in
# pretraining: samples/s of full MERIT, rec-only (--lambda-cma 0: the text
# tower is never run) and CMA-only (--lambda-rec 0: no decoder), against
# the PyTorch reference's training step (and full MERIT with OpenMP threads
# spinning while they wait, OMP_WAIT_POLICY=active, instead of merit-step's
# passive default), and in bf16 (--precision bf16 against PyTorch --bf16,
# where the CPU has AVX512_BF16 or AMX-BF16) in the same run (medians of
# BENCH_RUNS interleaved runs of BENCH_STEPS steps, the first 2 dropped).
set -euo pipefail
: "${BENCH_RUNS:=3}" "${MERIT_THREADS:=2}" "${BENCH_STEPS:=8}"
ref=${MERIT_ROOT:-.}/../shared/bench/merit_ref.py
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/merit-s.bash"

n=$((64 * BENCH_STEPS))
merit_s_stream "$dir" "$n"

bf=0
grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo && bf=1
torch=0
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$ref" ]; then torch=1; fi
pyt=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=268435456
     /usr/bin/python3 "$ref" --threads "$MERIT_THREADS")

# one run of variant NAME with merit-step options; appends samples/s, RSS
step() {
	local name=$1; shift
	rm -f "$dir/log.jsonl"
	cat "$dir/t.ecgz" | /usr/bin/time -f '%M' -o "$dir/time" \
	    merit-step -m "$dir/ck.safetensors" -o "$dir/out.safetensors" --threads "$MERIT_THREADS" \
	    --log "$dir/log.jsonl" "$@" 2>/dev/null
	echo "$(jq -r 'select(.step > 2) | .samples_per_s' "$dir/log.jsonl" | median) $(cat "$dir/time")" \
	    >> "$dir/$name"
}

for i in $(seq "$BENCH_RUNS"); do
	step merit
	OMP_WAIT_POLICY=active step active
	step rec --lambda-cma 0
	step cma --lambda-rec 0
	[ $bf = 1 ] && step bf16 --precision bf16
	if [ $torch = 1 ]; then
		"${pyt[@]}" --mode train --steps "$BENCH_STEPS" --warmup 2 2>/dev/null |
		    grep -o '"samples_per_s": [0-9.e+-]*' | awk '{print $2}' >> "$dir/torch"
		[ $bf = 1 ] && "${pyt[@]}" --bf16 --mode train --steps "$BENCH_STEPS" --warmup 2 2>/dev/null |
		    grep -o '"samples_per_s": [0-9.e+-]*' | awk '{print $2}' >> "$dir/torch.bf16"
	fi
done
m=$(awk '{print $1}' "$dir/merit" | median)
vs="merit active rec cma"
[ $bf = 1 ] && vs="$vs bf16"
for v in $vs; do
	s=$(awk '{print $1}' "$dir/$v" | median); r=$(awk '{print $2}' "$dir/$v" | median)
	printf 'merit-step merit-s b64 %-6s %7.2f samples/s  %.2fx full MERIT  peak RSS %d MiB\n' \
	    "$v" "$s" "$(echo "$s / $m" | bc -l)" $((r / 1024))
done
if [ $torch = 1 ]; then
	t=$(median < "$dir/torch")
	printf 'PyTorch reference train       %7.2f samples/s  merit-step/PyTorch %.2f\n' \
	    "$t" "$(echo "$m / $t" | bc -l)"
	if [ $bf = 1 ]; then
		tb=$(median < "$dir/torch.bf16"); mb=$(awk '{print $1}' "$dir/bf16" | median)
		printf 'PyTorch reference train --bf16 %6.2f samples/s  merit-step bf16/PyTorch bf16 %.2f (target >= 1.5)\n' \
		    "$tb" "$(echo "$mb / $tb" | bc -l)"
	fi
else
	echo "PyTorch reference: skipped (python3-torch not importable by /usr/bin/python3)"
fi
