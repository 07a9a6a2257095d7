#!/usr/bin/env bats
# ecg-encode: h and e (or t, or recon and xn) added to every record, in
# order, other fields untouched, the same whatever the batch; bad records
# named, no partial output.

load test_helper

# 20 synthetic merit-xs records (100 Hz, 1000 samples) with tok and mask,
# and a randomly initialised merit-xs checkpoint with their tokenizer.
setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ecg-synth -n 20 -s 3 --fs 100 -o s.ecgz
	txt-tokenize -L 400 -o v.txt s.ecgz
	txt-tokenize -v v.txt --max-len 16 s.ecgz | ecg-mask -s 1 > m.ecgz
	merit-step --init --preset merit-xs --vocab v.txt --seed 4 -o ck.safetensors 2>/dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
}

# |v|^2 of a dumped float vector field, one line per record
norms() { ecg-dump -a "$1" | jq "[.$2.data[] | . * .] | add"; }

@test "h [32] and e [12] added; order and every other field kept; e has unit norm" {
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" -o e.ecgz "$D/m.ecgz"
	assert_success
	assert_equal "$stderr" ""
	[ "$(ecg-dump -a e.ecgz | jq -c 'del(.h, .e)')" = "$(ecg-dump -a "$D/m.ecgz" | jq -c .)" ]
	[ "$(ecg-dump e.ecgz | jq -c '[.h.dtype, .h.shape, .e.dtype, .e.shape]' | sort -u)" = '["float32",[32],"float32",[12]]' ]
	[ "$(norms e.ecgz e | awk '$1 < 0.99999 || $1 > 1.00001' | wc -l)" = 0 ]
	[ "$(ecg-cat -c e.ecgz)" = 20 ]
	# records differ, so do their embeddings
	[ "$(ecg-dump -a e.ecgz | jq -c .e.data | sort -u | wc -l)" = 20 ]
}

@test "the same bits whatever the batch: --batch 1, 7 and the default 64" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" > a.ecgz
	ecg-encode -m "$D/ck.safetensors" --batch 1 "$D/m.ecgz" > b.ecgz
	ecg-encode -m "$D/ck.safetensors" --batch 7 --threads 1 < "$D/m.ecgz" > c.ecgz
	ecg-dump -a a.ecgz > a.jsonl; ecg-dump -a b.ecgz > b.jsonl; ecg-dump -a c.ecgz > c.jsonl
	cmp a.jsonl b.jsonl
	cmp a.jsonl c.jsonl
	# and the same as one record on its own
	ecg-head -n 1 "$D/m.ecgz" | ecg-encode -m "$D/ck.safetensors" | ecg-dump -a > one.jsonl
	[ "$(cat one.jsonl)" = "$(head -1 a.jsonl)" ]
}

@test "fields h and e already present are replaced, not doubled" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" > a.ecgz
	ecg-encode -m "$D/ck.safetensors" --batch 3 a.ecgz > b.ecgz
	[ "$(ecg-dump -a a.ecgz)" = "$(ecg-dump -a b.ecgz)" ]
}

@test "--text: t [12] of unit norm from tok; h and e of an earlier pass kept" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-encode -m "$D/ck.safetensors" --text --batch 6 > t.ecgz
	[ "$(ecg-dump -a t.ecgz | jq -c 'del(.t)')" = "$(ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a | jq -c .)" ]
	[ "$(ecg-dump t.ecgz | jq -c '[.t.dtype, .t.shape]' | sort -u)" = '["float32",[12]]' ]
	[ "$(norms t.ecgz t | awk '$1 < 0.99999 || $1 > 1.00001' | wc -l)" = 0 ]
	# the same report, the same t; --text needs no signal
	ecg-dump -a "$D/m.ecgz" | jq -c '{id, tok}' | ecg-pack > tok.ecgz
	[ "$(ecg-encode -m "$D/ck.safetensors" --text tok.ecgz | ecg-dump -a | jq -c .t)" = "$(ecg-dump -a t.ecgz | jq -c .t)" ]
}

