#!/usr/bin/env bats
# merit-caption: caption models on a frozen encoder: creation, training,
# resuming, generation, the text-only baseline and bad inputs.

load test_helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ecg-synth -n 48 -s 7 --fs 100 > s.ecgz
	txt-tokenize --learn 512 -o v.txt s.ecgz
	txt-tokenize -v v.txt --max-len 16 s.ecgz > t.ecgz
	merit-step --init --preset merit-xs --vocab v.txt -s 1 -o enc.safetensors 2>/dev/null
	printf 'cap_d 16\ncap_layers 1\ncap_heads 2\ncap_mlp 24\n' > small.conf
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

init() {
	merit-caption --init -m "$D/enc.safetensors" --config "$D/small.conf" --total-steps 6 \
	    --batch 8 --lr 3e-3 "$@" -o c0.safetensors 2>/dev/null
}

# tensors NAME… of a safetensors file as one line of numbers each
tensors() {
	/usr/bin/python3 - "$@" <<'EOF'
import json, struct, sys
import numpy as np
f = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', f[:8])[0]
h = json.loads(f[8:8 + n])
for name in sys.argv[2:]:
    a, b = h[name]['data_offsets']
    print(' '.join('%.9g' % x for x in np.frombuffer(f[8 + n + a:8 + n + b], '<f4')))
EOF
}

# the records of a stream as JSON lines, field FIELD of each
field() { ecg-dump -a "$1" | jq -c ".$2"; }

@test "--init: a caption checkpoint holding the frozen encoder and its tokenizer" {
	init -s 3
	run merit-caption --info -m c0.safetensors
	assert_success
	assert_line "format	merit-caption"
	assert_line "cap.d	16"
	assert_line "cap.ecg	1"
	assert_line "cap.memory	leads"
	assert_line "enc.txt_vocab	512"
	assert_line "train.total_steps	6"
	assert_line "step	0"
	# the encoder's tensors are copied unchanged
	[ "$(tensors c0.safetensors ecg.patch.weight ecg.blocks.1.mlp.fc2.weight)" = \
	  "$(tensors "$D/enc.safetensors" ecg.patch.weight ecg.blocks.1.mlp.fc2.weight)" ]
	# the seed decides the decoder's weights
	merit-caption --init -m "$D/enc.safetensors" -s 3 -o a.safetensors 2>/dev/null
	merit-caption --init -m "$D/enc.safetensors" -s 4 -o b.safetensors 2>/dev/null
	[ "$(tensors a.safetensors cap.tok_emb)" != "$(tensors b.safetensors cap.tok_emb)" ]
	run merit-caption --info -m a.safetensors
	assert_line "cap.d	64"     # the default decoder
}

@test "--init: a bad config, a non-merit encoder or one without tokenizer is refused" {
	printf 'cap_d 16\ncap_depth 3\n' > bad.conf
	run --separate-stderr merit-caption --init -m "$D/enc.safetensors" --config bad.conf -o x.safetensors
	assert_failure 1
	assert_equal "$stderr" "merit-caption: bad.conf: line 2: unknown key cap_depth (cap_d, cap_layers, cap_heads, cap_mlp, cap_memory)"
	printf 'cap_memory all\n' > bad.conf
	run --separate-stderr merit-caption --init -m "$D/enc.safetensors" --config bad.conf -o x.safetensors
	assert_failure 1
	assert_equal "$stderr" "merit-caption: bad.conf: line 1: cap_memory all is not leads or tokens"
	printf 'cap_d 18\ncap_heads 4\n' > bad.conf
	run --separate-stderr merit-caption --init -m "$D/enc.safetensors" --config bad.conf -o x.safetensors
	assert_failure 1
	assert_equal "$stderr" "merit-caption: bad.conf: cap_d 18 not divisible by 4 heads"
	init
	run --separate-stderr merit-caption --init -m c0.safetensors -o x.safetensors
	assert_failure 1
	assert_equal "$stderr" "merit-caption: c0.safetensors: not a merit checkpoint (format merit-caption)"
	merit-step --init --preset merit-xs -o novocab.safetensors 2>/dev/null
	run --separate-stderr merit-caption --init -m novocab.safetensors -o x.safetensors
	assert_failure 1
	assert_equal "$stderr" "merit-caption: novocab.safetensors: the encoder has no tokenizer (merit-step --init --vocab)"
	[ ! -e x.safetensors ]
	refute_leftovers .
}

