#!/bin/sh
# fig-poyo-train.sh BIN — the shape of POYO's few-shot result
# (arXiv:2310.16046) on simulated centre-out reaching (spike-sim reach):
#  1. fewshot.png: velocity R^2 on a held-out session of a new animal
#     (spike-sim reach --animal 1) against the number of its training trials
#     used: unit identification from the pretrained model (only the new
#     unit and session embeddings learn), full fine-tuning (unit
#     identification, then everything), training from scratch on that
#     session alone, and the Wiener filter. Expected: unit identification
#     above scratch at small trial counts and above the Wiener filter.
#  2. sessions.csv: the pretrained model's R^2 on each pretraining session
#     (single-session decoding, test trials).
#  3. pretrain.png (with NSESS="1 4 ..."): unit-identification R^2 at
#     FEW trials against the number of pretraining sessions.
# Every point is the mean over SEEDS (each seed: its own data, model,
# windows). Numbers behind the figures: OUT/fewshot.csv (mean per method
# and trial count), OUT/runs.csv (every run), OUT/sessions.csv.
# JOBS=N runs N trainings side by side (default 2), THREADS each.
#
# Measured (the defaults, `make fig-poyo-train`, seed 42, JOBS=2, one
# thread each: 35 min on the shared 2-core machine at load ~20): pretrained
# sessions R^2 0.919 (mean of 4); new animal, 5 / 20 / 80 trials: unit
# identification 0.842 / 0.888 / 0.909, full fine-tuning 0.592 / 0.880 /
# 0.896, scratch 0.368 / 0.701 / 0.898, Wiener filter 0.518 / 0.704 / 0.747.
# Not yet run: SEEDS with several seeds, NSESS, larger sizes.
set -eu
BIN=${1:-build/bin}
PATH="$(cd "$BIN" && pwd):$PATH"; export PATH
OUT=${OUT:-out/poyo-train}
SESSIONS=${SESSIONS:-4}       # pretraining sessions (animal 0)
TRIALS=${TRIALS:-60}          # trials per pretraining session
UNITS=${UNITS:-60}
HELD_TRIALS=${HELD_TRIALS:-100}   # held-out session: 80 train, 20 test trials
COUNTS=${COUNTS:-"5 20 80"}   # fine-tuning trials
STEPS=${STEPS:-400} LR=${LR:-1e-2} BATCH=${BATCH:-16}
FT_STEPS=${FT_STEPS:-150} FT_LR=${FT_LR:-2e-2}
SCRATCH_STEPS=${SCRATCH_STEPS:-300}
SEEDS=${SEEDS:-42}
NSESS=${NSESS:-}              # e.g. "1 4": extra pretrainings for pretrain.png
FEW=${FEW:-10}                # trial count of pretrain.png
THREADS=${THREADS:-1} JOBS=${JOBS:-2}
mkdir -p "$OUT/runs"
export OUT UNITS TRIALS SESSIONS HELD_TRIALS STEPS LR BATCH FT_STEPS FT_LR SCRATCH_STEPS THREADS

