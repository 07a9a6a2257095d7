#!/usr/bin/env bash
# epoch.sh: the recipes of pipelines/pretrain.mk, whose rules only say
# what depends on what.
#
#   epoch.sh [-b BIN] tokenize OUT STREAM VOCAB CKPT
#       STREAM with tok (txt-tokenize -v VOCAB), CKPT's max_len tokens
#   epoch.sh [-b BIN] init OUT STREAM VOCAB EPOCHS BATCH WARMUP [OPTION...]
#       merit-step --init OPTION... for EPOCHS passes over STREAM in batches
#       of BATCH (total steps EPOCHS x batches, at least 1); WARMUP steps, or
#       auto: 5% of them, at least 1
#   epoch.sh [-b BIN] [-t THREADS] train OUT PREV TOKSTREAM SEED E
#       epoch E from checkpoint PREV: ecg-shuffle -s S | ecg-mask -s S (PREV's
#       patch and mask ratio) | merit-step, S = SEED * 1000 + E
#
# BIN is the folder of the filters (default: the PATH), THREADS merit-step's
# --threads (0, the default: all cores), PRECISION its --precision (auto,
# the default: bf16 where the CPU has it).  train writes OUT's neighbours
# (OUT = DIR/epoch-E.safetensors): it trains into epoch-E.part.safetensors
# (and merit-step's .part.optim.safetensors), logs to epoch-E.jsonl, and
# renames the parts to OUT and epoch-E.optim.safetensors when the epoch is
# complete.  An interrupted epoch leaves its part pair, and the next train
# of the same OUT resumes from it (the log continues), bit-identically.
set -euo pipefail

prog=epoch.sh
usage() {
	echo "usage: $prog [-b BIN] [-t THREADS] [-p PRECISION] tokenize OUT STREAM VOCAB CKPT | init OUT STREAM VOCAB EPOCHS BATCH WARMUP [OPTION...] | train OUT PREV TOKSTREAM SEED E" >&2
	exit 2
}
die() { echo "$prog: $*" >&2; exit 1; }

bin='' threads=0 precision=auto
while getopts b:t:p: opt; do
	case $opt in
	b) bin=$OPTARG/ ;;
	t) threads=$OPTARG ;;
	p) precision=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
cmd=$1
shift

# info CKPT KEY: a value of merit-step --info
info() {
	local v
	v=$("${bin}merit-step" --info -m "$1" | awk -F'\t' -v k="$2" '$1 == k { print $2 }')
	[ -n "$v" ] || die "$1: no $2 in merit-step --info"
	printf '%s\n' "$v"
}
# count N WHAT: N is a whole number
count() { [[ $1 =~ ^[0-9]+$ ]] || die "$1: $2 is not a whole number"; }

tokenize() {
	[ $# -eq 4 ] || usage
	local out=$1 stream=$2 vocab=$3 ckpt=$4
	echo "tokenize: $out"
	"${bin}txt-tokenize" -v "$vocab" --max-len "$(info "$ckpt" max_len)" "$stream" > "$out"
}

init() {
	[ $# -ge 6 ] || usage
	local out=$1 stream=$2 vocab=$3 epochs=$4 batch=$5 warmup=$6 n t
	shift 6
	count "$epochs" EPOCHS; count "$batch" BATCH
	[ "$batch" -ge 1 ] || die "BATCH is 0"
	mkdir -p "${out%/*}"
	echo "pretrain ${out%/*}: init"
	n=$("${bin}ecg-cat" -c "$stream")
	t=$((epochs * (n / batch)))
	[ "$t" -ge 1 ] || t=1
	if [ "$warmup" = auto ]; then
		warmup=$((t / 20))
		[ "$warmup" -ge 1 ] || warmup=1
	fi
	"${bin}merit-step" --init "$@" --batch "$batch" --vocab "$vocab" --total-steps "$t" \
	    --warmup "$warmup" -o "$out"
}

train() {
	[ $# -eq 5 ] || usage
	local out=$1 prev=$2 tok=$3 seed=$4 e=$5 from base part s patch ratio
	count "$seed" SEED; count "$e" "the epoch"
	case $out in *.safetensors) ;; *) die "$out: not a .safetensors file" ;; esac
	base=${out%.safetensors} from=$prev
	part=$base.part.safetensors
	if [ -e "$part" ] && [ -e "$base.part.optim.safetensors" ]; then
		from=$part
		echo "pretrain ${out%/*}: epoch $e (resuming)"
	else
		rm -f "$base.jsonl"
		echo "pretrain ${out%/*}: epoch $e"
	fi
	s=$((seed * 1000 + e))
	patch=$(info "$prev" patch) ratio=$(info "$prev" mask_ratio)
	"${bin}ecg-shuffle" -s "$s" "$tok" |
	    "${bin}ecg-mask" -s "$s" -p "$patch" -r "$ratio" |
	    "${bin}merit-step" -m "$from" -o "$part" --threads "$threads" --precision "$precision" --log "$base.jsonl"
	mv "$base.part.optim.safetensors" "$base.optim.safetensors"
	mv "$part" "$out"
}

case $cmd in
tokenize | init | train) "$cmd" "$@" ;;
*) usage ;;
esac
