#!/bin/sh
# bench-ssl-train.sh BUILD — ssl-train pretraining images/s at A = 2 and
# A = 4 views (BarlowTwins, the default backbone of width 16 (R = 64),
# D = 128, batch 256, Adam) beside the PyTorch reference
# scripts/ref/ssl_train.py (same backbone, projector, loss and batch, on
# fixed random images, timed after warm-up steps). axon's rate comes from
# the difference of a STEPS-step run and a one-step run, so loading
# Fashion-MNIST is not counted; it includes augmenting every view, which
# PyTorch's does not.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
. scripts/bench_common.sh
STEPS=${STEPS:-40} REF_STEPS=${REF_STEPS:-20}
[ "$QUICK" = 1 ] && STEPS=4 REF_STEPS=2
B=256
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
	echo "ssl-train: skipped (Debian's dataset-fashion-mnist is not installed)" >&2; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
# One epoch of exactly STEPS steps: a subset of STEPS * B images.
subset=$(awk -v s="$STEPS" -v b=$B 'BEGIN { printf "%.8f", (s * b + 0.25) / 60000 }')

train() { run_rss "$tmp/a" "$1" ssl-train pretrain -q --threads "$1" --views "$3" -b $B -n 1 \
	--subset "$subset" --stop-at "$2" -m "$tmp/m.ckpt"; }
for A in 2 4; do
	a1="" a2="" t1="" t2="" ra="" rt=""
	for rep in $(seq "$REPS"); do
		for th in 1 2; do
			t0=$(now); train $th 1 $A; t1_=$(now); train $th "$STEPS" $A; t2_=$(now)
			keep a$th "$(rate $(((STEPS - 1) * B)) "$t0" "$t1_" "$t2_" %.1f)" higher
			rss_max ra "$tmp/a.rss"
			if [ $has_torch = 1 ]; then
				run_rss "$tmp/t" $th $py scripts/ref/ssl_train.py bench $th "$REF_STEPS" $B $A
				keep t$th "$(cut -d, -f2 "$tmp/t")" higher
				rss_max rt "$tmp/t.rss"
			fi
		done
	done
	report "ssl-train pretrain A=$A" images/s higher "$a1" "$a2" "$t1" "$t2" "$ra" "$rt"
done
