#!/bin/sh
# poyo-train: a short run beats predicting the mean; resume is bit-exact;
# unit identification keeps every shared parameter's bits; the eval CSV and
# --predict-out; bad bundles (unsorted spike times, unit indices out of
# range, no behaviour) and bad usage exit 2; two MPI ranks give the losses
# of one (with an MPI build); every example of poyo-train(1) runs.
. "$AXON_ROOT/tests/cmd/lib.sh"
d=$T
fail() { bad "$*"; }
small="--dim 16 --depth 1 --cross-heads 2 --self-heads 2 --latents 2 --batch 8 --threads 1 -q"

spike-sim reach -q -o "$d/s" -n 2 -t 30 -u 16 -s 3 || fail "spike-sim"
spike-sim reach -q -o "$d/o" -n 1 -t 30 -u 24 -s 3 --animal 1 || fail "spike-sim --animal"
S0=$d/s/session-000.safetensors S1=$d/s/session-001.safetensors O=$d/o/session-000.safetensors
# spike-sim reach --animal: another animal's session, not animal 0's.
spike-sim reach -q -o "$d/a0" -n 1 -t 30 -u 24 -s 3 || fail "spike-sim animal 0"
cmp -s "$d/a0/session-000.safetensors" "$O" && fail "--animal 1 gives animal 0's session" ||
	ok "spike-sim reach --animal 1 differs from animal 0"
expect_usage "ibl: option --animal does not apply" "spike-sim ibl --animal" -- spike-sim ibl -o "$d/x" --animal 1

# A short run beats predicting the mean (R^2 > 0) on the test trials.
poyo-train train $small --latents 4 -n 300 --lr 4e-3 -c "$d/m.ckpt" "$S0" "$S1" > "$d/log.csv" || fail "train"
head -1 "$d/log.csv" | grep -q '^step,loss,lr,windows_per_s$' || fail "log header"
poyo-train eval -q --threads 1 -m "$d/m.ckpt" --predict-out "$d/pred.npy" "$S0" "$S1" > "$d/eval.csv" || fail "eval"
head -1 "$d/eval.csv" | grep -q '^session,r2,r2_x,r2_y,n$' || fail "eval header"
awk -F, 'NR > 1 { n++; if (!($2 > 0.1 && $5 == 6 * 180)) bad = 1 } END { exit !(n == 2 && !bad) }' \
	"$d/eval.csv" && ok "a short run beats predicting the mean: $(tail -n +2 "$d/eval.csv" | tr '\n' ' ')" ||
	fail "R^2 not above the mean's 0: $(cat "$d/eval.csv")"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	/usr/bin/python3 - "$d/pred.npy" "$d/eval.csv" <<'PY' || fail "--predict-out contents"
import sys
import numpy as np
f = open(sys.argv[1], 'rb')
rows = [l.split(',') for l in open(sys.argv[2]).read().split('\n')[1:] if l]
for row in rows:
    p = np.load(f)
    assert p.dtype == np.float32 and p.shape == (30 * 180, 2), (p.dtype, p.shape)
    ok = np.isfinite(p[:, 0])
    assert ok.sum() == int(row[4]) and not ok[:24 * 180].any() and ok[24 * 180:].all()
assert f.read() == b''
PY
	ok "--predict-out: (samples, 2) per session, NaN outside the test trials"
else
	skip "--predict-out contents (python3-numpy not installed)"
fi

# The Wiener filter: same CSV.
poyo-train baseline -q "$S0" "$O" > "$d/wiener.csv" || fail "baseline"
awk -F, 'NR == 1 && $0 != "session,r2,r2_x,r2_y,n" { bad = 1 } NR > 1 && !($2 > 0.2) { bad = 1 }
	END { exit bad || NR != 3 }' "$d/wiener.csv" && ok "baseline: Wiener filter R^2 above 0.2" ||
	fail "baseline: $(cat "$d/wiener.csv")"

# Resume: stop at 4 of 8 steps, resume, same bytes as a straight run.
poyo-train train $small -n 8 -c "$d/a.ckpt" "$S0" "$S1" > "$d/a.csv" || fail "straight run"
poyo-train train $small -n 8 --stop-at 4 -c "$d/b.ckpt" "$S0" "$S1" > /dev/null || fail "first half"
poyo-train train --threads 1 -q --resume "$d/b.ckpt" -c "$d/b.ckpt" "$S0" "$S1" > /dev/null || fail "resume"
expect_same "$d/a.ckpt" "$d/b.ckpt" "a resumed run's checkpoint equals a straight run's"
# SIGTERM saves a checkpoint that resumes.
poyo-train train $small -n 100000 -c "$d/t.ckpt" "$S0" "$S1" > /dev/null 2>&1 &
pid=$!
sleep 2
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 143 ] && [ -s "$d/t.ckpt" ] && ok "SIGTERM: exit 143, checkpoint saved" || fail "SIGTERM: exit $rc"

