#!/bin/sh
# fig-ipd-learn.sh BIN — the full ipd-learn figure recipe (make fig-ipd-learn).
# Reproduces, at reduced scale (the paper: meta-batch 128, 3000 iterations):
#  - Fig. 3 analogue: naive vs naive defects; fixed tit for tat and
#    always-defect against the naive learners are references (what shaping
#    and exploitation can earn); COALA-PG against naive learners
#    should shape/extort them (meta reward > 1 per step, naive < 1), also
#    from a defecting start (--start-defect 3); batch-unaware for contrast.
#  - Fig. 5 analogue: mixed pool (p-naive 0.75, 4 agents): COALA-PG agents
#    should cooperate with each other (reward_vs_meta about 1) while
#    batch-unaware and M-FOS-style agents defect; median/IQR over seeds.
#  - Fig. 4 analogue: exact tabular IPD, look-ahead 1 cooperates, many
#    look-ahead steps drift to mutual extortion (rewards below 1).
#  - CleanUp-lite: COALA-PG should reach a higher return and lower zap rate
#    than naive learners.
# Writes under out/ipd-learn/: one CSV per figure (the numbers behind it),
# the PNGs, and summary.csv (means over the last 10% of iterations).
set -eu
bin=$1
# At meta-batch 64 one iteration takes about 1.6 s on one free core, so an
# IPD run is about 4 minutes and the whole recipe about an hour on 2 cores.
# Below meta-batch 64 the COALA-PG gradient is too noisy (signal-to-noise
# about 0.5 per iteration at 64) and the meta agent settles into defection.
ITERS=${ITERS:-150}          # meta-iterations per IPD run
META_BATCH=${META_BATCH:-64} # meta-trajectories per iteration
SEEDS=${SEEDS:-"1 2 3"}
CLEANUP_ITERS=${CLEANUP_ITERS:-100}
ANALYTIC_ITERS=${ANALYTIC_ITERS:-500}
LOOKAHEADS=${LOOKAHEADS:-"0 1 2 5 10 30"}
PATH="$(cd "$bin" && pwd):$PATH"
out=out/ipd-learn
mkdir -p "$out"
join_csv() { awk 'FNR == 1 && NR != 1 { next } { print }' "$@"; }
t0=$(date +%s)

# Fig. 3 analogue: against naive learners
for s in $SEEDS; do
	ipd-learn --naive-vs-naive --iters "$ITERS" --meta-batch "$META_BATCH" -q -s "$s" > "$out/vsnaive-naive-$s.csv"
	for est in coala unaware; do
		ipd-learn --estimator $est --iters "$ITERS" --meta-batch "$META_BATCH" -q -s "$s" \
			> "$out/vsnaive-$est-$s.csv"
	done
	ipd-learn --fixed 1,1,0,1,0 --iters "$ITERS" --meta-batch "$META_BATCH" -q -s "$s" |
		sed '2,$ s/,fixed,/,fixed-tft,/' > "$out/vsnaive-tft-$s.csv"
	ipd-learn --fixed 0,0,0,0,0 --iters "$ITERS" --meta-batch "$META_BATCH" -q -s "$s" |
		sed '2,$ s/,fixed,/,fixed-alld,/' > "$out/vsnaive-alld-$s.csv"
	ipd-learn --iters "$ITERS" --meta-batch "$META_BATCH" --start-defect 3 -q -s "$s" |
		sed '2,$ s/,coala,/,coala-from-defect,/' > "$out/vsnaive-coaladefect-$s.csv"
done
join_csv "$out"/vsnaive-*.csv > "$out/vsnaive.csv"
ax-plot -x iter -y meta_reward -y coplayer_reward --group estimator --spread seed \
	-t "IPD vs naive learners (Fig. 3 analogue)" -o "$out/vsnaive.png" "$out/vsnaive.csv"

# Fig. 5 analogue: mixed pool
for s in $SEEDS; do
	for est in coala unaware mfos; do
		ipd-learn --estimator $est --p-naive 0.75 --meta-agents 4 --iters "$ITERS" \
			--meta-batch "$META_BATCH" -q -s "$s" > "$out/mixed-$est-$s.csv"
	done
done
join_csv "$out"/mixed-*.csv > "$out/mixed.csv"
ax-plot -x iter -y reward_vs_meta -y reward_vs_naive --group estimator --spread seed \
	-t "Mixed pool, p-naive 0.75 (Fig. 5 analogue)" -o "$out/mixed.png" "$out/mixed.csv"

# Fig. 4 analogue: exact IPD
for K in $LOOKAHEADS; do
	for s in $SEEDS; do
		ipd-learn analytic --lookahead "$K" --iters "$ANALYTIC_ITERS" -s "$s" > "$out/analytic-$K-$s.csv"
	done
done
join_csv "$out"/analytic-*-*.csv > "$out/analytic.csv"
ax-plot -x iter -y meta_reward --group lookahead --spread seed \
	-t "Exact IPD, two look-ahead-K learners (Fig. 4 analogue)" -o "$out/analytic.png" "$out/analytic.csv"

# CleanUp-lite
for s in $SEEDS; do
	ipd-learn --env cleanup --naive-vs-naive --iters "$CLEANUP_ITERS" -q -s "$s" > "$out/cleanup-naive-$s.csv"
	ipd-learn --env cleanup --iters "$CLEANUP_ITERS" -q -s "$s" > "$out/cleanup-coala-$s.csv"
done
join_csv "$out"/cleanup-*-*.csv > "$out/cleanup.csv"
ax-plot -x iter -y meta_reward -y meta_zap_rate -y clean_share --group estimator --spread seed \
	-t "CleanUp-lite" -o "$out/cleanup.png" "$out/cleanup.csv"

# Numbers behind the figures: means over the last 10% of iterations.
{
	echo "experiment,group,meta_reward,coplayer_reward,reward_vs_meta"
	for f in vsnaive mixed cleanup; do
		awk -F, -v f=$f -v frac=0.9 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			{ rows[NR] = $0; if ($1 > max) max = $1 }
			END { for (r in rows) { split(rows[r], v, ",");
				if (v[1] <= frac * max) continue; g = v[col["estimator"]];
				m[g] += v[col["meta_reward"]]; c[g] += v[col["coplayer_reward"]];
				x = v[col["reward_vs_meta"]]; if (x == x + 0) { vm[g] += x; nm[g]++ } n[g]++ }
			for (g in n) printf "%s,%s,%.4f,%.4f,%s\n", f, g, m[g] / n[g], c[g] / n[g],
				nm[g] ? sprintf("%.4f", vm[g] / nm[g]) : "nan" }' "$out/$f.csv"
	done
	awk -F, -v last=$ANALYTIC_ITERS 'NR > 1 && $1 == last { m[$2] += $5; c[$2] += $6; n[$2]++ }
		END { for (k in n) printf "analytic,lookahead-%s,%.4f,%.4f,nan\n", k, m[k] / n[k], c[k] / n[k] }' \
		"$out/analytic.csv"
} > "$out/summary.csv"
cat "$out/summary.csv"
echo "fig-ipd-learn: done in $(( $(date +%s) - t0 )) s, see $out" >&2
