#!/usr/bin/env bash
# cost.sh BIN OUT TRAIN NAME...: seconds per training step of each study
# run, for the study picture's "against compute" panel.  Every run's
# initial checkpoint trains STEPS (10) steps on the same masked records,
# ROUNDS (3) times, the runs interleaved round by round so that a change of
# load on a shared machine hits them alike; OUT/NAME/cost is the median.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: cost.sh BIN OUT TRAIN NAME..." >&2; exit 2; }
bin=$1 out=$2 train=$3
shift 3
steps=${STEPS:-10} rounds=${ROUNDS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cost.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for name in "$@"; do
	d=$out/$name
	[ -s "$d/init.safetensors" ] || { echo "cost.sh: $d: no init.safetensors" >&2; exit 1; }
	patch=$(awk '$1 == "patch" {print $2}' "$d/info")
	ratio=$(awk '$1 == "mask_ratio" {print $2}' "$d/info")
	batch=$(awk '$1 == "train.batch" {print $2}' "$d/info")
	"$bin/ecg-head" -n $(( steps * batch )) "$train" |
	    "$bin/ecg-mask" -s 1 -p "$patch" -r "$ratio" > "$tmp/$name.ecgz"
done
for r in $(seq 1 "$rounds"); do
	for name in "$@"; do
		s=$(date +%s.%N)
		"$bin/merit-step" -m "$out/$name/init.safetensors" -o "$tmp/m.safetensors" \
		    --lambda-cma 0 --steps "$steps" "$tmp/$name.ecgz" 2>/dev/null
		e=$(date +%s.%N)
		echo "$e $s $steps" | awk '{printf "%.6f\n", ($1 - $2) / $3}' >> "$tmp/$name.t"
	done
done
for name in "$@"; do
	sort -g "$tmp/$name.t" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}' > "$out/$name/cost"
	echo "$name $(cat "$out/$name/cost") s/step"
done
