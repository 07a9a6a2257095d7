#!/usr/bin/env bats
# merit-step: model creation, training on streams, resuming, interruption.

load test_helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ecg-synth -n 96 -s 7 --fs 100 > s.ecgz
	txt-tokenize --learn 512 -o v.txt s.ecgz
	txt-tokenize -v v.txt --max-len 16 s.ecgz > tk.ecgz
	ecg-mask -s 1 tk.ecgz > t.ecgz
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

init() {
	merit-step --init --preset merit-xs --vocab "$D/v.txt" --total-steps 40 --warmup 2 \
	    --batch 8 --lr 1e-3 "$@" -o ck0.safetensors 2>/dev/null
}

# tensors NAME… of a safetensors file as one line of numbers
tensors() {
	/usr/bin/python3 - "$@" <<'EOF'
import json, struct, sys
import numpy as np
f = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', f[:8])[0]
h = json.loads(f[8:8 + n])
for name in sys.argv[2:]:
    e = h[name]
    a, b = e['data_offsets']
    print(' '.join('%.9g' % x for x in np.frombuffer(f[8 + n + a:8 + n + b], '<f4')))
EOF
}

@test "--init: a merit-xs checkpoint with its tokenizer and training options" {
	init --seed 3
	[ -s ck0.safetensors ]
	[ ! -e ck0.optim.safetensors ]
	run merit-step --info -m ck0.safetensors
	assert_success
	assert_line -p "preset	merit-xs"
	assert_line "step	0"
	assert_line "train.batch	8"
	assert_line "train.total_steps	40"
	assert_line "train.seed	3"
	assert_line "tokenizer	yes"
	# the seed decides the weights
	merit-step --init --preset merit-xs --seed 3 -o a.safetensors 2>/dev/null
	merit-step --init --preset merit-xs --seed 4 -o b.safetensors 2>/dev/null
	[ "$(tensors ck0.safetensors ecg.patch.weight)" = "$(tensors a.safetensors ecg.patch.weight)" ]
	[ "$(tensors a.safetensors ecg.patch.weight)" != "$(tensors b.safetensors ecg.patch.weight)" ]
}

@test "--init --config: sizes from a file; bad keys and values named with their line" {
	printf 'preset merit-xs\n# a comment\necg_d = 40\necg_heads 4\n' > c.conf
	merit-step --init --config c.conf -o c.safetensors 2>/dev/null
	run merit-step --info -m c.safetensors
	assert_line "ecg	d 40, 2 blocks, 4 heads, mlp 48"
	printf 'preset merit-xs\necg_width 40\n' > bad.conf
	run merit-step --init --config bad.conf -o x.safetensors
	assert_failure 1
	assert_output "merit-step: bad.conf: line 2: unknown key ecg_width"
	printf 'preset merit-xs\necg_heads 3\n' > bad.conf
	run merit-step --init --config bad.conf -o x.safetensors
	assert_failure 1
	assert_output -p "merit-step: bad.conf: "
	run merit-step --init --preset merit-xl -o x.safetensors
	assert_failure 1
	assert_output "merit-step: --preset: unknown preset merit-xl (merit-s, merit-xs)"
	[ ! -e x.safetensors ]
	refute_leftovers . '*.tmp'
}

