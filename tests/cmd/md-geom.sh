#!/bin/sh
# md-geom: the statistic recovers the potential of synthetic and trained
# weight changes; finetune writes per-layer streams (on tiny synthetic IDX
# images, so no dataset is needed); bad input exits 2; the man page's
# EXAMPLES run.
. "$AXON_ROOT/tests/cmd/lib.sh"

# The inferred geometry from score's stderr line.
inferred() { sed -n 's/.*inferred geometry: \([^ ]*\) .*/\1/p' "$T/err" | head -1; }

# synth + score: the true potential wins, the CSV has the documented shape.
for pot in negentropy p1.5 p2 p3; do
	md-geom synth -p $pot -D 20000 --init lognormal -s 3 -o "$T/s-$pot" >/dev/null 2>&1
	check "score $pot synth" -- md-geom score "$T/s-$pot/w0.npy" "$T/s-$pot/w1.npy"
	[ "$(inferred)" = $pot ] && ok "synth $pot inferred" || bad "synth $pot inferred $(inferred)"
done
[ "$(head -1 "$T/out")" = potential,distance,rel_change ] && ok "score header" || bad "score header: $(head -1 "$T/out")"
[ "$(cut -d, -f1 "$T/out" | tr '\n' ' ')" = "potential negentropy p1.1 p1.2 p1.3 p1.4 p1.5 p1.6 p1.7 p1.8 p1.9 p2 p2.1 p2.2 p2.3 p2.4 p2.5 p2.6 p2.7 p2.8 p2.9 p3 " ] &&
	ok "default candidates" || bad "default candidates: $(cut -d, -f1 "$T/out" | tr '\n' ' ')"
awk -F, 'NR > 1 && $1 == "p3" { exit !($2 < 0.03) } ' "$T/out" && ok "true distance near 0" || bad "p3 distance: $(grep '^p3,' "$T/out")"
awk -F, 'NR > 1 && $1 == "p2" { exit !($2 > 0.05) } ' "$T/out" && ok "wrong distance larger" || bad "p2 distance: $(grep '^p2,' "$T/out")"
check "gzip and stdin" -- sh -c "gzip -c '$T/s-p2/w1.npy' | md-geom score -c p2,negentropy '$T/s-p2/w0.npy' -"
[ "$(inferred)" = p2 ] && ok "gzip stdin inferred" || bad "gzip stdin inferred $(inferred)"

# Sign changes leave weights out of negentropy, counted on stderr.
check "left-out weights" -- md-geom score -c negentropy,p2 "$T/s-p2/w0.npy" "$T/s-p2/w1.npy"
grep -q 'negentropy: [1-9][0-9]* of 20000 weights left out' "$T/err" && ok "left-out count" || bad "left-out count: $(cat "$T/err")"

# train: the loss falls under the target; score names a nearby geometry.
check "train negentropy" -- md-geom train -p negentropy -D 2000 -o "$T/tr" --threads 1
[ "$(head -1 "$T/out")" = step,loss,lr ] && ok "train header" || bad "train header"
tail -1 "$T/out" | awk -F, '{ exit !($1 == 100 && $2 < 1e-3) }' && ok "train loss" || bad "train loss: $(tail -1 "$T/out")"
grep -q 'learning rate .* (under 0.001)' "$T/err" && ok "train reports its rate" || bad "train rate: $(cat "$T/err")"
check "score trained" -- md-geom score -c negentropy,p1.5,p2,p3 "$T/tr/w0.npy" "$T/tr/w1.npy"
[ "$(inferred)" = negentropy ] && ok "train negentropy inferred" || bad "train inferred $(inferred)"
check "train p2 fixed lr" -- md-geom train -p p2 -D 500 -N 10 --lr 0.01 --steps 20 --log-every 5 -o "$T/tr2" --threads 1
[ "$(wc -l <"$T/out")" = 5 ] && ok "log-every rows" || bad "log-every rows: $(cat "$T/out")"
md-geom train -q -p p2 -D 500 -N 10 --lr 0.01 --steps 20 -o "$T/tr3" --threads 1 >/dev/null
expect_same "$T/tr2/w1.npy" "$T/tr3/w1.npy" "same seed, same bits"

