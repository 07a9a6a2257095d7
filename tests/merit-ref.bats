#!/usr/bin/env bats
# merit-step's training forward against tests/fixtures/merit_ref.py, an
# independent numpy float64 implementation of ../shared/MODEL.md: the L_rec
# and L_cma that merit-step logs for its first step (computed with the weights
# it was given) must be the reference's to a relative 1e-5 (float32 forward
# against float64; they agree to ~1e-8 in practice).  Gradient checks cannot
# catch a forward bug (they differentiate the same forward code); this can.
#
# At initialisation (N(0, 0.02) weights) attention is nearly uniform and the
# decoder's output nearly 0, so a wrong lead index or mixing moves L_rec by
# 1e-7..1e-4 only: every case is run on a scrambled checkpoint too (random
# far-from-initial weights, merit_ref.py --scramble), where such mistakes move
# the losses by 1e-4..1e-1.

load test_helper

TOL=1e-5

setup_file() {
	local D=$BATS_FILE_TMPDIR
	ecg-synth -n 16 -s 7 --fs 100 > "$D/s.ecgz"
	txt-tokenize --learn 512 -o "$D/v.txt" "$D/s.ecgz"
	txt-tokenize -v "$D/v.txt" --max-len 16 "$D/s.ecgz" > "$D/tok.ecgz"
	ecg-mask -s 1 < "$D/tok.ecgz" > "$D/t.ecgz"
	# records the synthesiser never writes: two missing leads, invalid
	# samples (int16 -32768) in three patches, baselines and another gain
	ecg-dump -a "$D/tok.ecgz" | jq -c '
	  if .id == "synth7-000002" then
	    .missing = ["aVL", "V3"] | .gain[4] = 1.0 | .gain[8] = 1.0 |
	    .sig.data |= (. as $d | [range(0; $d | length)] |
	      map(if (. / 1000 | floor) == 4 or (. / 1000 | floor) == 8 then 0 else $d[.] end))
	  elif .id == "synth7-000003" then
	    .sig.data[130] = -32768 | .sig.data[5007] = -32768 | .sig.data[11999] = -32768
	  elif .id == "synth7-000004" then .baseline = [range(12)] | .gain[0] = 250.0
	  else . end' | ecg-pack | ecg-mask -s 2 > "$D/odd.ecgz"
	merit-step --init --preset merit-xs --vocab "$D/v.txt" --total-steps 10 --batch 16 \
	    -o "$D/init.safetensors" 2>/dev/null
	PY=
	for p in python3 /usr/bin/python3; do
		if "$p" -c 'import numpy' 2>/dev/null; then PY=$p; break; fi
	done
	[ -n "$PY" ] || { echo "no python3 with numpy" >&2; return 1; }
	echo "$PY" > "$D/python"
	"$PY" "$FIX/merit_ref.py" --scramble 3 -o "$D/scrambled.safetensors" "$D/init.safetensors"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$BATS_FILE_TMPDIR
	PY=$(cat "$D/python")
}

# compare CHECKPOINT STREAM [merit-step training options]: one merit-step
# step and the reference on the same 16 records; prints both for the log
compare() {
	local ck=$1 stream=$2
	shift 2
	rm -f log.jsonl
	merit-step -m "$D/$ck.safetensors" -o out.safetensors --steps 1 --log log.jsonl \
	    "$@" "$D/$stream.ecgz" 2>/dev/null
	ecg-dump -a "$D/$stream.ecgz" | "$PY" "$FIX/merit_ref.py" --batch 16 "$@" \
	    "$D/$ck.safetensors" > ref.json
	echo "merit-step: $(jq -c '[.L_rec, .L_cma]' log.jsonl)  reference: $(jq -c '[.L_rec, .L_cma, .nrec]' ref.json)"
	jq -n --slurpfile c log.jsonl --slurpfile r ref.json --argjson tol "$TOL" '
	  def rel(a; b): if a == b then 0 else ((a - b) | fabs) / ([(a | fabs), (b | fabs)] | max) end;
	  rel($c[0].L_rec; $r[0].L_rec) <= $tol and rel($c[0].L_cma; $r[0].L_cma) <= $tol' > ok
	[ "$(cat ok)" = true ]
}

@test "initial weights: L_rec (normalised target) and L_cma agree with the reference" {
	compare init t
	[ "$(jq '.nrec' ref.json)" = 2880 ]      # 16 records x 240 patches x 0.75
}

@test "initial weights: --raw-target" {
	compare init t --raw-target
}

@test "initial weights: --lambda-cma 0 leaves L_rec as it is and L_cma 0" {
	compare init t --lambda-cma 0
	[ "$(jq '.L_cma' log.jsonl)" = 0 ]
}

@test "scrambled weights: normalised target, --raw-target, --lambda-cma 0" {
	compare scrambled t
	compare scrambled t --raw-target
	compare scrambled t --lambda-cma 0
	# far from the initial losses: the scrambled case does test more
	jq -e '.L_rec > 2' ref.json
}

@test "missing leads, invalid samples, baselines and gains: same losses, same excluded patches" {
	compare scrambled odd
	compare scrambled odd --raw-target
	compare init odd
	# 2 missing leads (40 patches, all hidden) and the hidden ones of the 3
	# patches with an invalid sample (tokens 2, 100 and 239 of synth7-000003)
	hidden=$(ecg-dump -a "$D/odd.ecgz" | jq -s '.[] | select(.id == "synth7-000003") |
	    [.mask.data[2, 100, 239]] | add')
	[ "$(jq '.nrec' ref.json)" = $((2880 - 40 - hidden)) ]
}

@test "the comparison fails on a wrong forward (a shifted lead embedding in the reference)" {
	# the reference with one lead's embedding rolled must disagree: the
	# tolerance is tight enough to see an indexing mistake
	cat > mutant.py <<-EOF
	import runpy, sys
	import numpy as np
	sys.path.insert(0, '$FIX')
	import merit_ref
	load = merit_ref.load_checkpoint
	def shifted(path):
	    w, meta = load(path)
	    w['ecg.lead_emb'] = np.roll(w['ecg.lead_emb'], 1, 0)
	    return w, meta
	merit_ref.load_checkpoint = shifted
	sys.argv[0] = 'merit_ref.py'
	merit_ref.main()
	EOF
	rm -f log.jsonl
	merit-step -m "$D/scrambled.safetensors" -o out.safetensors --steps 1 --log log.jsonl \
	    "$D/t.ecgz" 2>/dev/null
	ecg-dump -a "$D/t.ecgz" | "$PY" mutant.py --batch 16 "$D/scrambled.safetensors" > ref.json
	jq -n --slurpfile c log.jsonl --slurpfile r ref.json --argjson tol "$TOL" '
	  (($c[0].L_rec - $r[0].L_rec) | fabs) / $r[0].L_rec > $tol' > ok
	[ "$(cat ok)" = true ]
}