@test "--init --config: the attention structure and positions are stored, trained and encoded" {
	printf 'preset merit-xs\ndec_attn crisscross\nenc_attn = axial\npos sincos\n' > s.conf
	merit-step --init --config s.conf --vocab "$D/v.txt" --batch 8 --total-steps 40 \
	    --warmup 2 --lr 1e-3 -o s.safetensors 2>/dev/null
	run merit-step --info -m s.safetensors
	assert_line "enc_attn	axial"
	assert_line "dec_attn	crisscross"
	assert_line "pos	sincos"
	run merit-step -m s.safetensors -o s1.safetensors --log log.jsonl "$D/t.ecgz"
	assert_success
	[ "$(wc -l < log.jsonl)" -eq 12 ]
	# the sin-cos tables are not trained
	[ "$(tensors s.safetensors ecg.time_pos dec.time_pos)" = \
	  "$(tensors s1.safetensors ecg.time_pos dec.time_pos)" ]
	[ "$(tensors s.safetensors ecg.lead_emb)" != "$(tensors s1.safetensors ecg.lead_emb)" ]
	run merit-step --info -m s1.safetensors
	assert_line "dec_attn	crisscross"
	ecg-encode -m s1.safetensors "$D/t.ecgz" | ecg-dump | jq -e 'has("h") and has("e")' > /dev/null
	# a model of the default structure stores none of the keys
	merit-step --init --preset merit-xs -o d.safetensors 2>/dev/null
	run merit-step --info -m d.safetensors
	refute_line -p "attn"
	refute_line -p "pos	"
	printf 'preset merit-xs\ndec_attn diagonal\n' > bad.conf
	run merit-step --init --config bad.conf -o x.safetensors
	assert_failure 1
	assert_output "merit-step: bad.conf: line 2: dec_attn diagonal is not full, crisscross or axial"
	printf 'preset merit-xs\npos fixed\n' > bad.conf
	run merit-step --init --config bad.conf -o x.safetensors
	assert_failure 1
	assert_output "merit-step: bad.conf: line 2: pos fixed is not learned or sincos"
	[ ! -e x.safetensors ]
}

@test "--init --config: a model of terabytes is refused before it is allocated" {
	# issue 18: each size was bounded, the total not (ASan aborted, the
	# plain build said "out of memory")
	printf 'txt_d 65536\ntxt_mlp 1048576\ntxt_layers 32\n' > big.conf
	run merit-step --init --config big.conf -o x.safetensors
	assert_failure 1
	assert_output -p "merit-step: big.conf: model too large: "
	assert_output -p " GiB as float32); the limit is 268435456 (1 GiB)"
	# 32 blocks of 2 * 65536 * 1048576 + 4 * 65536^2 weights: 18 TB
	[[ $output =~ "too large: "([0-9]+)" parameters (" ]]
	(( BASH_REMATCH[1] > 32 * (2 * 65536 * 1048576 + 4 * 65536 * 65536) ))
	# within the parameter limit, not the activations of a record
	printf 'samples 100000\npatch 10\n' > long.conf
	run merit-step --init --config long.conf -o x.safetensors
	assert_failure 1
	assert_output -p "merit-step: long.conf: model too large: "
	assert_output -p " activations per record ("
	assert_output -p "; the limit is 268435456 (1 GiB)"
	[ ! -e x.safetensors ]
	refute_leftovers . '*.tmp*'
}

@test "a vocabulary larger than the model's is refused" {
	txt-tokenize --learn 600 -o big.txt "$D/s.ecgz"
	run merit-step --init --preset merit-xs --vocab big.txt -o x.safetensors
	assert_failure 1
	assert_output -p "big.txt: "
	assert_output -p "more than the model's txt_vocab 512"
	[ ! -e x.safetensors ]
}

@test "training: L_cma falls well below its start, L_rec below its start and the zero predictor" {
	merit-step --init --preset merit-xs --vocab "$D/v.txt" --total-steps 300 --warmup 20 \
	    --batch 16 --lr 3e-3 -o ck0.safetensors 2>/dev/null
	for e in $(seq 1 50); do ecg-shuffle -s "$e" "$D/tk.ecgz" | ecg-mask -s "$e"; done |
	    ecg-cat > epochs.ecgz
	merit-step -m ck0.safetensors -o ck1.safetensors --log log.jsonl --threads 1 epochs.ecgz \
	    2>/dev/null
	[ "$(wc -l < log.jsonl)" -eq 300 ]
	# means of the first and last 20 steps
	first=$(head -n 20 log.jsonl | jq -s '[(map(.L_rec) | add / length), (map(.L_cma) | add / length)]')
	last=$(tail -n 20 log.jsonl | jq -s '[(map(.L_rec) | add / length), (map(.L_cma) | add / length)]')
	echo "first $first last $last"
	# L_cma: well below its start (ln 16 = 2.77 is chance for a batch of 16).
	# L_rec: predicting zeros scores 1 exactly; merit-xs learns the
	# cross-lead structure slowly (a torch copy of the model trained on the
	# same batches follows the same curve), so the margin is small but
	# far outside the step-to-step noise of the first steps.
	jq -n --argjson f "$first" --argjson l "$last" \
	    '$l[0] < 0.995 and $l[0] < $f[0] - 0.008 and $l[1] < 0.6 * $f[1] and $l[1] < 1.5' |
	    grep -qx true
}

