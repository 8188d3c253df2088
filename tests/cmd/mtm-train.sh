#!/bin/sh
# mtm-train: a short run beats the null model; resume is bit-exact;
# malformed input, neuron-count mismatch and unknown mask exit 2; closed and
# full outputs, edited checkpoints and sessions (issue #11's rows); every
# example of mtm-train(1) runs.
. "$AXON_ROOT/tests/cmd/lib.sh"
d=$T
fail() { bad "$*"; }
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
	skip "--predict-out contents (python3-numpy not installed)"
fi

# Resume: stop at 20 of 40 steps, resume, same bytes as a straight run.
mtm-train train $small -n 40 -c "$d/a.ckpt" "$S0" "$S1" > /dev/null || fail "straight run"
mtm-train train $small -n 40 --stop-at 20 -c "$d/b.ckpt" "$S0" "$S1" > /dev/null || fail "first half"
mtm-train train --threads 1 -q --resume "$d/b.ckpt" -c "$d/b.ckpt" "$S0" "$S1" > /dev/null || fail "resume"
expect_same "$d/a.ckpt" "$d/b.ckpt" "a resumed run's checkpoint equals a straight run's"

# A checkpoint from before --causal-share and --forward-window resumes with
# their defaults: the same bytes as a straight run.
mtm-train train $small -n 40 --stop-at 20 -c "$d/b.ckpt" "$S0" "$S1" > /dev/null || fail "first half again"
ckpt_del_meta "$d/b.ckpt" mtm.causal_share "$d/b1.ckpt"
ckpt_del_meta "$d/b1.ckpt" mtm.forward_window "$d/older.ckpt"
mtm-train train --threads 1 -q --resume "$d/older.ckpt" -c "$d/older.ckpt" "$S0" "$S1" > /dev/null ||
	fail "resume a checkpoint without the causal-task keys"
expect_same "$d/a.ckpt" "$d/older.ckpt" "a checkpoint without the causal-task keys resumes with their defaults"

# The causal task's share and forward window; the forward-prediction prompt.
mtm-train train $small -n 12 --log-every 1 --causal-share 1 --forward-window 10 -c "$d/cw.ckpt" \
	"$S0" "$S1" > "$d/cw.csv" || fail "--causal-share 1 --forward-window 10"
[ "$(tail -n +2 "$d/cw.csv" | cut -d, -f3 | sort -u)" = causal ] && ok "--causal-share 1: only the causal task" \
	|| fail "--causal-share 1 drew $(tail -n +2 "$d/cw.csv" | cut -d, -f3 | sort -u | tr '\n' ' ')"
mtm-train train $small -n 12 --log-every 1 --causal-share 1 -c "$d/cr.ckpt" "$S0" "$S1" > "$d/cr.csv" ||
	fail "--causal-share 1 without --forward-window"
cmp -s "$d/cw.csv" "$d/cr.csv" && fail "--forward-window 10 changes no loss" || ok "--forward-window 10: other masks, other losses"
mtm-train train $small -n 12 --log-every 1 --causal-share 0 -c "$d/c0.ckpt" "$S0" > "$d/c0.csv" || fail "--causal-share 0"
grep -q ',causal,' "$d/c0.csv" && fail "--causal-share 0 drew the causal task" || ok "--causal-share 0: no causal task"
expect_usage "--causal-share: 1.5 is outside \\[0, 1\\]" "--causal-share 1.5" -- \
	mtm-train train $small --causal-share 1.5 -c "$d/x.ckpt" "$S0"
mtm-train eval -q --threads 1 --forward-prompt neuron -c "$d/m.ckpt" "$S0" "$S1" > "$d/evn.csv" || fail "--forward-prompt neuron"
grep -v forward_pred "$d/eval.csv" > "$d/e1"; grep -v forward_pred "$d/evn.csv" > "$d/e2"
expect_same "$d/e1" "$d/e2" "--forward-prompt changes no other metric"
cmp -s "$d/eval.csv" "$d/evn.csv" && fail "--forward-prompt neuron changes nothing" || ok "--forward-prompt neuron: another forward prediction"
expect_usage "--forward-prompt: unknown value 'temporal'" "--forward-prompt temporal" -- \
	mtm-train eval --forward-prompt temporal -c "$d/m.ckpt" "$S0" "$S1"

# Fine-tuning a new session (different neuron count) from the checkpoint.
mtm-train train $small -n 10 --init "$d/m.ckpt" -c "$d/f.ckpt" "$d/o/session-000.safetensors" > /dev/null || fail "--init"

expect2() { expect_exit 2 '^mtm-train: ' "exit 2: $*" -- "$@"; }
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
[ ! -e "$d/x.ckpt" ] && ok "a failed run leaves no checkpoint" || fail "a failed run left a checkpoint"

# Options: one line, exit 2; settings a checkpoint fixes are refused with --resume.
expect_usage "--bogus: unknown option" "unknown option" -- mtm-train train --bogus "$S0"
expect_usage "--seed: a value is needed" "missing value" -- mtm-train train -c x "$S0" --seed
expect_usage "eval: option --steps does not apply" "train option in eval" -- \
	mtm-train eval -c "$d/m.ckpt" --steps 3 "$S0"
expect_usage "train: --dim conflicts with --resume" "--resume --dim 32" -- \
	mtm-train train --resume "$d/b.ckpt" -c "$d/x.ckpt" --dim 32 "$S0" "$S1"
expect_usage "train: --mask conflicts with --resume" "--resume -m temporal" -- \
	mtm-train train --resume "$d/b.ckpt" -c "$d/x.ckpt" -m temporal "$S0" "$S1"

