#!/bin/sh
# demo-md-geom.sh BIN OUT — the md-geom figure recipe (scripts/fig-md-geom.sh)
# at a small scale, about 5 s on 2 cores (9 CPU-seconds): 3 seeds,
# regression D 100-1000, the distance curves at D = 1000, robustness and
# histograms as in the recipe, fine-tuning only the MLP (width 32, 200
# pretraining steps on 10000 images) with negentropy and p2.
set -eu
bin=$1 out=$2
mkdir -p "$out"
small='SEEDS="1 2 3" DIMS="100 316 1000" DIMS_75="100 316" CORRS=1 CURVE_D=1000 NETS=mlp FT_POTS="negentropy p2" FT_MLP="--pretrain-steps 200 --pretrain-images 10000 --hidden 32"'
eval "OUT=\$out $small sh scripts/fig-md-geom.sh \"\$bin\"" >&2
recipe="$small sh scripts/fig-md-geom.sh"
printf '%s\t%s\t%s\n' \
	regression.png "Distance of each candidate geometry (negentropy at p = 1) for weights trained by each potential: regression, D = 1000, N = 32, 3 seeds" "$recipe" \
	accuracy.png "Fraction of runs whose inferred geometry is the one that trained them, against D" "$recipe" \
	robustness.png "The same curves for synthetic dual changes of 1000 weights from Gaussian and log-normal starts" "$recipe" \
	hist-log.png "log10|w| after a large multiplicative (negentropy) or additive (p2) change: log-normal vs not" "$recipe" \
	finetune-mlp.png "Fine-tuned MLP: distance per layer, one panel per fine-tuning potential" "$recipe" \
	>"$out/captions.tsv"
