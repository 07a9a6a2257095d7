#!/usr/bin/env bash
# merit-step data-parallel (BENCH=mpi): merit-s, global batch 64, on this
# machine's cores: samples/s of one process with 2 threads against 2 ranks
# with 1 thread each (MPI_Allreduce, and --ordered-reduce), the gradient
# reduction's share of the 2-rank step, the bytes a rank hands MPI per
# step (medians over BENCH_RUNS interleaved runs of BENCH_STEPS steps, the
# first 2 of a run dropped), and a projection to 8 and 64 nodes of one rank each
# (batch 64 a node) from the measured compute and the exchanges' volume
# (below) over BENCH_GBITS Gbit/s.
set -euo pipefail
: "${BENCH_RUNS:=3}" "${BENCH_STEPS:=6}" "${BENCH_GBITS:=10 100}"
mpirun=(mpirun)
[ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
command -v mpirun >/dev/null || { echo "mpi: no mpirun (apt-get install openmpi-bin)"; exit 1; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/merit-s.bash"

n=$((64 * BENCH_STEPS))
merit_s_stream "$dir" "$n"
params=$(merit-step --info -m "$dir/ck.safetensors" | awk -F'\t' '$1 == "parameters" { print $2 }')
proj=$(merit-step --info -m "$dir/ck.safetensors" | awk -F'\t' '$1 == "proj" { print $2 }')

# run NAME [launcher...] -- merit-step options: appends samples/s, the
# reduction's share and the bytes communicated of each step but the first 2
run() {
	local name=$1 l=()
	shift
	while [ "$1" != -- ]; do l+=("$1"); shift; done
	shift
	rm -f "$dir/log.jsonl"
	"${l[@]}" merit-step -m "$dir/ck.safetensors" -o "$dir/out.safetensors" \
	    --log "$dir/log.jsonl" "$@" "$dir/t.ecgz" 2>/dev/null
	jq -r 'select(.step > 2) | [.samples_per_s, (.reduce_s // 0) * .samples_per_s / 64,
	    (.comm_bytes // 0)] | @tsv' "$dir/log.jsonl" >> "$dir/$name"
}

for i in $(seq "$BENCH_RUNS"); do
	run one -- --threads 2
	run two "${mpirun[@]}" -np 2 -- --threads 1
	run ordered "${mpirun[@]}" -np 2 -- --threads 1 --ordered-reduce
done
col() { awk -v k="$2" '{print $k}' "$dir/$1" | median; }
one=$(col one 1)
printf 'merit-step merit-s b64  1 process x 2 threads       %7.2f samples/s\n' "$one"
for v in two ordered; do
	s=$(col $v 1)
	printf 'merit-step merit-s b64  2 ranks x 1 thread %-9s %7.2f samples/s  %.2fx one process  reduce %4.1f%% of the step  %.1f MB/step a rank\n' \
	    "$( [ $v = ordered ] && echo ordered || echo allreduce)" "$s" "$(echo "$s / $one" | bc -l)" \
	    "$(echo "100 * $(col $v 2)" | bc -l)" "$(echo "$(col $v 3) / 1000000" | bc -l)"
done
# projection: a node computes batch 64 in what one process takes on this
# machine's 2 cores (or BENCH_COMPUTE seconds); the step adds, at each
# rank's link, a ring allreduce of the gradient, 2 (N-1)/N x 4 bytes x
# parameters, and the gather and reduce-scatter of e and t over the global
# batch, 2 x (N-1)/N x 8 bytes x 64 N x proj (latency left out)
comp=${BENCH_COMPUTE:-$(echo "64 / $one" | bc -l)}
for g in $BENCH_GBITS; do
	for nodes in 8 64; do
		f="($nodes - 1) / $nodes"
		t=$(echo "(2 * $f * 4 * $params + 2 * $f * 8 * 64 * $nodes * $proj) * 8 / ($g * 10^9)" | bc -l)
		printf 'projected %2d nodes x 2 cores, batch 64 a node, %3d Gbit/s: exchanges %.3f s + compute %.3f s a step, %7.0f samples/s (%.2fx linear)\n' \
		    "$nodes" "$g" "$t" "$comp" "$(echo "$nodes * 64 / ($comp + $t)" | bc -l)" \
		    "$(echo "$comp / ($comp + $t)" | bc -l)"
	done
done
