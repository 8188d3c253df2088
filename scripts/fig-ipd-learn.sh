#!/bin/sh
# fig-ipd-learn.sh BIN — the full ipd-learn figure recipe (make fig-ipd-learn).
#
# RUN TIME: 59 minutes on 2 cores: two runs at a time, one thread each
# (JOBS=1: one at a time, about two hours). Job times: COALA-PG against
# naive learners, 150 iterations at meta-batch 128, 5.5-7 min; mixed-pool
# COALA-PG, 300 iterations at meta-batch 64, 11-13 min; mixed-pool
# batch-unaware and M-FOS, 150 iterations, 5-5.5 min; CleanUp-lite, 100
# iterations, 20-30 s; references without a meta agent, 12-17 s.
#
# Runs exactly the configurations measured for the man page RESULTS (the
# paper: meta-batch 128, 3000 iterations; here 128 and 150 against naive
# learners, 64 and 150-300 in the mixed pool):
#  - vsnaive (Fig. 3 analogue): naive vs naive (0.11); fixed tit for tat
#    (0.90) and always-defect (0.11) against the naive learners: what
#    shaping and exploitation can earn; COALA-PG against naive learners,
#    seeds 1-5: seeds 1-4 shape and then extort them (final meta 1.12-1.18
#    vs naive -0.27 to -0.39), seed 5 falls into mutual defection (0.10);
#    batch-unaware, seed 1, for contrast (defection, 0.11); COALA-PG from a
#    defecting start (--start-defect 3): stays there with entropy 0 (seed 1,
#    0.11), extorts with --entropy 0.01 (seeds 1, 2: 1.08 and 1.03 vs naive
#    0.07 and 0.12). vsnaive-coala.png shows each COALA-PG seed.
#  - mixed (Fig. 5 analogue): p-naive 0.75 with one meta agent (its
#    meta-agent co-players are itself, both seats trained): COALA-PG, after a
#    dip, cooperates with meta co-players in seeds 1 and 2 (final
#    reward_vs_meta 0.91, 0.80) while extorting naive ones (0.75 vs -0.08,
#    0.77 vs -0.11); seed 3 extorts (0.94 vs -0.34) but stays at 0.14 with
#    itself; batch-unaware and M-FOS-style defect from about iteration 20
#    (reward_vs_meta 0.00, seeds 1-2). Median and IQR over seeds.
#  - analytic (Fig. 4 analogue): exact tabular IPD, look-ahead 1 cooperates
#    (1.00), 5 and more look-ahead steps drift to mutual extortion (the
#    two agents' rewards 0.32-1.05, their mean 0.49-0.97, below 1).
#  - cleanup: CleanUp-lite, COALA-PG against naive learners (reward 0.015-
#    0.022 per step, zap rate 0.014-0.085) vs naive vs naive (0.007, 0.134).
# Writes under out/ipd-learn/ (or $OUT): one CSV per figure (the runs joined), the
# PNGs, and summary.csv: per configuration and seed, means over the last 10%
# of iterations (the final window) and the run's seconds.
set -eu
bin=$1
ITERS=${ITERS:-150}              # meta-iterations against naive learners
MIXED_ITERS=${MIXED_ITERS:-300}  # meta-iterations in the mixed pool, COALA-PG
MIXED_BASE_ITERS=${MIXED_BASE_ITERS:-150}  # batch-unaware, M-FOS (flat from ~20)
META_BATCH=${META_BATCH:-128}    # meta-trajectories per iteration against naive learners (the paper's)
MIXED_META_BATCH=${MIXED_META_BATCH:-64}  # in the mixed pool (halved: twice the iterations)
SEEDS=${SEEDS:-"1 2 3"}          # references and CleanUp-lite
COALA_SEEDS=${COALA_SEEDS:-"1 2 3 4 5"}  # COALA-PG against naive learners
MIXED_COALA_SEEDS=${MIXED_COALA_SEEDS:-"1 2 3"}
MIXED_SEEDS=${MIXED_SEEDS:-"1 2"}        # mixed-pool batch-unaware, M-FOS
DEFECT_SEEDS=${DEFECT_SEEDS:-"1 2"}      # COALA-PG from a defecting start, entropy bonus 0.01
DEFECT_ENTROPY=${DEFECT_ENTROPY:-0.01}
CLEANUP_ITERS=${CLEANUP_ITERS:-100}
ANALYTIC_ITERS=${ANALYTIC_ITERS:-500}
LOOKAHEADS=${LOOKAHEADS:-"0 1 2 5 10 30"}
JOBS=${JOBS:-2}
PATH="$(cd "$bin" && pwd):$PATH"
export PATH
out=${OUT:-out/ipd-learn}
. "$(dirname "$0")/jobs.sh"
# The runs (jobs.sh).
train_run() {   # train_run FILE LABEL ARG...: ipd-learn train ARG... into FILE, its estimator column renamed LABEL ("-": kept)
	f=$1 label=$2; shift 2
	ipd-learn train --threads 1 -q --log-every 1 "$@" > "$f.tmp"
	if [ "$label" != - ]; then
		awk -F, -v OFS=, -v l="$label" 'NR > 1 { $2 = l } { print }' "$f.tmp" > "$f"; rm -f "$f.tmp"
	else mv "$f.tmp" "$f"; fi
	echo "fig-ipd-learn: $f" >&2
}
analytic() {   # analytic LOOKAHEAD SEED
	ipd-learn analytic --lookahead "$1" --iters "$ANALYTIC_ITERS" -s "$2" > "$out/analytic-$1-$2.csv"
}
jobs_worker "$@"
mkdir -p "$out"
join_csv() { awk 'FNR == 1 && NR != 1 { next } { print }' "$@"; }
t0=$(date +%s)