@test "rec-only with dec_attn crisscross: L_rec falls clearly below the predict-zero level" {
	# Issue 13's loss test.  Predicting zeros scores 1 on the per-patch
	# normalised target.  With the decoder as first specified (dec_attn
	# full, the only decoder before the key existed) the same 300 steps end
	# at 0.988 (mean of the last 20): full attention over 240 tokens does
	# not learn the time alignment in that budget.  The criss-cross decoder
	# ends near 0.82 here; the threshold 0.9 leaves room for the
	# step-to-step noise (sd about 0.02 over 20 steps).
	printf 'preset merit-xs\ndec_attn crisscross\n' > c.conf
	merit-step --init --config c.conf --vocab "$D/v.txt" --total-steps 300 --warmup 20 \
	    --batch 16 --lr 6e-3 -o ck0.safetensors 2>/dev/null
	for e in $(seq 1 50); do ecg-shuffle -s "$e" "$D/tk.ecgz" | ecg-mask -s "$e"; done |
	    ecg-cat > epochs.ecgz
	merit-step -m ck0.safetensors -o ck1.safetensors --lambda-cma 0 --log log.jsonl \
	    --threads 1 epochs.ecgz 2>/dev/null
	[ "$(wc -l < log.jsonl)" -eq 300 ]
	last=$(tail -n 20 log.jsonl | jq -s 'map(.L_rec) | add / length')
	echo "last 20 steps: L_rec $last"
	jq -n --argjson l "$last" '$l < 0.9' | grep -qx true
}

@test "the log has one JSON line per step with every term" {
	init
	run merit-step -m ck0.safetensors -o ck1.safetensors --log log.jsonl "$D/t.ecgz"
	assert_success
	assert_output ""
	[ "$(wc -l < log.jsonl)" -eq 12 ]
	run jq -c 'keys' log.jsonl
	assert_line '["L_cma","L_rec","grad_norm","loss","lr","samples_per_s","step","temperature"]'
	[ "$(jq -s 'map(.step) == [range(1; 13)]' log.jsonl)" = true ]
	# warm-up: the learning rate grows over the first two steps
	[ "$(jq -s '.[0].lr < .[1].lr and .[1].lr >= .[2].lr' log.jsonl)" = true ]
	run merit-step --info -m ck1.safetensors
	assert_line "step	12"
	assert_line "resume.complete	1"
	[ -s ck1.optim.safetensors ]
}

@test "the last partial batch is dropped and said so" {
	init
	ecg-head -n 21 "$D/t.ecgz" > h.ecgz
	run merit-step -m ck0.safetensors -o ck1.safetensors h.ecgz
	assert_success
	assert_output "merit-step: dropped the last 5 records (a partial batch)"
	run merit-step --info -m ck1.safetensors
	assert_line "step	2"
}

@test "epochs chain: the options and step carry over, a resumed run is bit-identical" {
	init
	merit-step -m ck0.safetensors -o full.safetensors "$D/t.ecgz" 2>/dev/null
	# the same epoch in three pieces: 3 steps, then 4, then the rest
	merit-step -m ck0.safetensors -o p1.safetensors --steps 3 "$D/t.ecgz" 2>/dev/null
	run merit-step --info -m p1.safetensors
	assert_line "resume.records	24"
	assert_line "resume.complete	0"
	merit-step -m p1.safetensors -o p2.safetensors --steps 4 "$D/t.ecgz" 2>/dev/null
	run merit-step -m p2.safetensors -o p3.safetensors "$D/t.ecgz"
	assert_output -p "resuming at step 7: skipping the 56 records p2.safetensors trained on"
	cmp full.safetensors p3.safetensors
	cmp full.optim.safetensors p3.optim.safetensors
	# a second epoch starts at the stream's first record
	merit-step -m full.safetensors -o e2.safetensors "$D/t.ecgz" 2>/dev/null
	run merit-step --info -m e2.safetensors
	assert_line "step	24"
	assert_line "train.batch	8"
}

