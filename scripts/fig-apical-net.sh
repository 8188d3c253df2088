#!/bin/sh
# fig-apical-net.sh BIN — top-down context through apical dendrites resolves
# ambiguous Fashion-MNIST blends (after arXiv:2312.05484), over seeds:
#  1. accuracy.png: accuracy against alpha (1 = clean) for each context
#     condition, one panel per model (apical, point, concat, none). Expected:
#     at alpha 0.5 near 0.5 without context and near clean accuracy with the
#     relevant cue; on clean images the apical model ignores irrelevant and
#     opposing cues where the point-neuron control is misled.
#  2. lrp.png: per hidden unit of the apical model (first seed), relevance to
#     a pair's overlap (epsilon-LRP) against the apical signal it receives
#     for that pair; lrp.csv: the correlation per model, pair and seed.
#  3. silence.png: accuracy on ambiguous (alpha 0.5, relevant cue) and clean
#     images as the K units most relevant to the overlap are silenced,
#     against K random units.
#  4. temporal.png: the temporal task (the cue is (l1 + l2) mod 10 of two
#     earlier frames, through a GRU on the apical pathway) at alpha 0.5 by the
#     number of blank frames between the context and the target.
#  5. clean-cue.png: as 1., for apical, point and concat models trained in
#     one phase (CC_STEPS steps from scratch) on CC_TRAIN: a fifth blends,
#     four fifths clean images of the pairs whose cue says nothing about the
#     label (--clean-cue random), so that context should matter only under
#     ambiguity (more blends: the cue resolves them better and misleads
#     clean images more; see apical-net(1) RESULTS for the trade-off).
#  6. conv.png: as 5., with the conv basal pathway (--basal conv: two
#     conv-ReLU-maxpool stages of CONV_CHANNELS under the hidden layers),
#     CONV_STEPS steps on CONV_TRAIN, apical, point and concat: the recipe that
#     meets the issue's bar (a better feedforward pathway leaves less for a
#     misleading cue to tip on clean images).
# In 1.-4. each seed first trains the feedforward network alone (the none
# model, PRE_STEPS steps, no cues); the apical, point and concat models then
# take it (--init) and learn only their top-down pathway (TD_STEPS steps),
# so the four models share one feedforward network per seed; the temporal
# models start from the blend model of their kind and learn the context
# network (and go on adapting the apical weights). Scaled down from a
# paper-sized study: 4 seeds, 1000 test examples per cell, hidden 256, 2000
# + 1000 steps of batch 64 (the command's defaults, split by --init), the
# temporal task with at most 3 blank frames and T_STEPS top-down steps at
# learning rate T_LR (at 1e-3 the context network had not left its plateau
# after 1500 steps; at 3e-3 it leaves it after about 500). The runs go JOBS
# at a time, one thread each, in three stages (each needs only the ones
# before).
#
# Measured (SEEDS="1 2 3", other settings the defaults; 10 min on 2 cores
# shared with other jobs at load 12 without part 6; 15 min on an idle 2-core
# AMD EPYC with it and 24.5 min on an AVX2 one, where parts 1-5 came within
# 0.7 points of these and part 6 is from the AVX2 run; means
# over the seeds; full text in
# apical-net(1) RESULTS, numbers in OUT/summary.txt): alpha 0.5 without
# context 0.468; with the relevant cue apical 0.866, point 0.966, concat
# 0.898 (clean accuracy without context 0.786). Clean images, cost of an
# irrelevant cue against none: apical 1.8 points, concat 2.4, point 3.9; of
# an opposing cue: apical 20.2, concat 20.9, point 34.0. Trained in one
# phase with uninformative cues on clean images (5.): opposing apical 4.1
# (1.2-6.0 over seeds), point 3.7, concat 4.6; irrelevant 1.9-2.5; but the
# relevant cue at alpha 0.5 only 0.72-0.77, below clean accuracy (0.82).
# The issue's bar (opposing within a couple of points, relevant near clean
# accuracy) is not met by these MLP models. On the conv basal pathway (6.,
# 12000 steps at --p-blend 0.3) it is, on every seed: apical, opposing cue
# -0.5 / 2.0 / 0.4 points, irrelevant 0.5 / 1.5 / 1.1, relevant at alpha 0.5
# 0.934 / 0.898 / 0.919 against clean 0.878 / 0.882 / 0.881; point and
# concat alike (opposing 0.1 and 0.9 on average, relevant 0.921 and 0.903).
# Relevance to the overlap vs apical signal: r 0.157
# (point model's drive: 0.047). Silencing the top 64 of 512
# overlap-relevant units: 0.869 -> 0.726 with the relevant cue at alpha 0.5
# (64 random: 0.853), but clean accuracy without context falls too (0.783
# -> 0.628). Temporal task: relevant cue 0.74-0.77 (apical), 0.77-0.79
# (point) vs 0.47 without context frames, flat over 0-3 blank frames.
# Every setting below can be overridden from the environment, as the demo
# does for a smaller run.
set -eu
bin=$1
SEEDS=${SEEDS:-1 2 3 4}
HIDDEN=${HIDDEN:-256}
PRE_STEPS=${PRE_STEPS:-2000}
TD_STEPS=${TD_STEPS:-1000}
T_STEPS=${T_STEPS:-2500}
T_LR=${T_LR:-3e-3}       # the context network's mod-10 sum needs a higher rate
T_MODELS=${T_MODELS:-apical point}
CC_STEPS=${CC_STEPS:-4000}   # 5.: one phase, clean images with uninformative cues
CC_TRAIN=${CC_TRAIN:---clean-cue random --p-blend 0.2}
CONV_STEPS=${CONV_STEPS:-12000}  # 6.: one phase on the conv basal pathway
CONV_TRAIN=${CONV_TRAIN:---clean-cue random --p-blend 0.3}
CONV_CHANNELS=${CONV_CHANNELS:-16,32}
N=${N:-1000}
KS=${KS:-0 16 32 64 128}
LIMIT=${LIMIT:-0}        # training images used (0: all)
JOBS=${JOBS:-2}          # runs side by side, one thread each
out=${OUT:-out/apical-net}
PATH="$(cd "$bin" && pwd):$PATH"
common="--hidden $HIDDEN --limit $LIMIT --threads 1 -q"
use="--threads 1 -q --n $N"
. "$(dirname "$0")/jobs.sh"

