#!/bin/sh
# bench-mod-lm.sh BUILD — mod-lm training tokens/s beside the PyTorch
# reference (scripts/ref/mod_lm.py: same model, batch, AdamW, clipping, aux
# and predictor losses), dense and MoD (12.5%, every other block). Notes:
# sampling tokens/s of MoD vs dense (KV cache, one thread).
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
. scripts/bench_common.sh
CFG="--layers 4 --dim 128 --heads 4 --ctx 128"
# Both sides time STEPS steps after warm-up ones: torch's script 3, axon's
# run WARM (its CSV's tokens_per_s is per logged interval, so the rate is
# over the intervals after the first). The first step of either side takes
# its memory from the system; axon's took about 1 s of a 30-step run.
STEPS=${STEPS:-30} WARM=10
[ "$QUICK" = 1 ] && STEPS=2 WARM=2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM

# steady_rate CSV: tokens/s over every logged interval but the first.
steady_rate() {
	awk -F, 'NR > 1 { d = $2 - prev; prev = $2; if (NR > 2) { n += d; s += d / $9 } }
		END { if (s > 0) printf "%.1f", n / s }' "$1"
}

for model in dense mod; do
	if [ $model = dense ]; then m="--capacity 1"; else m="--capacity 0.125 --predictor"; fi
	a1="" a2="" t1="" t2="" ra="" rt=""
	for rep in $(seq "$REPS"); do
		for th in 1 2; do
			# shellcheck disable=SC2086
			run_rss "$tmp/a" $th mod-lm train $CFG $m --batch 16 --steps $((WARM + STEPS)) \
				--log-every $WARM --val-bytes 0 --threads $th -q
			keep a$th "$(steady_rate "$tmp/a")" higher
			rss_max ra "$tmp/a.rss"
			if [ $has_torch = 1 ]; then
				# shellcheck disable=SC2086
				run_rss "$tmp/t" $th $py scripts/ref/mod_lm.py bench $CFG $m --batch 16 \
					--steps $STEPS --threads $th
				keep t$th "$(tail -1 "$tmp/t")" higher
				rss_max rt "$tmp/t.rss"
			fi
		done
	done
	report "mod-lm train $model" tokens/s higher "$a1" "$a2" "$t1" "$t2" "$ra" "$rt"
done

# Sampling speed: same depth and width; briefly trained models, routing by a
# Bernoulli(capacity) coin so MoD computes its routed blocks for 12.5% of
# tokens whatever an undertrained router would decide.
n=2000; [ "$QUICK" = 1 ] && n=200
for model in dense mod; do
	if [ $model = dense ]; then m="--capacity 1"; else m="--capacity 0.125"; fi
	# shellcheck disable=SC2086
	mod-lm train $CFG $m --steps 2 --val-bytes 0 --threads 1 -q --checkpoint "$tmp/$model.st" \
		>/dev/null
	best=""
	for rep in $(seq "$REPS"); do
		mod-lm sample -m "$tmp/$model.st" --router random -n $n --threads 1 -s "$rep" \
			>/dev/null 2>"$tmp/err"
		keep best "$(sed -n 's/.*: \([0-9.]*\) tokens\/s.*/\1/p' "$tmp/err")" higher
	done
	eval "sample_$model=\$best"
done
awk -v d="$sample_dense" -v m="$sample_mod" 'BEGIN {
	printf "mod-lm sample tokens/s (1 thread): dense %s, MoD %s, speed-up %.2f\n", d, m, m / d }' \
	>> "${BENCH_NOTES:-/dev/stdout}"