# Unit identification on a new animal's session: every shared parameter and
# the pretrained sessions' embedding rows keep their bits.
poyo-train finetune -q --threads 1 -n 20 --trials 5 -m "$d/m.ckpt" -c "$d/f.ckpt" "$O" > /dev/null || fail "finetune"
poyo-train eval -q --threads 1 -m "$d/f.ckpt" "$O" > "$d/fe.csv" || fail "eval fine-tuned"
poyo-train finetune -q --threads 1 -n 4 --full -m "$d/m.ckpt" -c "$d/ff.ckpt" "$O" > /dev/null || fail "finetune --full"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	/usr/bin/python3 - "$d/m.ckpt" "$d/f.ckpt" "$d/ff.ckpt" "$AXON_ROOT/scripts/ref" <<'PY' && ok "unit identification changes only the new session's embeddings" || fail "unit identification changed other parameters"
import sys
sys.path.insert(0, sys.argv[4])
import numpy as np
import safetensors_np
pre, _ = safetensors_np.load(sys.argv[1])
fin, _ = safetensors_np.load(sys.argv[2])
full, _ = safetensors_np.load(sys.argv[3])
for k, v in pre.items():
    if k.startswith('optim.'):
        continue
    w = fin[k]
    if k in ('unit_emb.weight', 'session_emb.weight'):
        n = v.shape[0]
        assert (w[:n] == v).all() and w.shape[0] > n and (w[n:] != 0).any(), k
    else:
        assert (w == v).all(), k
# --full: the second half of its steps changes the shared parameters too
assert any((full[k] != v).any() for k, v in pre.items()
           if not k.startswith('optim.') and 'emb' not in k)
PY
else
	skip "unit identification parameters (python3-numpy not installed)"
fi

# Bad input: unsorted spike times, unit indices out of range, no behaviour.
expect2() { w=$1; shift; expect_exit 2 '^poyo-train: ' "exit 2: $w" -- "$@"; }
n=$(od -An -tu8 -N8 "$S0" | tr -d ' ')
off=$(dd if="$S0" bs=1 skip=8 count="$n" 2>/dev/null |
	sed -n 's/.*"spike_times":{"dtype":"F32","shape":\[[0-9]*\],"data_offsets":\[\([0-9]*\),.*/\1/p')
cp "$S0" "$d/unsorted.safetensors"
printf '\000\044\164\111' | dd of="$d/unsorted.safetensors" bs=1 seek=$((8 + n + off)) conv=notrunc 2>/dev/null
expect_exit 2 "not sorted in time" "unsorted spike times exit 2" -- poyo-train train $small -n 2 -c "$d/x.ckpt" "$d/unsorted.safetensors"
st_fill_i32 "$S0" spike_units 16 "$d/range.safetensors"
expect_exit 2 "outside \[0, 16)" "unit index out of range exits 2" -- poyo-train eval -m "$d/m.ckpt" "$d/range.safetensors" "$S1"
{ head -c $((8 + n)) "$S0" | sed 's/"hand_t"/"hand_q"/'; tail -c +$((9 + n)) "$S0"; } > "$d/nohand.safetensors"
expect_exit 2 "no 'hand_t' array" "no behaviour exits 2" -- poyo-train baseline "$d/nohand.safetensors"
printf 'not a bundle' > "$d/junk.safetensors"
expect2 junk-session poyo-train train $small -n 2 -c "$d/x.ckpt" "$d/junk.safetensors"
expect2 junk-model poyo-train eval -m "$d/junk.safetensors" "$S0"
expect_exit 2 "units, the model's session" "unit-count mismatch exits 2" -- poyo-train eval -m "$d/m.ckpt" "$O"
expect_usage "model CKPT is required" "eval without --model" -- poyo-train eval "$S0"
expect_usage "checkpoint FILE is required" "train without --checkpoint" -- poyo-train train "$S0"
expect_usage "option --dim does not apply" "finetune --dim" -- poyo-train finetune --dim 8 -m "$d/m.ckpt" -c "$d/x.ckpt" "$O"
expect_usage "multiple of 4" "head dim not a multiple of 4" -- poyo-train train --dim 12 --cross-heads 2 -c "$d/x.ckpt" "$S0"
expect_usage "train: --dim conflicts with --resume" "--resume --dim" -- poyo-train train --resume "$d/b.ckpt" -c "$d/x.ckpt" --dim 32 "$S0" "$S1"

# Two MPI ranks log the losses of one (to rounding).
if poyo-train --version | grep -q 'built with MPI'; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
	A="$small -n 6 --log-every 2"
	poyo-train train $A -c "$d/r1.ckpt" "$S0" "$S1" | cut -d, -f1-3 > "$d/r1.csv"
	mpirun -np 2 poyo-train train $A -c "$d/r2.ckpt" "$S0" "$S1" | cut -d, -f1-3 > "$d/r2.csv"
	if paste -d, "$d/r1.csv" "$d/r2.csv" | awk -F, 'NR > 1 { d = $2 - $5; if (d < 0) d = -d
		if (NR == 1 || d > 1e-4 * $2 || $1 != $4) bad = 1 } END { exit bad || NR != 4 }'; then
		ok "two MPI ranks log the losses of one rank (1e-4)"
	else fail "two ranks: $(paste -d' ' "$d/r1.csv" "$d/r2.csv" | tr '\n' ' ')"; fi
else
	skip "built without MPI: the two-rank check not run"
fi

run_man_examples poyo-train
finish