# The runs (jobs.sh), each into files of its own under OUT/seed-S.
pretrain() {   # pretrain SEED: the shared feedforward network (no cues)
	d="$out/seed-$1"
	apical-net train $common --model none -n "$PRE_STEPS" -s "$1" -m "$d/none.ckpt" >"$d/train-none.csv"
}
one_phase() {   # one_phase SEED MODEL NAME STEPS OPTION...: from scratch in one phase, evaluated
	seed=$1 model=$2 name=$3 steps=$4 d="$out/seed-$1"
	shift 4
	apical-net train $common --model "$model" --pretrain 0 -n "$steps" "$@" -s "$seed" \
		-m "$d/$name-$model.ckpt" >"$d/train-$name-$model.csv"
	apical-net eval $use -m "$d/$name-$model.ckpt" -s "$seed" >"$d/eval-$name-$model.csv"
}
clean_cue() {   # clean_cue SEED MODEL: CC_STEPS steps on CC_TRAIN
	# shellcheck disable=SC2086
	one_phase "$1" "$2" cc "$CC_STEPS" $CC_TRAIN
}
conv() {   # conv SEED MODEL: the conv basal pathway, CONV_STEPS steps on CONV_TRAIN
	# shellcheck disable=SC2086
	one_phase "$1" "$2" conv "$CONV_STEPS" --basal conv --channels "$CONV_CHANNELS" $CONV_TRAIN
}
top_down() {   # top_down SEED MODEL: the top-down pathway on the seed's network
	d="$out/seed-$1"
	apical-net train $common --model "$2" --init "$d/none.ckpt" -n "$TD_STEPS" -s "$1" \
		-m "$d/$2.ckpt" >"$d/train-$2.csv"
}
evaluate() {   # evaluate SEED MODEL
	d="$out/seed-$1"
	apical-net eval $use -m "$d/$2.ckpt" -s "$1" >"$d/eval-$2.csv"
}
relevance() {   # relevance SEED MODEL: epsilon-LRP to each pair's overlap
	d="$out/seed-$1"
	apical-net lrp -q --threads 1 -m "$d/$2.ckpt" -s "$1" --units "$d/units-$2.csv" \
		-o "$d/relevance-$2.npy" >"$d/lrp-$2.csv"
}
silence() {   # silence SEED K: the apical model with its top K units off
	d="$out/seed-$1"
	apical-net silence $use -m "$d/apical.ckpt" --top "$2" --draws 3 -s "$1" >"$d/silence-$2.csv"
}
temporal() {   # temporal SEED MODEL: the context network, from the blend model
	d="$out/seed-$1"
	apical-net train $common --task temporal --model "$2" --init "$d/$2.ckpt" \
		-n "$T_STEPS" --lr "$T_LR" -s "$1" -m "$d/temporal-$2.ckpt" >"$d/train-temporal-$2.csv"
	apical-net eval $use -m "$d/temporal-$2.ckpt" --alpha 0.5 -s "$1" >"$d/eval-temporal-$2.csv"
}
jobs_worker "$@"
mkdir -p "$out"
for s in $SEEDS; do mkdir -p "$out/seed-$s"; done