@test "training: the loss falls, the steps and position are kept, resuming is bit-identical" {
	init
	merit-caption -m c0.safetensors -o full.safetensors --log log.jsonl "$D/t.ecgz" 2>/dev/null
	[ -e full.optim.safetensors ]
	run merit-caption --info -m full.safetensors
	assert_line "step	6"
	assert_line "resume.complete	1"
	[ "$(wc -l < log.jsonl)" -eq 6 ]
	first=$(jq -s '.[0].loss' log.jsonl) last=$(jq -s '.[5].loss' log.jsonl)
	jq -en "$last < $first" >/dev/null || fail "loss $first -> $last"
	# 2 steps, then the rest from where they stopped
	merit-caption -m c0.safetensors -o part.safetensors --steps 2 "$D/t.ecgz" 2>/dev/null
	run merit-caption --info -m part.safetensors
	assert_line "resume.records	16"
	assert_line "resume.complete	0"
	merit-caption -m part.safetensors -o rest.safetensors "$D/t.ecgz" 2>/dev/null
	cmp full.safetensors rest.safetensors
	cmp full.optim.safetensors rest.optim.safetensors
	# epochs chain: the options come from the checkpoint
	merit-caption -m full.safetensors -o e2.safetensors --total-steps 12 "$D/t.ecgz" 2>/dev/null
	run merit-caption --info -m e2.safetensors
	assert_line "step	12"
	assert_line "train.batch	8"
}

@test "training: the same run twice gives the same bits, --threads 1 and 2 each" {
	init
	for th in 1 2; do
		merit-caption -m c0.safetensors -o a$th.safetensors --threads $th "$D/t.ecgz" 2>/dev/null
		merit-caption -m c0.safetensors -o b$th.safetensors --threads $th "$D/t.ecgz" 2>/dev/null
		cmp a$th.safetensors b$th.safetensors
	done
}

@test "--generate: gen and gen_tok, [CLS] first, [SEP] last, the same bits twice" {
	init
	merit-caption -m c0.safetensors -o m.safetensors --total-steps 12 --lr 1e-2 "$D/t.ecgz" 2>/dev/null
	merit-caption --generate -m m.safetensors --batch 5 "$D/t.ecgz" > g1.ecgz
	merit-caption --generate -m m.safetensors --batch 5 "$D/t.ecgz" > g2.ecgz
	cmp g1.ecgz g2.ecgz
	[ "$(ecg-dump -a g1.ecgz | wc -l)" -eq 48 ]
	# every record: gen_tok is [CLS] ... [SEP] [PAD]... of the model's 16, gen its text
	ecg-dump -a g1.ecgz | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    t = r["gen_tok"]["data"]
    assert r["gen_tok"]["shape"] == [16] and t[0] == 2, t
    n = t.index(0) if 0 in t else 16
    assert t[n - 1] == 3 or n == 16, t
    assert all(x == 0 for x in t[n:]) and all(x >= 5 for x in t[1:n - 1]), t
    assert isinstance(r["gen"], str) and "report" in r and "sig" in r
'
	merit-caption --generate -m m.safetensors --beam 3 --length-penalty 0.5 "$D/t.ecgz" > b.ecgz
	[ "$(ecg-dump -a b.ecgz | wc -l)" -eq 48 ]
	merit-caption --generate -m m.safetensors --max-len 3 "$D/t.ecgz" > s.ecgz
	field s.ecgz gen_tok.data | jq -e 'all(.[4:][]; . == 0)' >/dev/null
	# a second --generate replaces the fields, it does not repeat them
	merit-caption --generate -m m.safetensors --max-len 3 s.ecgz > s2.ecgz
	[ "$(ecg-dump -a s2.ecgz | head -n 1 | jq 'keys | map(select(. == "gen")) | length')" -eq 1 ]
}

