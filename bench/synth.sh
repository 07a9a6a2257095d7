#!/usr/bin/env bash
# ecg-synth speed: records/s of 12-lead, 10 s, 500 Hz records on one core
# (medians of BENCH_RUNS runs), for lib/synth alone (clean, default noise,
# all noises; lib/qrs on top) and for the whole filter writing a stream
# (zstd level 3, whose worker thread runs beside it).  Target: 2,000
# records/s on one core.  Reference in the same run: writing the same
# stream with ecg-cat (its bytes re-read and re-compressed), so the
# filter's figure can be read against the stream layer's own cost.
set -euo pipefail
: "${BENCH_RUNS:=5}" "${BENCH_RECORDS:=2000}"
bin=$BENCH_DIR/synth
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in $(seq "$BENCH_RUNS"); do
	taskset -c 0 "$bin" "$BENCH_RECORDS" >> "$dir/lib"
done
for c in clean bw+muscle all-noise clean+qrs; do
	v=$(grep "case=$c " "$dir/lib" | sed 's/.*records_per_s=\([0-9.]*\).*/\1/' | median)
	printf 'lib/synth %-10s: %8.0f records/s (one core; target 2000: %.2fx)\n' "$c" "$v" \
		"$(echo "$v / 2000" | bc -l)"
done
for i in $(seq "$BENCH_RUNS"); do
	s=$(date +%s.%N)
	"$MERIT_BIN/ecg-synth" -n "$BENCH_RECORDS" -s "$i" -o "$dir/s.ecgz"
	e=$(date +%s.%N)
	echo "$BENCH_RECORDS / ($e - $s)" | bc -l >> "$dir/filter"
	s=$(date +%s.%N)
	"$MERIT_BIN/ecg-cat" "$dir/s.ecgz" > "$dir/c.ecgz"
	e=$(date +%s.%N)
	echo "$BENCH_RECORDS / ($e - $s)" | bc -l >> "$dir/cat"
done
f=$(median < "$dir/filter"); c=$(median < "$dir/cat")
printf 'ecg-synth -n %d (default noise, zstd 3): %8.0f records/s; ecg-cat of that stream: %8.0f records/s (ratio %.2f)\n' \
	"$BENCH_RECORDS" "$f" "$c" "$(echo "$f / $c" | bc -l)"