t0=$(date +%s)
# Stage 1: the shared feedforward network of each seed; the one-phase
# clean-cue and conv models (independent of it). Each stage needs only the
# ones before.
for s in $SEEDS; do
	echo "pretrain $s"
	for k in apical point concat; do echo "clean_cue $s $k"; done
	for k in apical point concat; do echo "conv $s $k"; done
done | jobs_run "$0" "$bin"
# Stage 2: the top-down pathways on it.
for s in $SEEDS; do
	for k in apical point concat; do echo "top_down $s $k"; done
done | jobs_run "$0" "$bin"
# Stage 3: evaluation, relevance, silencing, and the temporal task.
for s in $SEEDS; do
	for k in apical point concat none; do echo "evaluate $s $k"; done
	for k in apical point; do echo "relevance $s $k"; done
	for K in $KS; do echo "silence $s $K"; done
	for k in $T_MODELS; do echo "temporal $s $k"; done
done | jobs_run "$0" "$bin"

# 1. Accuracy against alpha: rows alpha,seed,condition and one column per
# model; accuracy_table PREFIX NAME TITLE reads eval-PREFIXk.csv.
accuracy_table() {
	for s in $SEEDS; do
		for k in apical point concat none; do
			f="$out/seed-$s/eval-$1$k.csv"
			if [ -f "$f" ]; then awk -F, -v s="$s" 'NR > 1 { print s "," $0 }' "$f"; fi
		done
	done > "$out/eval-all${1:+-${1%-}}.csv"
	awk -F, 'BEGIN { print "alpha,seed,condition,apical,point,concat,none" }
		{ key = $4 "," $1 "," $3; acc[key, $2] = $5; keys[key] = 1 }
		END { for (k in keys) print k "," acc[k, "apical"] "," acc[k, "point"] "," acc[k, "concat"] "," acc[k, "none"] }' \
		"$out/eval-all${1:+-${1%-}}.csv" | sort -t, -k1,1n -k2,2n > "$out/$2.csv"
	ax-plot -x alpha -y apical -y point -y concat $4 -g condition --spread seed -l 2x2 \
		-W 1200 -H 900 -t "$3" -o "$out/$2.png" "$out/$2.csv"
}
accuracy_table "" accuracy "accuracy by context condition (y: model; median, IQR over seeds)" "-y none"

# 2. Relevance to the overlap against the apical signal.
first=$(echo $SEEDS | cut -d' ' -f1)
ax-plot -k scatter -x relevance -y signal -g pair --xlabel "relevance to the pair's overlap" \
	--ylabel "apical signal |g(e_p) - g(e_q)|" -t "apical model, hidden units (seed $first)" \
	-o "$out/lrp.png" "$out/seed-$first/units-apical.csv"
{ echo "seed,model,pair,r,n"
  for s in $SEEDS; do for k in apical point; do
	awk -F, -v s="$s" 'NR > 1 { print s "," $0 }' "$out/seed-$s/lrp-$k.csv"; done; done; } > "$out/lrp.csv"