@test "--recon: xn and recon [12, 1000]; xn is the lead-normalised signal" {
	ecg-encode -m "$D/ck.safetensors" --recon --batch 8 "$D/m.ecgz" > r.ecgz
	[ "$(ecg-dump r.ecgz | jq -c '[.xn.shape, .recon.shape, .h.shape, .e.shape]' | sort -u)" = '[[12,1000],[12,1000],[32],[12]]' ]
	# every lead of xn: mean 0, population standard deviation 1
	run bash -c "ecg-dump -a r.ecgz | jq -r '.xn.data as \$x | range(12) as \$l | \$x[\$l * 1000:(\$l + 1) * 1000] | (add / 1000) as \$m | [\$m, ((map((. - \$m) * (. - \$m)) | add) / 1000)] | @tsv' | awk '\$1 > 1e-4 || \$1 < -1e-4 || \$2 < 0.999 || \$2 > 1.001' | wc -l"
	assert_output 0
	# h and e as without --recon
	[ "$(ecg-dump -a r.ecgz | jq -c '[.h, .e]')" = "$(ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a | jq -c '[.h, .e]')" ]
}

@test "bad input: a record without sig, tok or mask is named; exit 1; no partial output" {
	ecg-dump -a "$D/m.ecgz" > m.jsonl
	sed '9s/"sig":/"sug":/' m.jsonl | ecg-pack > nosig.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --batch 4 -o out.ecgz nosig.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: nosig.ecgz: record 9: no field sig"
	[ ! -e out.ecgz ]; refute_leftovers .
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --text -o out.ecgz "$D/s.ecgz"
	assert_failure 1
	[[ $stderr == "ecg-encode: $D/s.ecgz: record 1: no field tok"* ]]
	[ ! -e out.ecgz ]; refute_leftovers .
	jq -c 'if .id == "synth3-000020" then del(.mask) else . end' m.jsonl | ecg-pack > nomask.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --recon -o out.ecgz nomask.ecgz
	assert_failure 1
	assert_equal "${stderr%% (*}" "ecg-encode: nomask.ecgz: record 20: no field mask"
	[ ! -e out.ecgz ]; refute_leftovers .
	# standard input is "stdin"
	run --separate-stderr bash -c "ecg-encode -m '$D/ck.safetensors' < nosig.ecgz > /dev/null"
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: stdin: record 9: no field sig"
}

@test "bad input: a signal of the wrong length for the checkpoint" {
	ecg-synth -n 3 -s 2 --fs 100 --seconds 5 -o short.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" -o out.ecgz short.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: short.ecgz: record 1: sig has shape [12, 500], the model needs [12, 1000] (100 Hz, 1000 samples: ingest with --fs 100 and --seconds)"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "bad checkpoint, usage errors" {
	echo nonsense > bad.safetensors
	run --separate-stderr ecg-encode -m bad.safetensors -o out.ecgz "$D/m.ecgz"
	assert_failure 1
	[[ $stderr == "ecg-encode: bad.safetensors"* ]]
	[ ! -e out.ecgz ]
	run --separate-stderr ecg-encode "$D/m.ecgz"
	assert_failure 2
	assert_equal "$stderr" "usage: ecg-encode -m checkpoint [-f] [-o file] [--batch N] [--threads N] [--leads set] [--precision fp32|bf16|auto] [--text | --recon] [file]"
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --text --recon "$D/m.ecgz"
	assert_failure 2
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --batch 0 "$D/m.ecgz"
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: --batch: out of range [1, 65536]: 0"
}

@test "merit-s: one thread, batches of 16 and of 1 give the same bits" {
	# OpenBLAS rounds a 16-row product (e of 16 records) differently from
	# one of fewer rows; e is projected per record so it does not matter
	merit-step --init --preset merit-s --seed 1 -o s.safetensors 2>/dev/null
	ecg-synth -n 16 -s 5 --fs 100 -o r.ecgz
	ecg-encode -m s.safetensors --threads 1 --batch 16 r.ecgz | ecg-dump -a > a.jsonl
	ecg-encode -m s.safetensors --threads 1 --batch 1 r.ecgz | ecg-dump -a > b.jsonl
	cmp a.jsonl b.jsonl
	[ "$(jq -c '[.h.shape, .e.shape]' a.jsonl | sort -u)" = "[[256],[128]]" ]
}

# --- lead subsets ---------------------------------------------------------

# subsets IN OUT: the records of IN with their `missing` set in turn to
# none, all but II, the chest leads (limb present), all but I, II, V2, and
# all but V5
subsets() {
	ecg-dump -a "$1" | jq -c -n '[inputs] | to_entries[] |
	  ["I","II","III","aVR","aVL","aVF","V1","V2","V3","V4","V5","V6"] as $L |
	  [[], ($L - ["II"]), ($L[6:]), ($L - ["I","II","V2"]), ["V5"]] as $S |
	  .value.missing = $S[.key % 5] | .value' | ecg-pack > "$2"
}

# same ID, h and e as FILE: equal to 1e-6 of each vector's max |value| (bit
# for bit on the machine that wrote the fixture; OpenBLAS's kernels, which
# depend on the CPU, may round differently elsewhere)
same_he() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
import numpy as np
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
for x, y in zip(a, b):
    assert x["id"] == y["id"]
    for k in ("h", "e"):
        u, v = np.array(x[k]), np.array(y[k])
        assert u.shape == v.shape
        assert np.abs(u - v).max() <= 1e-6 * np.abs(v).max(), (x["id"], k)
EOF
}

