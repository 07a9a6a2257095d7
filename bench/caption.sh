#!/usr/bin/env bash
# merit-caption on the demo's sizes (encoder pipelines/demo.conf, decoder
# pipelines/caption.conf, vocabulary 2048, 64 tokens, batch 32): training
# tokens/s (scored report tokens) from the stored memory and from the
# signal (the frozen encoder run every step), --encode records/s, and
# generation tokens/s greedy and with beam 3 (medians of BENCH_RUNS runs).
set -euo pipefail
: "${BENCH_RUNS:=3}" "${MERIT_THREADS:=2}" "${BENCH_STEPS:=8}"
root=${MERIT_ROOT:-.}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

n=$((32 * BENCH_STEPS))
ecg-synth -n "$n" --fs 100 -s 1 > "$dir/s.ecgz"
txt-tokenize --learn 2048 -o "$dir/v.txt" "$dir/s.ecgz" 2>/dev/null || true
txt-tokenize -v "$dir/v.txt" --max-len 64 "$dir/s.ecgz" > "$dir/t.ecgz"
merit-step --init --config "$root/pipelines/demo.conf" --vocab "$dir/v.txt" -o "$dir/enc.safetensors" 2>/dev/null
merit-caption --init -m "$dir/enc.safetensors" --config "$root/pipelines/caption.conf" \
    --batch 32 --total-steps 1000 --warmup 10 -o "$dir/c.safetensors" 2>/dev/null
th=(--threads "$MERIT_THREADS")
now() { date +%s.%N; }

for i in $(seq "$BENCH_RUNS"); do
	t0=$(now)
	merit-caption --encode -m "$dir/c.safetensors" --batch 32 "${th[@]}" "$dir/t.ecgz" > "$dir/m.ecgz"
	echo "$n $t0 $(now)" | awk '{print $1 / ($3 - $2)}' >> "$dir/encode"
	for src in m t; do
		rm -f "$dir/log.jsonl"
		merit-caption -m "$dir/c.safetensors" -o "$dir/o.safetensors" "${th[@]}" \
		    --log "$dir/log.jsonl" "$dir/$src.ecgz" 2>/dev/null
		jq -r 'select(.step > 2) | .tokens_per_s' "$dir/log.jsonl" | median >> "$dir/train-$src"
	done
	for beam in 1 3; do
		t0=$(now)
		merit-caption --generate -m "$dir/o.safetensors" --beam $beam --batch 32 "${th[@]}" \
		    "$dir/m.ecgz" > "$dir/g.ecgz"
		t1=$(now)
		tok=$(ecg-dump -a "$dir/g.ecgz" | jq '[.gen_tok.data[] | select(. != 0)] | length - 1' | awk '{s += $1} END {print s}')
		echo "$tok $t0 $t1" | awk '{print $1 / ($3 - $2)}' >> "$dir/gen-$beam"
	done
done
printf 'merit-caption, %d threads, demo sizes, batch 32 (%d records):\n' "$MERIT_THREADS" "$n"
printf '  training, stored memory   %8.0f tokens/s\n' "$(median < "$dir/train-m")"
printf '  training, from the signal %8.0f tokens/s (the frozen encoder every step)\n' "$(median < "$dir/train-t")"
printf '  --encode                  %8.1f records/s\n' "$(median < "$dir/encode")"
printf '  generation, greedy        %8.0f tokens/s\n' "$(median < "$dir/gen-1")"
printf '  generation, beam 3        %8.0f tokens/s\n' "$(median < "$dir/gen-3")"
