#!/bin/sh
# fig-mtm-train.sh BIN — reproduces the shape of MtM (arXiv:2407.14668)
# Table 1 / Fig. 3 on simulated IBL-like sessions (spike-sim ibl), on
# several simulated worlds (SEEDS: each seed draws its own dynamics,
# behaviour read-outs and sessions, and seeds the models):
#  1. bps.png, behaviour.png: every metric for MtM, the temporal-masking
#     baseline and the true-rate oracle, averaged over the pretraining
#     sessions of a world; bars are the mean over the worlds, error bars
#     their range (min to max). The paper's claim: MtM above temporal on
#     co-smoothing, forward prediction, inter- and intra-region bits/spike
#     and behaviour decoding; the oracle far above both.
#  2. multisession.png: per world, a held-out session with few trials,
#     fine-tuned from the multi-session MtM checkpoint (--init) against MtM
#     trained on that session alone for the same number of steps; mean and
#     range over the worlds. FT_STEPS=0 skips it (the demo does).
# The sessions have fast shared variability (spike-sim --fast 0.6): white
# from bin to bin and shared within a region, so only other neurons of the
# same bin reveal it; without it MtM and temporal masking tie on
# co-smoothing.
#
# Numbers behind the figures, every world: OUT/summary.csv (seed, metric,
# model, value; the oracle as model "oracle"), OUT/stats.csv (metric, model,
# mean, sd, min, max over the worlds), OUT/multisession.csv and
# OUT/multisession-stats.csv. The runs are independent: JOBS of them at a
# time, THREADS threads each. Measured numbers: mtm-train(1), RESULTS.
# Every setting below can be overridden from the environment, as the demo
# does for a smaller run.
set -eu
bin=$1
SEEDS=${SEEDS:-"42 4242 7"}   # simulated worlds (spike-sim --seed), also the models' seeds
JOBS=${JOBS:-2}               # runs side by side
THREADS=${THREADS:-1}         # per run
SESSIONS=${SESSIONS:-4}       # pretraining sessions
REGIONS=${REGIONS:-4}
NEURONS=${NEURONS:-20}        # mean per region per session
TRIALS=${TRIALS:-300}
FAST=${FAST:-0.6}             # fast shared variability of the simulated rates (spike-sim --fast)
HELDOUT_TRIALS=${HELDOUT_TRIALS:-100}
STEPS=${STEPS:-12000}
FT_STEPS=${FT_STEPS:-1000}
DIM=${DIM:-128} LAYERS=${LAYERS:-2} HEADS=${HEADS:-4} BATCH=${BATCH:-16} LR=${LR:-2e-3}
MTM_FLAGS=${MTM_FLAGS:-}      # extra mtm-train train flags for every run

OUT=${OUT:-out/mtm-train}
PATH="$(cd "$bin" && pwd):$PATH"
MODEL="--dim $DIM --layers $LAYERS --heads $HEADS --batch $BATCH --lr $LR --threads $THREADS -q $MTM_FLAGS"
export PATH OUT MODEL THREADS
mkdir -p "$OUT"

# Data: per world, the pretraining sessions and (part 2) session $SESSIONS
# of the same world with fewer trials, held out.
for seed in $SEEDS; do
	d=$OUT/seed-$seed
	mkdir -p "$d"
	spike-sim ibl -q -o "$d/data" -n "$SESSIONS" -r "$REGIONS" -u "$NEURONS" -t "$TRIALS" \
		--fast "$FAST" -s "$seed"
	if [ "$FT_STEPS" -gt 0 ]; then
		spike-sim ibl -q -o "$d/heldout-all" -n $((SESSIONS + 1)) -r "$REGIONS" -u "$NEURONS" \
			-t "$HELDOUT_TRIALS" --fast "$FAST" -s "$seed"
		mv "$d/heldout-all/session-$(printf %03d "$SESSIONS").safetensors" "$d/heldout.safetensors"
		rm -rf "$d/heldout-all"
	fi
done

