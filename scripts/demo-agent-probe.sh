#!/bin/sh
# demo-agent-probe.sh BIN OUT — the figure recipe (scripts/fig-agent-probe.sh)
# at a smaller scale: one seed, 400 training steps, memory 32 and 1, 64
# episodes per probe; about 30 s of CPU on one core.
set -eu
bin=$1 out=$2
mkdir -p "$out"
small="SEEDS=1 STEPS=400 MEMORIES='32 1' EPISODES=64 PATCH_EPISODES=16"
OUT=$out SEEDS=1 STEPS=400 MEMORIES="32 1" EPISODES=64 PATCH_EPISODES=16 \
	sh scripts/fig-agent-probe.sh "$bin" >&2
recipe="$small sh scripts/fig-agent-probe.sh"
printf '%s\t%s\t%s\n' \
	success.png "Greedy success of the gridworld policy with a 32-step memory and memoryless (K = 1)" "$recipe" \
	attention-time.png "Attention mass by memory offset at each episode step (K = 32, mean over heads and layers)" "$recipe" \
	attack.png "Episodes attacking a villager look-alike where a tree stood vs a purple control object" "$recipe" \
	ablation.png "Change of success and look-alike attack rate when each head is zeroed" "$recipe" \
	patch.png "Activation patching, cue-swapped run: normalised effect by head output and residual stream, per step" "$recipe" \
	>"$out/captions.tsv"
