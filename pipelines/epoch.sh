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
#   epoch.sh [-b BIN] [-t THREADS] [-p PRECISION] [-M MASK] [-n NP [-r MPIRUN] [-H HOSTFILE]]
#            train OUT PREV TOKSTREAM SEED E
#       epoch E from checkpoint PREV: ecg-shuffle -s S | ecg-mask -s S (PREV's
#       patch and mask ratio, and MASK's options) | merit-step, S = SEED *
#       1000 + E; with NP > 1
#       an MPI job, MPIRUN -np NP [--hostfile HOSTFILE], each rank running
#       that pipeline on TOKSTREAM
#
# BIN is the folder of the filters (default: the PATH), THREADS merit-step's
# --threads (0, the default: all cores; under MPI, of each rank), PRECISION
# its --precision (auto, the default: bf16 where the CPU has it), MASK more
# options of ecg-mask, words split at spaces (-D P: lead dropout), MPIRUN
# the command and options that start MPI jobs (default mpirun).  train writes OUT's neighbours
# (OUT = DIR/epoch-E.safetensors): it trains into epoch-E.part.safetensors
# (and merit-step's .part.optim.safetensors), logs to epoch-E.jsonl, and
# renames the parts to OUT and epoch-E.optim.safetensors when the epoch is
# complete.  An interrupted epoch leaves its part pair, and the next train
# of the same OUT resumes from it (the log continues), bit-identically.
set -euo pipefail

prog=epoch.sh
usage() {
	echo "usage: $prog [-b BIN] [-t THREADS] [-p PRECISION] [-M MASK] [-n NP [-r MPIRUN] [-H HOSTFILE]] tokenize OUT STREAM VOCAB CKPT | init OUT STREAM VOCAB EPOCHS BATCH WARMUP [OPTION...] | train OUT PREV TOKSTREAM SEED E" >&2
	exit 2
}
die() { echo "$prog: $*" >&2; exit 1; }

bin='' threads=0 precision=auto mask='' np=1 mpirun=mpirun hostfile=''
while getopts b:t:p:M:n:r:H: opt; do
	case $opt in
	b) bin=$OPTARG/ ;;
	t) threads=$OPTARG ;;
	p) precision=$OPTARG ;;
	M) mask=$OPTARG ;;
	n) np=$OPTARG ;;
	r) mpirun=$OPTARG ;;
	H) hostfile=$OPTARG ;;
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
	local mopt=()
	read -r -a mopt <<< "$mask"
	if [ "$np" -gt 1 ]; then
		# every rank runs the pipeline on the same file: the same stream
		local run=() pipe
		read -r -a run <<< "$mpirun"
		command -v "${run[0]}" >/dev/null ||
		    die "NP=$np: no ${run[0]} on PATH (install openmpi-bin, or give MPIRUN)"
		run+=(-np "$np")
		[ -z "$hostfile" ] || run+=(--hostfile "$hostfile")
		pipe='"$0ecg-shuffle" -s "$1" "$2" | "$0ecg-mask" -s "$1" -p "$3" -r "$4" "${@:10}" |
		    "$0merit-step" -m "$5" -o "$6" --threads "$7" --precision "$8" --log "$9"'
		"${run[@]}" bash -o pipefail -c "$pipe" "$bin" "$s" "$tok" "$patch" "$ratio" \
		    "$from" "$part" "$threads" "$precision" "$base.jsonl" "${mopt[@]}"
	else
		"${bin}ecg-shuffle" -s "$s" "$tok" |
		    "${bin}ecg-mask" -s "$s" -p "$patch" -r "$ratio" "${mopt[@]}" |
		    "${bin}merit-step" -m "$from" -o "$part" --threads "$threads" --precision "$precision" --log "$base.jsonl"
	fi
	mv "$base.part.optim.safetensors" "$base.optim.safetensors"
	mv "$part" "$out"
}

case $cmd in
tokenize | init | train) "$cmd" "$@" ;;
*) usage ;;
esac
