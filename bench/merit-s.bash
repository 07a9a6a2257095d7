# bench/merit-s.bash, sourced by step.sh and mpi.sh: merit_s_stream DIR N
# writes DIR/t.ecgz (N synthetic 100 Hz records with tok and mask, the
# tokenizer DIR/v.txt) and DIR/ck.safetensors (merit-s, 1000 steps).
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

merit_s_stream() {
	local dir=$1 n=$2
	ecg-synth -n "$n" --fs 100 -s 1 > "$dir/s.ecgz"
	txt-tokenize --learn 4096 -o "$dir/v.txt" "$dir/s.ecgz" 2>/dev/null || true
	txt-tokenize -v "$dir/v.txt" "$dir/s.ecgz" | ecg-mask -s 1 > "$dir/t.ecgz"
	merit-step --init --preset merit-s --vocab "$dir/v.txt" --total-steps 1000 --warmup 10 \
	    -o "$dir/ck.safetensors" 2>/dev/null
}