@test "twelve leads present: the encoder's output before subset encoding" {
	# tests/fixtures/encode12/README: h and e written by the build before
	merit-step --init --preset merit-xs --seed 4 -o g.safetensors 2>/dev/null
	for b in 1 3; do
		ecg-encode -m g.safetensors --batch "$b" "$FIX/encode12/in.ecgz" |
		    ecg-dump -a | jq -c '{id, h: .h.data, e: .e.data}' > he$b.jsonl
		same_he he$b.jsonl "$FIX/encode12/he.jsonl"
	done
	cmp he1.jsonl he3.jsonl
	# and --leads 12 (every lead named) changes nothing, bit for bit
	ecg-encode -m g.safetensors --leads 12 "$FIX/encode12/in.ecgz" |
	    ecg-dump -a | jq -c '{id, h: .h.data, e: .e.data}' | cmp - he1.jsonl
}

@test "--leads II: the bits of the 11 others listed in missing, not of zeros fed for them" {
	ecg-head -n 4 "$D/m.ecgz" > four.ecgz
	ecg-encode -m "$D/ck.safetensors" --leads II four.ecgz | ecg-dump -a | jq -c '[.h, .e]' > a.txt
	ecg-dump -a four.ecgz | jq -c '.missing = (.leads - ["II"])' | ecg-pack |
	    ecg-encode -m "$D/ck.safetensors" | ecg-dump -a | jq -c '[.h, .e]' > b.txt
	cmp a.txt b.txt
	# lead II with the other leads' samples set to 0 but not missing: all
	# 240 tokens, 220 of them silence
	ecg-dump -a four.ecgz | jq -c '.sig.data |= (. as $d | [range(0; 12000)] |
	    map(if . >= 1000 and . < 2000 then $d[.] else 0 end))' | ecg-pack |
	    ecg-encode -m "$D/ck.safetensors" | ecg-dump -a | jq -c '[.h, .e]' > z.txt
	[ "$(paste -d ' ' a.txt z.txt | awk '$1 == $2' | wc -l)" = 0 ]
	# and not the twelve-lead h
	ecg-encode -m "$D/ck.safetensors" four.ecgz | ecg-dump -a | jq -c '[.h, .e]' > t.txt
	[ "$(paste -d ' ' a.txt t.txt | awk '$1 == $2' | wc -l)" = 0 ]
}

