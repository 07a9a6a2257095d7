#!/usr/bin/env bats
# ecg-tsne: a 2-D t-SNE map of a vector field, as TSV.

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# blobs N D [SEED]: 3 Gaussian blobs of N points in D dimensions as JSON
# lines, blob b centred at 10 on axis b, its finding in truth.findings.
blobs() {
	awk -v n="$1" -v d="$2" -v seed="${3:-1}" 'BEGIN {
		srand(seed); split("NORM AFIB STACH", L, " ")
		for (b = 1; b <= 3; b++) for (i = 1; i <= n; i++) {
			printf "{\"id\":\"p%d-%d\",\"truth\":{\"findings\":[\"%s\",\"SR\"]},", b, i, L[b]
			printf "\"labels\":{\"X\":100},\"e\":{\"dtype\":\"float32\",\"shape\":[%d],\"data\":[", d
			for (k = 1; k <= d; k++) {
				z = sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand())
				printf "%s%.5f", (k > 1 ? "," : ""), (k == b ? 10 : 0) + z
			}
			printf "]}}\n"
		} }'
}

# wrong_neighbours MAP: points whose nearest neighbour in the map has another label
wrong_neighbours() {
	awk -F '\t' 'NR > 1 { x[NR] = $2; y[NR] = $3; l[NR] = $4 }
	END { for (i in x) { bd = -1
		for (j in x) if (i != j) { d = (x[i] - x[j]) ^ 2 + (y[i] - y[j]) ^ 2; if (bd < 0 || d < bd) { bd = d; b = j } }
		bad += l[b] != l[i] }
		print bad + 0 }' "$1"
}

@test "three Gaussian blobs come out as three clusters, in input order with their labels" {
	blobs 50 16 | ecg-pack > b.ecgz
	run --separate-stderr ecg-tsne -s 1 b.ecgz
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" > map.tsv
	assert_equal "$(head -n 1 map.tsv)" "$(printf 'id\tx\ty\tlabel')"
	assert_equal "$(sed 1d map.tsv | wc -l)" 150
	assert_equal "$(sed 1d map.tsv | cut -f 1 | head -n 3 | tr '\n' ' ')" "p1-1 p1-2 p1-3 "
	assert_equal "$(sed 1d map.tsv | cut -f 4 | uniq -c | awk '{ printf "%s %s,", $1, $2 }')" \
	    "50 NORM,50 AFIB,50 STACH,"
	assert_equal "$(wrong_neighbours map.tsv)" 0
	# finite numbers, centred at the origin
	awk -F '\t' 'NR > 1 { if ($2 + 0 != $2 || $3 + 0 != $3) exit 1; sx += $2; sy += $3 }
	    END { exit !(sx * sx < 1e-4 * NR && sy * sy < 1e-4 * NR) }' map.tsv
}

@test "the same seed gives the same map, another seed another; -o and threads change nothing" {
	blobs 20 8 | ecg-pack > b.ecgz
	ecg-tsne -p 10 -n 300 -s 4 b.ecgz > a.tsv
	ecg-tsne -p 10 -n 300 -s 4 < b.ecgz > b.tsv
	cmp a.tsv b.tsv
	ecg-tsne -p 10 -n 300 -s 4 -o c.tsv b.ecgz
	cmp a.tsv c.tsv
	OMP_NUM_THREADS=1 ecg-tsne -p 10 -n 300 -s 4 b.ecgz > d.tsv
	cmp a.tsv d.tsv
	ecg-tsne -p 10 -n 300 -s 5 b.ecgz > e.tsv
	! cmp -s a.tsv e.tsv
	refute_leftovers .
}