@test "--encode: the stored memory trains and generates as the signal does; another encoder's is refused" {
	init
	merit-caption --encode -m c0.safetensors --batch 8 "$D/t.ecgz" > e.ecgz
	[ "$(field e.ecgz cap_mem.shape | head -n 1)" = "[12,32]" ]
	ecg-dump -a e.ecgz | jq -c 'del(.sig)' | ecg-pack > mem.ecgz
	# encoded in the training's batches of 8: the same bits as from sig
	merit-caption -m c0.safetensors -o a.safetensors "$D/t.ecgz" 2>/dev/null
	merit-caption -m c0.safetensors -o b.safetensors mem.ecgz 2>/dev/null
	cmp a.safetensors b.safetensors
	merit-caption --generate -m a.safetensors --batch 8 "$D/t.ecgz" > g1.ecgz
	merit-caption --generate -m a.safetensors --batch 8 mem.ecgz > g2.ecgz
	[ "$(field g1.ecgz gen_tok)" = "$(field g2.ecgz gen_tok)" ]
	# a caption model on another encoder
	merit-step --init --preset merit-xs --vocab "$D/v.txt" -s 2 -o enc2.safetensors 2>/dev/null
	merit-caption --init -m enc2.safetensors --total-steps 6 --batch 8 -o o.safetensors 2>/dev/null
	run --separate-stderr merit-caption -m o.safetensors -o x.safetensors mem.ecgz
	assert_failure 1
	assert_regex "$stderr" "^merit-caption: mem.ecgz: record 1: field cap_mem was made by another encoder \(cap_enc [0-9a-f]{16}, the model's [0-9a-f]{16}\)$"
	[ ! -e x.safetensors ]
}

@test "cap_memory tokens: the decoder attends to every encoder token" {
	{ cat "$D/small.conf"; echo 'cap_memory = tokens'; } > tokens.conf
	merit-caption --init -m "$D/enc.safetensors" --config tokens.conf --total-steps 6 --batch 8 \
	    -o c0.safetensors 2>/dev/null
	run merit-caption --info -m c0.safetensors
	assert_line "cap.memory	tokens"
	merit-caption --encode -m c0.safetensors --batch 8 "$D/t.ecgz" > e.ecgz
	[ "$(field e.ecgz cap_mem.shape | head -n 1)" = "[240,32]" ]
	merit-caption -m c0.safetensors -o a.safetensors "$D/t.ecgz" 2>/dev/null
	merit-caption -m c0.safetensors -o b.safetensors e.ecgz 2>/dev/null
	cmp a.safetensors b.safetensors
	merit-caption --generate -m a.safetensors e.ecgz > g.ecgz
	[ "$(ecg-dump -a g.ecgz | wc -l)" -eq 48 ]
}

@test "--no-ecg: the text-only baseline trains on tok alone and never touches cross-attention" {
	init --no-ecg
	run merit-caption --info -m c0.safetensors
	assert_line "cap.ecg	0"
	# no sig needed: drop it
	ecg-dump -a "$D/t.ecgz" | jq -c 'del(.sig)' | ecg-pack > nosig.ecgz
	merit-caption -m c0.safetensors -o n.safetensors nosig.ecgz 2>/dev/null
	run merit-caption --info -m n.safetensors
	assert_line "step	6"
	[ "$(tensors c0.safetensors cap.blocks.0.xattn.kv.weight)" = "$(tensors n.safetensors cap.blocks.0.xattn.kv.weight)" ]
	[ "$(tensors c0.safetensors cap.tok_emb)" != "$(tensors n.safetensors cap.tok_emb)" ]
	# the same report for every record: nothing but the text prior
	merit-caption --generate -m n.safetensors nosig.ecgz > g.ecgz
	[ "$(field g.ecgz gen | sort -u | wc -l)" -eq 1 ]
}

