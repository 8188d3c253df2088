#!/bin/sh
# fig-ssl-train.sh BIN — small projectors and many views for BarlowTwins and
# VICReg (arXiv:2312.10725) on Fashion-MNIST, at a size 2 cores finish in
# well under an hour (JOBS=2 runs side by side, one thread each):
#   dim-barlow.png, dim-vicreg.png   linear-probe accuracy vs projector
#       dimension D with a fixed lambda and with lambda = K / D; the claim:
#       the second is flat down to small D.
#   views.png   probe accuracy vs epoch for A = 2, 4, 8 views (claim: larger
#       A converges faster per epoch).
#   data.png    A = 2 on the pretraining set against A = 4 on half of it and
#       A = 8 on a quarter (claim: equal accuracy).
# Numbers behind them: OUT/{dim,views,data}.csv; every run's CSV and
# checkpoint under OUT/runs/.
# Scaled down from the paper: a 3-stage conv backbone (R = 4 * WIDTH = 64)
# instead of a ResNet; the pretraining set is SUBSET of Fashion-MNIST's
# 60000 training images (6000; it stands for "all" in data.png), batch 128;
# EPOCHS_D and EPOCHS_A epochs; D = 32, 128, 512; the probe is trained on
# PROBE_LIMIT training images for PROBE_EPOCHS epochs and tested on all
# 10000 test images; one seed. The defaults took 7.5 min on an idle 2-core
# AMD EPYC VM (AVX2); the numbers are in ssl-train(1) RESULTS.
# Larger: SUBSET=0.25 BATCH=256 DS="32 64 128 256 512" EPOCHS_D=5
# EPOCHS_A=10 PROBE_LIMIT=10000 (not run to the end).
set -eu
BIN=${1:-build/bin}
PATH="$(cd "$BIN" && pwd):$PATH"; export PATH
OUT=${OUT:-out/ssl-train}
JOBS=${JOBS:-2}                  # runs side by side
THREADS=${THREADS:-1}            # per run
SEEDS=${SEEDS:-1}
WIDTH=${WIDTH:-16} BATCH=${BATCH:-128}
SUBSET=${SUBSET:-0.1}           # of the training images, for every run
DS=${DS:-32 128 512}
LOSSES=${LOSSES:-barlow vicreg}
EPOCHS_D=${EPOCHS_D:-4}          # per run of the dimension sweep
FIXED_BARLOW=${FIXED_BARLOW:-0.0051} SCALE_BARLOW=${SCALE_BARLOW:-5.12}
FIXED_VICREG=${FIXED_VICREG:-25} SCALE_VICREG=${SCALE_VICREG:-3200}
AS=${AS:-2 4 8}
EPOCHS_A=${EPOCHS_A:-6}         # views and data runs, probed every epoch
DATA_RUNS=${DATA_RUNS:-4 8}      # A = 4 on SUBSET / 2, A = 8 on SUBSET / 4
PROBE_LIMIT=${PROBE_LIMIT:-5000} PROBE_EPOCHS=${PROBE_EPOCHS:-10}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
mkdir -p "$OUT/runs"
COMMON="--data $DATA --width $WIDTH --batch $BATCH --threads $THREADS --probe-limit $PROBE_LIMIT --probe-epochs $PROBE_EPOCHS -q"
export COMMON OUT

