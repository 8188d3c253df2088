#!/bin/sh
# bench-mod-lm.sh BUILD — mod-lm training tokens/s beside the PyTorch
# reference (scripts/ref/mod_lm.py: same model, batch, AdamW, clipping, aux and
# predictor losses) at 1 and 2 threads, dense and MoD (12.5%, every other
# block); the ratio is against PyTorch's better thread count. Then sampling
# tokens/s of MoD vs dense (KV cache, one thread). Best of REPS runs each.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
CFG="--layers 4 --dim 128 --heads 4 --ctx 128"
STEPS=${STEPS:-12} REPS=${REPS:-2}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
has_torch=0; /usr/bin/python3 -c 'import torch' 2>/dev/null && has_torch=1

for model in dense mod; do
	if [ $model = dense ]; then m="--capacity 1"; else m="--capacity 0.125 --predictor"; fi
	ours=0 ref=0
	for t in 1 2; do
		for rep in $(seq $REPS); do
			tps=$(mod-lm train $CFG $m --batch 16 --steps $STEPS --log-every $STEPS --val-bytes 0 \
				--threads $t -q 2>/dev/null | tail -1 | cut -d, -f9) 2>/dev/null || tps=0
			ours=$(max "$ours" "$tps")
			if [ $has_torch = 1 ]; then
				r=$(/usr/bin/python3 scripts/ref/mod_lm.py bench $CFG $m --batch 16 --steps $STEPS --threads $t)
				ref=$(max "$ref" "$r")
			fi
		done
	done
	if [ $has_torch = 1 ]; then
		echo "mod-lm train $model: axon $ours tokens/s, pytorch $ref tokens/s, ratio $(awk -v a="$ours" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')"
	else
		echo "mod-lm train $model: axon $ours tokens/s (pytorch not installed)"
	fi
done

# Sampling speed: same depth and width; briefly trained models, routing by a
# Bernoulli(capacity) coin so MoD computes its routed blocks for 12.5% of
# tokens whatever an undertrained router would decide.
for model in dense mod; do
	if [ $model = dense ]; then m="--capacity 1"; else m="--capacity 0.125"; fi
	mod-lm train $CFG $m --steps 2 --val-bytes 0 --threads 1 -q --checkpoint "$tmp/$model.st" \
		>/dev/null
	best=0
	for rep in $(seq $REPS); do
		mod-lm sample -m "$tmp/$model.st" --router random -n 2000 --threads 1 -s $rep >/dev/null 2>"$tmp/err"
		best=$(max "$best" "$(sed -n 's/.*: \([0-9.]*\) tokens\/s.*/\1/p' "$tmp/err")")
	done
	eval "sample_$model=$best"
	echo "mod-lm sample $model: $best tokens/s"
done
echo "mod-lm sample speed-up MoD/dense: $(awk -v a="$sample_mod" -v b="$sample_dense" 'BEGIN { printf "%.2f", a / b }')"
