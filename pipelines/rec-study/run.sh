#!/usr/bin/env bash
# The reconstruction study (docs/rec-study.md): every run of variants.tsv
# trains a rec-only model for STEPS steps on the same records, seed and
# base config, then scores the validation records' L_rec against the
# predict-zero floor and the linear oracles of oracle.py.
#
# usage: run.sh BIN OUT BASE.conf TRAIN.ecgz VAL.ecgz FIT.ecgz STEPS BATCH LR [NAME...]
#   BIN    the filters            OUT    results (OUT/NAME/ per run, OUT/summary.tsv)
#   TRAIN  records with sig (and tok); VAL the validation records; FIT the
#          records oracle_pop fits its lead covariance on (training data)
# A run whose OUT/NAME/val.json exists is not run again.
set -euo pipefail
[ $# -ge 9 ] || { echo "usage: run.sh BIN OUT BASE TRAIN VAL FIT STEPS BATCH LR [NAME...]" >&2; exit 2; }
bin=$1 out=$2 base=$3 train=$4 val=$5 fit=$6 steps=$7 batch=$8 lr=$9
shift 9
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
mkdir -p "$out"
n=$("$bin/ecg-cat" -c "$train")
per_epoch=$(( n / batch ))
[ "$per_epoch" -ge 1 ] || { echo "run.sh: $train: fewer records than one batch" >&2; exit 1; }
epochs=$(( (steps + per_epoch - 1) / per_epoch ))
[ -s "$out/fit.json" ] || "$bin/ecg-head" -n 400 "$fit" | "$bin/ecg-dump" -a > "$out/fit.json"

run_one() {
	local name=$1 lever=$2 conf=$3 init=$4 mask=$5 d=$out/$1
	[ -s "$d/val.json" ] && return 0
	mkdir -p "$d"
	cp "$base" "$d/config"
	[ "$conf" = - ] || tr ';' '\n' <<<"$conf" >> "$d/config"
	[ "$init" = - ] && init=
	[ "$mask" = - ] && mask=
	local m patch ratio target=norm
	case " $init " in *" --raw-target "*) target=raw ;; esac
	echo "rec-study: $name ($lever): $steps steps" >&2
	# shellcheck disable=SC2086
	"$bin/merit-step" --init --config "$d/config" --seed 1 --batch "$batch" --lr "$lr" \
	    --total-steps "$steps" --warmup $(( steps / 20 > 0 ? steps / 20 : 1 )) $init \
	    -o "$d/init.safetensors"
	"$bin/merit-step" --info -m "$d/init.safetensors" > "$d/info"
	patch=$(awk '$1 == "patch" {print $2}' "$d/info")
	ratio=$(awk '$1 == "mask_ratio" {print $2}' "$d/info")
	# one stream of EPOCHS shuffled, freshly masked passes; merit-step stops
	# reading after --steps, so only its own status counts (no pipefail)
	set +o pipefail
	for e in $(seq 1 "$epochs"); do
		# shellcheck disable=SC2086
		"$bin/ecg-shuffle" -s "$e" "$train" 2>/dev/null |
		    "$bin/ecg-mask" -s "$e" -p "$patch" -r "$ratio" $mask 2>/dev/null
	done | "$bin/ecg-cat" 2>/dev/null | "$bin/merit-step" -m "$d/init.safetensors" -o "$d/model.safetensors" \
	    --lambda-cma 0 --steps "$steps" --log "$d/log.jsonl" 2>/dev/null
	set -o pipefail
	# shellcheck disable=SC2086
	"$bin/ecg-mask" -s 999 -p "$patch" -r "$ratio" $mask "$val" |
	    "$bin/ecg-encode" -m "$d/model.safetensors" --recon | "$bin/ecg-dump" -a > "$d/val.dump"
	"$py" "$here/oracle.py" "$d/val.dump" --fit "$out/fit.json" --model --patch "$patch" \
	    --target "$target" > "$d/val.json.tmp"
	rm -f "$d/val.dump"
	mv "$d/val.json.tmp" "$d/val.json"
}

while IFS=$'\t' read -r name lever conf init mask; do
	case $name in ''|\#*) continue ;; esac
	if [ $# -gt 0 ]; then
		want=0; for w in "$@"; do [ "$w" = "$name" ] && want=1; done
		[ $want = 1 ] || continue
	fi
	run_one "$name" "$lever" "$conf" "$init" "$mask"
done < "$here/variants.tsv"

# summary.tsv: name lever first-50 last-50 (training L_rec means) val zero oracle_pop oracle_rec seconds
{
	printf 'name\tlever\ttrain_first50\ttrain_last50\tval\tzero\toracle_pop\toracle_rec\tval_over_zero\tseconds\n'
	while IFS=$'\t' read -r name lever _; do
		case $name in ''|\#*) continue ;; esac
		d=$out/$name
		[ -s "$d/val.json" ] || continue
		jq -rs --arg n "$name" --arg l "$lever" --slurpfile v "$d/val.json" '
		    def mean(a): (a | add) / (a | length);
		    [ $n, $l,
		      (mean(.[:50] | map(.L_rec)) | . * 10000 | round / 10000),
		      (mean(.[-50:] | map(.L_rec)) | . * 10000 | round / 10000),
		      $v[0].model, $v[0].zero, $v[0].oracle_pop, $v[0].oracle_rec,
		      ($v[0].model / $v[0].zero | . * 1000 | round / 1000),
		      (map(.samples_per_s as $s | if $s > 0 then 1 / $s else 0 end) | add |
		       . * ('"$batch"') | round) ] | @tsv' "$d/log.jsonl"
	done < "$here/variants.tsv"
} > "$out/summary.tsv"
column -t -s $'\t' "$out/summary.tsv"
