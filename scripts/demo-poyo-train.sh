#!/bin/sh
# demo-poyo-train.sh BIN OUT — POYO on simulated reaching, a few minutes on
# 2 idle cores: the figure recipe (scripts/fig-poyo-train.sh) at a smaller
# scale: 3 pretraining sessions of 40 trials and 60 units (400 steps), a new
# animal's session of 60 trials, fine-tuning on 5 and 40 of its trials.
# Measured (85 s in `make demo` on 2 idle cores, OpenBLAS's SkylakeX
# kernels): pretrained sessions R^2 0.904; new animal, 5 / 40 trials: unit
# identification 0.778 / 0.900, full fine-tuning 0.659 / 0.826, scratch
# -0.082 / 0.848, Wiener 0.581 / 0.755. (Before the new session's
# embeddings started at the pretrained rows' mean, unit identification
# from 5 trials reached only 0.242 here, below the Wiener filter.)
set -eu
bin=$1 out=$2
mkdir -p "$out"
OUT=$out SEEDS=42 NSESS= SESSIONS=3 TRIALS=40 UNITS=60 HELD_TRIALS=60 COUNTS="5 40" \
	STEPS=400 FT_STEPS=150 SCRATCH_STEPS=200 THREADS=1 sh scripts/fig-poyo-train.sh "$bin" >&2
recipe='SEEDS=42 NSESS= SESSIONS=3 TRIALS=40 UNITS=60 HELD_TRIALS=60 COUNTS="5 40" STEPS=400 FT_STEPS=150 SCRATCH_STEPS=200 THREADS=1 sh scripts/fig-poyo-train.sh'
printf '%s\t%s\t%s\n' \
	fewshot.png "Hand-velocity R^2 on a new animal's session vs its training trials: unit identification from the pretrained model, full fine-tuning, training from scratch, Wiener filter" "$recipe" \
	>"$out/captions.tsv"