# Runs one line of jobs at a time, JOBS side by side (xargs -P).
run_jobs() {
	xargs -L 1 -P "$JOBS" sh -c '
	kind=$1 seed=$2 n=$3 d=$OUT/data-$seed held=$OUT/data-$seed/held/session-000.safetensors
	q="-q --threads $THREADS -s $seed"
	case $kind in
	data)
		mkdir -p "$d" &&
		spike-sim reach -q -o "$d/pre" -n $SESSIONS -t $TRIALS -u $UNITS -s $seed &&
		spike-sim reach -q -o "$d/held" -n 1 -t $HELD_TRIALS -u $UNITS -s $seed --animal 1 ;;
	pretrain)   # n: sessions
		poyo-train train $q -n $STEPS --lr $LR -b $BATCH -c "$OUT/pre-$n-$seed.ckpt" \
			$(ls "$d"/pre/*.safetensors | head -n $n) > "$OUT/runs/pretrain-$n-$seed.log" &&
		poyo-train eval -q --threads $THREADS -m "$OUT/pre-$n-$seed.ckpt" \
			$(ls "$d"/pre/*.safetensors | head -n $n) > "$OUT/runs/sessions-$n-$seed.csv" ;;
	unitid|full)   # n: trials; $4: pretraining sessions
		flag=; [ $kind = full ] && flag=--full
		poyo-train finetune $q $flag -n $FT_STEPS --lr $FT_LR -b $BATCH --trials $n \
			-m "$OUT/pre-$4-$seed.ckpt" -c "$OUT/$kind-$4-$n-$seed.ckpt" "$held" > /dev/null &&
		poyo-train eval -q --threads $THREADS -m "$OUT/$kind-$4-$n-$seed.ckpt" "$held" \
			> "$OUT/runs/$kind-$4-$n-$seed.csv" ;;
	scratch)
		poyo-train train $q -n $SCRATCH_STEPS --lr $LR -b $BATCH --trials $n \
			-c "$OUT/scratch-$n-$seed.ckpt" "$held" > /dev/null &&
		poyo-train eval -q --threads $THREADS -m "$OUT/scratch-$n-$seed.ckpt" "$held" \
			> "$OUT/runs/scratch-$n-$seed.csv" ;;
	wiener)
		poyo-train baseline -q --trials $n "$held" > "$OUT/runs/wiener-$n-$seed.csv" ;;
	esac || { echo "fig-poyo-train: $* failed" >&2; exit 255; }
	echo "fig-poyo-train: $* done" >&2' sh
}

for s in $SEEDS; do echo "data $s 0"; done | run_jobs
for s in $SEEDS; do for n in $SESSIONS $NSESS; do echo "pretrain $s $n"; done; done | run_jobs
{
	for s in $SEEDS; do
		for n in $COUNTS; do
			echo "unitid $s $n $SESSIONS"; echo "full $s $n $SESSIONS"
			echo "scratch $s $n"; echo "wiener $s $n"
		done
		for p in $NSESS; do echo "unitid $s $FEW $p"; done
	done
} | run_jobs

# runs.csv: method,pretrain_sessions,trials,seed,r2 (the held-out session).
{
	echo "method,pretrain_sessions,trials,seed,r2"
	for f in "$OUT"/runs/unitid-*.csv "$OUT"/runs/full-*.csv; do
		b=$(basename "$f" .csv); IFS=- read -r m p n s <<EOS
$b
EOS
		echo "$m,$p,$n,$s,$(tail -1 "$f" | cut -d, -f2)"
	done
	for f in "$OUT"/runs/scratch-*.csv "$OUT"/runs/wiener-*.csv; do
		b=$(basename "$f" .csv); IFS=- read -r m n s <<EOS
$b
EOS
		echo "$m,0,$n,$s,$(tail -1 "$f" | cut -d, -f2)"
	done
} > "$OUT/runs.csv"
# fewshot.csv: mean over seeds, main pretraining only.
{ echo "method,trials,r2"
  awk -F, -v P="$SESSIONS" 'NR > 1 && ($2 == P || $2 == 0) { k = $1 "," $3; s[k] += $5; c[k]++ }
	END { for (k in s) printf "%s,%.4f\n", k, s[k] / c[k] }' "$OUT/runs.csv" | sort -t, -k1,1 -k2,2n
} > "$OUT/fewshot.csv"
ax-plot -x trials -y r2 -g method --xlabel "training trials of the new session" \
	--ylabel "velocity R^2 (test trials)" -t "New animal: R^2 vs trials" \
	-o "$OUT/fewshot.png" "$OUT/fewshot.csv"
# sessions.csv: the pretrained model on its own sessions.
{ echo "seed,session,r2,r2_x,r2_y,n"
  for s in $SEEDS; do tail -n +2 "$OUT/runs/sessions-$SESSIONS-$s.csv" | sed "s/^/$s,/"; done
} > "$OUT/sessions.csv"
if [ -n "$NSESS" ]; then
	{ echo "pretrain_sessions,r2"
	  awk -F, -v F="$FEW" 'NR > 1 && $1 == "unitid" && $3 == F { s[$2] += $5; c[$2]++ }
		END { for (k in s) printf "%s,%.4f\n", k, s[k] / c[k] }' "$OUT/runs.csv" | sort -t, -k1,1n
	} > "$OUT/pretrain.csv"
	ax-plot -x pretrain_sessions -y r2 --xlabel "pretraining sessions" \
		--ylabel "R^2, unit identification, $FEW trials" -o "$OUT/pretrain.png" "$OUT/pretrain.csv"
fi
cat "$OUT/fewshot.csv"
awk -F, 'NR > 1 { s += $3; n++ } END { printf "pretraining sessions: mean R^2 %.4f over %d\n", s / n, n }' \
	"$OUT/sessions.csv"
