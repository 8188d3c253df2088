#!/bin/sh
# ssl-train: the loss sub-command against the PyTorch reference values, a
# short pretraining that beats the random-initialisation probe, bit-exact
# resume and SIGTERM, embed and probe outputs, bad input exits 2, two MPI
# ranks against one, the man page's EXAMPLES. Runs on a 2000/1000-image cut
# of Fashion-MNIST so it takes seconds.
. "$AXON_ROOT/tests/cmd/lib.sh"
cd "$T"
ref="$AXON_ROOT/tests/ref/ssl-train"

# loss: both losses at A = 2 and 4 print the reference values (1e-5 relative).
tail -n +2 "$ref/loss.csv" | while IFS=, read -r A kind l t1 t2 t3; do
	lam=""; [ "$kind" = barlow ] && lam="--lambda 0.05"
	if ssl-train loss --loss "$kind" $lam "$ref/views-a$A.npy" >got.csv 2>err; then
		if tail -1 got.csv | awk -F, -v l="$l" -v a="$t1" -v b="$t2" -v c="$t3" '
			function far(x, y) { d = x - y; if (d < 0) d = -d; return d > 1e-5 * (y < 0 ? -y : y) + 1e-6 }
			{ bad = far($1, l) || far($2, a) || far($3, b) || (c != "" && far($4, c)); exit bad }'
		then ok "loss $kind A=$A: the PyTorch values ($(tail -1 got.csv))"
		else bad "loss $kind A=$A: $(tail -1 got.csv), PyTorch $l,$t1,$t2,$t3"; fi
	else bad "loss $kind A=$A exit: $(cat err)"; fi
done
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	/usr/bin/python3 -c '
import sys, numpy as np
v = np.load(sys.argv[1])
with open("stream.npy", "wb") as f:
    for a in v: np.save(f, a)' "$ref/views-a4.npy"
	ssl-train loss --loss vicreg "$ref/views-a4.npy" > whole.csv
	check "loss: an NPY stream of views from standard input" -- \
		sh -c 'ssl-train loss --loss vicreg - < stream.npy'
	expect_same "$T/out" whole.csv "loss: a stream of (N, D) views = one (A, N, D) array"
else skip "loss from an NPY stream (python3-numpy not installed)"; fi

data=/usr/share/datasets/fashion-mnist
if [ ! -f $data/train-images-idx3-ubyte.gz ]; then
	skip "ssl-train pretrain (Debian's dataset-fashion-mnist is not installed)"
	finish