@test "SIGTERM: the step finishes, the checkpoint is written, exit 143; resuming matches" {
	init
	merit-step -m ck0.safetensors -o full.safetensors "$D/t.ecgz" 2>/dev/null
	mkfifo pipe
	# 40 records then a stream that stays open: merit-step waits on the pipe
	{ ecg-head -n 40 "$D/t.ecgz"; sleep 30; } > pipe &
	feeder=$!
	merit-step -m ck0.safetensors -o part.safetensors --log log.jsonl < pipe 2>err &
	pid=$!
	for i in $(seq 1 100); do
		[ "$(cat log.jsonl 2>/dev/null | wc -l)" -ge 5 ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 143
	kill "$feeder" 2>/dev/null || true
	run cat err
	assert_output -p "merit-step: interrupted by signal 15 after step 5; part.safetensors written"
	run merit-step --info -m part.safetensors
	assert_line "step	5"
	assert_line "resume.records	40"
	merit-step -m part.safetensors -o rest.safetensors "$D/t.ecgz" 2>/dev/null
	cmp full.safetensors rest.safetensors
	cmp full.optim.safetensors rest.optim.safetensors
}

@test "SIGKILL at any moment leaves the last saved checkpoint whole" {
	init
	mkfifo pipe
	{ ecg-head -n 64 "$D/t.ecgz"; sleep 30; } > pipe &
	feeder=$!
	merit-step -m ck0.safetensors -o out.safetensors --save-every 1 --log log.jsonl \
	    < pipe 2>/dev/null &
	pid=$!
	for i in $(seq 1 100); do
		[ "$(cat log.jsonl 2>/dev/null | wc -l)" -ge 4 ] && break
		sleep 0.02
	done
	kill -KILL "$pid"
	wait "$pid" || true
	kill "$feeder" 2>/dev/null || true
	run merit-step --info -m out.safetensors
	assert_success
	# saved after every step: at least the one before the kill, at most all 8
	step=$(merit-step --info -m out.safetensors | awk '$1 == "step" { print $2 }')
	[ "$step" -ge 3 ] && [ "$step" -le 8 ]
	[ "$(merit-step --info -m out.safetensors | awk '$1 == "resume.records" { print $2 }')" -eq $((8 * step)) ]
	# the pair belongs together: training from it works
	merit-step -m out.safetensors -o next.safetensors --restart-stream --steps 1 \
	    "$D/t.ecgz" 2>/dev/null
}

@test "--lambda-cma 0 trains without tok and never touches the text tower" {
	init --lambda-cma 0
	ecg-mask -s 1 "$D/s.ecgz" > notok.ecgz
	merit-step -m ck0.safetensors -o ck1.safetensors --log log.jsonl notok.ecgz 2>/dev/null
	[ "$(jq -cs 'map(.L_cma) | unique' log.jsonl)" = "[0]" ]
	for t in txt.tok_emb txt.proj.weight ecg.proj.weight logit_scale; do
		[ "$(tensors ck0.safetensors $t)" = "$(tensors ck1.safetensors $t)" ]
	done
	[ "$(tensors ck0.safetensors ecg.patch.weight)" != "$(tensors ck1.safetensors ecg.patch.weight)" ]
	# rec-off likewise leaves the decoder alone
	init --lambda-rec 0
	merit-step -m ck0.safetensors -o ck2.safetensors "$D/t.ecgz" 2>/dev/null
	for t in dec.mask_token dec.out.weight; do
		[ "$(tensors ck0.safetensors $t)" = "$(tensors ck2.safetensors $t)" ]
	done
}

@test "a record without a field it needs: named with the record, nothing written" {
	init
	run merit-step -m ck0.safetensors -o ck1.safetensors "$D/tk.ecgz"
	assert_failure 1
	assert_output "merit-step: $D/tk.ecgz: record 1: no field mask (run ecg-mask first)"
	ecg-mask -s 1 "$D/s.ecgz" > notok.ecgz
	run merit-step -m ck0.safetensors -o ck1.safetensors notok.ecgz
	assert_failure 1
	assert_output -p "notok.ecgz: record 1: no field tok"
	ecg-synth -n 3 --fs 250 | txt-tokenize -v "$D/v.txt" --max-len 16 | ecg-mask > fs250.ecgz
	run merit-step -m ck0.safetensors -o ck1.safetensors fs250.ecgz
	assert_failure 1
	assert_output -p "fs250.ecgz: record 1: sig has shape [12, 2500], the model needs [12, 1000]"
	txt-tokenize -v "$D/v.txt" "$D/s.ecgz" | ecg-mask > tok64.ecgz
	run merit-step -m ck0.safetensors -o ck1.safetensors tok64.ecgz
	assert_failure 1
	assert_output -p "record 1: field tok has 64 ids, the model needs 16"
	ecg-mask -r 0.9 "$D/tk.ecgz" > m90.ecgz
	run merit-step -m ck0.safetensors -o ck1.safetensors m90.ecgz
	assert_failure 1
	assert_output -p "record 1: field mask has 24 visible patches, the model needs 60 (mask ratio 0.75)"
	# a truncated stream after some batches: an error, and no checkpoint
	head -c 200000 "$D/t.ecgz" > trunc.ecgz
	run merit-step -m ck0.safetensors -o ck1.safetensors trunc.ecgz
	assert_failure 1
	assert_output -p "trunc.ecgz: "
	[ ! -e ck1.safetensors ]
	[ ! -e ck1.optim.safetensors ]
	refute_leftovers . '*.tmp'
}

# poison FILE TENSOR VALUE [INDEX]: set element INDEX (default every
# element) of TENSOR in FILE to VALUE, in place
poison() {
	/usr/bin/python3 - "$@" <<'EOF'
import json, struct, sys
p, name, value = sys.argv[1], sys.argv[2], float(sys.argv[3])
f = bytearray(open(p, 'rb').read())
n = struct.unpack('<Q', f[:8])[0]
a, b = json.loads(f[8:8 + n])[name]['data_offsets']
if len(sys.argv) > 4:
    a += 4 * int(sys.argv[4])
    b = a + 4
f[8 + n + a:8 + n + b] = struct.pack('<f', value) * ((b - a) // 4)
open(p, 'wb').write(f)
EOF
}

@test "a non-finite loss stops at the step it happens, naming it; the input stays" {
	init
	# finite weights whose products overflow float: the decoder's input
	# is infinite, its LayerNorm NaN
	poison ck0.safetensors dec.in.weight 3e38
	sum=$(md5sum < ck0.safetensors)
	run merit-step -m ck0.safetensors -o ck1.safetensors "$D/t.ecgz"
	assert_failure 1
	assert_output -p "merit-step: step 1: non-finite loss (L_rec "
	assert_output -p "nan, L_cma "
	assert_output -p "the input checkpoint is unchanged"
	[ ! -e ck1.safetensors ]
	[ "$(md5sum < ck0.safetensors)" = "$sum" ]
}

@test "a checkpoint with a NaN or infinite weight is refused, naming the tensor and element" {
	# issue 18: a NaN weight loaded without complaint
	init
	cp ck0.safetensors nan.safetensors
	poison nan.safetensors dec.out.bias nan 0
	run merit-step -m nan.safetensors -o ck1.safetensors "$D/t.ecgz"
	assert_failure 1
	assert_output "merit-step: nan.safetensors: tensor dec.out.bias: element 0 is not finite"
	[ ! -e ck1.safetensors ]
	cp ck0.safetensors inf.safetensors
	poison inf.safetensors ecg.blocks.0.attn.qkv.weight -inf 17
	run ecg-encode -m inf.safetensors -o e.ecgz "$D/t.ecgz"
	assert_failure 1
	assert_output "ecg-encode: inf.safetensors: tensor ecg.blocks.0.attn.qkv.weight: element 17 is not finite"
	[ ! -e e.ecgz ]
}

@test "usage and missing options" {
	run merit-step
	assert_failure 2
	assert_output -p "usage: merit-step --init"
	init --total-steps 5
	run merit-step -m nosuch.safetensors -o x.safetensors "$D/t.ecgz"
	assert_failure 1
	assert_output -p "nosuch.safetensors"
	merit-step --init --preset merit-xs -o nt.safetensors 2>/dev/null
	run merit-step -m nt.safetensors -o x.safetensors "$D/t.ecgz"
	assert_failure 1
	assert_output "merit-step: no --total-steps for the learning-rate schedule (give it here or with --init)"
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option merit-step
}
