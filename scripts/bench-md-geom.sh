#!/bin/sh
# bench-md-geom.sh BUILD — md-geom beside NumPy/PyTorch
# (scripts/ref/md_geom_bench.py, the functions of scripts/ref/md_geom.py):
#  - score: weights per second over the 21 default candidates, 10M float32
#    weights (md-geom: one pass per candidate, binned empirical CDF; NumPy:
#    float64, sort + searchsorted, as the reference computes it), 1 thread;
#  - train: full-batch regression steps per second at D = 10000, N = 100
#    (gradient 2/N X^T (X w - y) and one mirror-descent step with momentum,
#    float32) for p2, p1.5 and negentropy, at 1 and 2 threads, interleaved
#    with the PyTorch step, best of REPS each (scripts/bench_common.sh);
#    md-geom's rate is (S2 - S1) / (time(S2 steps) - time(S1 steps)), so
#    data generation and start-up cancel.
#
# Measured 2026-12-03 on an idle 2-core AMD EPYC (AVX-512), two runs (one
# inside a full make bench): score 2.0e6 weights/s, 5.3-5.4x NumPy; train,
# axon at 1 / 2 threads against torch's better setting: p2 0.96-1.11x /
# 1.44-1.45x, p1.5 1.15-1.30x / 1.79-2.26x, negentropy 0.81-0.86x /
# 0.87-1.16x (a libm expf per weight, scalar; the others vectorise).
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"
ref=scripts/ref/md_geom_bench.py
STEPS=${STEPS:-3000}
REF_STEPS=${REF_STEPS:-3000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. scripts/bench_common.sh

md-geom synth -p negentropy --init lognormal -D 10000000 -o "$tmp/big"
t0=$(now)
md-geom score -q --threads 1 "$tmp/big/w0.npy" "$tmp/big/w1.npy" >/dev/null
t1=$(now)
np=$($py $ref score "$tmp/big/w0.npy" "$tmp/big/w1.npy" | sed -n 's/weights_per_sec=\([^ ]*\).*/\1/p')
awk -v a="$t0" -v b="$t1" -v t="$np" 'BEGIN { r = 1e7 / (b - a)
	printf "md-geom score, 10M weights, 21 candidates: axon %.3g weights/s, numpy %.3g  (%.1fx)\n", r, t, r / t }'

# Interleaved, best of REPS per side and thread count (bench_common.sh).
for pot in p2 p1.5 negentropy; do
	a1= a2= t1= t2=
	for rep in $(seq "$REPS"); do
		for th in 1 2; do
			run_rss "$tmp/ref" $th $py $ref train 10000 100 "$REF_STEPS" $pot $th
			keep t$th "$(sed -n 's/steps_per_sec=\([^ ]*\).*/\1/p' "$tmp/ref")" higher
			set -- --threads $th -q -p $pot -D 10000 -N 100 --lr 1e-4 -o "$tmp/tr"
			r0=$(now); md-geom train "$@" -n 1 >/dev/null; r1=$(now)
			md-geom train "$@" -n $((STEPS + 1)) >/dev/null; r2=$(now)
			keep a$th "$(rate "$STEPS" "$r0" "$r1" "$r2" %.1f)" higher
		done
	done
	awk -v p=$pot -v a1="$a1" -v a2="$a2" -v t1="$t1" -v t2="$t2" 'BEGIN {
		tb = t1 > t2 ? t1 : t2
		printf "md-geom train D=10000 N=100 %s: axon %.0f / %.0f steps/s (1 / 2 threads), torch %.0f / %.0f  (%.2fx / %.2fx torch best)\n",
			p, a1, a2, t1, t2, a1 / tb, a2 / tb }'
done
