# curves.gp: pretraining losses against step, one line per model.
#   gnuplot -c curves.gp TERMINAL N   (run by plot.sh in its scratch folder)
# mN.tsv: step, L_rec, L_cma (moving averages); the header names the model.
n = int(ARG2)
eval sprintf("set terminal %s size 1400,560", ARG1)
set output "out.png"
set datafile separator "\t"
set datafile missing "NaN"
set multiplot layout 1,2 title "Pretraining losses (moving average)"
set xlabel "step"
set grid
set key top right
set title "L_rec: masked patch reconstruction (MSE)"
plot for [i=1:n] sprintf("m%d.tsv", i) using 1:2 with lines lw 2 title columnheader(2)
set title "L_cma: ECG-text contrastive alignment (InfoNCE)"
plot for [i=1:n] sprintf("m%d.tsv", i) using 1:3 with lines lw 2 title columnheader(2)
unset multiplot