# Edited checkpoints: range-checked as the flags are, for --init and --resume.
for kv in mtm.dropout=1 mtm.batch=0 mtm.batch=-1 mtm.neurons=8,0 mtm.dim=33 axon.step=-1; do
	ckpt_set_meta "$d/b.ckpt" "${kv%%=*}" "${kv#*=}" "$d/edit.ckpt"
	pat=${kv%%=*}; [ "$pat" = mtm.dim ] && pat="not divisible by --heads"
	expect_exit 2 "$pat" "--resume refuses $kv" -- \
		mtm-train train -q --resume "$d/edit.ckpt" -c "$d/x.ckpt" "$S0" "$S1"
	case $kv in mtm.batch*|axon.*) ;; *)
		expect_exit 2 "$pat" "--init refuses $kv" -- \
			mtm-train train $small -n 2 --init "$d/edit.ckpt" -c "$d/x.ckpt" "$S0"
	esac
done
ckpt_del_meta "$d/m.ckpt" axon.format "$d/old.ckpt"
expect_exit 2 "written by an older axon" "a checkpoint from before the settings scheme" -- \
	mtm-train eval -c "$d/old.ckpt" "$S0" "$S1"
# A session whose choice is not 0/1.
for v in 7 -3; do
	st_fill_i32 "$S0" choice $v "$d/c$v.safetensors"
	expect_exit 2 "'choice' of trial 0 is $v, not 0 or 1" "a session with choice $v" -- \
		mtm-train eval -c "$d/m.ckpt" "$d/c$v.safetensors"
done

# --stop-at 17 and --resume (which keeps --log-every): the CSV of an uninterrupted run.
RUN="$small -n 20 --log-every 5"
mtm-train train $RUN -c "$d/u.ckpt" "$S0" "$S1" > "$d/u.csv"
mtm-train train $RUN --stop-at 17 -c "$d/s.ckpt" "$S0" "$S1" > "$d/s.csv"
mtm-train train -q --resume "$d/s.ckpt" -c "$d/s.ckpt" "$S0" "$S1" | tail -n +2 >> "$d/s.csv"
expect_same "$d/u.csv" "$d/s.csv" "--stop-at 17 + --resume: the CSV of an uninterrupted run"
mtm-train train $RUN --stop-at 5 -c "$d/five.ckpt" "$S0" "$S1" > /dev/null
cp "$d/five.ckpt" "$d/five0.ckpt"
mtm-train train -q --resume "$d/five.ckpt" --stop-at 2 -c "$d/five.ckpt" "$S0" "$S1" > "$d/out"; rc=$?
[ $rc = 0 ] && [ "$(wc -l < "$d/out")" = 1 ] && cmp -s "$d/five.ckpt" "$d/five0.ckpt" \
	&& ok "resume past --stop-at runs no step" || bad "resume past --stop-at (exit $rc)"

# Closed and full outputs: exit 1; the CSV never lands in another file.
expect_exit 1 "standard output" "eval >&- with --predict-out" -- \
	sh -c "mtm-train eval -q -c \"$d/m.ckpt\" --predict-out \"$d/p2.npy\" \"$S0\" \"$S1\" >&-"
[ ! -e "$d/p2.npy" ] && ok "no predictions file when the CSV cannot be written" \
	|| bad "the predictions file was written (CSV inside? $(head -c 40 "$d/p2.npy" | tr -dc 'a-z,'))"
mtm-train eval -c "$d/m.ckpt" "$S0" "$S1" > /dev/null 2>&-; rc=$?
[ $rc = 1 ] && ok "eval 2>&- (progress lines lost): exit 1" || bad "eval 2>&-: exit $rc"
expect_exit 1 "standard output" "train > /dev/full" -- \
	sh -c "mtm-train train $small -n 5 --log-every 1 -c \"$d/full.ckpt\" \"$S0\" >/dev/full"
expect_exit 1 "standard output" "eval > /dev/full" -- \
	sh -c "mtm-train eval -q -c \"$d/m.ckpt\" \"$S0\" \"$S1\" >/dev/full"
rm -f "$d/pipe.ckpt"
{ mtm-train train $small -n 1000000 --log-every 1 -c "$d/pipe.ckpt" "$S0" 2>"$d/err"; echo $? > "$d/rc"; } | head -c 10 > /dev/null
[ "$(cat "$d/rc")" = 141 ] && [ -s "$d/pipe.ckpt" ] && ok "| head: checkpoint saved, exit 141" \
	|| bad "| head: exit $(cat "$d/rc"): $(cat "$d/err")"
mtm-train train $small -n 1000000 -c "$d/term.ckpt" "$S0" > /dev/null 2>&1 &
pid=$!
sleep 2; kill -TERM $pid; wait $pid; rc=$?
[ $rc = 143 ] && [ -s "$d/term.ckpt" ] && ok "SIGTERM: checkpoint saved, exit 143" || bad "SIGTERM exit $rc"
if [ -z "${ASAN_OPTIONS:-}" ]; then
	expect_exit 1 "out of memory: .* bytes for" "--dim 65536 --hidden 1048576: out of memory" -- \
		sh -c "ulimit -v 3000000; mtm-train train -q --threads 1 --dim 65536 --hidden 1048576 -c \"$d/x.ckpt\" \"$S0\""
else
	skip "out-of-memory exit (ulimit -v and AddressSanitizer do not mix)"
fi

run_man_examples mtm-train 's/spike-sim ibl -o data -n 5/& -t 60 -u 12/'
finish
