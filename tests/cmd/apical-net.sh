#!/bin/sh
# apical-net: a short run on a subset of Fashion-MNIST resolves ambiguous
# blends with the relevant cue; eval/lrp/silence outputs; bit-exact resume
# across the phase switch; the conv basal pathway; the temporal task; bad
# input exits 2; the man page's EXAMPLES.
. "$AXON_ROOT/tests/cmd/lib.sh"
data=/usr/share/datasets/fashion-mnist
if [ ! -f $data/train-images-idx3-ubyte.gz ]; then
	skip "apical-net (Debian's dataset-fashion-mnist is not installed)"
	finish
fi
small="--hidden 64 --limit 4000 --batch 32 --threads 1 -q"
use="--limit 2000 --threads 1 -q"

# It learns: with the relevant cue, alpha-0.5 blends are resolved far
# above the no-cue accuracy (which sits near chance, 0.5).
check "train" -- apical-net train $small -n 400 --pretrain 200 --log-every 100 -m "$T/a.ckpt"
cp "$T/out" "$T/train.csv"
if head -1 "$T/train.csv" | grep -q '^step,loss,accuracy,lr$' && [ "$(wc -l <"$T/train.csv")" = 5 ]; then
	ok "train CSV: header and a row every 100 steps"
else bad "train CSV: $(head -3 "$T/train.csv")"; fi
check "eval" -- apical-net eval $use -m "$T/a.ckpt" --n 600 --alpha 0.5,1
cp "$T/out" "$T/eval.csv"
if head -1 "$T/eval.csv" | grep -q '^model,condition,alpha,accuracy,n$' &&
   [ "$(grep -c '^apical,' "$T/eval.csv")" = 8 ]; then ok "eval CSV: header, 4 conditions x 2 alphas"
else bad "eval CSV: $(cat "$T/eval.csv")"; fi
acc() { awk -F, -v c="$1" -v a="$2" '$2 == c && $3 == a { print $4 }' "$T/eval.csv"; }
if awk -v r="$(acc relevant 0.5)" -v n="$(acc none 0.5)" \
	'BEGIN { exit !(r > n + 0.2 && n > 0.3 && n < 0.65) }'; then
	ok "relevant cue resolves blends ($(acc relevant 0.5) vs $(acc none 0.5) without)"
else bad "relevant $(acc relevant 0.5) vs none $(acc none 0.5) at alpha 0.5"; fi

# lrp: per-class relevance as NPY (layers, 10, hidden); one r per pair and overall.
check "lrp" -- apical-net lrp $use -m "$T/a.ckpt" --n 10 -o "$T/rel.npy" --units "$T/units.csv"
if head -1 "$T/out" | grep -q '^model,pair,r,n$' && [ "$(grep -c '^apical,' "$T/out")" = 5 ] &&
   [ "$(wc -l <"$T/units.csv")" = $((1 + 4 * 128)) ]; then ok "lrp CSVs"
else bad "lrp CSV: $(cat "$T/out")"; fi
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	if /usr/bin/python3 -c '
import sys, numpy as np
a = np.load(sys.argv[1])
assert a.dtype == np.float32 and a.shape == (2, 10, 64) and np.isfinite(a).all(), a.shape
assert a.sum() > 0' "$T/rel.npy"; then ok "lrp NPY readable by numpy"
	else bad "lrp NPY"; fi
else skip "lrp NPY contents (python3-numpy not installed)"; fi
check "silence" -- apical-net silence $use -m "$T/a.ckpt" --n 200 --top 8 --draws 2
if head -1 "$T/out" | grep -q '^model,selection,k,condition,alpha,accuracy,intact,change,n$' &&
   [ "$(grep -c '^apical,' "$T/out")" = 16 ]; then ok "silence CSV"
else bad "silence CSV: $(head -3 "$T/out")"; fi