# One line per run: NAME then its options; the longest first.
{
	for s in $SEEDS; do
		for a in $AS; do
			echo "views-A$a-s$s -s $s --views $a --subset $SUBSET -n $EPOCHS_A --probe-every 1"
		done
		for a in $DATA_RUNS; do
			f=$(awk -v f="$SUBSET" -v a="$a" 'BEGIN { printf "%.6g", f * 2 / a }')
			echo "data-A$a-s$s -s $s --views $a --subset $f -n $EPOCHS_A --probe-every 1"
		done
		for loss in $LOSSES; do
			if [ $loss = barlow ]; then fix=$FIXED_BARLOW k=$SCALE_BARLOW
			else fix=$FIXED_VICREG k=$SCALE_VICREG; fi
			for d in $DS; do
				o="-s $s --loss $loss --proj-dim $d --subset $SUBSET -n $EPOCHS_D --probe-every $EPOCHS_D"
				echo "dim-$loss-fixed-$d-s$s $o --lambda $fix"
				echo "dim-$loss-scaled-$d-s$s $o --lambda-scale $k"
			done
		done
	done
} > "$OUT/runs.txt"
t0=$(date +%s)
xargs -L 1 -P "$JOBS" sh -c 'name=$1; shift
	[ -s "$OUT/runs/$name.csv" ] && exit 0   # done in an earlier invocation
	echo "fig-ssl-train: $name" >&2
	ssl-train pretrain $COMMON "$@" -m "$OUT/runs/$name.ckpt" > "$OUT/runs/$name.tmp" &&
		mv "$OUT/runs/$name.tmp" "$OUT/runs/$name.csv" ||
		{ echo "fig-ssl-train: $name failed" >&2; exit 255; }' sh < "$OUT/runs.txt"
echo "fig-ssl-train: runs took $(( $(date +%s) - t0 )) s" >&2

# probe_acc is column 6 (barlow) or 7 (vicreg): the column named so.
acc_rows() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "probe_acc") c = i; next }
	$c != "nan" { print $1 "," $c }' "$1"; }
last_acc() { acc_rows "$1" | tail -1 | cut -d, -f2; }

{
	echo "loss,mode,D,lambda,seed,accuracy"
	for s in $SEEDS; do for loss in $LOSSES; do for mode in fixed scaled; do for d in $DS; do
		if [ $loss = barlow ]; then fix=$FIXED_BARLOW k=$SCALE_BARLOW
		else fix=$FIXED_VICREG k=$SCALE_VICREG; fi
		lam=$([ $mode = fixed ] && echo "$fix" || awk -v k="$k" -v d="$d" 'BEGIN { printf "%.6g", k / d }')
		echo "$loss,$mode,$d,$lam,$s,$(last_acc "$OUT/runs/dim-$loss-$mode-$d-s$s.csv")"
	done; done; done; done
} > "$OUT/dim.csv"
for loss in $LOSSES; do
	{ head -1 "$OUT/dim.csv"; grep "^$loss," "$OUT/dim.csv"; } > "$OUT/dim-$loss.csv"
	ax-plot -x D -y accuracy -g mode --spread seed --logx -t "$loss: probe accuracy vs D" \
		--xlabel "projector dimension D" --ylabel "linear-probe test accuracy" \
		-o "$OUT/dim-$loss.png" "$OUT/dim-$loss.csv"
done
{
	echo "views,seed,epoch,accuracy"
	for s in $SEEDS; do for a in $AS; do
		acc_rows "$OUT/runs/views-A$a-s$s.csv" | sed "s/^/A=$a,$s,/"
	done; done
} > "$OUT/views.csv"
ax-plot -x epoch -y accuracy -g views --spread seed -t "probe accuracy by epoch and views A" \
	--ylabel "linear-probe test accuracy" -o "$OUT/views.png" "$OUT/views.csv"
{
	echo "setting,seed,epoch,accuracy"
	for s in $SEEDS; do
		acc_rows "$OUT/runs/views-A2-s$s.csv" | sed "s/^/A=2 on all,$s,/"
		for a in $DATA_RUNS; do
			acc_rows "$OUT/runs/data-A$a-s$s.csv" | sed "s|^|A=$a on 2/$a,$s,|"
		done
	done
} > "$OUT/data.csv"
ax-plot -x epoch -y accuracy -g setting --spread seed -t "fewer images, more views" \
	--ylabel "linear-probe test accuracy" -o "$OUT/data.png" "$OUT/data.csv"
echo "fig-ssl-train: wrote $OUT/{dim,views,data}.csv and PNGs" >&2
