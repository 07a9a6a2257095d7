# map.gp: a 2-D map (ecg-tsne), points coloured by label.
#   gnuplot -c map.gp TERMINAL N   (run by plot.sh in its scratch folder)
# lN.tsv: x, y; the header's second column is "LABEL (count)".
n = int(ARG2)
eval sprintf("set terminal %s size 1100,860", ARG1)
set output "out.png"
set datafile separator "\t"
set title "Embeddings (t-SNE), coloured by finding"
set size ratio -1
unset xtics
unset ytics
set offsets graph 0.03, graph 0.03, graph 0.03, graph 0.03
set key outside right top
# hues a golden-ratio step apart: distinct colours however many labels
hue(i) = (i - 1) * 0.618034 - floor((i - 1) * 0.618034)
plot for [i=1:n] sprintf("l%d.tsv", i) using 1:2 with points pt 7 ps 0.7 \
    lc rgb hsv2rgb(hue(i), 0.85, 0.85) title columnheader(2)
