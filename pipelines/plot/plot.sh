#!/bin/sh
# plot.sh: the demo's pictures, PNG files drawn by gnuplot from what the
# filters write.
#
#   plot.sh curves OUT.png NAME=LOG.jsonl...  L_rec and L_cma against step, one
#                                             line per model (merit-step logs)
#   plot.sh roc OUT.png ROC.tsv [TITLE]       one ROC curve per class with its AUC
#                                             (merit-eval --roc: class fpr tpr)
#   plot.sh map OUT.png MAP.tsv               ecg-tsne's map, coloured by label
#   plot.sh recon OUT.png REC.json [norm|raw] one ECG (an ecg-dump -a line with
#                                             xn, recon, mask): input, hidden
#                                             patches, their reconstruction
#
# recon's reconstruction is in per-patch normalised units (the default
# target, norm): each hidden patch is drawn at the mean and standard
# deviation of its input patch; raw draws it as it is.  The PNG is written
# through a temporary file beside OUT: a failure leaves no picture.  Needs
# gnuplot (pngcairo, else png), jq and awk.
set -eu

prog=plot.sh
here=$(cd "$(dirname "$0")" && pwd)
tab=$(printf '\t')

die() { echo "$prog: $*" >&2; exit 1; }
usage() {
	echo "usage: $prog curves OUT.png NAME=LOG.jsonl... | roc OUT.png ROC.tsv [TITLE] | map OUT.png MAP.tsv | recon OUT.png REC.json [norm|raw]" >&2
	exit 2
}
need() {
	[ -e "$1" ] || die "$1: no such file"
	[ -f "$1" ] && [ -r "$1" ] || die "$1: not a readable file"
}

[ $# -ge 3 ] || usage
kind=$1 out=$2
shift 2
case $out in *.png) ;; *) die "$out: the output must be a .png file" ;; esac
command -v gnuplot >/dev/null 2>&1 || die "gnuplot not found (apt-get install gnuplot-nox)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plot.XXXXXX")
part=
trap 'rm -rf "$tmp"; [ -z "$part" ] || rm -f "$part"' EXIT
trap 'exit 1' HUP INT TERM

# An awk test for a number, shared by the table readers.
num='function isnum(s) { return s ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/ }'

