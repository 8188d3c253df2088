#!/bin/sh
# fig-agent-probe.sh BIN — the probes of arXiv:2407.12161 (a VPT Minecraft
# agent's attention, goal misgeneralisation, ablation) on agent-probe's
# gridworld analogue, over seeds:
#  1. success.png: greedy success of the policy with memory K = 32, 8 and 1
#     (K = 1 is memoryless: it sees the cue only while it stands near it).
#  2. attention.png: per layer/head of the K = 32 policy, the attention share
#     on the last 4 steps, on older steps where the cue was in view, and on
#     older steps that chopped a tree; attention-time.png: the mass by
#     offset over episode steps (seed 1).
#  3. attack.png: how often the villager look-alike (brown under green
#     leaves where a tree stood) is attacked vs the purple control object.
#  4. ablation.png: change of success and of the look-alike attack rate
#     when each head is zeroed.
#  5. patch.png (seed 1): normalised effect of patching head outputs and the
#     residual stream from the clean run into the cue-swapped run.
# Scaled down from the paper: a 2-layer, 4-head, width-64 policy over at
# most 40 steps instead of VPT's 250M parameters and 128 frames; behaviour
# cloning only (no PPO fine-tuning). The trainings, then each seed's probes,
# run JOBS at a time (scripts/jobs.sh; default 2), one thread each.
#
# Measured (defaults: 3 seeds x memories 32, 8, 1 x 2000 steps, 256 episodes
# per probe; 2.9 min of CPU per seed, 9 in all, on one core with --threads 1;
# the 15-20 min budget fits SEEDS="1 2 3 4 5"; on a machine shared with
# other jobs, 4-12 min of wall time per seed): success K=32 0.94 (0.89-1.00),
# K=8 0.91, K=1 0.40; look-alike attacked in 0.98 of the episodes
# (0.96-1.00), the purple control in 0.06 (0.02-0.13); 46-60% of each head's
# attention on the last 4 steps, 10-22% on the cue steps; ablating layer 0
# head 1 costs 0.20 of success (0.01-0.46 over seeds); residual patching
# finds the cue at steps 1-2 before layer 0 (0.08-0.95) and at steps 9-18
# before layer 1, layer 0 head 1 carrying most of it. Details:
# agent-probe(1) RESULTS.
# Numbers behind the figures: OUT/summary.csv, attention.csv, attack.csv,
# ablation.csv, patch.csv.
set -eu
bin=$1
SEEDS=${SEEDS-1 2 3}
STEPS=${STEPS:-2000}
MEMORIES=${MEMORIES:-32 8 1}
EPISODES=${EPISODES:-256}        # evaluation episodes per probe
PATCH_EPISODES=${PATCH_EPISODES:-32}
OUT=${OUT:-out/fig-agent-probe}
t0=${FIG_T0:-$(date +%s)}; FIG_T0=$t0; export FIG_T0   # the workers' clock too
ap="$bin/agent-probe"
plot="$bin/ax-plot"
. "$(dirname "$0")/jobs.sh"

# The runs (jobs.sh). Each seed's rows go to OUT/seed-S/*.csv, so seeds can
# also run as separate invocations (SEEDS=4 sh ... on another node) into the
# same OUT; the figures then cover every seed found there.
train() {   # train SEED MEMORY: the policy and its greedy success
	sd="$OUT/seed-$1"
	"$ap" train --seed "$1" --memory "$2" --steps "$STEPS" --log-every 250 \
		--eval-episodes 32 --threads 1 -q -c "$sd/k$2.ckpt" >"$sd/train-k$2.csv"
	"$ap" intervene -m "$sd/k$2.ckpt" --edit none -n "$EPISODES" -s 100 --threads 1 |
		awk -F, -v s="$1" -v k="$2" 'NR > 1 { print s "," k "," $3 }' >"$sd/success-k$2.csv"
}
probe() {   # probe SEED: the probes of the K = 32 policy
	s=$1 sd="$OUT/seed-$1"
	m="$sd/k32.ckpt"
	png=; [ "$s" = 1 ] && png="--png $OUT/attention-time.png"
	"$ap" attention -m "$m" -n "$EPISODES" -s 100 --threads 1 -o "$sd/attention.npy" $png |
		awk -v s="$s" 'NR > 1 { print s "," $0 }' >"$sd/attention.csv"
	for e in lookalike control nocue swapcue; do
		"$ap" intervene -m "$m" --edit "$e" -n "$EPISODES" -s 100 --threads 1 |
			awk -F, -v s="$s" 'NR > 1 { print s "," $1 "," $3 "," $4 "," $5 "," $6 "," $7 }'
	done >"$sd/attack.csv"
	"$ap" ablate -m "$m" -n "$EPISODES" -s 100 --threads 1 |
		awk -v s="$s" 'NR > 1 { print s "," $0 }' >"$sd/ablation.csv"
	png=; [ "$s" = 1 ] && png="--png $OUT/patch.png --rollout $OUT/rollout-1.npy"
	"$ap" patch -m "$m" -n "$PATCH_EPISODES" -s 100 --threads 1 -o "$sd/patch.npy" \
		--resid "$sd/resid.npy" $png |
		awk -v s="$s" 'NR > 1 { print s "," $0 }' >"$sd/patch.csv"
	echo "fig-agent-probe: seed $s done ($(( $(date +%s) - t0 )) s)" >&2
}
jobs_worker "$@"
mkdir -p "$OUT"

