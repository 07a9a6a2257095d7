#!/usr/bin/env bats
# merit-step under mpirun: the same bits as one process in chunks, global
# negatives, faults (a killed rank, bad input, other streams), SIGTERM.

load test_helper

# how the tests start MPI jobs: as root (CI) mpirun wants
# --allow-run-as-root, and 4 ranks on a 2-core machine --oversubscribe
MPIRUN="mpirun --allow-run-as-root --oversubscribe"
# Open MPI's allocations outlive MPI_Finalize: no leak report in bin-san
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ecg-synth -n 128 -s 7 --fs 100 > s.ecgz
	txt-tokenize --learn 512 -o v.txt s.ecgz
	txt-tokenize -v v.txt --max-len 16 s.ecgz | ecg-mask -s 1 > t.ecgz
	merit-step --init --preset merit-xs --vocab v.txt --total-steps 40 --warmup 2 \
	    --batch 16 --lr 1e-3 -o ck0.safetensors 2>/dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

# mp N merit-step options...: an N-rank job, one thread a rank
mp() {
	local n=$1
	shift
	$MPIRUN -np "$n" merit-step --threads 1 "$@"
}

# feed: 48 records (3 steps) into pipe.0 and pipe.1, which then stay open:
# the ranks wait on them; the feeders' pids in $feeders
feed() {
	mkfifo pipe.0 pipe.1
	feeders=
	for r in 0 1; do
		(ecg-head -n 48 "$D/t.ecgz"; exec sleep 30) > pipe.$r 3>&- &
		feeders="$feeders $!"
	done
}

# wait_steps N: until log.jsonl has N steps (10 s at most)
wait_steps() {
	for i in $(seq 1 200); do
		[ "$(cat log.jsonl 2>/dev/null | wc -l)" -ge "$1" ] && return
		sleep 0.05
	done
}

# ||a - b|| / ||a|| over every tensor of two checkpoints
reldiff() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import json, struct, sys
import numpy as np
def load(p):
    f = open(p, 'rb').read()
    n = struct.unpack('<Q', f[:8])[0]
    h = json.loads(f[8:8 + n])
    return np.concatenate([np.frombuffer(f[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], '<f4')
                           for k, v in sorted(h.items()) if k != '__metadata__']).astype(np.float64)
a, b = load(sys.argv[1]), load(sys.argv[2])
print('%.3g' % (np.linalg.norm(a - b) / np.linalg.norm(a)))
EOF
}

@test "-np 2 and -np 4, batch 16, 8 steps: the same bits as one process in 2 and 4 chunks" {
	merit-step -m "$D/ck0.safetensors" -o c2.safetensors --threads 1 --chunks 2 "$D/t.ecgz"
	mp 2 -m "$D/ck0.safetensors" -o o2.safetensors --ordered-reduce --log o2.jsonl "$D/t.ecgz"
	[ "$(wc -l < o2.jsonl)" -eq 8 ]
	cmp c2.safetensors o2.safetensors
	cmp c2.optim.safetensors o2.optim.safetensors
	# run after run: the same bits; MPI_Allreduce over 2 ranks adds a + b
	# both ways, the same
	mp 2 -m "$D/ck0.safetensors" -o a2.safetensors "$D/t.ecgz"
	cmp c2.safetensors a2.safetensors
	cmp c2.optim.safetensors a2.optim.safetensors
	merit-step -m "$D/ck0.safetensors" -o c4.safetensors --threads 1 --chunks 4 "$D/t.ecgz"
	mp 4 -m "$D/ck0.safetensors" -o o4.safetensors --ordered-reduce "$D/t.ecgz"
	cmp c4.safetensors o4.safetensors
	cmp c4.optim.safetensors o4.optim.safetensors
	# unordered over 4 ranks: within float rounding
	mp 4 -m "$D/ck0.safetensors" -o a4.safetensors "$D/t.ecgz"
	d=$(reldiff c4.safetensors a4.safetensors)
	awk -v d="$d" 'BEGIN { exit !(d <= 1e-6) }' || fail "unordered -np 4: relative difference $d"
	# and the chunks change only the rounding of the unchunked run
	merit-step -m "$D/ck0.safetensors" -o c1.safetensors --threads 1 "$D/t.ecgz"
	d=$(reldiff c1.safetensors c2.safetensors)
	awk -v d="$d" 'BEGIN { exit !(d > 0 && d <= 1e-5) }' || fail "chunks 1 vs 2: $d"
}