# curves: one mN.tsv per model: step, L_rec, L_cma moving averages over
# a window of 1/50 of the steps.  A term that is 0 is a branch turned off
# (lambda 0) and is not drawn.
curves() {
	n=0
	for a in "$@"; do
		name=${a%=*} log=${a##*=}   # the last = (a name may hold one)
		[ "$name" != "$a" ] && [ -n "$name" ] || die "$a: not NAME=LOG.jsonl"
		need "$log"
		n=$((n + 1))
		jq -r 'select(type == "object" and (.step | type) == "number")
		    | [.step, (.L_rec // "NaN"), (.L_cma // "NaN")]
		    | map(if . == 0 then "NaN" else . end) | @tsv' "$log" \
		    > "$tmp/raw" 2>"$tmp/err" || die "$log: not JSON lines: $(head -n 1 "$tmp/err")"
		[ -s "$tmp/raw" ] || die "$log: no training steps (lines with \"step\")"
		name=$(printf %s "$name" | tr '\t' ' ')
		printf 'step\t%s\t%s\n' "$name" "$name" > "$tmp/m$n.tsv"
		awk -F '\t' -v OFS='\t' "$num"'
		    { s[NR] = $1
		      for (k = 2; k <= 3; k++) {   # running sums of the numeric values
			ok[NR, k] = isnum($k)
			cs[NR, k] = cs[NR - 1, k] + (ok[NR, k] ? $k : 0)
			cn[NR, k] = cn[NR - 1, k] + ok[NR, k]
		      } }
		    END {
			w = int(NR / 50); if (w < 1) w = 1
			for (i = 1; i <= NR; i++) {
				line = s[i]; j = i - w < 0 ? 0 : i - w
				for (k = 2; k <= 3; k++)
					line = line OFS (ok[i, k] ? sprintf("%.6g",
					    (cs[i, k] - cs[j, k]) / (cn[i, k] - cn[j, k])) : "NaN")
				print line
			}
		    }' "$tmp/raw" >> "$tmp/m$n.tsv"
	done
	[ "$n" -gt 0 ] || usage
	draw curves.gp "$n"
}

# roc: one cN.tsv per class (in order of first appearance), points sorted,
# with the trapezoid AUC in the title.
roc() {
	[ $# -ge 1 ] && [ $# -le 2 ] || usage
	need "$1"
	printf '%s\n' "${2:-ROC curves}" > "$tmp/title.txt"
	awk -F '\t' -v OFS='\t' "$num"'
	    NF >= 3 && isnum($2) && isnum($3) {
		if (!($1 in idx)) idx[$1] = ++n
		print idx[$1], $2, $3, $1
	    }' "$1" | sort -t "$tab" -k1,1n -k2,2g -k3,3g > "$tmp/roc"
	[ -s "$tmp/roc" ] || die "$1: no rows of class, fpr, tpr"
	n=$(awk -F '\t' -v d="$tmp" '
	    function flush() {
		if (c == "") return
		printf "fpr\t%s (AUC %.3f)\n", name, auc > (d "/c" c ".head")
		close(d "/c" c ".head")
	    }
	    $1 != c { flush(); c = $1; name = $4; auc = 0; first = 1 }
	    { if (!first) auc += ($2 - px) * ($3 + py) / 2
	      px = $2; py = $3; first = 0
	      print $2 "\t" $3 > (d "/c" c ".body") }
	    END { flush(); print c }' "$tmp/roc")
	i=1
	while [ "$i" -le "$n" ]; do
		cat "$tmp/c$i.head" "$tmp/c$i.body" > "$tmp/c$i.tsv"
		i=$((i + 1))
	done
	draw roc.gp "$n"
}

# map: one lN.tsv per label, the most frequent first.
map() {
	[ $# -eq 1 ] || usage
	need "$1"
	awk -F '\t' -v OFS='\t' "$num"'
	    NF >= 3 && isnum($2) && isnum($3) { print ($4 == "" ? "(none)" : $4), $2, $3 }' "$1" \
	    > "$tmp/map"
	[ -s "$tmp/map" ] || die "$1: no rows of id, x, y, label"
	cut -f 1 "$tmp/map" | sort | uniq -c | sort -k1,1nr -k2 |
	    awk '{ c = $1; sub(/^ *[0-9]+ /, ""); print $0 "\t" c }' > "$tmp/labels"
	n=$(awk -F '\t' -v d="$tmp" '
	    NR == FNR { i[$1] = FNR; printf "x\t%s (%d)\n", $1, $2 > (d "/l" FNR ".tsv"); n = FNR; next }
	    { print $2 "\t" $3 >> (d "/l" i[$1] ".tsv") }
	    END { print n }' "$tmp/labels" "$tmp/map")
	draw map.gp "$n"
}

# recon: per lead sN.tsv (time, input, reconstruction or NaN) and oN.gp
# (a rectangle per hidden patch), from the first JSON line of the file.
recon() {
	[ $# -ge 1 ] && [ $# -le 2 ] || usage
	need "$1"
	mode=${2:-norm}
	case $mode in norm|raw) ;; *) die "$mode: the target is norm or raw" ;; esac
	head -n 1 "$1" | jq -r --arg mode "$mode" '
	    def t(f): if (.[f] | type) == "object" and (.[f].shape | length) == 2 then .[f] else null end;
	    if t("xn") == null or t("recon") == null or t("mask") == null then
		error("no xn, recon and mask tensors of 2 dimensions (ecg-encode --recon, then ecg-dump -a)")
	    else . end
	    | .xn.shape as [$L, $T] | .mask.shape[1] as $NT
	    | if .recon.shape != [$L, $T] or .mask.shape[0] != $L or $NT < 1 or ($T % $NT) != 0 then
		error("shapes: xn \(.xn.shape), recon \(.recon.shape), mask \(.mask.shape)")
	      else . end
	    | ($T / $NT) as $P | (.fs // 0) as $fs
	    | (if ($fs | type) == "number" and $fs > 0 then 1 / $fs else 1 end) as $dt
	    | .xn.data as $x | .recon.data as $r | .mask.data as $m
	    | (if (.leads | type) == "array" and (.leads | length) == $L then .leads
	       else [range($L) | "lead \(. + 1)"] end) as $names
	    | "L\t\($L)\t\(if $dt == 1 then "sample" else "time (s)" end)",
	      (range($L) as $l | range($NT) as $k
	       | ($l * $T + $k * $P) as $o | $x[$o:$o + $P] as $seg
	       | ($seg | add / $P) as $mu
	       | (($seg | map((. - $mu) * (. - $mu)) | add / $P) | sqrt) as $sd
	       | $m[$l * $NT + $k] as $h
	       | (if $h != 0 then ["O", $l + 1, $k * $P * $dt, ($k + 1) * $P * $dt, $h] | @tsv else empty end),
	         (range($P) as $i
	          | ["S", $l + 1, ($k * $P + $i) * $dt, $seg[$i],
	             (if $h == 1 then (if $mode == "norm" then $r[$o + $i] * ($sd + 1e-6) + $mu
	                               else $r[$o + $i] end) else "NaN" end)] | @tsv)),
	      (range($L) as $l | "N\t\($l + 1)\t\($names[$l] | tostring | gsub("[\t\n\r]"; " "))")' \
	    > "$tmp/rec" 2>"$tmp/err" || die "$1: $(sed 's/^jq: error ([^)]*): //' "$tmp/err" | head -n 1)"
	L=$(awk -F '\t' '$1 == "L" { print $2 }' "$tmp/rec")
	xl=$(awk -F '\t' '$1 == "L" { print $3 }' "$tmp/rec")
	[ -n "$L" ] || die "$1: not a record"
	printf '%s\n' "$(head -n 1 "$1" | jq -r '.id // "ECG" | tostring') ($mode target): input (black), hidden patches (shaded), reconstruction (red)" \
	    > "$tmp/title.txt"
	awk -F '\t' -v d="$tmp" -v L="$L" '
	    BEGIN { for (l = 1; l <= L; l++) printf "" > (d "/o" l ".gp") }
	    $1 == "N" { print "t\t" $3 "\treconstruction" > (d "/h" $2)
		name = $3; gsub(/[\\"]/, "\\\\&", name)
		printf "set label 1 \"%s\" at graph 0.005, graph 0.88 front font \",11\"\n", name >> (d "/o" $2 ".gp") }
	    $1 == "S" { print $3 "\t" $4 "\t" $5 > (d "/b" $2) }
	    $1 == "O" { printf "set object rect from first %s, graph 0 to first %s, graph 1 fc rgb \"%s\" fs solid noborder behind\n",
		$3, $4, ($5 == 1 ? "#f6cfcf" : "#dddddd") >> (d "/o" $2 ".gp") }' "$tmp/rec"
	l=1
	while [ "$l" -le "$L" ]; do
		cat "$tmp/h$l" "$tmp/b$l" > "$tmp/s$l.tsv"
		l=$((l + 1))
	done
	draw recon.gp "$L" "$xl"
}

# draw SCRIPT ARGS...: run gnuplot in the scratch folder, then put its
# out.png in place through a temporary file beside OUT.
draw() {
	script=$1
	shift
	if gnuplot -e 'print GPVAL_TERMINALS' 2>&1 | grep -qw pngcairo; then
		term='pngcairo noenhanced font "Sans,10"'
	else
		term='png noenhanced'
	fi
	(cd "$tmp" && gnuplot -c "$here/$script" "$term" "$@") 2>"$tmp/gp.err" ||
	    die "gnuplot $script: $(grep -v '^ *$' "$tmp/gp.err" | tail -n 3 | tr '\n' ' ')"
	[ -s "$tmp/out.png" ] || die "gnuplot $script drew nothing"
	part="$out.tmp.$$"
	cp "$tmp/out.png" "$part" 2>/dev/null || die "$out: cannot write"
	mv "$part" "$out" || die "$out: cannot write"
	part=
}

case $kind in
curves) curves "$@" ;;
roc) roc "$@" ;;
map) map "$@" ;;
recon) recon "$@" ;;
*) usage ;;
esac
