#!/bin/sh
# demo-mtm-train.sh BIN OUT — MtM against the temporal-masking baseline on
# three simulated IBL-like sessions (spike-sim ibl) of one world (seed 42),
# about a minute on 2 cores: the figure recipe (scripts/fig-mtm-train.sh)
# part 1 at a smaller scale (one world instead of three; 3 sessions of 3
# regions x 16 neurons, 200 trials, width 64, 1000 steps), without its
# fine-tuning part.
set -eu
bin=$1 out=$2
mkdir -p "$out"
# One thread: on two cores the OpenMP and OpenBLAS pools contend, and a
# single thread is as fast for this small model (see the bench).
small="SEEDS=42 JOBS=2 SESSIONS=3 REGIONS=3 NEURONS=16 TRIALS=200 STEPS=1000 DIM=64 FT_STEPS=0 THREADS=1"
# shellcheck disable=SC2086
OUT=$out env $small sh scripts/fig-mtm-train.sh "$bin" >&2
recipe="$small sh scripts/fig-mtm-train.sh"
printf '%s\t%s\t%s\n' \
	bps.png "Spike prediction on held-out trials (bits/spike, mean of 3 simulated sessions): MtM, temporal-masking baseline, true-rate oracle" "$recipe" \
	behaviour.png "Choice accuracy and wheel-speed R^2 decoded from the frozen encoder (5-fold CV); oracle decodes the log true rates" "$recipe" \
	>"$out/captions.tsv"
