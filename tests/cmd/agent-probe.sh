#!/bin/sh
# agent-probe: a short run learns the task; resume is bit-exact; the probes'
# outputs have their shapes (attention rows sum to 1); patching against
# itself gives 0 and patching everything 1; bad checkpoints and edit specs
# exit 2; the man page's examples run.
. "$AXON_ROOT/tests/cmd/lib.sh"
small="--dim 32 --heads 2 --batch 8 --threads 1 -q"

# Learning: after 150 steps the greedy policy succeeds far above chance.
check "train" -- agent-probe train $small --steps 150 --log-every 50 --eval-episodes 32 -c "$T/m.ckpt"
cp "$T/out" "$T/train.csv"
if head -1 "$T/train.csv" | grep -q '^step,loss,accuracy,success,seconds$' &&
   [ "$(wc -l <"$T/train.csv")" = 4 ]; then ok "train CSV: header and a row every 50 steps"
else bad "train CSV: $(head -3 "$T/train.csv" | tr '\n' ' ')"; fi
if tail -1 "$T/train.csv" | awk -F, '{ exit !($4 >= 0.7 && $3 > 0.9) }'; then
	ok "the policy learns (success $(tail -1 "$T/train.csv" | cut -d, -f4))"
else bad "no learning: $(tail -1 "$T/train.csv")"; fi

# Resume: 10 steps straight = 5, then resume to 10; same checkpoint bytes.
agent-probe train $small --steps 10 --log-every 5 -c "$T/a.ckpt" >"$T/a.csv"
agent-probe train $small --steps 10 --log-every 5 --stop-at 5 -c "$T/b.ckpt" >"$T/b.csv"
agent-probe train --threads 1 -q --resume "$T/b.ckpt" -c "$T/b.ckpt" >>"$T/b.csv"
expect_same "$T/a.ckpt" "$T/b.ckpt" "resume is bit-exact (checkpoint)"
cut -d, -f1-4 "$T/a.csv" >"$T/a4.csv"   # all but the seconds
cut -d, -f1-4 "$T/b.csv" >"$T/b4.csv"
expect_same "$T/a4.csv" "$T/b4.csv" "resume is bit-exact (CSV rows)"
expect_usage "conflicts with --resume" "--memory refused with --resume" -- \
	agent-probe train --resume "$T/b.ckpt" --memory 4

# Probes.
M="-m $T/m.ckpt --threads 1"
check "attention" -- agent-probe attention $M -n 8 -o "$T/off.npy" --png "$T/att.png"
cp "$T/out" "$T/att.csv"
if [ "$(head -1 "$T/att.csv")" = "layer,head,last4,cue,trees,older" ] &&
   [ "$(wc -l <"$T/att.csv")" = 5 ] &&
   awk -F, 'NR > 1 { s = $3 + $4 + $5 + $6; if (s < 0.9999 || s > 1.0001 || $3 <= 0) bad = 1 }
	END { exit bad }' "$T/att.csv"; then ok "attention shares (2 layers x 2 heads) sum to 1"
else bad "attention CSV: $(cat "$T/att.csv" | tr '\n' ' ')"; fi
[ -s "$T/att.png" ] && ok "attention heatmap written" || bad "no attention PNG"

check "intervene lookalike" -- agent-probe intervene $M -n 16 --edit lookalike
if tail -1 "$T/out" | awk -F, '$1 == "lookalike" && $2 == 16 && $6 >= 0 && $6 <= 1 { ok = 1 }
	END { exit !ok }'; then ok "intervene CSV row"; else bad "intervene: $(cat "$T/out")"; fi
check "intervene none" -- agent-probe intervene $M -n 16 --edit none
if tail -1 "$T/out" | awk -F, '$4 == 0 && $5 == 0 && $6 == 0 { ok = 1 } END { exit !ok }'; then
	ok "no edit: KL 0, no attack change"
else bad "edit none: $(cat "$T/out")"; fi

check "ablate" -- agent-probe ablate $M -n 8
if [ "$(wc -l <"$T/out")" = 6 ] && sed -n 2p "$T/out" | grep -q '^-1,-1,.*,0,.*,0$'; then
	ok "ablate: a row per head, no ablation changes nothing"
