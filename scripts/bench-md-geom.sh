#!/bin/sh
# bench-md-geom.sh BUILD — md-geom beside NumPy/PyTorch
# (scripts/ref/md_geom_bench.py, the functions of scripts/ref/md_geom.py):
#  - score: weights per second over the 21 default candidates, 10M float32
#    weights (md-geom: one pass per candidate, binned empirical CDF; NumPy:
#    float64, sort + searchsorted, as the reference computes it), 1 thread;
#  - train: full-batch regression steps per second at D = 10000, N = 100
#    (gradient 2/N X^T (X w - y) and one mirror-descent step with momentum,
#    float32) for p2, p1.5 and negentropy, at 1 and 2 threads; md-geom's
#    rate is (S2 - S1) / (time(S2 steps) - time(S1 steps)), so data
#    generation and start-up cancel.
#
# Measured 2026-12-01 on 2 cores shared with other jobs (so noisy; the
# 2-thread rates suffered most): score 4.1e5 weights/s vs NumPy 6.1e4
# (6.8x; NumPy alone measured 2.0e5 on a quieter moment); train 1 thread
# p2 256 vs 354 steps/s (0.72x), p1.5 222 vs 392 (0.57x), negentropy 234
# vs 397 (0.59x); 2 threads 18-24 vs 18-27 (0.90-1.34x).
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"
py=/usr/bin/python3
ref=scripts/ref/md_geom_bench.py
STEPS=${STEPS:-3000}
REF_STEPS=${REF_STEPS:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

md-geom synth -p negentropy --init lognormal -D 10000000 -o "$tmp/big"
t0=$(now)
md-geom score -q --threads 1 "$tmp/big/w0.npy" "$tmp/big/w1.npy" >/dev/null
t1=$(now)
np=$($py $ref score "$tmp/big/w0.npy" "$tmp/big/w1.npy" | sed -n 's/weights_per_sec=\([^ ]*\).*/\1/p')
awk -v a="$t0" -v b="$t1" -v t="$np" 'BEGIN { r = 1e7 / (b - a)
	printf "md-geom score, 10M weights, 21 candidates: axon %.3g weights/s, numpy %.3g  (%.1fx)\n", r, t, r / t }'

for pot in p2 p1.5 negentropy; do
	for th in 1 2; do
		tr=$($py $ref train 10000 100 "$REF_STEPS" $pot $th | sed -n 's/steps_per_sec=\([^ ]*\).*/\1/p')
		set -- --threads $th -q -p $pot -D 10000 -N 100 --lr 1e-4 -o "$tmp/tr"
		t0=$(now); md-geom train "$@" -n 1 >/dev/null; t1=$(now)
		md-geom train "$@" -n $((STEPS + 1)) >/dev/null; t2=$(now)
		awk -v s="$STEPS" -v a="$t0" -v b="$t1" -v c="$t2" -v t="$tr" -v p=$pot -v th=$th 'BEGIN {
			r = s / ((c - b) - (b - a))
			printf "md-geom train D=10000 N=100 %s threads=%d: axon %.0f steps/s, torch %.0f  (%.2fx)\n", p, th, r, t, r / t }'
	done
done
