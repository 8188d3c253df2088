#!/bin/sh
# bench-lib.sh BUILD — library building blocks beside PyTorch.
# A pre-LN transformer block (B=8, T=128, C=256, 4 heads, MLP 4C) and a GRU
# (B=64, T=256, H=64), forward + backward, compared on the same number of
# cores. Debian's PyTorch calls the system BLAS, whose own thread count
# torch.set_num_threads does not set: on one core PyTorch runs with
# OPENBLAS_NUM_THREADS=1; on two cores it gets the best of its three
# configurations (torch threads 1 or 2, BLAS threads 1 or 2). axon's
# --threads covers BLAS and its own loops alike.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
py=/usr/bin/python3
field() { tail -1 | cut -d, -f"$1"; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b < a ? b : a) }'; }
torch() { # what, torch threads, BLAS threads
	OPENBLAS_NUM_THREADS=$3 $py scripts/ref/bench_lib.py "$1" "$2" | field 3
}

sgemm=$(ax-bench sgemm -j 1 -C 1024 | field 7)
sgemm2=$(ax-bench sgemm -j 2 -C 1024 | field 7)
echo "sgemm 1024^3: $sgemm GFLOP/s (1 thread), $sgemm2 GFLOP/s (2 threads)"

for what in block gru; do
	a1=$(ax-bench $what -j 1 | tail -1)
	a2=$(ax-bench $what -j 2 | tail -1)
	ax1=$(echo "$a1" | cut -d, -f6) ax2=$(echo "$a2" | cut -d, -f6)
	gf1=$(echo "$a1" | cut -d, -f7) gf2=$(echo "$a2" | cut -d, -f7)
	if $py -c 'import torch' 2>/dev/null; then
		t1=$(torch $what 1 1)
		t2=$(min "$(torch $what 1 2)" "$(min "$(torch $what 2 2)" "$(torch $what 2 1)")")
	else
		t1=nan t2=nan
	fi
	awk -v w=$what -v a1=$ax1 -v a2=$ax2 -v t1=$t1 -v t2=$t2 -v g1=$gf1 -v g2=$gf2 \
	    -v s1=$sgemm -v s2=$sgemm2 'BEGIN {
		printf "%s fwd+bwd ms/iter: axon %.1f (1 core) %.1f (2 cores); pytorch %.1f (1 core) %.1f (2 cores, its best)\n", w, a1, a2, t1, t2
		printf "%s speed-up over pytorch: %.2fx on 1 core, %.2fx on 2 cores\n", w, t1 / a1, t2 / a2
		printf "%s achieved: %.1f GFLOP/s (1 core, %.0f%% of sgemm) %.1f GFLOP/s (2 cores, %.0f%% of sgemm)\n", w, g1, 100 * g1 / s1, g2, 100 * g2 / s2
	}'
done
