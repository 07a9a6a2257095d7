#!/usr/bin/env bash
# The stream layer against zstd itself on the same bytes (medians of 5),
# and ecg-cat's peak memory on a small and a large stream.
set -euo pipefail
: "${BENCH_RECORDS:=2000}" "${BENCH_BIG_RECORDS:=8500}"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$BENCH_DIR/mkstream" "$BENCH_RECORDS" 5000 > "$dir/s.ecgz"
raw=$(zstd -dc "$dir/s.ecgz" | wc -c)
echo "stream: $BENCH_RECORDS records of 12x5000 int16, $((raw >> 20)) MiB raw, $(( $(stat -c %s "$dir/s.ecgz") >> 20 )) MiB compressed"

now() { date +%s.%N; }
# median of 5 interleaved timings of two commands: prints "a b"
pair() {
	local a=() b=() t
	for i in 1 2 3 4 5; do
		t=$(now); bash -c "$1"; a+=("$(echo "$(now) - $t" | bc)")
		t=$(now); bash -c "$2"; b+=("$(echo "$(now) - $t" | bc)")
	done
	printf '%s\n' "${a[@]}" | sort -g | sed -n 3p | tr '\n' ' '
	printf '%s\n' "${b[@]}" | sort -g | sed -n 3p
}
f=$dir/s.ecgz
read -r ours ref < <(pair "ecg-cat -c $f >/dev/null" "zstd -dc $f >/dev/null")
printf 'ecg-cat -c            %6.3f s   zstd -dc >/dev/null          %6.3f s   ratio %.2f (target <= 1.2)\n' "$ours" "$ref" "$(echo "$ours / $ref" | bc -l)"
read -r ours ref < <(pair "ecg-cat $f >/dev/null" "zstd -dc $f | zstd -q -3 -c >/dev/null")
printf 'ecg-cat passthrough   %6.3f s   zstd -dc | zstd -3 -c        %6.3f s   ratio %.2f (target <= 1.3)\n' "$ours" "$ref" "$(echo "$ours / $ref" | bc -l)"

# peak RSS: ~10 MB and ~1 GB (uncompressed) streams
"$BENCH_DIR/mkstream" 85 5000 > "$dir/small.ecgz"
"$BENCH_DIR/mkstream" "$BENCH_BIG_RECORDS" 5000 > "$dir/big.ecgz"
# with zstd's worker thread (default) the compressor's job buffers add a
# fixed ~40 MB once the input is longer than a few jobs; without it
# (MERIT_ZSTD_THREADS=0) what is left is the stream layer's own memory
for t in 1 0; do
	for s in small big; do
		sz=$(zstd -dc "$dir/$s.ecgz" | wc -c)
		rss=$( { MERIT_ZSTD_THREADS=$t /usr/bin/time -f %M ecg-cat "$dir/$s.ecgz" >/dev/null; } 2>&1 )
		printf 'ecg-cat peak RSS, zstd threads %d, %5d MiB (raw) stream: %6d KiB\n' "$t" $((sz >> 20)) "$rss"
	done
done
