#!/bin/sh
# curves.sh OUT.png DIR NAME...: the study's picture, training L_rec (moving
# average over 1/30 of the steps) of each run DIR/NAME/log.jsonl against
# step and against training time (step x DIR/NAME/cost, the seconds per step
# that cost.sh measured with the runs interleaved; without it the sum of
# batch / samples_per_s of the log, which a shared machine's load skews), with the
# predict-zero floor at 1.  Written through a temporary file: a failure
# leaves no picture.
set -eu
[ $# -ge 3 ] || { echo "usage: curves.sh OUT.png DIR NAME..." >&2; exit 2; }
out=$1 dir=$2
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/curves.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
plots1= plots2= n=0
for name in "$@"; do
	log=$dir/$name/log.jsonl
	[ -s "$log" ] || continue
	n=$((n + 1))
	batch=$(awk '$1 == "train.batch" {print $2}' "$dir/$name/info" 2>/dev/null || true)
	cost=0; [ -s "$dir/$name/cost" ] && cost=$(cat "$dir/$name/cost")
	jq -r '[.step, .L_rec, .samples_per_s] | @tsv' "$log" |
	awk -F '\t' -v OFS='\t' -v b="${batch:-64}" -v k="$cost" '
	    { s[NR] = $1; c[NR] = c[NR - 1] + $2
	      t[NR] = k > 0 ? $1 * k : t[NR - 1] + ($3 > 0 ? b / $3 : 0) }
	    END { w = int(NR / 30); if (w < 1) w = 1
		  for (i = 1; i <= NR; i++) { j = i - w < 0 ? 0 : i - w
			print s[i], t[i], (c[i] - c[j]) / (i - j) } }' > "$tmp/m$n.tsv"
	sep=; [ $n -gt 1 ] && sep=", "
	plots1="$plots1$sep'$tmp/m$n.tsv' using 1:3 with lines lw 2 title '$name'"
	plots2="$plots2$sep'$tmp/m$n.tsv' using 2:3 with lines lw 2 title '$name'"
done
[ $n -gt 0 ] || { echo "curves.sh: no run has a log in $dir" >&2; exit 1; }
term="pngcairo size 1500,600 font ',10'"
gnuplot -e 'set terminal pngcairo' 2>/dev/null </dev/null || term="png size 1500,600"
gnuplot <<GP
set terminal $term
set output '$tmp/out.png'
set datafile separator "\t"
set termoption noenhanced
set multiplot layout 1,2 title "Reconstruction study: training L_rec (moving average), rec-only runs"
set grid
set key outside right
set yrange [0:1.1]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "black"
set xlabel "step"
set title "against step"
plot $plots1
set xlabel "training seconds (step x seconds per step measured by cost.sh, else the log's own)"
set title "against compute"
plot $plots2
unset multiplot
GP
mv "$tmp/out.png" "$out"