@test "subsets against the numpy reference: h of the present leads' tokens only" {
	PY=/usr/bin/python3
	"$PY" "$FIX/merit_ref.py" --scramble 5 -o sc.safetensors "$D/ck.safetensors"
	ecg-head -n 10 "$D/m.ecgz" > ten.ecgz
	subsets ten.ecgz mixed.ecgz
	ecg-encode -m sc.safetensors --batch 4 mixed.ecgz | ecg-dump -a | jq -c '.h.data' > c.txt
	ecg-dump -a mixed.ecgz | "$PY" "$FIX/merit_ref.py" --encode sc.safetensors | jq -c .h > r.txt
	[ "$(wc -l < r.txt)" = 10 ]
	# float32 against float64: worst relative difference of h
	run "$PY" -c 'import json, sys, numpy as np
c = [np.array(json.loads(l)) for l in open("c.txt")]
r = [np.array(json.loads(l)) for l in open("r.txt")]
print(max(float(np.abs(a - b).max() / np.abs(b).max()) for a, b in zip(c, r)))'
	echo "worst relative difference $output"
	awk -v x="$output" 'BEGIN { exit !(x < 1e-5) }'
	# the reference with every lead fed (missing ignored) is far from it
	ecg-dump -a mixed.ecgz | jq -c '.missing = []' |
	    "$PY" "$FIX/merit_ref.py" --encode sc.safetensors | jq -c .h > all.txt
	[ "$(paste -d ' ' c.txt all.txt | sed -n '2p;3p' | awk '$1 == $2' | wc -l)" = 0 ]
}

@test "a lone lead II gets lead II's embedding: swapped embeddings, moved signals" {
	PY=/usr/bin/python3
	# sw: ck with the lead embeddings of I and II swapped
	"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import merit_ref as r
w, m = r.load_checkpoint(sys.argv[2]); e = w["ecg.lead_emb"]; e[[0, 1]] = e[[1, 0]]
r.save_checkpoint(sys.argv[3], w, m)' "$FIX" "$D/ck.safetensors" sw.safetensors
	ecg-head -n 3 "$D/m.ecgz" > r.ecgz
	# moved: lead II's samples in row I (and gain, baseline)
	ecg-dump -a r.ecgz | jq -c '.sig.data |= (.[1000:2000] + .[1000:])
	    | .gain[0] = .gain[1] | .baseline[0] = .baseline[1]' | ecg-pack > moved.ecgz
	h() { ecg-encode -m "$1" --leads "$2" "$3" | ecg-dump -a | jq -c .h; }
	h "$D/ck.safetensors" II r.ecgz > orig.txt
	h sw.safetensors II r.ecgz > swapped.txt
	# the model whose row I is lead II's embedding, on lead II's signal
	# under the name I, is the original model on lead II
	h sw.safetensors I moved.ecgz > swapped-moved.txt
	cmp orig.txt swapped-moved.txt
	h "$D/ck.safetensors" I moved.ecgz > orig-moved.txt
	cmp swapped.txt orig-moved.txt
	# and the embedding matters: the swap moves h
	[ "$(paste -d ' ' orig.txt swapped.txt | awk '$1 == $2' | wc -l)" = 0 ]
}

@test "mixed subsets in one batch: the bits of one record at a time, any batch or threads" {
	subsets "$D/m.ecgz" mixed.ecgz
	ecg-encode -m "$D/ck.safetensors" --batch 64 mixed.ecgz | ecg-dump -a > a.jsonl
	for b in 1 3 7; do
		ecg-encode -m "$D/ck.safetensors" --batch "$b" --threads 1 mixed.ecgz | ecg-dump -a |
		    cmp - a.jsonl
	done
	ecg-encode -m "$D/ck.safetensors" --batch 5 --threads 2 --leads I,II,V2,V5 mixed.ecgz |
	    ecg-dump -a > l5.jsonl
	ecg-encode -m "$D/ck.safetensors" --batch 1 --leads I,II,V2,V5 mixed.ecgz | ecg-dump -a |
	    cmp - l5.jsonl
	# the twelve-lead records of the mixed stream as in a stream of their own
	[ "$(jq -c 'select(.missing == []) | .h' a.jsonl)" = "$(ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a | sed -n '1~5p' | jq -c .h)" ]
}

@test "merit-s, mixed subsets: batches of 16 and of 1, one and two threads, the same bits" {
	merit-step --init --preset merit-s --seed 1 -o s.safetensors 2>/dev/null
	ecg-synth -n 16 -s 5 --fs 100 -o r.ecgz
	subsets r.ecgz mixed.ecgz
	ecg-encode -m s.safetensors --threads 2 --batch 16 mixed.ecgz | ecg-dump -a > a.jsonl
	ecg-encode -m s.safetensors --threads 1 --batch 1 mixed.ecgz | ecg-dump -a | cmp - a.jsonl
	ecg-encode -m s.safetensors --threads 1 --batch 16 --leads 1 r.ecgz | ecg-dump -a > b.jsonl
	ecg-encode -m s.safetensors --threads 2 --batch 3 --leads I r.ecgz | ecg-dump -a | cmp - b.jsonl
}

