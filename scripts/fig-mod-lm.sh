#!/bin/sh
# fig-mod-lm.sh BIN — Mixture-of-Depths (arXiv:2404.02258) at small scale on
# the fortunes corpus, byte level. Reproduces the shape of the paper's Fig. 3/4
# (isoFLOP comparison) and its sampling claims:
#   isoflop.png    held-out bits/byte vs training FLOPs: dense, MoD (12.5%
#                  capacity, every other block, learned router) and MoD with
#                  random routing, all at the same training-FLOP budget. MoD
#                  should end within 1% of (or below) dense; random clearly worse.
#   routing.png    router (aux) and predictor accuracy over training (>= 95%).
#   routers.png    held-out bits/byte of the MoD model with top-k (training,
#                  non-causal) vs aux vs predictor (causal) routing.
#   speed.png      forward FLOPs per byte and measured sampling tokens/s, MoD
#                  vs dense (MoD should sample >= 1.5x faster).
# Numbers behind them: out/mod-lm/{runs,routers,speed}.csv.
# Measured with these defaults (seed 1, one thread each, ~35 min under load):
# held-out bits/byte dense 2.687, MoD top-k 2.481 (predictor routing 2.481,
# aux 2.483), random routing 2.508; predictor accuracy 97.6%; forward FLOPs
# per byte 1.64M vs 2.82M; sampling 5386 vs 3288 tokens/s (1.64x). At a
# sixth of this budget (4e12) random routing still beat learned by ~1%.
set -eu
BIN=${1:-build/bin}
PATH="$(cd "$BIN" && pwd):$PATH"; export PATH
OUT=${OUT:-out/mod-lm}
LAYERS=${LAYERS:-6} DIM=${DIM:-128} HEADS=${HEADS:-4} CTX=${CTX:-128} BATCH=${BATCH:-16}
BUDGET=${BUDGET:-2.4e13} # training FLOPs per model (dense: ~1400 steps, MoD ~2400)
SEED=${SEED:-1} THREADS=${THREADS:-1}   # per run
JOBS=${JOBS:-2}                        # trainings side by side
SAMPLE_BYTES=${SAMPLE_BYTES:-2000}
EVAL_BYTES=${EVAL_BYTES:-all}   # held-out bytes scored per routing rule
EVAL="--threads $THREADS"
[ "$EVAL_BYTES" = all ] || EVAL="$EVAL --max-bytes $EVAL_BYTES"
MODEL="--layers $LAYERS --dim $DIM --heads $HEADS --ctx $CTX --batch $BATCH --threads $THREADS -s $SEED"
. "$(dirname "$0")/jobs.sh"
train() {   # train NAME OPTION...: one model at the FLOP budget (jobs.sh)
	name=$1; shift
	echo "fig-mod-lm: training $name" >&2
	mod-lm train $MODEL --flops $BUDGET --log-every 25 --checkpoint "$OUT/$name.st" "$@" \
		> "$OUT/$name.csv"
}
jobs_worker "$@"
mkdir -p "$OUT"

# The three trainings are independent: JOBS of them at a time (jobs.sh).
printf '%s\n' "dense --capacity 1" "mod --capacity 0.125 --route-every 2 --predictor" \
	"random --capacity 0.125 --route-every 2 --route random" | sed 's/^/train /' | jobs_run "$0" "$BIN"

{
	echo "model,$(head -1 "$OUT/dense.csv")"
	for m in dense mod random; do tail -n +2 "$OUT/$m.csv" | sed "s/^/$m,/"; done
} >"$OUT/runs.csv"
ax-plot -x flops -y val_bpb --group model -t "isoFLOP: held-out bits/byte" \
	--xlabel "training FLOPs" --ylabel "bits/byte" -o "$OUT/isoflop.png" "$OUT/runs.csv"
ax-plot -x step -y router_acc,predictor_acc -t "MoD routing accuracy vs top-k membership" \
	-o "$OUT/routing.png" "$OUT/mod.csv"

# Top-k vs causal routing on the held-out split.
{
	echo "model,router,bytes,loss_nats,bpb,routed_frac,fwd_flops_per_byte"
	mod-lm eval -m "$OUT/dense.st" $EVAL | tail -1 | sed 's/^/dense,/'
	for r in topk aux predictor; do
		mod-lm eval -m "$OUT/mod.st" --router $r $EVAL | tail -1 | sed 's/^/mod,/'
	done
	mod-lm eval -m "$OUT/random.st" $EVAL | tail -1 | sed 's/^/random,/'
} >"$OUT/routers.csv"
awk -F, 'NR == 1 { print "label,bpb" } NR > 1 { print $1 "-" $2 "," $5 }' "$OUT/routers.csv" \
	>"$OUT/routers-bar.csv"
ax-plot -k bar -x label -y bpb -t "held-out bits/byte by routing rule" -o "$OUT/routers.png" \
	"$OUT/routers-bar.csv"

# Sampling speed (one thread: per-token work is small), same prompt and seed.
{
	echo "model,router,fwd_flops_per_byte,tokens_per_s,computed_pct"
	for m in dense mod; do
		best=0 pct=100
		for rep in 1 2 3; do
			mod-lm sample -m "$OUT/$m.st" -n $SAMPLE_BYTES --threads 1 -s $rep \
				>/dev/null 2>"$OUT/sample.err"
			tps=$(sed -n 's/.*: \([0-9.]*\) tokens\/s.*/\1/p' "$OUT/sample.err")
			pct=$(sed -n 's/.*computed \([0-9.]*\)%.*/\1/p' "$OUT/sample.err")
			best=$(awk -v a="$best" -v b="$tps" 'BEGIN { print (b > a ? b : a) }')
		done
		fl=$(mod-lm eval -m "$OUT/$m.st" --max-bytes 1000 | tail -1 | cut -d, -f6)
		router=$([ $m = mod ] && echo predictor || echo dense)
		echo "$m,$router,$fl,$best,$pct"
	done
} >"$OUT/speed.csv"
rm -f "$OUT/sample.err"
ax-plot -k bar -x model -y fwd_flops_per_byte -y tokens_per_s -t "MoD vs dense per token" \
	-o "$OUT/speed.png" "$OUT/speed.csv"

echo "fig-mod-lm: final held-out bits/byte:" >&2
for m in dense mod random; do printf '  %-7s %s\n' $m "$(tail -1 "$OUT/$m.csv" | cut -d, -f6)" >&2; done
cat "$OUT/routers.csv" "$OUT/speed.csv" >&2
