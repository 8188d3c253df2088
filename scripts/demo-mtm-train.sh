#!/bin/sh
# demo-mtm-train.sh BIN OUT — MtM against the temporal-masking baseline on
# three simulated IBL-like sessions (spike-sim ibl), about a minute on 2 cores.
set -eu
bin=$1 out=$2
PATH="$(cd "$bin" && pwd):$PATH"
mkdir -p "$out"
# summarise EVAL.CSV... — per metric and model (named after eval-MODEL.csv)
# the mean over sessions, and the oracle's mean.
summarise() {
	awk -F, 'FNR == 1 { model = FILENAME; sub(/.*eval-/, "", model); sub(/\.csv$/, "", model); next }
		{ key = $2 SUBSEP model; s[key] += $3; n[key]++; o[$2] += $4; on[$2]++ }
		END {
			for (k in s) { split(k, p, SUBSEP); printf "%s,%s,%.4f\n", p[1], p[2], s[k] / n[k] }
			for (m in o) printf "%s,oracle,%.4f\n", m, o[m] / on[m]
		}' "$@" | sort
}
# One thread: on two cores the OpenMP and OpenBLAS pools contend, and a
# single thread is as fast for this small model (see the bench).
model="--dim 64 --layers 2 --heads 4 --batch 16 --steps 1000 --lr 2e-3 --threads 1 -q"

spike-sim ibl -q -o "$out/data" -n 3 -r 3 -u 16 -t 200 -s 42
for mask in mtm temporal; do
	mtm-train train $model --mask "$mask" -c "$out/$mask.ckpt" "$out"/data/session-*.safetensors > "$out/train-$mask.csv"
	mtm-train eval -q --threads 1 -c "$out/$mask.ckpt" "$out"/data/session-*.safetensors > "$out/eval-$mask.csv"
done

# metric,model,value: means over sessions; the oracle from the true rates.
{ echo metric,model,value; summarise "$out/eval-mtm.csv" "$out/eval-temporal.csv"; } > "$out/summary.csv"
grep -E '^(metric|co_smoothing|forward_pred|inter_region|intra_region),' "$out/summary.csv" > "$out/bps.csv"
grep -E '^(metric|choice_acc|wheel_r2),' "$out/summary.csv" > "$out/behaviour.csv"

cmd1="ax-plot -k bar -x metric -y value -g model --ylabel bits/spike -t 'MtM vs temporal masking' bps.csv -o bps.png"
ax-plot -k bar -x metric -y value -g model --ylabel bits/spike -t 'MtM vs temporal masking' "$out/bps.csv" -o "$out/bps.png"
cmd2="ax-plot -k bar -x metric -y value -g model --ylabel 'accuracy / R^2' -t 'Behaviour from the frozen encoder' behaviour.csv -o behaviour.png"
ax-plot -k bar -x metric -y value -g model --ylabel 'accuracy / R^2' -t 'Behaviour from the frozen encoder' "$out/behaviour.csv" -o "$out/behaviour.png"
printf 'bps.png\tSpike prediction on held-out trials (bits/spike, mean of 3 simulated sessions): MtM, temporal-masking baseline, true-rate oracle\t%s\n' "$cmd1" > "$out/captions.tsv"
printf 'behaviour.png\tChoice accuracy and wheel-speed R^2 decoded from the frozen encoder (5-fold CV); oracle decodes the log true rates\t%s\n' "$cmd2" >> "$out/captions.tsv"
cat "$out/summary.csv" >&2
