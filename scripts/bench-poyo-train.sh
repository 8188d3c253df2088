#!/bin/sh
# bench-poyo-train.sh BUILD — poyo-train training windows/s (the default
# model: width 64, depth 2, 2 + 2 heads, 8 latents per step; batch 16 windows
# of 1 s from 3 spike-sim reach sessions of 60 units, padding included)
# beside the PyTorch reference scripts/ref/poyo_train.py (same model, batch,
# window drawing and LAMB). axon's rate is its whole run's wall time
# (start-up included) over STEPS; PyTorch's is timed after warm-up steps.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
. scripts/bench_common.sh
STEPS=${STEPS:-100} REF_STEPS=${REF_STEPS:-30}
[ "$QUICK" = 1 ] && STEPS=5 REF_STEPS=2
B=16
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
spike-sim reach -q -o "$tmp/data" -n 3 -t 40 -s 1
data=$(ls "$tmp"/data/session-*.safetensors)

a1="" a2="" t1="" t2="" ra="" rt=""
for rep in $(seq "$REPS"); do
	for th in 1 2; do
		t0=$(now)
		# shellcheck disable=SC2086
		run_rss "$tmp/a" $th poyo-train train -q --threads $th -n "$STEPS" -b $B -c "$tmp/m.ckpt" $data
		t1_=$(now)
		keep a$th "$(rate $((STEPS * B)) "$t0" "$t1_" %.1f)" higher
		rss_max ra "$tmp/a.rss"
		if [ $has_torch = 1 ]; then
			# shellcheck disable=SC2086
			run_rss "$tmp/t" $th $py scripts/ref/poyo_train.py --threads $th --steps "$REF_STEPS" --batch $B $data
			keep t$th "$(sed -n 's/.*windows_per_sec=\([0-9.]*\) .*/\1/p' "$tmp/t")" higher
			rss_max rt "$tmp/t.rss"
		fi
	done
done
report "poyo-train train" windows/s higher "$a1" "$a2" "$t1" "$t2" "$ra" "$rt"