@test "L_cma under -np 2 is the one-process L_cma of the global batch, not per-rank negatives" {
	ecg-head -n 16 "$D/t.ecgz" > b1.ecgz
	merit-step -m "$D/ck0.safetensors" -o one.safetensors --log one.jsonl b1.ecgz
	mp 2 -m "$D/ck0.safetensors" -o two.safetensors --log two.jsonl b1.ecgz
	g=$(jq -r .L_cma one.jsonl) m=$(jq -r .L_cma two.jsonl)
	# per-rank negatives: each rank's 8 records against each other only
	# (--lr 0: the second step sees the first step's weights)
	merit-step -m "$D/ck0.safetensors" -o x.safetensors --batch 8 --steps 2 --lr 0 \
	    --log local.jsonl b1.ecgz
	l=$(jq -s 'map(.L_cma) | add / 2' local.jsonl)
	awk -v g="$g" -v m="$m" -v l="$l" 'BEGIN {
		d = (g - m) / g; if (d < 0) d = -d
		e = (g - l) / g; if (e < 0) e = -e
		exit !(d <= 1e-6 && e > 0.05) }' ||
	    fail "L_cma: one process $g, -np 2 $m, per-rank negatives $l"
	[ "$(jq -r .L_rec one.jsonl)" = "$(jq -r .L_rec two.jsonl)" ] ||
	    awk -v a="$(jq -r .L_rec one.jsonl)" -v b="$(jq -r .L_rec two.jsonl)" \
	    'BEGIN { d = (a - b) / a; exit !(d < 1e-6 && d > -1e-6) }'
}

@test "kill -9 of a rank mid-epoch: the job stops naming it, the pair loads, -np 1 resumes to the same bits" {
	mp 2 -m "$D/ck0.safetensors" -o full.safetensors --ordered-reduce "$D/t.ecgz"
	feed
	$MPIRUN -np 2 sh -c 'echo $$ > pid.$OMPI_COMM_WORLD_RANK; exec merit-step --threads 1 \
	    -m "$0" -o out.safetensors --ordered-reduce --save-every 1 --log log.jsonl \
	    < pipe.$OMPI_COMM_WORLD_RANK' "$D/ck0.safetensors" > err 2>&1 &
	job=$!
	wait_steps 3
	sleep 0.2
	kill -KILL "$(cat pid.1)"
	st=0
	wait "$job" || st=$?
	kill $feeders 2>/dev/null || true
	[ "$st" -ne 0 ]
	run cat err
	assert_output -p "rank 1"
	assert_output -p "signal 9"
	run merit-step --info -m out.safetensors
	assert_success
	assert_line "step	3"
	assert_line "resume.records	48"
	merit-step -m out.safetensors -o rest.safetensors --threads 1 --chunks 2 "$D/t.ecgz" 2>/dev/null
	cmp full.safetensors rest.safetensors
	cmp full.optim.safetensors rest.optim.safetensors
}

@test "SIGTERM on mpirun: every rank stops after the same step, rank 0 saves, resuming matches" {
	feed
	$MPIRUN -np 2 sh -c 'exec merit-step --threads 1 -m "$0" -o part.safetensors \
	    --log log.jsonl < pipe.$OMPI_COMM_WORLD_RANK' "$D/ck0.safetensors" 2> err &
	job=$!
	wait_steps 3
	sleep 0.3
	kill -TERM "$job"
	wait "$job" || true
	kill $feeders 2>/dev/null || true
	run cat err
	assert_output -p "merit-step: rank 0: interrupted by signal 15 after step 3; part.safetensors written"
	run merit-step --info -m part.safetensors
	assert_line "resume.records	48"
	mp 2 -m part.safetensors -o rest.safetensors "$D/t.ecgz"
	mp 2 -m "$D/ck0.safetensors" -o full.safetensors "$D/t.ecgz"
	cmp full.safetensors rest.safetensors
}

