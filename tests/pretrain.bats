#!/usr/bin/env bats
# pipelines/pretrain.mk: tokenizer, init and one make target per epoch.

load test_helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ecg-synth -n 70 -s 3 --fs 100 > train.ecgz
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

# mk [VAR=value…] [target…] (default target: pretrain)
mk() {
	make -s -C "$MERIT_ROOT" --no-print-directory TRAIN="$D/train.ecgz" \
	    PRESET=merit-xs EPOCHS=3 BATCH=16 VOCAB_SIZE=300 SEED=5 THREADS=1 "$@"
}
pretrain() { mk pretrain "$@"; }

info() { merit-step --info -m "$1" | awk -F'\t' -v k="$2" '$1 == k { print $2 }'; }

@test "make pretrain: vocabulary, epochs, model and log; the schedule covers every epoch" {
	run pretrain PRETRAIN_DIR="$PWD/pt"
	assert_success
	assert_line "pretrain $PWD/pt: epoch 3"
	assert_line "pretrain: $PWD/pt/model.safetensors (log: $PWD/pt/log.jsonl)"
	[ -s pt/vocab.txt ]
	# 70 records in batches of 16: 4 steps an epoch, 6 records dropped
	[ "$(info pt/model.safetensors step)" = 12 ]
	[ "$(info pt/epoch-0.safetensors train.total_steps)" = 12 ]
	[ "$(info pt/epoch-0.safetensors max_len)" = 16 ]
	[ "$(wc -l < pt/log.jsonl)" = 12 ]
	[ "$(jq -s 'map(.step) == [range(1; 13)]' pt/log.jsonl)" = true ]
	cmp pt/model.safetensors pt/epoch-3.safetensors
	# nothing to do the second time
	run pretrain PRETRAIN_DIR="$PWD/pt"
	assert_success
	refute_output -p "epoch"
}

@test "make -j4 pretrain: the same model, bit for bit, as a serial run" {
	pretrain PRETRAIN_DIR="$PWD/serial" >/dev/null
	run mk -j4 pretrain PRETRAIN_DIR="$PWD/par"
	assert_success
	cmp serial/model.safetensors par/model.safetensors
	# the logs differ only in samples/s
	[ "$(jq -c 'del(.samples_per_s)' serial/log.jsonl)" = \
	    "$(jq -c 'del(.samples_per_s)' par/log.jsonl)" ]
}

@test "an interrupted epoch resumes from its .part checkpoint, bit-identically" {
	pretrain PRETRAIN_DIR="$PWD/full" >/dev/null
	mk PRETRAIN_DIR="$PWD/pt" "$PWD/pt/epoch-1.safetensors" 2>/dev/null
	# what an interrupt in epoch 2 after 3 steps leaves behind
	ecg-shuffle -s 5002 pt/train.tok.ecgz | ecg-mask -s 5002 |
	    merit-step -m pt/epoch-1.safetensors -o pt/epoch-2.part.safetensors --steps 3 --threads 1 \
	    --precision auto --log pt/epoch-2.jsonl 2>/dev/null || true
	[ -e pt/epoch-2.part.optim.safetensors ]
	run pretrain PRETRAIN_DIR="$PWD/pt"
	assert_success
	assert_line "pretrain $PWD/pt: epoch 2 (resuming)"
	[ ! -e pt/epoch-2.part.safetensors ]
	cmp full/model.safetensors pt/model.safetensors
	cmp full/epoch-3.optim.safetensors pt/epoch-3.optim.safetensors
	# the log of the resumed epoch continues where the interrupted one stopped
	diff <(jq -c 'del(.samples_per_s)' full/log.jsonl) <(jq -c 'del(.samples_per_s)' pt/log.jsonl)
}