# Resume is bit-exact, stopping before and at the switch to the top-down phase.
run="apical-net train $small -n 30 --pretrain 10 --log-every 5"
$run -m "$T/full.ckpt" >"$T/full.csv"
for stop in 6 10; do
	$run -m "$T/r.ckpt" --stop-at $stop >"$T/p1.csv" &&
	apical-net train --resume "$T/r.ckpt" -m "$T/r.ckpt" --threads 1 -q >"$T/p2.csv" ||
		bad "resume from step $stop exits non-zero"
	expect_same "$T/full.ckpt" "$T/r.ckpt" "resume from step $stop: same checkpoint bytes"
	tail -n +2 "$T/p2.csv" >"$T/p2rows.csv"
	cat "$T/p1.csv" "$T/p2rows.csv" >"$T/joined.csv"
	expect_same "$T/full.csv" "$T/joined.csv" "resume from step $stop: same CSV rows"
done

# Temporal task: a recurrent context network; eval has a delay column.
check "temporal train" -- apical-net train $small --task temporal --delay-max 1 --ctx-hidden 16 \
	-n 20 --pretrain 10 -m "$T/t.ckpt"
check "temporal eval" -- apical-net eval $use -m "$T/t.ckpt" --n 50 --alpha 0.5
if head -1 "$T/out" | grep -q '^model,condition,alpha,accuracy,n,delay$' &&
   [ "$(grep -c '^apical,' "$T/out")" = 8 ]; then ok "temporal eval: 4 conditions x 2 delays"
else bad "temporal eval CSV: $(cat "$T/out")"; fi
expect_usage "needs a blend-task model" "lrp refuses a temporal model" -- \
	apical-net lrp $use -m "$T/t.ckpt"

# The conv basal pathway: trains, evaluates, explains and silences like the
# MLP; the checkpoint keeps --basal and --channels; resume is bit-exact.
conv="--basal conv --channels 4,8"
check "conv train" -- apical-net train $small $conv -n 30 --pretrain 10 --log-every 10 -m "$T/c.ckpt"
check "conv eval" -- apical-net eval $use -m "$T/c.ckpt" --n 100 --alpha 0.5,1
if [ "$(grep -c '^apical,' "$T/out")" = 8 ]; then ok "conv eval: 4 conditions x 2 alphas"
else bad "conv eval CSV: $(cat "$T/out")"; fi
check "conv lrp" -- apical-net lrp $use -m "$T/c.ckpt" --n 5 -o "$T/crel.npy"
check "conv silence" -- apical-net silence $use -m "$T/c.ckpt" --n 100 --top 8 --draws 1
if ax-info "$T/c.ckpt" | grep -q 'an.basal.*conv' && ax-info "$T/c.ckpt" | grep -q 'an.channels2.*8'; then
	ok "conv checkpoint: basal and channels saved"
else bad "conv checkpoint metadata: $(ax-info "$T/c.ckpt" | grep 'an\.' | head -5)"; fi
run="apical-net train $small $conv -n 16 --pretrain 6 --log-every 4"
$run -m "$T/cfull.ckpt" >"$T/cfull.csv"
$run -m "$T/cr.ckpt" --stop-at 8 >/dev/null &&
apical-net train --resume "$T/cr.ckpt" -m "$T/cr.ckpt" --threads 1 -q >/dev/null ||
	bad "conv resume exits non-zero"
expect_same "$T/cfull.ckpt" "$T/cr.ckpt" "conv: resume across the phase switch, same checkpoint bytes"
check "conv --init from a conv none model" -- apical-net train $small $conv --model none -n 4 -m "$T/cn.ckpt"
check "conv --init" -- apical-net train $small $conv --init "$T/cn.ckpt" -n 4 -m "$T/ci.ckpt"
expect_usage "--basal conv" "--init across pathways" -- \
	apical-net train $small --init "$T/cn.ckpt" -n 4 -m "$T/cx.ckpt"
expect_usage "--basal" "unknown basal pathway" -- apical-net train --basal resnet
expect_usage "two channel counts" "one channel count" -- apical-net train --basal conv --channels 8
expect_usage "channels" "zero channels" -- apical-net train --basal conv --channels 0,8
expect_usage "conflicts with --resume" "--basal with --resume" -- \
	apical-net train --resume "$T/c.ckpt" --basal mlp