fi
# A cut of the data set: the first N images and labels, with the IDX count set.
cut_idx() { # SPLIT N
	mkdir -p small
	hex=$(printf '%08x' "$2")
	cnt=$(printf '\\%03o\\%03o\\%03o\\%03o' 0x${hex%??????} 0x$(echo $hex | cut -c3-4) \
		0x$(echo $hex | cut -c5-6) 0x${hex#??????})
	{ printf "\\0\\0\\10\\3$cnt\\0\\0\\0\\34\\0\\0\\0\\34"
	  gzip -dc $data/$1-images-idx3-ubyte.gz | tail -c +17 | head -c $(($2 * 784)); } |
		gzip -1 > small/$1-images-idx3-ubyte.gz
	{ printf "\\0\\0\\10\\1$cnt"
	  gzip -dc $data/$1-labels-idx1-ubyte.gz | tail -c +9 | head -c "$2"; } |
		gzip -1 > small/$1-labels-idx1-ubyte.gz
}
cut_idx train 2000
cut_idx t10k 1000
S="--data small --width 4 --proj-dim 32 --batch 100 --threads 1 -q"

# It learns: the probe after 3 epochs beats the probe at initialisation.
check "pretrain" -- ssl-train pretrain $S -n 3 --probe-every 3 --probe-epochs 40 -m a.ckpt
cp "$T/out" pre.csv
if head -1 pre.csv | grep -q '^epoch,step,loss,on,off,probe_acc,images_per_s$' &&
   [ "$(wc -l < pre.csv)" = 5 ]; then ok "pretrain CSV: header, epoch 0 and a row per epoch"
else bad "pretrain CSV: $(cat pre.csv)"; fi
a0=$(awk -F, 'NR == 2 { print $6 }' pre.csv) a3=$(awk -F, 'NR == 5 { print $6 }' pre.csv)
if awk -v a="$a0" -v b="$a3" 'BEGIN { exit !(b > a + 0.1 && b > 0.3) }'; then
	ok "pretraining beats the random initialisation's probe ($a3 vs $a0)"
else bad "probe after pretraining $a3, at initialisation $a0"; fi
l1=$(awk -F, 'NR == 3 { print $3 }' pre.csv) l3=$(awk -F, 'NR == 5 { print $3 }' pre.csv)
awk -v a="$l1" -v b="$l3" 'BEGIN { exit !(b < a) }' && ok "loss falls ($l1 -> $l3)" ||
	bad "loss $l1 -> $l3"

check "probe" -- ssl-train probe -m a.ckpt --data small --probe-epochs 40 --threads 1 -q
if head -1 "$T/out" | grep -q '^accuracy,train_images,test_images,probe_epochs$' &&
   [ "$(tail -1 "$T/out" | cut -d, -f1)" = "$a3" ]; then
	ok "probe: the accuracy pretrain logged for the same model"
else bad "probe: $(cat "$T/out") vs $a3"; fi
check "embed" -- ssl-train embed -m a.ckpt --data small --limit 50 -o rep.npy --labels lab.npy
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	if /usr/bin/python3 -c '
import numpy as np
r, y = np.load("rep.npy"), np.load("lab.npy")
assert r.dtype == np.float32 and r.shape == (50, 16) and np.isfinite(r).all(), r.shape
assert y.dtype == np.int32 and y.shape == (50,) and 0 <= y.min() and y.max() <= 9'
	then ok "embed: (N, R) float32 and int32 labels, readable by numpy"
	else bad "embed NPY"; fi
else skip "embed NPY contents (python3-numpy not installed)"; fi

# Bit-exact resume (VICReg, 3 views, a subset): 2 epochs straight = 1, stop, resume.
V="$S --loss vicreg --views 3 --subset 0.5 -n 2"
nofreq() { cut -d, -f1-7 "$1"; }
ssl-train pretrain $V -m full.ckpt > full.csv
ssl-train pretrain $V -m half.ckpt --stop-at 10 > h1.csv
check "resume" -- ssl-train pretrain --resume half.ckpt -m half.ckpt --data small --threads 1 -q
cat h1.csv > h.csv; tail -n +2 "$T/out" >> h.csv
nofreq full.csv > a.txt; nofreq h.csv > b.txt
expect_same a.txt b.txt "resume: the CSV of an uninterrupted run"
ssl-train embed -m full.ckpt --data small -o e1.npy
ssl-train embed -m half.ckpt --data small -o e2.npy
expect_same e1.npy e2.npy "resume: the same parameters and running statistics"
expect_usage "conflicts with --resume" "resume refuses a fixed setting" -- \
	ssl-train pretrain --resume half.ckpt --views 4 --data small

ssl-train pretrain $S -n 1000 -m term.ckpt > /dev/null 2>&1 &
pid=$!
sleep 2; kill -TERM $pid; wait $pid; rc=$?
[ $rc = 143 ] && ok "SIGTERM exits 143" || bad "SIGTERM exit $rc"
ssl-train probe -m term.ckpt --data small --probe-epochs 1 -q --threads 1 > /dev/null 2>&1 &&
	ok "SIGTERM leaves a checkpoint that loads" || bad "SIGTERM checkpoint"

# Bad input: exit 2 with one line.
mkdir -p trunc; cp small/t10k-labels-idx1-ubyte.gz trunc/train-labels-idx1-ubyte.gz
gzip -dc small/train-images-idx3-ubyte.gz | head -c 5000 | gzip > trunc/train-images-idx3-ubyte.gz
expect_usage "nowhere/train-images" "missing IDX file" -- ssl-train pretrain --data nowhere
expect_usage "train-images-idx3-ubyte.gz" "truncated IDX file" -- ssl-train pretrain --data trunc
expect_usage "proj-dim" "D < 1" -- ssl-train pretrain $S --proj-dim 0
expect_usage "views" "A < 2" -- ssl-train pretrain $S --views 1
expect_usage "subset" "subset 0" -- ssl-train pretrain $S --subset 0
expect_usage "subset" "subset above 1" -- ssl-train pretrain $S --subset 1.5
expect_usage "fewer than --batch" "a subset smaller than a batch" -- ssl-train pretrain $S --subset 0.01
expect_usage "VICReg" "--mu with barlow" -- ssl-train pretrain $S --mu 3
expect_usage "conflicts" "--lambda with --lambda-scale" -- ssl-train loss --lambda 1 --lambda-scale 2 x.npy
expect_usage "-m CKPT" "probe without a model" -- ssl-train probe
expect_usage "not an axon checkpoint" "a checkpoint of another kind" -- \
	ssl-train probe -m "$ref/losses.safetensors"
head -c 100 "$ref/views-a2.npy" > short.npy
expect_usage "short.npy" "a truncated VIEWS file" -- ssl-train loss short.npy

# Two MPI ranks against one (two groups each).
if ssl-train --version | grep -q 'built with MPI'; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
	M="$S --subset 0.5 -n 2 --log-every 5"
	ssl-train pretrain $M --groups 2 -m one.ckpt | cut -d, -f1-5 > one.csv
	check "two ranks" -- mpirun -np 2 ssl-train pretrain $M -m two.ckpt
	cut -d, -f1-5 "$T/out" > two.csv
	if paste -d, one.csv two.csv | awk -F, 'NR > 1 { for (i = 3; i <= 5; i++) {
		d = $i - $(i + 5); if (d < 0) d = -d; m = $i < 0 ? -$i : $i
		if (d > 1e-4 * m + 1e-6) exit 1 } } END { exit NR < 3 }'
	then ok "two ranks log the losses of one rank with two groups (1e-4)"
	else bad "one rank: $(tr '\n' ' ' < one.csv) two ranks: $(tr '\n' ' ' < two.csv)"; fi
	mpirun -np 2 ssl-train pretrain $M -m two-b.ckpt | cut -d, -f1-5 > two-b.csv
	expect_same two.csv two-b.csv "two-rank runs repeat bit for bit"
	expect_exit 2 "^ssl-train: --groups 3 is not a multiple of the 2 ranks" \
		"groups not a multiple of the ranks" -- \
		mpirun -np 2 ssl-train pretrain $M --groups 3 --batch 99
else skip "built without MPI: two ranks against one not run"; fi

examples_setup() { cp -r "$T/small" .; }
run_man_examples ssl-train 's/^ssl-train \(pretrain\|probe\|embed\) .*/& --data small --threads 1/'
finish