# Runs "SEED NAME TRAIN-FLAGS" lines from stdin, JOBS at a time: trains
# OUT/seed-SEED/NAME.ckpt on SESSIONS (a glob under OUT/seed-SEED), then
# evaluates it into eval-NAME.csv. Fails if any run fails.
run_all() { # sessions
	SESS=$1 xargs -L 1 -P "$JOBS" sh -c 'seed=$1 name=$2; shift 2
		d=$OUT/seed-$seed
		echo "fig-mtm-train: world $seed, $name" >&2
		mtm-train train $MODEL --seed "$seed" "$@" -c "$d/$name.ckpt" $d/$SESS > "$d/train-$name.csv" &&
			mtm-train eval -q --threads "$THREADS" -c "$d/$name.ckpt" $d/$SESS > "$d/eval-$name.csv" ||
			{ echo "fig-mtm-train: world $seed, $name failed" >&2; exit 255; }' sh
}

# Every world's eval-NAME.csv of the given names as seed,metric,model,value
# (the mean over its sessions; the oracle once per world).
collect() { # name...
	for seed in $SEEDS; do
		for name in "$@"; do
			awk -F, -v seed="$seed" -v name="$name" -v first="$1" 'FNR > 1 {
					s[$2] += $3; o[$2] += $4; n[$2]++ }
				END { for (m in s) {
					printf "%s,%s,%s,%.4f\n", seed, m, name, s[m] / n[m]
					if (name == first) printf "%s,%s,oracle,%.4f\n", seed, m, o[m] / n[m] } }' \
				"$OUT/seed-$seed/eval-$name.csv"
		done
	done | sort -t, -k2,2 -k3,3 -k1,1n
}

# seed,metric,model,value rows -> metric,model,mean,sd,min,max,worlds.
stats() {
	echo metric,model,mean,sd,min,max,worlds
	awk -F, 'NR > 1 { k = $2 "," $3; s[k] += $4; q[k] += $4 * $4; n[k]++
			if (!(k in lo) || $4 < lo[k]) lo[k] = $4
			if (!(k in hi) || $4 > hi[k]) hi[k] = $4 }
		END { for (k in s) { m = s[k] / n[k]; v = n[k] > 1 ? (q[k] - n[k] * m * m) / (n[k] - 1) : 0
				printf "%s,%.4f,%.4f,%.4f,%.4f,%d\n", k, m, (v > 0 ? sqrt(v) : 0), lo[k], hi[k], n[k] } }' |
		sort
}

# 1. MtM against temporal masking.
for seed in $SEEDS; do printf '%s mtm --mask mtm --steps %s\n%s temporal --mask temporal --steps %s\n' "$seed" "$STEPS" "$seed" "$STEPS"; done |
	run_all 'data/session-*.safetensors'
{ echo seed,metric,model,value; collect mtm temporal; } > "$OUT/summary.csv"
stats < "$OUT/summary.csv" > "$OUT/stats.csv"
nworlds=$(echo $SEEDS | wc -w)
grep -E '^(metric|co_smoothing|forward_pred|inter_region|intra_region),' "$OUT/stats.csv" > "$OUT/bps.csv"
grep -E '^(metric|choice_acc|wheel_r2),' "$OUT/stats.csv" > "$OUT/behaviour.csv"
ax-plot -k bar -x metric -y mean -g model --band min,max --ylabel bits/spike \
	-t "MtM vs temporal ($nworlds worlds)" "$OUT/bps.csv" -o "$OUT/bps.png"
ax-plot -k bar -x metric -y mean -g model --band min,max --ylabel 'accuracy / R^2' \
	-t "Behaviour decoding ($nworlds worlds)" "$OUT/behaviour.csv" -o "$OUT/behaviour.png"

# 2. Multi-session pretraining then fine-tuning, against one session alone.
if [ "$FT_STEPS" -gt 0 ]; then
	for seed in $SEEDS; do
		printf '%s pretrained --steps %s --init %s\n%s single --steps %s\n' \
			"$seed" "$FT_STEPS" "$OUT/seed-$seed/mtm.ckpt" "$seed" "$FT_STEPS"
	done | run_all heldout.safetensors
	{ echo seed,metric,model,value; collect pretrained single; } > "$OUT/multisession.csv"
	stats < "$OUT/multisession.csv" > "$OUT/multisession-stats.csv"
	ax-plot -k bar -x metric -y mean -g model --band min,max --ylabel 'bits/spike, accuracy, R^2' \
		-t "Held-out session ($nworlds worlds)" "$OUT/multisession-stats.csv" \
		-o "$OUT/multisession.png"
fi
cat "$OUT/stats.csv"
if [ "$FT_STEPS" -gt 0 ]; then cat "$OUT/multisession-stats.csv"; fi
