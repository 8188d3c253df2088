#!/bin/sh
# demo-apical-net.sh BIN OUT — the apical gain model against its controls on
# ambiguous Fashion-MNIST blends, about a minute on 2 cores: the figure
# recipe (scripts/fig-apical-net.sh) at a smaller scale (2 seeds side by
# side, hidden 64, 800 + 400 steps, 300 test examples per cell, the
# temporal task for the apical model only, 2500 steps; the one-phase
# clean-cue models 1200 steps, the conv ones 600).
set -eu
bin=$1 out=$2
mkdir -p "$out"
small='SEEDS="1 2" HIDDEN=64 PRE_STEPS=800 TD_STEPS=400 T_STEPS=2500 T_MODELS=apical N=300 KS="0 16 32" CC_STEPS=1200 CONV_STEPS=600'
eval "OUT=\$out $small sh scripts/fig-apical-net.sh \"\$bin\"" >&2
recipe="$small sh scripts/fig-apical-net.sh"
printf '%s\t%s\t%s\n' \
	accuracy.png "Accuracy against blend weight alpha (1 = clean) under relevant, opposing, irrelevant and no context: apical gain, point-neuron, concatenated-input and no-context models" "$recipe" \
	lrp.png "Apical model: each hidden unit's relevance to a pair's overlap (epsilon-LRP) against the apical signal it receives for the pair" "$recipe" \
	silence.png "Accuracy with the relevant cue as the units most relevant to the overlap are silenced, against random units" "$recipe" \
	clean-cue.png "Trained in one phase with clean images whose cue says nothing about the label: accuracy against alpha under each context condition, apical, point-neuron and concatenated-input models" "$recipe" \
	conv.png "As the one-phase models, on a convolutional basal pathway (two conv-ReLU-maxpool stages under the hidden layers): accuracy against alpha under each context condition" "$recipe" \
	temporal.png "Temporal task: accuracy on alpha-0.5 blends by blank frames between the context images and the target" "$recipe" \
	>"$out/captions.tsv"
