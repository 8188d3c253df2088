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
#  3. pretrain.png (with NSESS="1 2 4 ..."): unit-identification R^2 at
#     FEW trials against the number of pretraining sessions.
# Every point is the mean over SEEDS (each seed: its own data, model,
# windows), its band the min to max. Numbers behind the figures:
# OUT/fewshot.csv and OUT/pretrain.csv (mean, sd, min, max over seeds),
# OUT/runs.csv (every run), OUT/sessions.csv.
# JOBS=N runs N trainings side by side (default 2), THREADS each.
#
# NSESS should hold SESSIONS too (e.g. "1 2 4") for pretrain.png to show it.
#
# Measured at the defaults (18 min on 2 cores, JOBS=2; full text in
# poyo-train(1) RESULTS): own sessions R^2 0.934 / 0.892 / 0.189 by seed
# (seed 3's 4-session pretraining stayed on its plateau). New animal, 5 /
# 20 trials, mean over seeds: unit identification 0.607 / 0.678, full
# fine-tuning -0.170 / 0.612, scratch 0.076 / 0.749, Wiener filter 0.427 /
# 0.675; with 5 trials unit identification beats scratch and the Wiener
# filter in every seed.
set -eu
BIN=${1:-build/bin}
PATH="$(cd "$BIN" && pwd):$PATH"
OUT=${OUT:-out/poyo-train}
SESSIONS=${SESSIONS:-4}       # pretraining sessions (animal 0)
TRIALS=${TRIALS:-60}          # trials per pretraining session
UNITS=${UNITS:-60}
HELD_TRIALS=${HELD_TRIALS:-100}   # held-out session: 80 train, 20 test trials
COUNTS=${COUNTS:-"5 20"}   # fine-tuning trials
STEPS=${STEPS:-1000} LR=${LR:-1e-2} BATCH=${BATCH:-16}
FT_STEPS=${FT_STEPS:-150} FT_LR=${FT_LR:-2e-2}
SCRATCH_STEPS=${SCRATCH_STEPS:-300}
SEEDS=${SEEDS:-1 2 3}
NSESS=${NSESS-1 2 4}          # pretraining session counts of pretrain.png (empty: none)
FEW=${FEW:-5}                # trial count of pretrain.png
THREADS=${THREADS:-1} JOBS=${JOBS:-2}
RESUME=${RESUME:-0}           # 1: keep the runs OUT already holds
export PATH
. "$(dirname "$0")/jobs.sh"