@test "--leads sets: names in any spelling, limb, chest, 1, 2, 3, 4, 6, 12" {
	ecg-head -n 2 "$D/m.ecgz" > two.ecgz
	h() { ecg-encode -m "$D/ck.safetensors" --leads "$1" two.ecgz | ecg-dump -a | jq -c .h; }
	[ "$(h limb)" = "$(h I,II,III,aVR,aVL,aVF)" ]
	[ "$(h 6)" = "$(h 'lead I,DII,iii,AVR,avl,aVF')" ]
	[ "$(h chest)" = "$(h V1,V2,V3,V4,V5,V6)" ]
	[ "$(h 1)" = "$(h I)" ]
	[ "$(h 2)" = "$(h II,I)" ]
	[ "$(h 3)" = "$(h I,II,V2)" ]
	[ "$(h 4)" = "$(h I,II,III,V2)" ]
	[ "$(h 12)" = "$(h limb,chest)" ]
	[ "$(h 12)" != "$(h limb)" ]
	[ "$(h I)" != "$(h II)" ]
}

@test "bad --leads: an unknown name, an empty set; exit 1, no output" {
	valid="I, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V5, V6; limb, chest; 1, 2, 3, 4, 6, 12"
	for bad in V7 -aVR 5 I,X; do
		run --separate-stderr ecg-encode -m "$D/ck.safetensors" --leads "$bad" -o out.ecgz "$D/m.ecgz"
		assert_failure 1
		assert_equal "$stderr" "ecg-encode: --leads: ${bad#I,} is not a standard lead ($valid)"
		[ ! -e out.ecgz ]; refute_leftovers .
	done
	for bad in '' , ,,; do
		run --separate-stderr ecg-encode -m "$D/ck.safetensors" --leads "$bad" -o out.ecgz "$D/m.ecgz"
		assert_failure 1
		assert_equal "$stderr" "ecg-encode: --leads: no lead given ($valid)"
		[ ! -e out.ecgz ]; refute_leftovers .
	done
}

@test "bad input: a record with no lead to encode is named; exit 1, no partial output" {
	ecg-dump -a "$D/m.ecgz" | jq -c 'if .id == "synth3-000006" then .missing = .leads else . end' |
	    ecg-pack > none.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --batch 4 -o out.ecgz none.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: none.ecgz: record 6: no lead to encode: every lead is missing"
	[ ! -e out.ecgz ]; refute_leftovers .
	ecg-dump -a "$D/m.ecgz" | jq -c 'if .id == "synth3-000003" then .missing = ["V2"] else . end' |
	    ecg-pack > v2.ecgz
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --leads V2 -o out.ecgz v2.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: v2.ecgz: record 3: no lead to encode: every lead of --leads is missing"
	[ ! -e out.ecgz ]; refute_leftovers .
	# --leads I,V2 keeps lead I of that record
	run ecg-encode -m "$D/ck.safetensors" --leads I,V2 -o out.ecgz v2.ecgz
	assert_success
}

