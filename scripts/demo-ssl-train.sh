#!/bin/sh
# demo-ssl-train.sh BIN OUT — BarlowTwins with small projectors and more
# views on Fashion-MNIST, a couple of minutes on 2 cores: the figure recipe
# (scripts/fig-ssl-train.sh) at a far smaller scale (backbone width 8,
# 2400 pretraining images, D = 32 and 256 for 2 epochs, A = 2 and 4 for 3
# epochs, probes on 2000 training images), BarlowTwins only.
set -eu
bin=$1 out=$2
mkdir -p "$out"
OUT=$out WIDTH=8 BATCH=128 SUBSET=0.04 LOSSES=barlow DS="32 256" EPOCHS_D=2 AS="2 4" \
	EPOCHS_A=3 DATA_RUNS=4 PROBE_LIMIT=2000 PROBE_EPOCHS=20 sh scripts/fig-ssl-train.sh "$bin" >&2
rm -rf "$out/runs"/*.ckpt
recipe='WIDTH=8 BATCH=128 SUBSET=0.04 LOSSES=barlow DS="32 256" EPOCHS_D=2 AS="2 4" EPOCHS_A=3 DATA_RUNS=4 PROBE_LIMIT=2000 PROBE_EPOCHS=20 sh scripts/fig-ssl-train.sh'
printf '%s\t%s\t%s\n' \
	dim-barlow.png "BarlowTwins: linear-probe accuracy against projector dimension D, fixed lambda (0.0051) and lambda = 5.12 / D" "$recipe" \
	views.png "Linear-probe accuracy after each epoch of pretraining with A = 2 and A = 4 views per image" "$recipe" \
	data.png "A = 2 on the pretraining set against A = 4 on half of it" "$recipe" \
	>"$out/captions.tsv"
