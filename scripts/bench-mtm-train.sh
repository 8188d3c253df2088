#!/bin/sh
# bench-mtm-train.sh BUILD — mtm-train training steps/s (default model: dim
# 64, 2 layers, 4 heads, batch 16 trials x 100 bins, ~80 neurons, MtM
# masking) beside the PyTorch reference scripts/ref/mtm_train.py on the same
# sessions. axon's rate is its whole run's wall time (start-up included)
# over STEPS; PyTorch's is timed inside the script after warm-up steps.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
. scripts/bench_common.sh
STEPS=${STEPS:-200} REF_STEPS=${REF_STEPS:-60}
[ "$QUICK" = 1 ] && STEPS=20 REF_STEPS=5
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
spike-sim ibl -q -o "$tmp/data" -n 3 -t 300 -s 1
data=$(ls "$tmp"/data/session-*.safetensors)

a1="" a2="" t1="" t2="" ra="" rt=""
for rep in $(seq "$REPS"); do
	for th in 1 2; do
		t0=$(now)
		# shellcheck disable=SC2086
		run_rss "$tmp/a" $th mtm-train train -q --threads $th --steps "$STEPS" -c "$tmp/m.ckpt" $data
		t1_=$(now)
		keep a$th "$(rate "$STEPS" "$t0" "$t1_" %.2f)" higher
		rss_max ra "$tmp/a.rss"
		if [ $has_torch = 1 ]; then
			# shellcheck disable=SC2086
			run_rss "$tmp/t" $th $py scripts/ref/mtm_train.py --threads $th --steps "$REF_STEPS" $data
			keep t$th "$(sed -n 's/.*steps_per_sec=\([0-9.]*\) .*/\1/p' "$tmp/t")" higher
			rss_max rt "$tmp/t.rss"
		fi
	done
done
report "mtm-train train" steps/s higher "$a1" "$a2" "$t1" "$t2" "$ra" "$rt"
