#!/bin/sh
# demo-mod-lm.sh BIN OUTDIR — the short Mixture-of-Depths reproduction for
# `make demo`: the figure recipe (scripts/fig-mod-lm.sh) at a smaller scale
# (4 blocks of width 64, 64-byte context, 3e11 training FLOPs per model,
# 32 KB of the held-out split scored per routing rule).
set -eu
bin=$1 out=$2
mkdir -p "$out"
OUT=$out LAYERS=4 DIM=64 HEADS=4 CTX=64 BATCH=16 BUDGET=3e11 SAMPLE_BYTES=1000 EVAL_BYTES=32768 \
	sh scripts/fig-mod-lm.sh "$bin"
rm -f "$out"/*.st
small="LAYERS=4 DIM=64 CTX=64 BUDGET=3e11 EVAL_BYTES=32768 sh scripts/fig-mod-lm.sh"
printf '%s\t%s\t%s\n' \
	isoflop.png "Held-out bits/byte vs training FLOPs at one FLOP budget: dense, MoD (12.5% capacity, every other block) and MoD with random routing (paper Fig. 3/4 analogue)" "$small" \
	routing.png "MoD router (aux loss, sigmoid(r) > 0.5) and causal predictor accuracy at predicting top-k membership during training" "$small" \
	routers.png "Held-out bits/byte: dense, MoD with top-k (training-time, non-causal), aux and predictor (causal) routing, random-routing control" "$small" \
	speed.png "Forward FLOPs per byte and measured sampling speed (tokens/s, KV cache, one thread), MoD vs dense" "$small" \
	>"$out/captions.tsv"
