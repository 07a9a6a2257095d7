#!/usr/bin/env bash
# lib/bpe speed on the 21,837 real PTB-XL reports, one core, medians of
# BENCH_RUNS runs: learning 4096 entries (seconds; target: seconds, not
# minutes), encoding (MB/s of report text, untruncated and --max-len 64;
# target 20 MB/s) against the normalisation alone measured in the same
# run (ratio: what the BPE costs on top of it); then the whole filter
# (txt-tokenize -t) on the same text.
set -euo pipefail
: "${BENCH_RUNS:=5}" "${SHARED:=$MERIT_ROOT/../shared}"
bin=$BENCH_DIR/tokenize
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
python3 - "$SHARED/data/ptbxl/ptbxl_database.csv" > "$dir/r.txt" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")):
    print(r["report"].replace("\n", " ").replace("\r", " "))
PY
for i in $(seq "$BENCH_RUNS"); do
	taskset -c 0 "$bin" "$dir/r.txt" >> "$dir/lib"
done
get() { sed "s/.* $1=\([0-9.]*\).*/\1/" "$dir/lib" | median; }
learn=$(get learn_s); enc=$(get encode_mb_s); enc64=$(get encode64_mb_s); norm=$(get normalise_mb_s)
printf 'lib/bpe learn 4096 on %s bytes of reports: %.3f s\n' "$(sed -n '1s/.*bytes=\([0-9]*\).*/\1/p' "$dir/lib")" "$learn"
printf 'lib/bpe encode: %.1f MB/s (target 20: %.2fx); --max-len 64: %.1f MB/s; normalise alone: %.1f MB/s (encode/normalise %.3f)\n' \
	"$enc" "$(echo "$enc / 20" | bc -l)" "$enc64" "$norm" "$(echo "$enc / $norm" | bc -l)"
"$MERIT_BIN/txt-tokenize" -L 4096 -t -o "$dir/v" "$dir/r.txt"
for i in $(seq "$BENCH_RUNS"); do
	s=$(date +%s.%N)
	taskset -c 0 "$MERIT_BIN/txt-tokenize" -v "$dir/v" -t -o "$dir/ids" "$dir/r.txt"
	e=$(date +%s.%N)
	echo "$(stat -c %s "$dir/r.txt") / ($e - $s) / 1000000" | bc -l >> "$dir/filter"
done
printf 'txt-tokenize -t (ids as text lines, one core): %.1f MB/s\n' "$(median < "$dir/filter")"