# The job list: one line per run, "FILE LABEL ARG...": ipd-learn train ARG...
# --threads 1 -q > FILE, its estimator column renamed LABEL ("-": kept).
jobs="$out/jobs.txt"
: > "$jobs"
job() { echo "$*" >> "$jobs"; }
for s in $SEEDS; do
	job "$out/vsnaive-naive-$s.csv" - --naive-vs-naive --iters $ITERS --meta-batch $META_BATCH -s $s
	job "$out/vsnaive-tft-$s.csv" fixed-tft --fixed 1,1,0,1,0 --iters $ITERS --meta-batch $META_BATCH -s $s
	job "$out/vsnaive-alld-$s.csv" fixed-alld --fixed 0,0,0,0,0 --iters $ITERS --meta-batch $META_BATCH -s $s
done
for s in $COALA_SEEDS; do
	job "$out/vsnaive-coala-$s.csv" - --estimator coala --iters $ITERS --meta-batch $META_BATCH -s $s
done
job "$out/vsnaive-unaware-1.csv" - --estimator unaware --iters $ITERS --meta-batch $META_BATCH -s 1
# From a defecting start: without an entropy bonus (seed 1), then with one.
job "$out/vsnaive-coala_defect-1.csv" coala_defect --start-defect 3 --iters $ITERS --meta-batch $META_BATCH -s 1
for s in $DEFECT_SEEDS; do
	job "$out/vsnaive-coala_defect_entropy-$s.csv" coala_defect_entropy --start-defect 3 \
		--entropy $DEFECT_ENTROPY --iters $ITERS --meta-batch $META_BATCH -s $s
done
for s in $MIXED_COALA_SEEDS; do
	job "$out/mixed-coala-$s.csv" - --estimator coala --p-naive 0.75 --iters $MIXED_ITERS \
		--meta-batch $MIXED_META_BATCH -s $s
done
for s in $MIXED_SEEDS; do
	for est in unaware mfos; do
		job "$out/mixed-$est-$s.csv" - --estimator $est --p-naive 0.75 --iters $MIXED_BASE_ITERS \
			--meta-batch $MIXED_META_BATCH -s $s
	done
done
for s in $SEEDS; do
	job "$out/cleanup-naive-$s.csv" - --env cleanup --naive-vs-naive --iters $CLEANUP_ITERS -s $s
	job "$out/cleanup-coala-$s.csv" - --env cleanup --iters $CLEANUP_ITERS -s $s
done
# Longest first: two at a time, one thread each.
awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i == "--iters") n = $(i + 1);
	w = ($0 ~ /naive-vs-naive|fixed/) ? 0 : ($0 ~ /p-naive/) ? 2 * n : n; print w, $0 }' "$jobs" |
	sort -s -k1,1nr | cut -d' ' -f2- | sed 's/^/train_run /' | jobs_run "$0" "$bin"

join_csv "$out"/vsnaive-*.csv > "$out/vsnaive.csv"
ax-plot -x iter -y meta_reward -y coplayer_reward --group estimator --spread seed -W 1400 -H 520 \
	-t "IPD vs naive learners (Fig. 3 analogue), meta-batch $META_BATCH" \
	-o "$out/vsnaive.png" "$out/vsnaive.csv"