# Every (seed, memory) trained, JOBS at a time, then each seed's probes.
for s in $SEEDS; do
	mkdir -p "$OUT/seed-$s"
	for k in $MEMORIES; do echo "train $s $k"; done
done | jobs_run "$0" "$bin"
for s in $SEEDS; do
	for k in $MEMORIES; do cat "$OUT/seed-$s/success-k$k.csv"; rm -f "$OUT/seed-$s/success-k$k.csv"
	done >"$OUT/seed-$s/success.csv"
	echo "probe $s"
done | jobs_run "$0" "$bin"

# Every seed in OUT, one table per probe.
gather() {   # gather NAME HEADER
	{ echo "$2"; cat "$OUT"/seed-*/"$1.csv"; } >"$OUT/$1.csv"
}
gather success "seed,memory,success"
gather attention "seed,layer,head,last4,cue,trees,older"
gather attack "seed,edit,success,kl,dlogit_attack,attack_rate,attack_prob"
gather ablation "seed,layer,head,success,d_success,attack_rate,d_attack"
gather patch "seed,clean,corrupted,all_effect,layer,step,head,effect,resid_layer,resid_step,resid_effect"

# Mean, min and max over seeds of column c grouped by the key columns.
agg() {   # agg FILE KEYCOLS VALUECOL -> key,mean,lo,hi
	awk -F, -v keys="$2" -v c="$3" '
	NR == 1 { next }
	{ n = split(keys, ks, " "); k = ""
	  for (i = 1; i <= n; i++) k = k (i > 1 ? "_" : "") $ks[i]
	  if (!(k in cnt)) { order[++no] = k; lo[k] = $c; hi[k] = $c }
	  cnt[k]++; sum[k] += $c; if ($c < lo[k]) lo[k] = $c; if ($c > hi[k]) hi[k] = $c }
	END { for (i = 1; i <= no; i++) { k = order[i]
	      printf "%s,%.4f,%.4f,%.4f\n", k, sum[k] / cnt[k], lo[k], hi[k] } }' "$1"
}
{ echo "memory,success,lo,hi"; agg "$OUT/success.csv" "2" 3 | sed 's/^/K=/'; } >"$OUT/success-mean.csv"
{ echo "edit,attack_rate,lo,hi"; agg "$OUT/attack.csv" "2" 6 | grep -E '^(lookalike|control),'; } \
	>"$OUT/attack-mean.csv"
{
	echo "head,last4,cue,trees"
	paste -d, "$(agg "$OUT/attention.csv" "2 3" 4 >"$OUT/a4"; echo "$OUT/a4")" \
		"$(agg "$OUT/attention.csv" "2 3" 5 >"$OUT/ac"; echo "$OUT/ac")" \
		"$(agg "$OUT/attention.csv" "2 3" 6 >"$OUT/at"; echo "$OUT/at")" |
		awk -F, '{ print "L" $1 "," $2 "," $6 "," $10 }' | sed 's/_/H/'
} >"$OUT/attention-mean.csv"
{
	echo "head,d_success,d_attack"
	paste -d, "$(agg "$OUT/ablation.csv" "2 3" 5 >"$OUT/ds"; echo "$OUT/ds")" \
		"$(agg "$OUT/ablation.csv" "2 3" 7 >"$OUT/da"; echo "$OUT/da")" |
		awk -F, '$1 != "-1_-1" { print "L" $1 "," $2 "," $6 }' | sed 's/_/H/'
} >"$OUT/ablation-mean.csv"
rm -f "$OUT/a4" "$OUT/ac" "$OUT/at" "$OUT/ds" "$OUT/da"

"$plot" -k bar -x memory -y success --band lo,hi -t "success by memory K (mean, min-max over seeds)" \
	"$OUT/success-mean.csv" -o "$OUT/success.png"
"$plot" -k bar -x head -y last4,cue,trees -t "attention share, K = 32 (mean over seeds)" \
	"$OUT/attention-mean.csv" -o "$OUT/attention.png"
"$plot" -k bar -x edit -y attack_rate --band lo,hi \
	-t "episodes attacking the edited object (mean, min-max)" "$OUT/attack-mean.csv" \
	-o "$OUT/attack.png"
"$plot" -k bar -x head -y d_success,d_attack -t "head ablation: change (mean over seeds)" \
	"$OUT/ablation-mean.csv" -o "$OUT/ablation.png"
{
	echo "memory,success,lo,hi"; tail -n +2 "$OUT/success-mean.csv"
	echo; echo "edit,attack_rate,lo,hi"; tail -n +2 "$OUT/attack-mean.csv"
} >"$OUT/summary.csv"
cat "$OUT/summary.csv"
echo "fig-agent-probe: $(( $(date +%s) - t0 )) s; figures in $OUT" >&2