# The runs (jobs.sh), each into files of its own; data SEED first, then
# pretrain, then the rest. A run's last file is written whole (renamed into
# place) and marks it done: with RESUME=1 done runs are kept, so an
# interrupted recipe, or one given more SEEDS, COUNTS or NSESS, goes on
# where it stopped (OUT/settings must match).
done_() { [ "$RESUME" = 1 ] && [ -s "$1" ]; }
to() { f=$1; shift; "$@" >"$f.tmp"; mv "$f.tmp" "$f"; }   # to FILE CMD...: CMD's output, whole
data() {   # data SEED: the pretraining sessions (animal 0) and the held-out one
	d=$OUT/data-$1
	done_ "$d/held/session-000.safetensors" && return
	mkdir -p "$d"
	spike-sim reach -q -o "$d/pre" -n "$SESSIONS" -t "$TRIALS" -u "$UNITS" -s "$1"
	spike-sim reach -q -o "$d/held" -n 1 -t "$HELD_TRIALS" -u "$UNITS" -s "$1" --animal 1
}
pretrain() {   # pretrain SEED N: on the first N sessions; R^2 on each of them
	done_ "$OUT/runs/sessions-$2-$1.csv" && return
	pre=$(ls "$OUT/data-$1"/pre/*.safetensors | head -n "$2")
	# shellcheck disable=SC2086
	poyo-train train -q --threads "$THREADS" -s "$1" -n "$STEPS" --lr "$LR" -b "$BATCH" \
		-c "$OUT/pre-$2-$1.ckpt" $pre >"$OUT/runs/pretrain-$2-$1.log"
	# shellcheck disable=SC2086
	to "$OUT/runs/sessions-$2-$1.csv" poyo-train eval -q --threads "$THREADS" \
		-m "$OUT/pre-$2-$1.ckpt" $pre
}
finetune() {   # finetune KIND SEED TRIALS N: unitid or full from pretrain-N
	done_ "$OUT/runs/$1-$4-$3-$2.csv" && return
	flag=; [ "$1" = full ] && flag=--full
	ck=$OUT/$1-$4-$3-$2.ckpt
	# shellcheck disable=SC2086
	poyo-train finetune -q --threads "$THREADS" -s "$2" $flag -n "$FT_STEPS" --lr "$FT_LR" \
		-b "$BATCH" --trials "$3" -m "$OUT/pre-$4-$2.ckpt" -c "$ck" "$(held "$2")" >/dev/null
	to "$OUT/runs/$1-$4-$3-$2.csv" poyo-train eval -q --threads "$THREADS" -m "$ck" "$(held "$2")"
}
scratch() {   # scratch SEED TRIALS: the held-out session alone
	done_ "$OUT/runs/scratch-$2-$1.csv" && return
	ck=$OUT/scratch-$2-$1.ckpt
	poyo-train train -q --threads "$THREADS" -s "$1" -n "$SCRATCH_STEPS" --lr "$LR" \
		-b "$BATCH" --trials "$2" -c "$ck" "$(held "$1")" >/dev/null
	to "$OUT/runs/scratch-$2-$1.csv" poyo-train eval -q --threads "$THREADS" -m "$ck" "$(held "$1")"
}
wiener() {   # wiener SEED TRIALS
	to "$OUT/runs/wiener-$2-$1.csv" poyo-train baseline -q --trials "$2" "$(held "$1")"
}
held() { echo "$OUT/data-$1/held/session-000.safetensors"; }
jobs_worker "$@"
mkdir -p "$OUT/runs"
settings="SESSIONS=$SESSIONS TRIALS=$TRIALS UNITS=$UNITS HELD_TRIALS=$HELD_TRIALS STEPS=$STEPS"
settings="$settings LR=$LR BATCH=$BATCH FT_STEPS=$FT_STEPS FT_LR=$FT_LR"
settings="$settings SCRATCH_STEPS=$SCRATCH_STEPS THREADS=$THREADS"
if [ "$RESUME" = 1 ] && [ -f "$OUT/settings" ] && [ "$(cat "$OUT/settings")" != "$settings" ]; then
	echo "fig-poyo-train: RESUME=1: $OUT holds runs of other settings ($(cat "$OUT/settings"))" >&2
	exit 2
fi
echo "$settings" >"$OUT/settings"

for s in $SEEDS; do echo "data $s"; done | jobs_run "$0" "$BIN"
# One pretraining per session count (the main one and NSESS's), each once.
for s in $SEEDS; do for n in $SESSIONS $NSESS; do echo "pretrain $s $n"; done; done |
	awk '!seen[$0]++' | jobs_run "$0" "$BIN"
{
	for s in $SEEDS; do
		for n in $COUNTS; do
			echo "finetune unitid $s $n $SESSIONS"; echo "finetune full $s $n $SESSIONS"
			echo "scratch $s $n"; echo "wiener $s $n"
		done
		for p in $NSESS; do echo "finetune unitid $s $FEW $p"; done
	done
} | awk '!seen[$0]++' | jobs_run "$0" "$BIN"

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
# seed_stats KEY...: the runs.csv rows (awk condition COND) grouped by the
# key columns: their mean r2, sample sd, min and max over seeds.
seed_stats() {
	awk -F, -v cond="$1" -v P="$SESSIONS" -v F="$FEW" -v keys="$2" '
	NR > 1 && ((cond == "fewshot" && ($2 == P || $2 == 0)) ||
		   (cond == "pretrain" && $1 == "unitid" && $3 == F)) {
		n = split(keys, ks, " "); k = $ks[1]; for (i = 2; i <= n; i++) k = k "," $ks[i]
		s[k] += $5; q[k] += $5 * $5; c[k]++
		if (!(k in lo) || $5 < lo[k]) lo[k] = $5
		if (!(k in hi) || $5 > hi[k]) hi[k] = $5
	}
	END { for (k in s) { m = s[k] / c[k]; v = c[k] > 1 ? (q[k] - c[k] * m * m) / (c[k] - 1) : 0
		printf "%s,%.4f,%.4f,%.4f,%.4f,%d\n", k, m, sqrt(v > 0 ? v : 0), lo[k], hi[k], c[k] } }' \
		"$OUT/runs.csv"
}
# fewshot.csv: over seeds, main pretraining only; the band is min to max.
{ echo "method,trials,r2,sd,min,max,seeds"
  seed_stats fewshot "1 3" | sort -t, -k1,1 -k2,2n
} > "$OUT/fewshot.csv"
ax-plot -x trials -y r2 -g method --band min,max --xlabel "training trials of the new session" \
	--ylabel "velocity R^2 (test trials): mean, range" \
	-t "New animal: R^2 vs trials" -o "$OUT/fewshot.png" "$OUT/fewshot.csv"
# sessions.csv: the pretrained model on its own sessions.
{ echo "seed,session,r2,r2_x,r2_y,n"
  for s in $SEEDS; do tail -n +2 "$OUT/runs/sessions-$SESSIONS-$s.csv" | sed "s/^/$s,/"; done
} > "$OUT/sessions.csv"
if [ -n "$NSESS" ]; then
	{ echo "pretrain_sessions,r2,sd,min,max,seeds"
	  seed_stats pretrain 2 | sort -t, -k1,1n
	} > "$OUT/pretrain.csv"
	ax-plot -x pretrain_sessions -y r2 --band min,max --xlabel "pretraining sessions" \
		--ylabel "R^2, unit identification, $FEW trials" -o "$OUT/pretrain.png" "$OUT/pretrain.csv"
fi
cat "$OUT/fewshot.csv"
awk -F, 'NR > 1 { s += $3; n++ } END { printf "pretraining sessions: mean R^2 %.4f over %d\n", s / n, n }' \
	"$OUT/sessions.csv"
