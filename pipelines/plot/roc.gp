# roc.gp: one ROC curve per class and the diagonal.
#   gnuplot -c roc.gp TERMINAL N   (run by plot.sh in its scratch folder)
# cN.tsv: fpr, tpr; the header's second column is "CLASS (AUC x)";
# title.txt: the plot's title.
n = int(ARG2)
eval sprintf("set terminal %s size 900,820", ARG1)
set output "out.png"
set datafile separator "\t"
set title system("cat title.txt")
set xlabel "false positive rate"
set ylabel "true positive rate"
set xrange [-0.005:1.005]
set yrange [-0.005:1.005]
set size ratio -1
set grid
set key outside right top
set linetype cycle 8
plot for [i=1:n] sprintf("c%d.tsv", i) using 1:2 with lines lw 2 dt 1 + int((i - 1) / 8) title columnheader(2), \
    x with lines lc rgb "#999999" dt 2 notitle