else bad "ablate: $(cat "$T/out" | tr '\n' ' ')"; fi

check "patch --self" -- agent-probe patch $M -n 4 --self -o "$T/self.npy"
if tail -1 "$T/out" | awk -F, '$1 == $2 && $3 == 0 && $7 == 0 && $10 == 0 { ok = 1 } END { exit !ok }'; then
	ok "patching a run with itself: 0/0 gives effect 0"
else bad "patch --self: $(cat "$T/out")"; fi
check "patch" -- agent-probe patch $M -n 4 -o "$T/patch.npy" --resid "$T/resid.npy" \
	--rollout "$T/roll.npy" --png "$T/patch.png"
if tail -1 "$T/out" | awk -F, '$1 != $2 && $3 == 1 { ok = 1 } END { exit !ok }'; then
	ok "patching everything: effect 1"
else bad "patch: $(cat "$T/out")"; fi

check "rollout" -- agent-probe rollout $M -n 3 -o "$T/ep.npy"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	if /usr/bin/python3 - "$T" <<'PY'; then ok "NPY outputs: shapes, dtypes, rows sum to 1"
import sys
import numpy as np
d = sys.argv[1]
off = np.load(d + "/off.npy")
assert off.shape == (2, 2, 32) and off.dtype == np.float32, off.shape
assert np.allclose(off.sum(-1), 1, atol=1e-4)
assert np.load(d + "/patch.npy").shape == (2, 40, 2)
assert np.load(d + "/resid.npy").shape == (2, 40)
assert np.load(d + "/roll.npy").shape == (40,)
f = open(d + "/ep.npy", "rb")
obs, act, rew, ln, att = (np.load(f) for _ in range(5))
assert f.read() == b""
assert obs.shape == (3, 40, 203) and act.shape == (3, 40) and act.dtype == np.int32
assert rew.shape == (3, 40) and ln.shape == (3,) and att.shape == (3, 2, 2, 40, 40)
for i in range(3):
    n = ln[i]
    assert (act[i, :n] >= 0).all() and (act[i, n:] == -1).all()
    rows = att[i, :, :, :n, :]
    assert np.allclose(rows.sum(-1), 1, atol=1e-5)
    assert (np.triu(att[i, :, :, :n, :n], 1) == 0).all()   # causal
PY
	else bad "NPY outputs"; fi
else
	skip "NPY outputs (python3-numpy not installed)"
fi

# Bad input: checkpoints and edit specs exit 2.
printf 'not a checkpoint' >"$T/junk.ckpt"
expect_usage "junk.ckpt" "a malformed checkpoint exits 2" -- agent-probe attention -m "$T/junk.ckpt"
expect_exit 1 "missing.ckpt" "a missing checkpoint exits 1" -- agent-probe attention -m "$T/missing.ckpt"
ckpt_set_meta "$T/m.ckpt" agent_probe.heads 3 "$T/heads.ckpt"
expect_usage "multiple of heads" "heads not dividing dim exits 2" -- agent-probe ablate -m "$T/heads.ckpt"
ckpt_set_meta "$T/m.ckpt" agent_probe.memory 0 "$T/mem.ckpt"
expect_usage "memory" "a memory of 0 exits 2" -- agent-probe patch -m "$T/mem.ckpt"
ckpt_set_meta "$T/m.ckpt" axon.kind mod-lm "$T/kind.ckpt"
expect_usage "not agent-probe" "a foreign checkpoint exits 2" -- agent-probe rollout -m "$T/kind.ckpt"
expect_usage "'tree' is not an edit" "an unknown edit exits 2" -- \
	agent-probe intervene -m "$T/m.ckpt" --edit lookalike,tree
expect_usage "choose one" "lookalike with control exits 2" -- \
	agent-probe intervene -m "$T/m.ckpt" --edit lookalike,control
expect_usage "--edit SPEC is needed" "intervene without an edit exits 2" -- \
	agent-probe intervene -m "$T/m.ckpt"
expect_usage "does not apply" "--edit does not apply to attention" -- \
	agent-probe attention -m "$T/m.ckpt" --edit nocue
expect_usage "-m CKPT is needed" "a probe without a model exits 2" -- agent-probe patch

run_man_examples agent-probe
finish
