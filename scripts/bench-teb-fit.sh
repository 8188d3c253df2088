#!/bin/sh
# bench-teb-fit.sh BUILD — teb-fit training steps/s (the default model:
# lingauss windows of history 8, horizon 1, latent 16, width 64, batch 128,
# Y module and TEB trained jointly with Adam) beside the PyTorch reference
# scripts/ref/teb_fit.py (same model and batch), at 1 and 2 threads; ratios
# against PyTorch's better thread count. Also steps per CPU-second at one
# thread, which a machine busy with other jobs disturbs much less.
# Measured (December 2026, 2 cores under a load of 12-14 from other jobs, so
# wall-clock rates are low and two threads collapse for both): one thread
# axon 238 vs torch 78 steps/s (3.06x; 2.87x and 3.42x in two other runs);
# per CPU-second 735 vs 286 (2.57x; 3.09x, 3.40x); two threads axon 20.7,
# torch 5.0. On a quieter machine torch ran 310 steps/s at one thread.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"
STEPS=${STEPS:-3000}
REF_STEPS=${REF_STEPS:-600}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
teb-fit gen lingauss -q -n 20000 -o "$tmp/lg.st"

# Children's user+sys CPU seconds so far: the second line of `times`, run in
# this shell (in a command substitution it would see only the subshell's).
child_cpu() { awk 'NR == 2 { s = 0; for (i = 1; i <= NF; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] } print s }' "$tmp/times"; }
now() { date +%s.%N; }

best=0 cpu_ref=0
for th in 1 2; do
	line=$(/usr/bin/python3 scripts/ref/teb_fit.py bench --threads $th --steps "$REF_STEPS")
	r=$(echo "$line" | sed -n 's/.*steps_per_sec=\([0-9.]*\) .*/\1/p')
	[ $th = 1 ] && cpu_ref=$(echo "$line" | sed -n 's/.*cpu_steps_per_sec=\([0-9.]*\).*/\1/p')
	echo "teb-fit torch threads=$th: $r steps/s"
	best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
done
for th in 1 2; do
	times >"$tmp/times"; c0=$(child_cpu); t0=$(now)
	# --holdout 0 and one CSV row: the steps alone, as the reference.
	teb-fit train -q --threads $th -n "$STEPS" --holdout 0 --log-every "$STEPS" "$tmp/lg.st" >/dev/null
	t1=$(now); times >"$tmp/times"; c1=$(child_cpu)
	awk -v s="$STEPS" -v a="$t0" -v b="$t1" -v th="$th" -v t="$best" 'BEGIN {
		r = s / (b - a)
		printf "teb-fit axon  threads=%d: %.1f steps/s  (%.2fx torch best %.1f)\n", th, r, r / t, t }'
	if [ $th = 1 ]; then
		awk -v s="$STEPS" -v a="$c0" -v b="$c1" -v t="$cpu_ref" 'BEGIN {
			r = s / (b - a)
			printf "teb-fit per CPU-second, 1 thread: axon %.1f, torch %.1f steps  (%.2fx)\n", r, t, r / t }'
	fi
done