@test "a failing epoch leaves no checkpoint of that epoch" {
	mk PRETRAIN_DIR="$PWD/pt" "$PWD/pt/epoch-1.safetensors" 2>/dev/null
	# the tokenized stream replaced by records without tok: the epochs are
	# remade and the first fails
	ecg-head -n 20 "$D/train.ecgz" > pt/train.tok.ecgz
	run pretrain PRETRAIN_DIR="$PWD/pt"
	assert_failure
	assert_output -p "record 1: no field tok"
	[ ! -e pt/model.safetensors ]
	[ ! -e pt/epoch-3.safetensors ]
	# what is left is whole: each epoch's checkpoint at its step, no parts
	for f in pt/epoch-[12].safetensors; do
		[ -e "$f" ] || continue
		e=${f#pt/epoch-}; e=${e%.safetensors}
		[ "$(info "$f" step)" = $((4 * e)) ]
	done
	refute_leftovers pt '*.part.*'
}

@test "the filters are prerequisites: a rebuilt filter retrains what it made" {
	# a copy of the filters, so that touching one (what a rebuild does to
	# it) leaves the tree's own alone
	mkdir tb
	cp "$MERIT_BIN"/{txt-tokenize,merit-step,ecg-cat,ecg-shuffle,ecg-mask} tb/
	pretrain MERIT_BIN="$PWD/tb" PRETRAIN_DIR="$PWD/pt" >/dev/null
	cp pt/model.safetensors before.safetensors
	model=$PWD/pt/model.safetensors
	mk -q MERIT_BIN="$PWD/tb" PRETRAIN_DIR="$PWD/pt" "$model"
	# a rebuilt ecg-mask: the epochs are remade, not the init
	touch tb/ecg-mask
	run mk -q MERIT_BIN="$PWD/tb" PRETRAIN_DIR="$PWD/pt" "$model"
	[ "$status" -eq 1 ]
	run mk -n MERIT_BIN="$PWD/tb" PRETRAIN_DIR="$PWD/pt" "$model"
	assert_success
	assert_output -p " train $PWD/pt/epoch-1.safetensors "
	refute_output -p " init "
	# a rebuilt merit-step: everything it made, the init first; the same model
	touch tb/merit-step
	run mk -n MERIT_BIN="$PWD/tb" PRETRAIN_DIR="$PWD/pt" "$model"
	assert_output -p " init $PWD/pt/epoch-0.safetensors "
	assert_output -p " tokenize $PWD/pt/train.tok.ecgz "
	run pretrain MERIT_BIN="$PWD/tb" PRETRAIN_DIR="$PWD/pt"
	assert_success
	assert_line "pretrain $PWD/pt: init"
	assert_line "pretrain $PWD/pt: epoch 3"
	cmp before.safetensors pt/model.safetensors
	mk -q MERIT_BIN="$PWD/tb" PRETRAIN_DIR="$PWD/pt" "$model"
	# the tree's own filters are prerequisites too, by the names the
	# Makefile builds them as (make -W: as if that one were rebuilt)
	# (bin, or bin-san under make check SANITIZE=1, whose SANITIZE reaches
	# this make through MAKEFLAGS)
	own=$MERIT_BIN
	for b in bin bin-san; do [ "$MERIT_BIN" -ef "$MERIT_ROOT/$b" ] && own=$b; done
	pretrain PRETRAIN_DIR="$PWD/own" >/dev/null
	mk -q PRETRAIN_DIR="$PWD/own" "$PWD/own/model.safetensors"
	run mk -q -W "$own/ecg-shuffle" PRETRAIN_DIR="$PWD/own" "$PWD/own/model.safetensors"
	[ "$status" -eq 1 ]
	mk -q -W "$own/ecg-tsne" PRETRAIN_DIR="$PWD/own" "$PWD/own/model.safetensors"
}

@test "make pretrain FILTER=…: the training records go through ecg-filter first" {
	run pretrain PRETRAIN_DIR="$PWD/pf" EPOCHS=1 FILTER='--band 0.67,40 --order 4'
	assert_success
	assert_line "filter: ecg-filter --band 0.67,40 --order 4 $D/train.ecgz"
	[ "$(ecg-dump pf/train.ecgz | jq -c '[.filter.kind, .filter.lo, .filter.hi, .filter.order, .sig.dtype]' | sort -u)" = '["bandpass",0.67,40,4,"float32"]' ]
	[ "$(ecg-cat -c pf/train.tok.ecgz)" = 70 ]
	[ "$(info pf/model.safetensors step)" = 4 ]
}

@test "make pretrain MASK=…: ecg-mask's options in every epoch (lead dropout), the hand-run model" {
	run pretrain PRETRAIN_DIR="$PWD/pd" EPOCHS=1 MASK='-D 0.5'
	assert_success
	# the epoch by hand, with ecg-mask -D 0.5
	ecg-shuffle -s 5001 pd/train.tok.ecgz | ecg-mask -s 5001 -D 0.5 |
	    merit-step -m pd/epoch-0.safetensors -o hand.safetensors --threads 1 --precision auto \
	    2>/dev/null
	cmp hand.safetensors pd/model.safetensors
	# without MASK another model
	pretrain PRETRAIN_DIR="$PWD/pn" EPOCHS=1 >/dev/null
	! cmp -s pn/model.safetensors pd/model.safetensors
	# a bad option is ecg-mask's error, and the epoch is not made
	run pretrain PRETRAIN_DIR="$PWD/pb" EPOCHS=1 MASK='-D 1.5'
	assert_failure
	assert_output -p "ecg-mask: -D: out of range [0, 1]: 1.5"
	[ ! -e pb/epoch-1.safetensors ] && [ ! -e pb/model.safetensors ]
}