@test "labels: -L a dotted path, a string, a map's most likely key, else empty" {
	blobs 4 3 | jq -c '.report = "sinus \(.id)" | .labels = {"A": 10, "B": 90.5, "C": 3}' > b.jsonl
	ecg-pack b.jsonl > b.ecgz
	assert_equal "$(ecg-tsne -p 3 -n 20 b.ecgz | sed 1d | cut -f 4 | sort | uniq -c | awk '{ printf "%s %s,", $1, $2 }')" \
	    "4 AFIB,4 NORM,4 STACH,"
	assert_equal "$(ecg-tsne -p 3 -n 20 -L labels b.ecgz | sed 1d | cut -f 4 | sort -u)" B
	assert_equal "$(ecg-tsne -p 3 -n 20 -L truth.findings b.ecgz | sed -n 2p | cut -f 4)" NORM
	assert_equal "$(ecg-tsne -p 3 -n 20 -L report b.ecgz | sed -n 2p | cut -f 4)" "sinus p1-1"
	assert_equal "$(ecg-tsne -p 3 -n 20 -L no.such b.ecgz | sed 1d | cut -f 4 | sort -u)" ""
	# without truth: the labels map; without either: empty
	jq -c 'del(.truth)' b.jsonl | ecg-pack > c.ecgz
	assert_equal "$(ecg-tsne -p 3 -n 20 c.ecgz | sed 1d | cut -f 4 | sort -u)" B
	jq -c 'del(.truth, .labels, .id)' b.jsonl | ecg-pack > d.ecgz
	assert_equal "$(ecg-tsne -p 3 -n 20 d.ecgz | sed 1d | cut -f 1,4 | head -n 2 | tr '\t\n' ':,')" "1:,2:,"
	# an array of numbers is a vector too (as float64); -F names another field
	jq -c '.v = .e.data | del(.e)' b.jsonl | ecg-pack > v.ecgz
	jq -c '.e.dtype = "float64"' b.jsonl | ecg-pack > f64.ecgz
	assert_equal "$(ecg-tsne -p 3 -n 20 -F v v.ecgz)" "$(ecg-tsne -p 3 -n 20 f64.ecgz)"
}

@test "a record without the field, or with another length: an error naming it, no output" {
	blobs 20 8 > b.jsonl
	sed 3s/'"e":'/'"f":'/ b.jsonl | ecg-pack > no.ecgz
	run --separate-stderr ecg-tsne -o m.tsv no.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-tsne: no.ecgz: record 3: no field e"
	[ ! -e m.tsv ]
	run --separate-stderr ecg-tsne < no.ecgz
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "ecg-tsne: stdin: record 3: no field e"
	{ sed -n 1,4p b.jsonl; sed -n 5p b.jsonl | jq -c '.e.shape = [9] | .e.data += [1]'; } | ecg-pack > len.ecgz
	run --separate-stderr ecg-tsne -p 2 -o m.tsv len.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-tsne: len.ecgz: record 5: e has 9 values, the first record's 8"
	{ sed -n 1p b.jsonl; sed -n 2p b.jsonl | jq -c '.e.data[2] = "NaN"'; } | ecg-pack > nan.ecgz
	run --separate-stderr ecg-tsne -o m.tsv nan.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-tsne: nan.ecgz: record 2: e[2] is not finite"
	sed 2s/'"e":{[^}]*}'/'"e":"x"'/ b.jsonl | ecg-pack > str.ecgz
	run --separate-stderr ecg-tsne -o m.tsv str.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-tsne: str.ecgz: record 2: e is not a vector (a tensor or an array of numbers)"
	[ ! -e m.tsv ]; refute_leftovers .
}

@test "too few records for the perplexity, more than 20000 records, bad options" {
	blobs 10 4 | ecg-pack > b.ecgz
	run --separate-stderr ecg-tsne -o m.tsv b.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-tsne: b.ecgz: 30 records, too few for perplexity 30 (more than 31 needed)"
	echo -n | ecg-pack > empty.ecgz
	run --separate-stderr ecg-tsne -p 2 empty.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-tsne: empty.ecgz: 0 records, too few for perplexity 2 (more than 3 needed)"
	awk 'BEGIN { for (i = 0; i < 20001; i++) printf "{\"e\":[%d,%d]}\n", i % 7, i % 5 }' | ecg-pack > big.ecgz
	run --separate-stderr ecg-tsne -o m.tsv big.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-tsne: big.ecgz: record 20001: more than 20000 records (the limit of exact t-SNE)"
	run --separate-stderr ecg-tsne -p 1 b.ecgz
	assert_failure 1
	run --separate-stderr ecg-tsne -x b.ecgz
	assert_failure 2
	assert_equal "$stderr" "$(printf 'ecg-tsne: unknown option '\''-x'\''\nusage: ecg-tsne [-F field] [-L label-field] [-p perplexity] [-s seed] [-n iterations] [-o file] [file]')"
	[ ! -e m.tsv ]; refute_leftovers .
}

@test "-h, --help and --version: usage and version on stdout; an unknown option: usage on stderr, exit 2" {
	check_help_and_bad_option ecg-tsne
}

@test "long names: --seed, --perplexity, --iterations, --field, --label are -s, -p, -n, -F, -L" {
	blobs 10 3 | ecg-pack > b.ecgz
	ecg-tsne -s 3 -p 3 -n 20 -F e -L labels b.ecgz > a.tsv
	ecg-tsne --seed 3 --perplexity 3 --iterations 20 --field e --label labels b.ecgz > b.tsv
	cmp a.tsv b.tsv
	ecg-tsne --seed 4 -p 3 -n 20 b.ecgz > c.tsv
	run ! cmp -s a.tsv c.tsv
}