@test "bad training inputs: no tok, no sig, another vocabulary or length, not a caption model" {
	init
	ecg-dump -a "$D/t.ecgz" | jq -c 'if .id == "synth7-000003" then del(.tok) else . end' | ecg-pack > notok.ecgz
	run --separate-stderr merit-caption -m c0.safetensors -o x.safetensors notok.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-caption: notok.ecgz: record 3: no field tok (run txt-tokenize -v VOCAB first)"
	ecg-dump -a "$D/t.ecgz" | jq -c 'if .id == "synth7-000002" then del(.sig) else . end' | ecg-pack > nosig.ecgz
	run --separate-stderr merit-caption -m c0.safetensors -o x.safetensors nosig.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-caption: nosig.ecgz: record 2: no field sig"
	txt-tokenize --learn 1024 -o big.txt "$D/s.ecgz"
	txt-tokenize -v big.txt --max-len 16 "$D/s.ecgz" > big.ecgz
	run --separate-stderr merit-caption -m c0.safetensors -o x.safetensors big.ecgz
	assert_failure 1
	assert_regex "$stderr" "^merit-caption: big.ecgz: record [0-9]+: field tok: id [0-9]+ at [0-9]+ is outside the model's vocabulary of 512$"
	txt-tokenize -v "$D/v.txt" --max-len 12 "$D/s.ecgz" > short.ecgz
	run --separate-stderr merit-caption -m c0.safetensors -o x.safetensors short.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-caption: short.ecgz: record 1: field tok has 12 ids, the model needs 16 (txt-tokenize --max-len 16)"
	run --separate-stderr merit-caption -m "$D/enc.safetensors" -o x.safetensors "$D/t.ecgz"
	assert_failure 1
	assert_equal "$stderr" "merit-caption: $D/enc.safetensors: not a merit-caption checkpoint (format merit)"
	[ ! -e x.safetensors ] && [ ! -e x.optim.safetensors ]
	refute_leftovers .
}

@test "bad generation inputs: no sig, beam width and max length out of range; no partial output" {
	init
	ecg-dump -a "$D/t.ecgz" | jq -c 'if .id == "synth7-000030" then del(.sig) else . end' | ecg-pack > nosig.ecgz
	run --separate-stderr merit-caption --generate -m c0.safetensors -o g.ecgz nosig.ecgz
	assert_failure 1
	assert_equal "$stderr" "merit-caption: nosig.ecgz: record 30: no field sig"
	[ ! -e g.ecgz ]
	refute_leftovers .
	run --separate-stderr merit-caption --generate -m c0.safetensors --beam 0 "$D/t.ecgz"
	assert_failure
	assert_equal "$stderr" "merit-caption: --beam: out of range [1, 64]: 0"
	run --separate-stderr merit-caption --generate -m c0.safetensors --beam 65 "$D/t.ecgz"
	assert_failure
	assert_equal "$stderr" "merit-caption: --beam: out of range [1, 64]: 65"
	run --separate-stderr merit-caption --generate -m c0.safetensors --max-len 16 "$D/t.ecgz"
	assert_failure 1
	assert_equal "$stderr" "merit-caption: --max-len 16: more than the 15 tokens the model holds (max_len 16 - 1)"
	run --separate-stderr merit-caption --generate -m c0.safetensors --max-len 0 "$D/t.ecgz"
	assert_failure
	assert_equal "$stderr" "merit-caption: --max-len: out of range [1, 65536]: 0"
	assert_equal "$output" ""
	run --separate-stderr merit-caption --generate -m "$D/enc.safetensors" "$D/t.ecgz"
	assert_failure 1
	assert_equal "$stderr" "merit-caption: $D/enc.safetensors: not a merit-caption checkpoint (format merit)"
}

@test "usage: -h, --help, --version, unknown options, options of another mode" {
	check_help_and_bad_option merit-caption
	run --separate-stderr merit-caption --generate -m x --steps 3
	assert_failure 2
	run --separate-stderr merit-caption -m x -o y --beam 2
	assert_failure 2
	run --separate-stderr merit-caption --init -o y
	assert_failure 2
}
