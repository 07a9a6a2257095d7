#!/usr/bin/env bats
# pipelines/plot/plot.sh: the demo's PNG pictures from logs, TSV and records.

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	PLOT=$MERIT_ROOT/pipelines/plot/plot.sh
}

# is_png FILE [WIDTH]: a PNG file of more than 10 kB (and WIDTH pixels wide)
is_png() {
	[ -f "$1" ] || fail "$1: no picture"
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$1: not a PNG"
	[ "$(stat -c %s "$1")" -gt 10000 ] || fail "$1: only $(stat -c %s "$1") bytes"
	[ -z "${2:-}" ] || [ "$((0x$(od -An -tx1 -j 16 -N 4 "$1" | tr -d ' \n')))" -eq "$2" ] ||
	    fail "$1: not $2 pixels wide"
}

# refused MESSAGE ARGS...: plot.sh ARGS fails with status 1 and exactly MESSAGE
refused() {
	local msg=$1
	shift
	run --separate-stderr "$PLOT" "$@"
	assert_failure 1
	assert_equal "$stderr" "$msg"
}

# log NAME STEPS: a merit-step JSON-lines log, with a line that is not a step
log() {
	echo '{"event":"start","preset":"merit-s"}'
	awk -v m="$1" -v n="$2" 'BEGIN { srand(length(m))
		for (s = 1; s <= n; s++) {
			r = (m == "cma-only" ? 1 : 0.3 + 0.7 * exp(-s / 80)) + 0.05 * rand()
			c = (m == "rec-only" ? 0 : 1 + 3 * exp(-s / 100)) + 0.1 * rand()
			printf "{\"step\":%d,\"lr\":0.001,\"loss\":%g,\"L_rec\":%g,\"L_cma\":%g,\"temperature\":0.07,\"grad_norm\":1.5,\"samples_per_s\":120}\n", s, r + c, r, c
		} }'
}

