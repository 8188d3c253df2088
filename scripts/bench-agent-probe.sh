#!/bin/sh
# bench-agent-probe.sh BUILD — agent-probe's gridworld steps per second (the
# rules, the expert's path search and the 203-number observation of every
# step), and training steps/s of the default policy (width 64, 2 layers, 4
# heads, memory 32, batch 16 expert episodes of ~32 steps) beside the
# PyTorch reference scripts/ref/agent_probe.py (same model, batch 16 x 32),
# at 1 and 2 threads (OpenMP and OpenBLAS pools, OMP_NUM_THREADS and
# OPENBLAS_NUM_THREADS for torch); ratios against torch's better thread
# count. The axon steps include drawing the expert episodes (about 2 ms a
# step); torch's get ready-made tensors. Also steps per CPU-second at 1
# thread, which a machine busy with other jobs disturbs much less.
# Measured (December 2026, 2 cores shared with other jobs, load ~14): world
# 301,539 steps/s; training axon 8.62 steps/s at 1 thread, 1.52x torch's best
# (5.66, 1 thread); per CPU-second 53.0 vs 31.0 (1.71x). At 2 threads both
# collapsed on the busy machine (axon 0.57, torch 0.27 steps/s).
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"
STEPS=${STEPS:-300}
REF_STEPS=${REF_STEPS:-100}
ENV_EPISODES=${ENV_EPISODES:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. scripts/bench_common.sh

# The world alone: a small program over the command's env.c (as the unit
# test includes it), expert actions, one observation per step.
cat >"$tmp/envbench.c" <<EOF
#include "$(pwd)/cmd/agent-probe/env.c"
int main(void)
{
	struct ax_rng r;
	struct ap_env e;
	float obs[AP_OBS];
	long steps = 0;
	ax_rng_seed(&r, 1);
	double t0 = ax_now();
	for (int i = 0; i < $ENV_EPISODES; i++)
		for (ap_env_reset(&e, &r, 0); !e.done; steps++) {
			ap_env_observe(&e, 0, obs);
			ap_env_step(&e, ap_env_expert(&e));
		}
	printf("%.0f\n", steps / (ax_now() - t0));
	return 0;
}
EOF
ma=$(gcc -print-multiarch)
# The library's MPI build needs Open MPI's libraries too.
mpi_libs=$(agent-probe --version | grep -q 'built with MPI' && pkg-config --libs ompi-c || true)
cc -std=c11 -D_GNU_SOURCE -O3 -march=native -fopenmp -Ilib -I"/usr/include/$ma/openblas-openmp" \
	"$tmp/envbench.c" "$build/libaxon.a" -L"/usr/lib/$ma/openblas-openmp" -lopenblas \
	$(pkg-config --libs libpng zlib) $mpi_libs -lm -o "$tmp/envbench"
echo "agent-probe env: $("$tmp/envbench") steps/s (rules + expert + observation, one thread)"

torch_run() {
	OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$1 /usr/bin/python3 scripts/ref/agent_probe.py \
		--threads "$1" --steps "$REF_STEPS" 2>/dev/null
}
axon_run() {
	agent-probe train -q --threads "$1" --steps "$STEPS" --log-every "$STEPS" --eval-episodes 1 \
		>/dev/null
}
vs_torch agent-probe %.2f