# 3. Silencing: accuracy with the top-K relevant units off, against K random.
{ echo "k,seed,top_ambiguous,random_ambiguous,top_clean,random_clean"
  for s in $SEEDS; do for K in $KS; do
	awk -F, -v s="$s" '$4 == "relevant" { a[$2, $5] = $6; k = $3 }
		END { printf "%s,%s,%s,%s,%s,%s\n", k, s, a["top", 0.5], a["random", 0.5], a["top", 1], a["random", 1] }' \
		"$out/seed-$s/silence-$K.csv"; done; done; } > "$out/silence.csv"
ax-plot -x k -y top_ambiguous,random_ambiguous -y top_clean,random_clean --spread seed \
	--xlabel "units silenced" --ylabel "accuracy, relevant cue" \
	-W 1100 -t "silencing overlap-relevant vs random units" \
	-o "$out/silence.png" "$out/silence.csv"

# 4. Temporal task: accuracy by delay, one panel per model.
for s in $SEEDS; do for k in $T_MODELS; do
	awk -F, -v s="$s" 'NR > 1 { print s "," $0 }' "$out/seed-$s/eval-temporal-$k.csv"; done; done \
	> "$out/temporal-all.csv"
ycols=$(for k in $T_MODELS; do printf -- '-y %s ' "$k"; done)
hdr=$(echo "delay,seed,condition $T_MODELS" | tr ' ' ',')
awk -F, -v hdr="$hdr" -v models="$T_MODELS" 'BEGIN { print hdr; nm = split(models, m, " ") }
	{ key = $7 "," $1 "," $3; acc[key, $2] = $5; keys[key] = 1 }
	END { for (k in keys) { line = k; for (i = 1; i <= nm; i++) line = line "," acc[k, m[i]]; print line } }' \
	"$out/temporal-all.csv" | sort -t, -k1,1n -k2,2n > "$out/temporal.csv"
# shellcheck disable=SC2086
ax-plot -x delay $ycols -g condition --spread seed --xlabel "blank frames after the context" \
	-W 1200 -t "temporal task, accuracy at alpha 0.5 (y: model)" \
	-o "$out/temporal.png" "$out/temporal.csv"

# 5. One phase with clean images whose cue says nothing (CC_TRAIN).
accuracy_table cc- clean-cue "one phase, clean images with uninformative cues (y: model)" ""

# 6. The same, on the conv basal pathway.
accuracy_table conv- conv "one phase, conv basal pathway $CONV_CHANNELS (y: model)" ""

# Summary: means over seeds.
{
	echo "# mean over seeds $SEEDS; $(( $(date +%s) - t0 )) s"
	for t in "" -cc -conv; do
		awk -F, -v t="$t" '{ k = $2 "," $3 "," $4; s[k] += $5; n[k]++ }
			END { for (k in s) printf "eval%s,%s,%.4f\n", t, k, s[k] / n[k] }' \
			"$out/eval-all$t.csv" | grep -E ',(0.5|1),' | sort
	done
	# The bar on clean images, per seed: points lost to an irrelevant and an
	# opposing cue against no cue, same model.
	awk -F, '$4 == 1 { a[$1, $2, $3] = $5; m[$2] = 1; sd[$1] = 1 }
		END { for (k in m) for (s in sd) if ((s, k, "none") in a)
			printf "conv_clean_cost,%s,seed %s,irrelevant %.1f,opposing %.1f\n", k, s,
				100 * (a[s, k, "none"] - a[s, k, "irrelevant"]),
				100 * (a[s, k, "none"] - a[s, k, "opposing"]) }' "$out/eval-all-conv.csv" | sort
	awk -F, 'NR > 1 { k = $2 "," $3; s[k] += $4; n[k]++ }
		END { for (k in s) printf "lrp_r,%s,%.4f\n", k, s[k] / n[k] }' "$out/lrp.csv" | sort
	awk -F, 'NR > 1 { for (i = 3; i <= 6; i++) { s[$1, i] += $i } n[$1]++ }
		END { for (k in n) printf "silence,k=%s,top %.4f random %.4f (ambiguous); top %.4f random %.4f (clean)\n",
			k, s[k, 3] / n[k], s[k, 4] / n[k], s[k, 5] / n[k], s[k, 6] / n[k] }' "$out/silence.csv" | sort -t= -k2n
	awk -F, '{ k = $2 "," $3 ",delay " $7; s[k] += $5; n[k]++ }
		END { for (k in s) printf "temporal,%s,%.4f\n", k, s[k] / n[k] }' "$out/temporal-all.csv" | sort
} > "$out/summary.txt"
cat "$out/summary.txt" >&2
echo "fig-apical-net: figures in $out ($(( $(date +%s) - t0 )) s)" >&2
