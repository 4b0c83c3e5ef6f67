#!/bin/sh
# bench/plot_ann.sh - draw the recall@10 / QPS curves that bench_ann wrote.
#
#   sh bench/plot_ann.sh PREFIX OUT.png [TITLE]
#
# PREFIX is bench_ann's CSV prefix (--csv, or its --json path without
# .json, then "-"): every PREFIX<impl>.csv (lines "recall,qps,ef") becomes
# one curve, braincore variants first, hnswlib's last. x = recall@10 from
# 0.5 to 1, y = queries per second on a log scale. Needs gnuplot (Debian:
# gnuplot-nox).
set -eu
[ $# -ge 2 ] || { echo "usage: sh bench/plot_ann.sh PREFIX OUT.png [TITLE]" >&2; exit 2; }
prefix=$1
png=$2
title=${3:-$(basename "$prefix" | sed 's/-$//')}
command -v gnuplot > /dev/null || { echo "plot_ann.sh: no gnuplot (Debian: gnuplot-nox)" >&2; exit 1; }

# gnuplot string literal: single quotes, doubled inside.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

plots=""
seen=""
for f in "$prefix"braincore.csv "$prefix"braincore-sq8.csv "$prefix"braincore*.csv "$prefix"*.csv; do
	[ -s "$f" ] || continue
	impl=${f#"$prefix"}
	impl=${impl%.csv}
	case " $seen " in *" $impl "*) continue ;; esac
	seen="$seen $impl"
	case $impl in
	*'*'*) continue ;;
	hnswlib-u8) style="lw 2 pt 4 dt 2 lc rgb '#ff7f0e'" ;;
	hnswlib*) style="lw 2 pt 6 dt 2 lc rgb '#d62728'" ;;
	*sq8*) style="lw 2 pt 9 lc rgb '#2ca02c'" ;;
	*u8*) style="lw 2 pt 5 lc rgb '#9467bd'" ;;
	*flat*) style="ps 2 pt 5 lc rgb '#7f7f7f'" ;;
	*) style="lw 2 pt 7 lc rgb '#1f77b4'" ;;
	esac
	plots="$plots${plots:+, }$(q "$f") using 1:2 with linespoints $style title $(q "$impl")"
done
[ -n "$plots" ] || { echo "plot_ann.sh: no ${prefix}*.csv" >&2; exit 1; }

gnuplot << EOF
set terminal pngcairo noenhanced size 900,600 font ',11'
set output $(q "$png")
set title $(q "$title")
set datafile separator ','
set xlabel 'recall@10'
set ylabel 'queries per second (one thread, log scale)'
set xrange [0.5:1]
set logscale y
set format y '%.0f'
set grid xtics ytics mytics
set key bottom left box opaque
plot $plots
EOF
echo "plot_ann.sh: wrote $png" >&2
