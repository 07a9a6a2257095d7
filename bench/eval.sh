#!/usr/bin/env bash
# merit-eval probe at PTB-XL scale (17000 records of 256-d features, 3
# classes, 6 L2 strengths, 1000 bootstrap resamples) against reading the
# same stream (ecg-cat -c), interleaved medians of 5; the Newton fits'
# share is the rest.  Also the probe's peak RSS.
set -euo pipefail
: "${BENCH_EVAL_RECORDS:=17000}"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
f=$dir/f.ecgz
"$MERIT_ROOT/tests/fixtures/mkfeat" "$BENCH_EVAL_RECORDS" 256 3 | ecg-pack > "$f"
echo "features: $BENCH_EVAL_RECORDS records x 256 float32, 3 classes"

now() { date +%s.%N; }
pair() {
	local a=() b=() t
	for i in 1 2 3 4 5; do
		t=$(now); bash -c "$1"; a+=("$(echo "$(now) - $t" | bc)")
		t=$(now); bash -c "$2"; b+=("$(echo "$(now) - $t" | bc)")
	done
	printf '%s\n' "${a[@]}" | sort -g | sed -n 3p | tr '\n' ' '
	printf '%s\n' "${b[@]}" | sort -g | sed -n 3p
}
read -r ours ref < <(pair "merit-eval probe -t codes --fractions 1 $f >/dev/null" "ecg-cat -c $f >/dev/null")
fits=$((3 * 6))
printf 'merit-eval probe --fractions 1  %6.3f s   ecg-cat -c  %6.3f s   ratio %.1f   %.1f ms per logistic fit (upper bound)\n' \
	"$ours" "$ref" "$(echo "$ours / $ref" | bc -l)" "$(echo "1000 * $ours / $fits" | bc -l)"
rss=$( { /usr/bin/time -f %M merit-eval probe -t codes --fractions 1 "$f" >/dev/null; } 2>&1 )
printf 'merit-eval probe peak RSS: %d KiB (features alone: %d KiB)\n' "$rss" $((BENCH_EVAL_RECORDS * 256 * 4 / 1024))
