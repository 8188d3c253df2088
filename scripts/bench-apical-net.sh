#!/bin/sh
# bench-apical-net.sh BUILD — apical-net training examples/s (the default
# blend model: apical gain units, 2 hidden layers of 256, batch 64, Adam)
# beside the PyTorch reference scripts/ref/apical_net.py (same model, same
# batch, fixed random inputs), at 1 and 2 threads (OpenMP and BLAS threads
# alike); ratios against PyTorch's better thread count. axon's rate is
# taken from the difference of a long and a one-step run, so loading
# Fashion-MNIST is not counted; its time includes drawing and blending the
# images of each batch, PyTorch's does not.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"
STEPS=${STEPS:-1500}
REF_STEPS=${REF_STEPS:-500}
BATCH=64 HIDDEN=256
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
	echo "apical-net: skipped (Debian's dataset-fashion-mnist is not installed)"; exit 0
fi
now() { date +%s.%N; }
run() { apical-net train -q --threads "$1" -n "$2" --pretrain 0 --batch $BATCH --hidden $HIDDEN \
	-m "$tmp/m.ckpt" > /dev/null; }

best=0
for th in 1 2; do
	r=$(OMP_NUM_THREADS=$th OPENBLAS_NUM_THREADS=$th MKL_NUM_THREADS=$th \
		/usr/bin/python3 scripts/ref/apical_net.py bench $th "$REF_STEPS" $BATCH $HIDDEN | cut -d, -f2)
	echo "apical-net torch threads=$th: $r examples/s"
	best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
done
for th in 1 2; do
	t0=$(now); run $th 1; t1=$(now); run $th "$STEPS"; t2=$(now)
	awk -v s="$STEPS" -v a="$t0" -v b="$t1" -v c="$t2" -v th="$th" -v t="$best" -v B=$BATCH 'BEGIN {
		r = (s - 1) * B / ((c - b) - (b - a))
		printf "apical-net axon  threads=%d: %.0f examples/s  (%.2fx torch best %.0f)\n", th, r, r / t, t }'
done
