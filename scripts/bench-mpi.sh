#!/bin/sh
# bench-mpi.sh BUILD — data parallelism on this machine: mod-lm training
# tokens/s with 1 rank x 2 threads against 2 ranks x 1 thread (same model,
# same global batch), and the time and bytes per step in the gradient
# allreduce. Best of REPS runs each. Skipped when built without MPI.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
if ! mod-lm --version | grep -q 'built with MPI'; then
	echo "mod-lm data-parallel: built without MPI, skipped"; exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
CFG="--layers 4 --dim 128 --heads 4 --ctx 128 --capacity 0.125 --batch 16"
STEPS=${STEPS:-24} REPS=${REPS:-2}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
one=0 two=0
for rep in $(seq $REPS); do
	t=$(mod-lm train $CFG --steps $STEPS --log-every $STEPS --val-bytes 0 --threads 2 -q |
		tail -1 | cut -d, -f9)
	one=$(max "$one" "$t")
	mpirun -np 2 mod-lm train $CFG --steps $STEPS --log-every $STEPS --val-bytes 0 \
		--threads 1 > "$tmp/csv" 2> "$tmp/err"
	t=$(tail -1 "$tmp/csv" | cut -d, -f9)
	if awk -v a="$t" -v b="$two" 'BEGIN { exit !(a > b) }'; then
		two=$t; comm=$(sed -n 's/.*ranks: \(.*\) per step in collectives/\1/p' "$tmp/err")
	fi
done
echo "mod-lm train (MoD, batch 16): 1 rank x 2 threads $one tokens/s, 2 ranks x 1 thread $two tokens/s, ratio $(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.2f", a / b }'); allreduce $comm"
