#!/bin/sh
# bench-ipd-learn.sh BUILD — ipd-learn throughput on the default IPD
# shape (B 16, M 20, T 10) at meta-batch 16 (the default 128 costs 8x per
# iteration, at the same rate per step): environment steps per
# second (lane-steps of both players, rollout plus PPO) and meta-iterations
# per second, at 1 and 2 threads; and CleanUp-lite. No PyTorch reference:
# the paper's code is JAX, and there is no like-for-like torch model here.
set -eu
build=$1
bin="$build/bin/ipd-learn"
run() { # label, threads, env-steps label ("" for none), args...
	label=$1 threads=$2 steps=$3; shift 3
	"$bin" train --threads "$threads" -q --log-every 1 "$@" | awk -F, -v label="$label" -v th="$threads" -v steps="$steps" \
		'NR == 1 { next } { it = $1; sec = $NF } END {
		printf "ipd-learn %-22s threads %s  %6.2f meta-iter/s\n", label, th, it / sec
		# lane-steps per iteration = meta-batch * B * M * T
		if (steps != "")
			printf "ipd-learn ipd env steps/s %-11s threads %s  %.0f\n", steps, th, it * 16 * 16 * 20 * 10 / sec }'
}
for th in 1 2; do
	run "ipd coala" $th "(with PPO)" --iters 10 --meta-batch 16
	run "ipd naive-vs-naive" $th "(rollout)" --iters 10 --meta-batch 16 --naive-vs-naive
	run "cleanup coala" $th "" --env cleanup --iters 5
done