# finetune on synthetic IDX images: one array per weight matrix.
mkdir -p "$T/idx"
idx() {   # idx SPLIT N: N images whose bright stripe is the label
	LC_ALL=C awk -v n="$2" 'BEGIN {
		printf "%c%c%c%c%c%c%c%c", 0, 0, 8, 3, 0, 0, int(n / 256), n % 256
		printf "%c%c%c%c%c%c%c%c", 0, 0, 0, 28, 0, 0, 0, 28
		for (i = 0; i < n; i++) for (p = 0; p < 784; p++)
			printf "%c", (int(p / 84) == i % 10) ? 200 : (i * 7 + p * 13) % 60 }' >"$T/idx/$1-images-idx3-ubyte"
	LC_ALL=C awk -v n="$2" 'BEGIN {
		printf "%c%c%c%c%c%c%c%c", 0, 0, 8, 1, 0, 0, int(n / 256), n % 256
		for (i = 0; i < n; i++) printf "%c", i % 10 }' >"$T/idx/$1-labels-idx1-ubyte"
}
idx train 200; idx t10k 30
for net in mlp gru; do
	check "finetune $net" -- md-geom finetune --net $net --hidden 8 --data "$T/idx" --pretrain-steps 30 \
		--pretrain-images 200 --images 30 --batch 16 -n 20 -p negentropy -o "$T/ft-$net" --threads 1
	check "score finetune $net" -- md-geom score --per-tensor -c negentropy,p2 "$T/ft-$net/w0.npy" "$T/ft-$net/w1.npy"
	[ "$(cut -d, -f1 "$T/out" | sort -u | tr '\n' ' ')" = "0 1 2 tensor " ] && ok "$net: three tensors" || bad "$net tensors: $(cat "$T/out")"
done

# hist: bins, and the log-abs histogram of log-normal weights is near normal.
check "hist" -- md-geom hist -b 20 --log-abs "$T/s-p2/w0.npy"
[ "$(wc -l <"$T/out")" = 21 ] && ok "hist rows" || bad "hist rows"
awk -F, 'NR > 1 { n += $3 } END { exit !(n == 20000) }' "$T/out" && ok "hist counts" || bad "hist counts"
grep -q 'distance of log10|w| to a normal: 0.0[0-2]' "$T/err" && ok "log-normal weights" || bad "log-normal: $(cat "$T/err")"

# Bad input: exit 2 with one message.
W0=$T/s-p2/w0.npy
md-geom synth -D 999 -o "$T/small" >/dev/null 2>&1
expect_usage "holds 20000 weights" "different sizes" -- md-geom score "$W0" "$T/small/w1.npy"
printf '' >"$T/empty.npy"
expect_usage "empty" "empty file" -- md-geom score "$T/empty.npy" "$W0"
printf 'not an npy' >"$T/junk.npy"
expect_usage "junk.npy" "not NPY" -- md-geom score "$T/junk.npy" "$W0"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	/usr/bin/python3 -c "import numpy as np; w = np.ones(20000); w[5] = np.inf; np.save('$T/inf.npy', w)"
	expect_usage "weight 5 is inf" "non-finite weights" -- md-geom score "$W0" "$T/inf.npy"
else
	skip "non-finite weights (python3-numpy not installed)"
fi
expect_usage "potential" "bad potential" -- md-geom train -p p0.5
expect_usage "candidates" "bad candidates" -- md-geom score -c negentropy,q2 "$W0" "$W0"
expect_usage "two weight files" "one operand" -- md-geom score "$W0"
expect_usage "does not apply" "option of another sub-command" -- md-geom score --steps 3 "$W0" "$W0"
expect_usage "both be standard input" "stdin twice" -- md-geom score - -
expect_usage "unknown sub-command" "unknown sub-command" -- md-geom fit

run_man_examples md-geom
finish
