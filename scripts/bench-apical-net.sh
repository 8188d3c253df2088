#!/bin/sh
# bench-apical-net.sh BUILD — apical-net training examples/s (the default
# blend model: apical gain units, 2 hidden layers of 256, batch 64, Adam,
# every parameter trained: --pretrain 0) beside the PyTorch reference
# scripts/ref/apical_net.py (same model and batch, fixed random inputs,
# timed after warm-up steps). axon's rate comes from the difference of a
# STEPS run and a one-step run, so loading Fashion-MNIST is not counted;
# it includes drawing and blending each batch's images, PyTorch's does not.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
. scripts/bench_common.sh
STEPS=${STEPS:-3000} REF_STEPS=${REF_STEPS:-400}
[ "$QUICK" = 1 ] && STEPS=20 REF_STEPS=10
B=64 H=256
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
	echo "apical-net: skipped (Debian's dataset-fashion-mnist is not installed)" >&2; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM

train() { run_rss "$tmp/a" "$1" apical-net train -q --threads "$1" -n "$2" --pretrain 0 \
	--batch $B --hidden $H -m "$tmp/m.ckpt"; }
a1="" a2="" t1="" t2="" ra="" rt=""
for rep in $(seq "$REPS"); do
	for th in 1 2; do
		t0=$(now); train $th 1; t1_=$(now); train $th "$STEPS"; t2_=$(now)
		keep a$th "$(rate $(((STEPS - 1) * B)) "$t0" "$t1_" "$t2_" %.1f)" higher
		rss_max ra "$tmp/a.rss"
		if [ $has_torch = 1 ]; then
			run_rss "$tmp/t" $th $py scripts/ref/apical_net.py bench $th "$REF_STEPS" $B $H
			keep t$th "$(cut -d, -f2 "$tmp/t")" higher
			rss_max rt "$tmp/t.rss"
		fi
	done
done
report "apical-net train" examples/s higher "$a1" "$a2" "$t1" "$t2" "$ra" "$rt"
