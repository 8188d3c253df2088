#!/bin/sh
# fig-mtm-train.sh BIN — reproduces the shape of MtM (arXiv:2407.14668)
# Table 1 / Fig. 3 on simulated IBL-like sessions (spike-sim ibl):
#  1. bps.png, behaviour.png: every metric for MtM, the temporal-masking
#     baseline and the true-rate oracle, averaged over the pretraining
#     sessions. Expected: MtM above temporal on co-smoothing, forward
#     prediction, inter- and intra-region bits/spike, and not worse on choice
#     and wheel decoding; the oracle far above both.
#  2. multisession.png: a held-out session with few trials, fine-tuned from
#     the multi-session MtM checkpoint (--init) against MtM trained on that
#     session alone for the same number of steps. Expected: pretraining helps.
#     FT_STEPS=0 skips it (scripts/demo-mtm-train.sh does).
# The sessions have fast shared variability (spike-sim --fast 0.6): white
# from bin to bin and shared within a region, so only other neurons of the
# same bin reveal it. Without it (FAST=0) MtM and temporal masking tie on
# co-smoothing (0.324 vs 0.325 at width 64, 6000 steps), as co-smoothing
# then needs nothing that temporal context does not give.
#
# Measured (defaults: width 128, 12000 steps; 16 min on 2 idle cores, the
# two runs of each part side by side, one thread each): MtM vs temporal vs
# oracle, bits/spike: co-smoothing 0.418 / 0.298 / 0.585, forward 0.309 /
# 0.283 / 0.578, inter-region 0.318 / 0.226, intra-region 0.419 / 0.171;
# choice accuracy 0.844 / 0.833 (oracle 0.854); wheel R^2 0.885 / 0.859.
# At DIM=64 MtM still wins every bits/spike metric and choice but loses on
# wheel R^2 (0.833 / 0.859). Held-out session (100 trials, 1000 steps),
# pretrained vs alone: co-smoothing 0.359 / 0.305, forward 0.264 / 0.201,
# inter 0.270 / 0.255, intra 0.370 / 0.302, wheel 0.878 / 0.778, choice
# 0.870 / 0.880 (one trial of 100).
# Numbers behind the figures: OUT/summary.csv, multisession.csv.
# Every setting below can be overridden from the environment, as the demo
# does for a smaller run.
set -eu
bin=$1
SESSIONS=${SESSIONS:-4}   # pretraining sessions
REGIONS=${REGIONS:-4}
NEURONS=${NEURONS:-20}    # mean per region per session
TRIALS=${TRIALS:-300}
FAST=${FAST:-0.6}         # fast shared variability of the simulated rates (spike-sim --fast)
HELDOUT_TRIALS=${HELDOUT_TRIALS:-100}
STEPS=${STEPS:-12000}
FT_STEPS=${FT_STEPS:-1000}
DIM=${DIM:-128} LAYERS=${LAYERS:-2} HEADS=${HEADS:-4} BATCH=${BATCH:-16} LR=${LR:-2e-3}
THREADS=${THREADS:-1}   # per run; the two runs of each part go side by side

SEED=${SEED:-42}
out=${OUT:-out/mtm-train}
PATH="$(cd "$bin" && pwd):$PATH"
mkdir -p "$out"
model="--dim $DIM --layers $LAYERS --heads $HEADS --batch $BATCH --lr $LR --seed $SEED --threads $THREADS -q"

summarise() {
	awk -F, 'FNR == 1 { model = FILENAME; sub(/.*eval-/, "", model); sub(/\.csv$/, "", model); next }
		{ key = $2 SUBSEP model; s[key] += $3; n[key]++; o[$2] += $4; on[$2]++ }
		END {
			for (k in s) { split(k, p, SUBSEP); printf "%s,%s,%.4f\n", p[1], p[2], s[k] / n[k] }
			for (m in o) printf "%s,oracle,%.4f\n", m, o[m] / on[m]
		}' "$@" | sort
}

# Data: the pretraining sessions.
spike-sim ibl -q -o "$out/data" -n "$SESSIONS" -r $REGIONS -u $NEURONS -t $TRIALS --fast $FAST -s $SEED

# 1. MtM against temporal masking.
# Runs the commands given as arguments side by side (each one a string for
# sh -c); fails if any of them fails.
side_by_side() {
	pids=
	for cmd in "$@"; do
		sh -c "$cmd" &
		pids="$pids $!"
	done
	status=0
	for p in $pids; do wait "$p" || status=1; done
	return $status
}
train_eval() { # mask
	echo "mtm-train train $model --steps $STEPS --mask $1 -c '$out/$1.ckpt' '$out'/data/session-*.safetensors > '$out/train-$1.csv' &&
		mtm-train eval -q --threads $THREADS -c '$out/$1.ckpt' '$out'/data/session-*.safetensors > '$out/eval-$1.csv'"
}
side_by_side "$(train_eval mtm)" "$(train_eval temporal)"
{ echo metric,model,value; summarise "$out/eval-mtm.csv" "$out/eval-temporal.csv"; } > "$out/summary.csv"
grep -E '^(metric|co_smoothing|forward_pred|inter_region|intra_region),' "$out/summary.csv" > "$out/bps.csv"
grep -E '^(metric|choice_acc|wheel_r2),' "$out/summary.csv" > "$out/behaviour.csv"
ax-plot -k bar -x metric -y value -g model --ylabel bits/spike \
	-t "MtM vs temporal masking ($SESSIONS sessions)" "$out/bps.csv" -o "$out/bps.png"
ax-plot -k bar -x metric -y value -g model --ylabel 'accuracy / R^2' \
	-t 'Behaviour from the frozen encoder' "$out/behaviour.csv" -o "$out/behaviour.png"

# 2. Multi-session pretraining then fine-tuning, against one session alone,
# on a held-out session of the same world (session index $SESSIONS) with
# fewer trials.
if [ "$FT_STEPS" -gt 0 ]; then
	spike-sim ibl -q -o "$out/heldout-all" -n $((SESSIONS + 1)) -r $REGIONS -u $NEURONS -t $HELDOUT_TRIALS \
		--fast $FAST -s $SEED
	held=$out/heldout.safetensors
	mv "$out/heldout-all/session-$(printf %03d "$SESSIONS").safetensors" "$held"
	rm -rf "$out/heldout-all"
	side_by_side \
		"mtm-train train $model --steps $FT_STEPS --init '$out/mtm.ckpt' -c '$out/finetuned.ckpt' '$held' > '$out/train-finetuned.csv' &&
			mtm-train eval -q --threads $THREADS -c '$out/finetuned.ckpt' '$held' > '$out/eval-pretrained.csv'" \
		"mtm-train train $model --steps $FT_STEPS -c '$out/single.ckpt' '$held' > '$out/train-single.csv' &&
			mtm-train eval -q --threads $THREADS -c '$out/single.ckpt' '$held' > '$out/eval-single.csv'"
	{ echo metric,model,value; summarise "$out/eval-pretrained.csv" "$out/eval-single.csv"; } > "$out/multisession.csv"
	ax-plot -k bar -x metric -y value -g model --ylabel 'bits/spike, accuracy, R^2' \
		-t "Held-out session: pretrained vs alone" "$out/multisession.csv" -o "$out/multisession.png"
fi
cat "$out/summary.csv"
if [ "$FT_STEPS" -gt 0 ]; then cat "$out/multisession.csv"; fi