# Data parallel over MPI (as tests/cmd/mpi.sh): two ranks give the losses
# and the model of one to rounding, repeat bit for bit, and resume.
if apical-net --version | grep -q 'built with MPI'; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
	run="apical-net train $small -n 30 --pretrain 10 --log-every 5"
	$run -m "$T/one.ckpt" >"$T/one.csv"
	check "train, two ranks" -- mpirun -np 2 $run -m "$T/two.ckpt"
	cp "$T/out" "$T/two.csv"
	close "$T/one.csv" "$T/two.csv" 1e-4 "two ranks log the losses of one rank (1e-4)"
	apical-net eval $use -m "$T/one.ckpt" --n 300 --alpha 0.5,1 >"$T/e1.csv"
	apical-net eval $use -m "$T/two.ckpt" --n 300 --alpha 0.5,1 >"$T/e2.csv"
	close "$T/e1.csv" "$T/e2.csv" 0.02 "two ranks end with the model of one (eval within 0.02)"
	mpirun -np 2 $run -m "$T/two-b.ckpt" >"$T/two-b.csv"
	expect_same "$T/two.ckpt" "$T/two-b.ckpt" "two-rank runs repeat bit for bit"
	mpirun -np 2 $run -m "$T/two-r.ckpt" --stop-at 8 >/dev/null &&
	mpirun -np 2 apical-net train --resume "$T/two-r.ckpt" -m "$T/two-r.ckpt" --threads 1 -q >/dev/null ||
		bad "two-rank resume exits non-zero"
	expect_same "$T/two.ckpt" "$T/two-r.ckpt" "two ranks resume across the phase switch bit for bit"
	# (both ranks write the message; their lines may interleave)
	expect_exit 2 "apical-net: .*--batch 1 is less than the 2 ranks" \
		"a batch smaller than the rank count" -- mpirun -np 2 apical-net train $small -n 2 --batch 1
else
	skip "built without MPI: data-parallel checks not run"
fi

# Bad input: one line, exit 2.
expect_usage "outside \[0, 1\]" "eval --alpha 1.5" -- apical-net eval -m "$T/a.ckpt" --alpha 0.5,1.5
expect_usage "outside \[0, 1\]" "train --alpha-min -0.1" -- apical-net train --alpha-min -0.1
expect_usage "unknown pair '1/3'" "unknown pair" -- apical-net train --pairs 0/6,1/3
expect_usage "unknown pair '3/5'" "eval: unknown pair" -- apical-net eval -m "$T/a.ckpt" --pairs 3/5
expect_usage "--model" "unknown model" -- apical-net train --model dendrite
expect_usage "--task" "unknown task" -- apical-net train --task spatial
expect_usage "above --alpha-max" "alpha range reversed" -- \
	apical-net train --alpha-min 0.9 --alpha-max 0.6
expect_usage "required" "eval without -m" -- apical-net eval
expect_usage "does not apply" "eval --steps" -- apical-net eval -m "$T/a.ckpt" --steps 5
expect_usage "conflicts with --resume" "--hidden with --resume" -- \
	apical-net train --resume "$T/a.ckpt" --hidden 8
expect_usage "more than the model" "--top beyond the units" -- \
	apical-net silence -m "$T/a.ckpt" --top 1000
expect_usage "no-such-dir" "missing data folder" -- \
	apical-net eval -m "$T/a.ckpt" --data "$T/no-such-dir"
printf 'not a checkpoint' >"$T/bad.ckpt"
expect_usage "bad.ckpt" "malformed checkpoint" -- apical-net eval -m "$T/bad.ckpt"
ckpt_set_meta "$T/a.ckpt" an.layers 9 "$T/l9.ckpt"
expect_usage "an.layers" "checkpoint setting out of range" -- apical-net eval -m "$T/l9.ckpt"

run_man_examples apical-net
finish