@test "--recon --leads: the decoder sees the mask's visible patches on the kept leads only" {
	ecg-head -n 6 "$D/m.ecgz" > six.ecgz
	ecg-encode -m "$D/ck.safetensors" --recon --leads II --batch 4 six.ecgz > r.ecgz
	# xn: lead II's normalised signal, zeros elsewhere; recon of all 12 leads
	run bash -c "ecg-dump -a r.ecgz | jq -c '[.xn.data | _nwise(1000) | map(select(. != 0)) | length] | [.[0], .[1] > 900, (.[2:] | add)]' | sort -u"
	assert_output '[0,true,0]'
	[ "$(ecg-dump r.ecgz | jq -c .recon.shape | sort -u)" = "[12,1000]" ]
	# h and e as without --recon
	[ "$(ecg-dump -a r.ecgz | jq -c '[.h, .e]')" = "$(ecg-encode -m "$D/ck.safetensors" --leads II six.ecgz | ecg-dump -a | jq -c '[.h, .e]')" ]
	# another reconstruction than from every visible patch, and --batch 1 agrees
	ecg-encode -m "$D/ck.safetensors" --recon six.ecgz | ecg-dump -a | jq -c .recon > full.txt
	ecg-dump -a r.ecgz | jq -c .recon.data > sub.txt
	[ "$(paste -d ' ' full.txt sub.txt | awk '$1 == $2' | wc -l)" = 0 ]
	ecg-encode -m "$D/ck.safetensors" --recon --leads II --batch 1 six.ecgz | ecg-dump -a | jq -c .recon.data > sub1.txt
	run /usr/bin/python3 -c 'import json, numpy as np
a = [np.array(json.loads(l)) for l in open("sub.txt")]
b = [np.array(json.loads(l)) for l in open("sub1.txt")]
print(max(float(np.abs(x - y).max()) for x, y in zip(a, b)))'
	awk -v x="$output" 'BEGIN { exit !(x < 1e-5) }'
	# a lead the mask shows nothing of cannot be rebuilt from alone
	ecg-head -n 1 "$D/s.ecgz" | ecg-mask -S lead -s 2 > lead.ecgz
	l=$(ecg-dump -a lead.ecgz | jq -r '.leads[[.mask.data | _nwise(20) | index(0) == null] | index(true)]')
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --recon --leads "$l" -o out.ecgz lead.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: lead.ecgz: record 1: field mask has no visible patch on the leads kept"
	[ ! -e out.ecgz ]; refute_leftovers .
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-encode
}

@test "--precision: fp32 is the default; auto falls back to fp32 without bf16; bad values named" {
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a > def.jsonl
	ecg-encode -m "$D/ck.safetensors" --precision fp32 "$D/m.ecgz" | ecg-dump -a > f.jsonl
	MERIT_NO_BF16=1 ecg-encode -m "$D/ck.safetensors" --precision auto "$D/m.ecgz" | ecg-dump -a > a.jsonl
	cmp def.jsonl f.jsonl
	cmp def.jsonl a.jsonl
	MERIT_NO_BF16=1 run --separate-stderr ecg-encode -m "$D/ck.safetensors" --precision bf16 -o x.ecgz "$D/m.ecgz"
	assert_failure 1
	assert_equal "$stderr" "ecg-encode: bf16 needs a CPU with AVX512_BF16 (or AMX-BF16), which this one lacks"
	[ ! -e x.ecgz ]
	run --separate-stderr ecg-encode -m "$D/ck.safetensors" --precision fp16 "$D/m.ecgz"
	assert_failure
	assert_equal "$stderr" "ecg-encode: --precision fp16: fp32, bf16 or auto"
}

@test "--precision bf16: h and e within 2e-2 of fp32's (of each vector's largest |value|)" {
	grep -qw avx512_bf16 /proc/cpuinfo || grep -qw amx_bf16 /proc/cpuinfo ||
		skip "the CPU lacks AVX512_BF16 and AMX-BF16"
	ecg-encode -m "$D/ck.safetensors" "$D/m.ecgz" | ecg-dump -a | jq -c '[.h.data, .e.data]' > f.jsonl
	ecg-encode -m "$D/ck.safetensors" --precision bf16 "$D/m.ecgz" | ecg-dump -a | jq -c '[.h.data, .e.data]' > b.jsonl
	ecg-encode -m "$D/ck.safetensors" --precision auto "$D/m.ecgz" | ecg-dump -a | jq -c '[.h.data, .e.data]' > a.jsonl
	cmp b.jsonl a.jsonl
	! cmp -s f.jsonl b.jsonl
	# worst |bf16 - fp32| / max |fp32| over the vectors h and e of every record
	worst=$(jq -n --slurpfile f f.jsonl --slurpfile b b.jsonl '[range($f | length) as $r |
		range(2) as $k | $f[$r][$k] as $x | $b[$r][$k] as $y | ($x | map(fabs) | max) as $m |
		range($x | length) as $i | (($x[$i] - $y[$i]) | fabs) / $m] | max')
	echo "worst relative difference $worst"
	awk -v w="$worst" 'BEGIN { exit !(w > 0 && w < 2e-2) }'
}