# the median hides which seeds escaped defection: COALA-PG seed by seed
awk -F, 'NR == 1 || $2 == "coala"' "$out/vsnaive.csv" |
	ax-plot -x iter -y meta_reward -y coplayer_reward -y coplayer_coop --group seed \
	-t "COALA-PG vs naive learners, each seed" -o "$out/vsnaive-coala.png" -
join_csv "$out"/mixed-*.csv > "$out/mixed.csv"
ax-plot -x iter -y reward_vs_meta -y reward_vs_naive -y naive_reward --group estimator --spread seed \
	-t "Mixed pool, p-naive 0.75 (Fig. 5 analogue), meta-batch $MIXED_META_BATCH" \
	-o "$out/mixed.png" "$out/mixed.csv"
join_csv "$out"/cleanup-*-*.csv > "$out/cleanup.csv"
ax-plot -x iter -y meta_reward -y meta_zap_rate -y clean_share --group estimator --spread seed -W 1600 -H 520 \
	-t "CleanUp-lite" -o "$out/cleanup.png" "$out/cleanup.csv"

# Fig. 4 analogue: exact IPD (fast)
for K in $LOOKAHEADS; do
	for s in $SEEDS; do echo "analytic $K $s"; done
done | jobs_run "$0" "$bin"
join_csv "$out"/analytic-*-*.csv > "$out/analytic.csv"
ax-plot -x iter -y meta_reward --group lookahead --spread seed \
	-t "Exact IPD, two look-ahead-K learners (Fig. 4 analogue)" -o "$out/analytic.png" "$out/analytic.csv"

# The numbers behind the figures: per run, means over the last 10% of
# iterations (IPD: meta_coop, coplayer_coop; CleanUp: zap rates).
{
	echo "experiment,estimator,seed,iters,meta_reward,coplayer_reward,meta_coop_or_zap,coplayer_coop_or_zap,reward_vs_naive,naive_reward,reward_vs_meta,seconds"
	for f in vsnaive mixed cleanup; do
		awk -F, -v f=$f 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			{ k = $2 "," $3; rows[NR] = $0; key[NR] = k; if ($1 > max[k]) max[k] = $1 }
			END { for (r in rows) { k = key[r]; split(rows[r], v, ",");
				if (v[1] <= 0.9 * max[k]) continue;
				n[k]++; sec[k] = v[col["seconds"]] > sec[k] ? v[col["seconds"]] : sec[k]
				m[k] += v[col["meta_reward"]]; c[k] += v[col["coplayer_reward"]]
				a = ("meta_coop" in col) ? "meta_coop" : "meta_zap_rate"
				b = ("coplayer_coop" in col) ? "coplayer_coop" : "coplayer_zap_rate"
				mc[k] += v[col[a]]; cc[k] += v[col[b]]
				x = v[col["reward_vs_naive"]]; if (x == x + 0) { vn[k] += x; nn[k]++ }
				x = v[col["naive_reward"]]; if (x == x + 0) { nr[k] += x }
				x = v[col["reward_vs_meta"]]; if (x == x + 0) { vm[k] += x; nm[k]++ } }
			for (k in n) printf "%s,%s,%d,%.4f,%.4f,%.4f,%.4f,%s,%s,%s,%.0f\n", f, k, max[k],
				m[k] / n[k], c[k] / n[k], mc[k] / n[k], cc[k] / n[k],
				nn[k] ? sprintf("%.4f", vn[k] / nn[k]) : "nan",
				nn[k] ? sprintf("%.4f", nr[k] / nn[k]) : "nan",
				nm[k] ? sprintf("%.4f", vm[k] / nm[k]) : "nan", sec[k] }' "$out/$f.csv" | sort -t, -k2,2 -k3,3n
	done
	awk -F, -v last=$ANALYTIC_ITERS 'NR > 1 && $1 == last { printf "analytic,lookahead-%s,%s,%s,%.4f,%.4f,nan,nan,nan,nan,nan,nan\n", $2, $4, $1, $5, $6 }' \
		"$out/analytic.csv" | sort -t, -k2,2V -k3,3n
} > "$out/summary.csv"
cat "$out/summary.csv"
echo "fig-ipd-learn: done in $(( $(date +%s) - t0 )) s, see $out" >&2
