#!/bin/sh
# bench-mtm-train.sh BUILD — mtm-train training steps/s (default model: dim
# 64, 2 layers, 4 heads, batch 16 trials x 100 bins, ~80 neurons, MtM
# masking) beside the PyTorch reference scripts/ref/mtm_train.py on the same
# sessions, at 1 and 2 threads; ratios against PyTorch's better thread
# count. Also steps per CPU-second at 1 thread, which a machine busy with
# other jobs disturbs much less than wall-clock rates.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"
STEPS=${STEPS:-300}
REF_STEPS=${REF_STEPS:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spike-sim ibl -q -o "$tmp/data" -n 3 -t 300 -s 1
data=$(ls "$tmp"/data/session-*.safetensors)

now() { date +%s.%N; }
# Children's user+sys CPU seconds so far: the second line of `times`, run in
# this shell (in a command substitution it would see only the subshell's).
child_cpu() { awk 'NR == 2 { n = split($0, f, /[ \t]+/); s = 0
	for (i = 1; i <= n; i++) if (f[i] ~ /m/) { split(f[i], p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
	print s }' "$tmp/times"; }

best=0 cpu_ref=0
for th in 1 2; do
	# shellcheck disable=SC2086
	line=$(/usr/bin/python3 scripts/ref/mtm_train.py --threads $th --steps "$REF_STEPS" $data 2>/dev/null)
	r=$(echo "$line" | sed -n 's/.*steps_per_sec=\([0-9.]*\) .*/\1/p')
	[ $th = 1 ] && cpu_ref=$(echo "$line" | sed -n 's/.*cpu_steps_per_sec=\([0-9.]*\).*/\1/p')
	echo "mtm-train torch threads=$th: $r steps/s"
	best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
done
for th in 1 2; do
	times > "$tmp/times"; c0=$(child_cpu); t0=$(now)
	# shellcheck disable=SC2086
	mtm-train train -q --threads $th --steps "$STEPS" -c "$tmp/m.ckpt" $data > /dev/null
	t1=$(now); times > "$tmp/times"; c1=$(child_cpu)
	awk -v s="$STEPS" -v a="$t0" -v b="$t1" -v th="$th" -v t="$best" 'BEGIN {
		r = s / (b - a)
		printf "mtm-train axon  threads=%d: %.2f steps/s  (%.2fx torch best %.2f)\n", th, r, r / t, t }'
	if [ $th = 1 ]; then
		awk -v s="$STEPS" -v a="$c0" -v b="$c1" -v t="$cpu_ref" 'BEGIN {
			r = s / (b - a)
			printf "mtm-train per CPU-second, 1 thread: axon %.2f, torch %.2f steps  (%.2fx)\n", r, t, r / t }'
	fi
done
