#!/bin/sh
# mtm-train: a short run beats the null model; resume is bit-exact;
# malformed input, neuron-count mismatch and unknown mask exit 2.
set -u
d=$AXON_TMP
fail() { echo "mtm-train.sh: $*" >&2; exit 1; }
small="--dim 32 --layers 1 --heads 2 --batch 8 --threads 1 -q"

spike-sim ibl -q -o "$d/s" -n 2 -t 60 -r 2 -u 8 -s 3 || fail "spike-sim"
spike-sim ibl -q -o "$d/o" -n 1 -t 60 -r 2 -u 12 -s 4 || fail "spike-sim other"
S0=$d/s/session-000.safetensors S1=$d/s/session-001.safetensors

# A short run learns: co-smoothing above the null model, below the oracle.
mtm-train train $small -n 300 --lr 3e-3 -c "$d/m.ckpt" "$S0" "$S1" > "$d/log.csv" || fail "train"
head -1 "$d/log.csv" | grep -q '^step,session,mask,loss,lr$' || fail "log header"
mtm-train eval -q --threads 1 -c "$d/m.ckpt" --predict-out "$d/pred.npy" "$S0" "$S1" > "$d/eval.csv" || fail "eval"
head -1 "$d/eval.csv" | grep -q '^session,metric,value,oracle$' || fail "eval header"
[ "$(grep -c , "$d/eval.csv")" = 13 ] || fail "eval rows: $(cat "$d/eval.csv")"
awk -F, '$2 == "co_smoothing" { n++; if (!($3 > 0.01 && $3 < $4)) bad = 1 }
	END { exit !(n == 2 && !bad) }' "$d/eval.csv" || fail "co-smoothing not between null and oracle: $(cat "$d/eval.csv")"
awk -F, '$2 == "choice_acc" && !($3 > 0.5) { bad = 1 } END { exit bad }' "$d/eval.csv" || fail "choice at chance"
[ -s "$d/pred.npy" ] || fail "no --predict-out file"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	# One (test trials, bins, neurons) array of positive rates per session.
	/usr/bin/python3 - "$d/pred.npy" "$S0" "$S1" <<'PY' || fail "--predict-out contents"
import json, struct, sys
import numpy as np
f = open(sys.argv[1], 'rb')
for path in sys.argv[2:]:
    raw = open(path, 'rb').read()
    hdr = json.loads(raw[8:8 + struct.unpack('<Q', raw[:8])[0]])
    M, T, N = hdr['counts']['shape']
    p = np.load(f)
    assert p.dtype == np.float32 and p.shape == (M // 5, T, N), (p.dtype, p.shape)
    assert np.isfinite(p).all() and (p > 0).all()
assert f.read() == b''
PY
else
	echo "skip - --predict-out contents (python3-numpy not installed)"
fi

# Resume: stop at 20 of 40 steps, resume, same bytes as a straight run.
mtm-train train $small -n 40 -c "$d/a.ckpt" "$S0" "$S1" > /dev/null || fail "straight run"
mtm-train train $small -n 40 --stop-at 20 -c "$d/b.ckpt" "$S0" "$S1" > /dev/null || fail "first half"
mtm-train train $small --resume "$d/b.ckpt" -c "$d/b.ckpt" "$S0" "$S1" > /dev/null || fail "resume"
cmp -s "$d/a.ckpt" "$d/b.ckpt" || fail "resumed run differs from a straight run"

# Fine-tuning a new session (different neuron count) from the checkpoint.
mtm-train train $small -n 10 --init "$d/m.ckpt" -c "$d/f.ckpt" "$d/o/session-000.safetensors" > /dev/null || fail "--init"

expect2() {
	"$@" >/dev/null 2>"$d/err"; rc=$?
	[ $rc = 2 ] || fail "'$*' exited $rc, not 2"
	grep -q '^mtm-train: ' "$d/err" || fail "'$*': no 'mtm-train:' message"
}
expect2 mtm-train train $small -n 5 --mask bogus -c "$d/x.ckpt" "$S0"
printf 'not a bundle' > "$d/junk.safetensors"
expect2 mtm-train train $small -n 5 -c "$d/x.ckpt" "$d/junk.safetensors"
expect2 mtm-train eval -c "$d/m.ckpt" "$d/junk.safetensors"
expect2 mtm-train eval -c "$d/junk.safetensors" "$S0"
expect2 mtm-train eval -c "$d/m.ckpt" "$d/o/session-000.safetensors"
grep -q 'neuron-count mismatch' "$d/err" || fail "mismatch message: $(cat "$d/err")"
expect2 mtm-train eval -c "$d/m.ckpt" "$S0" "$S1" "$S0"
expect2 mtm-train train -n 5 "$S0"
expect2 mtm-train train $small -n 5 --resume "$d/m.ckpt" -c "$d/x.ckpt" "$d/o/session-000.safetensors"
[ ! -e "$d/x.ckpt" ] || fail "a failed run left a checkpoint"
exit 0
