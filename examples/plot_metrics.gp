# Loss and accuracy curves from the per-epoch CSV of fashion_mnist.cpp or
# 05_sigmoid_fashion_mnist.cpp (columns: epoch,train_loss,train_accuracy,test_accuracy,seconds;
# accuracies as fractions), as a PNG with two panels: the training loss above, the training
# and test accuracy (%) below.
#
#   gnuplot -e "csv='build/fashion_mnist_metrics.csv'; png='build/fashion_mnist.png'" \
#       examples/plot_metrics.gp
#
# Both variables are optional: csv defaults to fashion_mnist_metrics.csv (where the program
# writes it when run from that directory), png to the CSV's name with .png for .csv.
if (!exists("csv")) csv = 'fashion_mnist_metrics.csv'
if (!exists("png")) png = (strlen(csv) > 4 && csv[strlen(csv)-3:] eq '.csv') \
                          ? csv[1:strlen(csv)-4].'.png' : csv.'.png'

# pngcairo draws smoother lines; Debian's gnuplot-nox also has it, but a build with libgd
# alone has only png.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
    set terminal pngcairo size 900,800 font 'sans,11'
} else {
    set terminal png size 900,800
}
set output png

set datafile separator ','
set grid
set xlabel 'epoch'
# Epochs from 0, so that a run of one epoch (a smoke run: one point per curve) still has an
# x range; points as well as lines for the same reason.
set xrange [0:*]
set style data linespoints
set offsets 0, graph 0.03, graph 0.05, graph 0.05

set multiplot layout 2,1 title 'training metrics: '.csv noenhanced
set title 'loss'
set key top right  # the loss falls: its upper right corner is empty
set ylabel 'mean training loss per batch'
plot csv skip 1 using 1:2 title 'training loss' lw 2 pt 7 ps 0.8 lc rgb '#1f77b4'

set title 'accuracy'
set key bottom right  # the accuracies rise
set ylabel 'accuracy (%)'
plot csv skip 1 using 1:($3 * 100) title 'training set' lw 2 pt 7 ps 0.8 lc rgb '#2ca02c', \
     csv skip 1 using 1:($4 * 100) title 'test set' lw 2 pt 5 ps 0.8 lc rgb '#d62728'
unset multiplot
unset output