@test "a bad record in rank 1's slice, another stream on a rank, a batch N does not divide" {
	ecg-head -n 5 "$D/t.ecgz" > h5.ecgz
	txt-tokenize -v "$D/v.txt" --max-len 16 "$D/s.ecgz" | ecg-head -n 1 > nomask.ecgz
	ecg-cat h5.ecgz nomask.ecgz "$D/t.ecgz" > bad.ecgz
	run mp 2 -m "$D/ck0.safetensors" -o out.safetensors --batch 8 bad.ecgz
	assert_failure
	assert_output -p "merit-step: rank 1: bad.ecgz: record 6: no field mask (run ecg-mask first)"
	[ ! -e out.safetensors ]
	# rank 1 reads another shuffle of the stream: the same header, other records
	ecg-shuffle -s 1 "$D/t.ecgz" > a.ecgz
	ecg-shuffle -s 2 "$D/t.ecgz" > b.ecgz
	run $MPIRUN -np 2 sh -c 'exec merit-step --threads 1 -m "$0" -o out.safetensors \
	    $([ "$OMPI_COMM_WORLD_RANK" = 1 ] && echo b.ecgz || echo a.ecgz)' "$D/ck0.safetensors"
	assert_failure
	assert_output -p "merit-step: rank 0: rank 1 reads another stream than rank 0 (the records of the batch of step 1 differ)"
	[ ! -e out.safetensors ]
	# a stream with another header
	run $MPIRUN -np 2 sh -c 'exec merit-step --threads 1 -m "$0" -o out.safetensors \
	    $([ "$OMPI_COMM_WORLD_RANK" = 1 ] && echo h5.ecgz || echo a.ecgz)' "$D/ck0.safetensors"
	assert_failure
	assert_output -p "rank 1 reads another stream than rank 0 (the headers differ)"
	# stdin reaches rank 0 only
	run bash -c "$MPIRUN -np 2 merit-step -m $D/ck0.safetensors -o out.safetensors < a.ecgz"
	assert_failure
	assert_output -p "merit-step: rank 1: stdin: "
	assert_output -p "mpirun gives its stdin to rank 0 only"
	run mp 2 -m "$D/ck0.safetensors" -o out.safetensors --batch 9 a.ecgz
	assert_failure
	assert_output -p "merit-step: rank 0: --batch 9 is not a multiple of the 2 ranks"
	run mp 2 -m "$D/ck0.safetensors" -o out.safetensors --chunks 4 a.ecgz
	assert_failure
	assert_output -p "--chunks 4 under 2 ranks"
	run merit-step -m "$D/ck0.safetensors" -o out.safetensors --chunks 3 a.ecgz
	assert_failure 1
	assert_output "merit-step: --batch 16 is not a multiple of the 3 chunks of --chunks: the global batch is cut into equal slices"
	[ ! -e out.safetensors ]
}

@test "make pretrain NP=2: the epochs under mpirun, the model one process makes; no mpirun: said" {
	# fp32: the parity is fp32's (bf16's rounding differs with the slices)
	mk() {
		make -s -C "$MERIT_ROOT" --no-print-directory TRAIN="$D/s.ecgz" PRESET=merit-xs \
		    EPOCHS=2 BATCH=16 VOCAB_SIZE=300 SEED=5 THREADS=1 PRECISION=fp32 "$@"
	}
	run mk pretrain NP=2 MPIRUN="$MPIRUN" PRETRAIN_DIR="$PWD/two"
	assert_success
	assert_line "pretrain $PWD/two: epoch 2"
	[ "$(merit-step --info -m two/model.safetensors | awk '$1 == "step" { print $2 }')" = 16 ]
	[ "$(wc -l < two/log.jsonl)" = 16 ]
	[ "$(jq -s 'map(.ranks) | unique' two/log.jsonl | jq -c .)" = "[2]" ]
	mk pretrain PRETRAIN_DIR="$PWD/one" >/dev/null
	d=$(reldiff one/model.safetensors two/model.safetensors)
	awk -v d="$d" 'BEGIN { exit !(d <= 1e-5) }' || fail "NP=1 vs NP=2: $d"
	run mk pretrain NP=2 MPIRUN="no-such-mpirun --oversubscribe" PRETRAIN_DIR="$PWD/none"
	assert_failure
	assert_output -p "make pretrain NP=2: no no-such-mpirun on PATH; install Open MPI"
	[ ! -e none ]
}
