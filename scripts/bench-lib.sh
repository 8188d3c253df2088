#!/bin/sh
# bench-lib.sh BUILD — library building blocks beside PyTorch.
# A pre-LN transformer block (B=8, T=128, C=256, 4 heads, MLP 4C) and a GRU
# (B=64, T=256, H=64), forward + backward; axon and PyTorch each at 1 and 2
# threads. Ratios: same thread count, and best against best (Debian's
# PyTorch 1.13 is often slower with 2 threads than with 1).
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
py=/usr/bin/python3
field() { tail -1 | cut -d, -f"$1"; }

sgemm=$(ax-bench sgemm -j 1 -C 1024 | field 7)
sgemm2=$(ax-bench sgemm -j 2 -C 1024 | field 7)
echo "sgemm 1024^3: $sgemm GFLOP/s (1 thread), $sgemm2 GFLOP/s (2 threads)"

for what in block gru; do
	a1=$(ax-bench $what -j 1 | tail -1)
	a2=$(ax-bench $what -j 2 | tail -1)
	ax1=$(echo "$a1" | cut -d, -f6) ax2=$(echo "$a2" | cut -d, -f6)
	gf1=$(echo "$a1" | cut -d, -f7) gf2=$(echo "$a2" | cut -d, -f7)
	if $py -c 'import torch' 2>/dev/null; then
		t1=$($py scripts/ref/bench_lib.py $what 1 | field 3)
		t2=$($py scripts/ref/bench_lib.py $what 2 | field 3)
	else
		t1=nan t2=nan
	fi
	awk -v w=$what -v a1=$ax1 -v a2=$ax2 -v t1=$t1 -v t2=$t2 -v g1=$gf1 -v g2=$gf2 \
	    -v s1=$sgemm -v s2=$sgemm2 'BEGIN {
		ab = a1 < a2 ? a1 : a2; tb = t1 < t2 ? t1 : t2
		printf "%s fwd+bwd ms/iter: axon %.1f (1 thr) %.1f (2 thr); pytorch %.1f (1 thr) %.1f (2 thr)\n", w, a1, a2, t1, t2
		printf "%s speed-up over pytorch: %.2fx at 1 thread, %.2fx at 2 threads, %.2fx best vs best\n", w, t1 / a1, t2 / a2, tb / ab
		printf "%s achieved: %.1f GFLOP/s (1 thr, %.0f%% of sgemm) %.1f GFLOP/s (2 thr, %.0f%% of sgemm)\n", w, g1, 100 * g1 / s1, g2, 100 * g2 / s2
	}'
done
