#!/bin/sh
# teb-fit end to end on small settings: a short fit finds clearly positive TE
# at a large coupling and about none at c = 0, TEB predicts better only when
# the source informs; resume is bit-exact; SIGINT saves; bad data exit 2;
# the man page's EXAMPLES run.
. "$AXON_ROOT/tests/cmd/lib.sh"
SMALL="--latent 8 --width 32 --threads 1 -q"

# gen: the closed form in the metadata; the same seed gives the same bytes.
check "gen lingauss" -- teb-fit gen lingauss --coupling 2 -n 6000 -s 3 -o "$T/c2.st"
grep -q '"te_true":"0.80471895621705' "$T/c2.st" && ok "te_true = ln(5)/2 in the metadata" \
	|| bad "te_true: $(head -c 400 "$T/c2.st" | tr -c '[:print:]' ' ')"
teb-fit gen lingauss --coupling 2 -n 6000 -s 3 -o "$T/c2b.st" 2>/dev/null
expect_same "$T/c2.st" "$T/c2b.st" "gen is deterministic"
check "gen lingauss c=0" -- teb-fit gen lingauss --coupling 0 -n 6000 -s 4 -o "$T/c0.st"
for task in lingauss-multi lingauss-ar sines; do
	check "gen $task" -- teb-fit gen $task -n 300 -o "$T/$task.st"
done

# A short fit: clearly positive TE at c = 2 (closed form 0.805), about none
# at c = 0; the TEB's held-out error halves at c = 2 and not at c = 0.
fit() { # name data
	teb-fit train $SMALL -n 400 --log-every 200 --checkpoint "$T/$1.ck" "$2" >"$T/$1.csv" \
		&& teb-fit te -q -m "$T/$1.ck" --boot 200 "$2" >"$T/$1.te"
}
if fit c2 "$T/c2.st" && fit c0 "$T/c0.st"; then
	te2=$(awk -F, '$1 == "all" { print $3 }' "$T/c2.te")
	te0=$(awk -F, '$1 == "all" { print $3 }' "$T/c0.te")
	awk -v t="$te2" 'BEGIN { exit !(t > 0.6 && t < 0.9) }' && ok "c=2: TE $te2 (closed form 0.805)" \
		|| bad "c=2: TE $te2 (closed form 0.805)"
	awk -v t="$te0" 'BEGIN { exit !(t > -0.02 && t < 0.02) }' && ok "c=0: TE $te0" \
		|| bad "c=0: TE $te0"
	awk -F, '$1 == "all" { exit !($9 < 0.6 * $8) }' "$T/c2.te" && ok "c=2: TEB error below 0.6 x the target-only" \
		|| bad "c=2 errors: $(tail -1 "$T/c2.te")"
	awk -F, '$1 == "all" { exit !($9 > 0.95 * $8) }' "$T/c0.te" && ok "c=0: TEB error as the target-only" \
		|| bad "c=0 errors: $(tail -1 "$T/c0.te")"
	awk -F, '$1 == "all" { exit !($4 < $3 && $3 < $5) }' "$T/c2.te" && ok "bootstrap interval around the estimate" \
		|| bad "interval: $(tail -1 "$T/c2.te")"
	head -1 "$T/c2.csv" | grep -qx 'step,loss,nll_y,nll_te,kl_y,kl_te,mse_y,mse_te,val_mse_y,val_mse_te,val_te' \
		&& ok "train CSV header" || bad "train CSV header: $(head -1 "$T/c2.csv")"
	[ "$(wc -l <"$T/c2.csv")" = 3 ] && ok "one row per 200 steps" || bad "rows: $(wc -l <"$T/c2.csv")"
else
	bad "short fits (exit $?)"
fi

# Fixed variance and from-context train and score too; sines reports groups.
check "--variance 0.1 --from-context" -- teb-fit train $SMALL -n 20 --variance 0.1 --from-context \
	--checkpoint "$T/fx.ck" "$T/c2.st"
check "te of a fixed-variance model" -- teb-fit te -m "$T/fx.ck" --boot 10 "$T/c2.st"
check "sines train" -- teb-fit train $SMALL -n 5 --history 100 --horizon 20 --checkpoint "$T/s.ck" "$T/sines.st"
teb-fit te -m "$T/s.ck" --boot 10 "$T/sines.st" >"$T/s.te" 2>"$T/err"
[ "$(cut -d, -f1 "$T/s.te" | tr '\n' ' ')" = "group all 0 1 " ] && ok "te rows per group" \
	|| bad "te groups: $(cat "$T/s.te" "$T/err")"