# recon_json: a record as ecg-dump -a writes it, with xn, recon (per-patch
# normalised input plus noise) and mask (lead V6 missing)
recon_json() {
	python3 - <<-'EOF' | ecg-pack | ecg-dump -a
	import json, math, random
	random.seed(1)
	L, T, P = 12, 1000, 50
	xn, rec, mask = [], [], []
	for l in range(L):
	    for t in range(T):
	        ph = (t % 80) / 80
	        xn.append((l % 3 + 1) * math.exp(-((ph - 0.3) / 0.02) ** 2) + 0.3 * math.sin(t / 7 + l))
	for l in range(L):
	    for k in range(T // P):
	        mask.append(2 if l == 11 else (0 if random.random() < 0.25 else 1))
	        seg = xn[l * T + k * P:l * T + (k + 1) * P]
	        mu = sum(seg) / P
	        sd = math.sqrt(sum((v - mu) ** 2 for v in seg) / P)
	        rec.extend((v - mu) / (sd + 1e-6) + random.gauss(0, 0.2) for v in seg)
	print(json.dumps({"id": "r1", "fs": 100.0,
	    "leads": "I II III aVR aVL aVF V1 V2 V3 V4 V5 V6".split(),
	    "xn": {"dtype": "float32", "shape": [L, T], "data": xn},
	    "recon": {"dtype": "float32", "shape": [L, T], "data": rec},
	    "mask": {"dtype": "uint8", "shape": [L, T // P], "data": mask}}))
	EOF
}

@test "curves: one line per model in two panels, from merit-step logs" {
	for m in random rec-only cma-only merit; do log "$m" 300 > "$m.jsonl"; done
	run --separate-stderr "$PLOT" curves curves.png random=random.jsonl rec-only=rec-only.jsonl \
	    cma-only=cma-only.jsonl merit=merit.jsonl
	assert_success
	assert_output ""
	is_png curves.png 1400
	# a single model with a single step is a picture too
	log merit 1 > one.jsonl
	"$PLOT" curves one.png "merit (λ=1)=one.jsonl"
	is_png one.png
	refute_leftovers .
}

@test "roc: one curve per class, a header line and a title" {
	{ printf 'class\tfpr\ttpr\n'
	  for c in NORM AFIB STACH MI; do
		awk -v c=$c 'BEGIN { a = length(c); for (i = 0; i <= 20; i++) { f = i / 20; printf "%s\t%g\t%g\n", c, f, 1 - (1 - f) ^ a } }'
	  done; } > roc.tsv
	"$PLOT" roc roc.png roc.tsv "Linear probe, 'test' fold \"1\""
	is_png roc.png 900
	"$PLOT" roc roc2.png roc.tsv
	is_png roc2.png
	# merit-eval --roc's own file: classes in blocks apart by blank lines
	"$FIX/mkfeat" 200 6 9 | ecg-pack > f.ecgz
	merit-eval probe -t codes --fractions 1 -n 1 -r eval.tsv f.ecgz > /dev/null
	"$PLOT" roc eval.png eval.tsv
	is_png eval.png
}

@test "map: ecg-tsne's map coloured by label" {
	awk 'BEGIN { srand(2); split("NORM AFIB STACH", L, " ")
		for (b = 1; b <= 3; b++) for (i = 1; i <= 40; i++) {
			printf "{\"id\":\"p%d-%d\",\"truth\":{\"findings\":[\"%s\"]},\"e\":[", b, i, L[b]
			for (k = 1; k <= 8; k++) printf "%s%.4f", (k > 1 ? "," : ""), (k == b ? 8 : 0) + rand()
			print "]}" } }' | ecg-pack > e.ecgz
	ecg-tsne -s 1 -o map.tsv e.ecgz
	"$PLOT" map map.png map.tsv
	is_png map.png 1100
	# records without a label are drawn as "(none)"
	sed '2,20s/\t[A-Z]*$/\t/' map.tsv > map2.tsv
	"$PLOT" map map2.png map2.tsv
	is_png map2.png
}

@test "recon: an ecg-dump -a line with xn, recon and mask, normalised or raw target" {
	recon_json > rec.json
	run --separate-stderr "$PLOT" recon recon.png rec.json
	assert_success
	is_png recon.png 1400
	"$PLOT" recon raw.png rec.json raw
	is_png raw.png
	# without fs or leads: samples and numbered leads
	jq -c 'del(.fs, .leads)' rec.json > bare.json
	"$PLOT" recon bare.png bare.json
	is_png bare.png
}

@test "bad input: a clear message, exit 1, no picture left behind" {
	log merit 10 > merit.jsonl
	refused "plot.sh: nope.jsonl: no such file" curves out.png merit=merit.jsonl rec=nope.jsonl
	refused "plot.sh: merit.jsonl: not NAME=LOG.jsonl" curves out.png merit.jsonl
	echo '{"step":1,' > broken.jsonl
	run --separate-stderr "$PLOT" curves out.png m=broken.jsonl
	assert_failure 1
	assert_regex "$stderr" '^plot\.sh: broken\.jsonl: not JSON lines: '
	echo '{"event":"start"}' > nostep.jsonl
	refused 'plot.sh: nostep.jsonl: no training steps (lines with "step")' curves out.png m=nostep.jsonl
	refused "plot.sh: nope.tsv: no such file" roc out.png nope.tsv
	printf 'class\tfpr\ttpr\n' > empty.tsv
	refused "plot.sh: empty.tsv: no rows of class, fpr, tpr" roc out.png empty.tsv
	refused "plot.sh: empty.tsv: no rows of id, x, y, label" map out.png empty.tsv
	refused "plot.sh: nope.json: no such file" recon out.png nope.json
	echo '{"id":"x","mask":{"dtype":"uint8","shape":[1,1],"data":[1]}}' > norecon.json
	refused "plot.sh: norecon.json: no xn, recon and mask tensors of 2 dimensions (ecg-encode --recon, then ecg-dump -a)" recon out.png norecon.json
	jq -c '.mask.shape = [12, 30] | .mask.data = [range(360) | 1]' \
	    <<<'{"xn":{"dtype":"float32","shape":[12,1000],"data":[]},"recon":{"dtype":"float32","shape":[12,1000],"data":[]}}' > shapes.json
	refused "plot.sh: shapes.json: shapes: xn [12,1000], recon [12,1000], mask [12,30]" recon out.png shapes.json
	refused "plot.sh: sideways: the target is norm or raw" recon out.png shapes.json sideways
	refused "plot.sh: nodir/out.png: cannot write" curves nodir/out.png m=merit.jsonl
	refused "plot.sh: out.svg: the output must be a .png file" curves out.svg m=merit.jsonl
	run --separate-stderr "$PLOT" pie out.png x
	assert_failure 2
	assert_regex "$stderr" '^usage: plot\.sh curves '
	run --separate-stderr "$PLOT" map out.png
	assert_failure 2
	[ ! -e out.png ] && [ ! -e out.svg ]; refute_leftovers .
}
