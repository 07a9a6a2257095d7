# recon.gp: one ECG, lead by lead: the normalised input in black, hidden
# patches shaded, the decoder's reconstruction of them in red.
#   gnuplot -c recon.gp TERMINAL LEADS XLABEL   (run by plot.sh in its scratch folder)
# sN.tsv: time, input, reconstruction (NaN outside hidden patches), the
# header's second column the lead's name (NaN breaks the red line); oN.gp:
# the lead's name and shaded patches.
L = int(ARG2)
eval sprintf("set terminal %s size 1400,%d", ARG1, 110 * L + 120)
set output "out.png"
set datafile separator "\t"
set multiplot layout L,1 margins 0.05,0.98,0.05,0.94 spacing 0,0.004 \
    title system("cat title.txt")
unset key
set ytics 2 font ",8" scale 0.5
set format y "%g"
set autoscale yfix
set offsets 0, 0, graph 0.08, graph 0.08
set grid xtics lc rgb "#dddddd"
do for [l=1:L] {
	unset object
	unset label
	load sprintf("o%d.gp", l)
	if (l < L) { set format x ""; unset xlabel } else { set format x "%g"; set xlabel ARG3 }
	plot sprintf("s%d.tsv", l) using 1:2 with lines lc rgb "#222222" lw 1, \
	    "" using 1:3 with lines lc rgb "#d62728" lw 1.5 notitle
}
unset multiplot
