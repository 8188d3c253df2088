#!/bin/sh
# fig-ssl-train.sh BIN — small projectors and many views for BarlowTwins and
# VICReg (arXiv:2312.10725) on Fashion-MNIST, scaled to about an hour on 2
# idle cores (JOBS=2 runs side by side, one thread each):
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
# 60000 training images (it stands for "all" in data.png); EPOCHS_D and
# EPOCHS_A epochs; the probe is trained on PROBE_LIMIT training images for
# PROBE_EPOCHS epochs and tested on all 10000 test images; one seed.
# Measured (reduced, 35.5 min on the shared 2-core machine, default width
# 16) with OUT=out/ssl-train JOBS=2 SUBSET=0.1 BATCH=128 EPOCHS_A=6
# DS="32 128 512" EPOCHS_D=4 PROBE_LIMIT=5000: BarlowTwins probe accuracy
# at D = 32/128/512 with fixed lambda 0.0051 0.524/0.565/0.612, with
# lambda = 5.12/D 0.614/0.599/0.634; VICReg with the fixed weight 25
# 0.585/0.569/0.617, with 3200/D 0.490/0.569/0.660 (not flat); after epochs
# 1/2/4/6 A = 2 0.565/0.583/0.599/0.615, A = 4 0.603/0.629/0.632/0.649,
# A = 8 0.613/0.628/0.638/0.656; A = 4 on half 0.579/0.597/0.623/0.633,
# A = 8 on a quarter 0.560/0.601/0.621/0.635. The full recipe (the
# defaults) has not been run to the end.
set -eu
BIN=${1:-build/bin}
PATH="$(cd "$BIN" && pwd):$PATH"; export PATH
OUT=${OUT:-out/ssl-train}
JOBS=${JOBS:-2}                  # runs side by side
THREADS=${THREADS:-1}            # per run
SEEDS=${SEEDS:-1}
WIDTH=${WIDTH:-16} BATCH=${BATCH:-256}
SUBSET=${SUBSET:-0.25}           # of the training images, for every run
DS=${DS:-32 64 128 256 512}
LOSSES=${LOSSES:-barlow vicreg}
EPOCHS_D=${EPOCHS_D:-5}          # per run of the dimension sweep
FIXED_BARLOW=${FIXED_BARLOW:-0.0051} SCALE_BARLOW=${SCALE_BARLOW:-5.12}
FIXED_VICREG=${FIXED_VICREG:-25} SCALE_VICREG=${SCALE_VICREG:-3200}
AS=${AS:-2 4 8}
EPOCHS_A=${EPOCHS_A:-10}         # views and data runs, probed every epoch
DATA_RUNS=${DATA_RUNS:-4 8}      # A = 4 on SUBSET / 2, A = 8 on SUBSET / 4
PROBE_LIMIT=${PROBE_LIMIT:-10000} PROBE_EPOCHS=${PROBE_EPOCHS:-10}
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
