#!/usr/bin/env bash
# ecg-ingest on 12-lead 500 Hz 10 s records (the 25 Challenge 2021 records
# of ../shared/data, each linked BENCH_INGEST_COPIES times under new
# directories, so 1000 records by default) against the floor: reading the
# same files and compressing their bytes with zstd -3 (cat | zstd).
# Interleaved runs, medians of 5.  Also --fs 100 (soxr resampling).
set -euo pipefail
: "${BENCH_INGEST_COPIES:=40}"
src=${SHARED:-$MERIT_ROOT/../shared}/data/challenge2021
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
for k in $(seq 1 "$BENCH_INGEST_COPIES"); do
	mkdir "$dir/$k"
	for f in "$src"/*.hea "$src"/*.mat; do ln -s "$f" "$dir/$k/"; done
done
find "$dir" -name '*.hea' | sort > "$dir/list"
find "$dir" -name '*.hea' -o -name '*.mat' | sort > "$dir/files"
n=$(wc -l < "$dir/list")
mb=$(xargs cat < "$dir/files" | wc -c)
echo "records: $n x 12 leads x 5000 samples (500 Hz, 10 s), $((mb / 1048576)) MiB of .hea + .mat"

now() { date +%s.%N; }
med() { printf '%s\n' "$@" | sort -g | sed -n 3p; }
a=() b=() c=()
for i in 1 2 3 4 5; do
	t=$(now); ecg-ingest --list < "$dir/list" > /dev/null 2>&1; a+=("$(echo "$(now) - $t" | bc)")
	t=$(now); xargs cat < "$dir/files" | zstd -3 -q -c > /dev/null; b+=("$(echo "$(now) - $t" | bc)")
	t=$(now); ecg-ingest --fs 100 --list < "$dir/list" > /dev/null 2>&1; c+=("$(echo "$(now) - $t" | bc)")
done
ours=$(med "${a[@]}") ref=$(med "${b[@]}") rs=$(med "${c[@]}")
printf 'ecg-ingest          %6.3f s  %7.0f records/s\n' "$ours" "$(echo "$n / $ours" | bc -l)"
printf 'cat | zstd -3       %6.3f s  %7.0f records/s   (ingest / floor: %.2f)\n' \
	"$ref" "$(echo "$n / $ref" | bc -l)" "$(echo "$ours / $ref" | bc -l)"
printf 'ecg-ingest --fs 100 %6.3f s  %7.0f records/s\n' "$rs" "$(echo "$n / $rs" | bc -l)"