# Resume: 20 + 20 steps give the rows and bytes of 40.
RUN="$SMALL -n 40 --log-every 10"
teb-fit train $RUN --checkpoint "$T/full.ck" "$T/c2.st" >"$T/full.csv"
teb-fit train $RUN --checkpoint "$T/half.ck" --stop-at 20 "$T/c2.st" >"$T/half.csv"
teb-fit train --resume "$T/half.ck" --checkpoint "$T/half.ck" --threads 1 -q "$T/c2.st" | tail -n +2 >>"$T/half.csv"
expect_same "$T/full.csv" "$T/half.csv" "resumed rows equal the uninterrupted run"
expect_same "$T/full.ck" "$T/half.ck" "resumed checkpoint is bit-identical"
# From-context crosses its phase boundary (step 20) inside the resumed part.
teb-fit train $RUN --from-context -n 20 --checkpoint "$T/fc.ck" "$T/c2.st" >/dev/null
teb-fit train $RUN --from-context -n 20 --checkpoint "$T/fc2.ck" --stop-at 15 "$T/c2.st" >/dev/null
teb-fit train --resume "$T/fc2.ck" --checkpoint "$T/fc2.ck" --threads 1 -q "$T/c2.st" >/dev/null
expect_same "$T/fc.ck" "$T/fc2.ck" "from-context resume is bit-identical"

# SIGINT saves a loadable checkpoint and exits 130.
teb-fit train $SMALL -n 100000000 --checkpoint "$T/int.ck" "$T/c2.st" >/dev/null 2>&1 &
pid=$!
sleep 1; kill -INT $pid; wait $pid; rc=$?
[ $rc = 130 ] && ok "SIGINT exits 130" || bad "SIGINT exit $rc"
check "SIGINT checkpoint loads" -- teb-fit te -m "$T/int.ck" --boot 10 "$T/c2.st"

# Bad data exit 2: no source, lengths differ, a NaN, a checkpoint of
# another shape, options of other sub-commands.
npy_f32() { # file count value-bytes: a 1-D float32 NPY of count copies
	h="{'descr': '<f4', 'fortran_order': False, 'shape': ($2,), }"
	while [ $(( (${#h} + 11) % 64 )) != 0 ]; do h="$h "; done
	{ printf '\223NUMPY\001\000'; printf "\\$(printf '%03o' $(( ${#h} + 1 )))\\000"
	  printf '%s\n' "$h"; i=0; while [ $i -lt "$2" ]; do printf "$3"; i=$((i + 1)); done; } >"$1"
}
npy_f32 "$T/x.npy" 50 '\000\000\200\077'
npy_f32 "$T/y.npy" 49 '\000\000\200\077'
npy_f32 "$T/nan.npy" 50 '\000\000\300\177'
check "two NPY files" -- teb-fit train $SMALL -n 2 --holdout 0 "$T/x.npy" "$T/x.npy"
expect_usage "no 'source' array" "bundle without source" -- teb-fit train $SMALL -n 2 "$T/c2.ck"
expect_usage "source has 1 sequences of 50 steps, target 1 of 49" "length mismatch" \
	-- teb-fit train $SMALL -n 2 "$T/x.npy" "$T/y.npy"
expect_usage "non-finite value at element 0" "NaN in the target" \
	-- teb-fit train $SMALL -n 2 "$T/x.npy" "$T/nan.npy"
expect_usage "a model of 1 source and 1 target dims, the data has 5" "data of another shape" \
	-- teb-fit te -m "$T/c2.ck" "$T/sines.st"
expect_usage "option --coupling does not apply" "gen option in train" \
	-- teb-fit train --coupling 1 "$T/c2.st"
expect_usage "variance" "bad --variance" -- teb-fit train --variance fixed "$T/c2.st"
expect_usage "TASK" "unknown task" -- teb-fit gen bogus -o "$T/b.st"
expect_usage "conflicts with --resume" "settings with --resume" \
	-- teb-fit train --resume "$T/half.ck" --latent 4 "$T/c2.st"

# 120 steps: two CSV rows (at 50 and 100) for the plotting example.
AXON_TEST_STEPS=120 run_man_examples teb-fit
finish
