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

. scripts/bench_common.sh
torch_run() { /usr/bin/python3 scripts/ref/teb_fit.py bench --threads "$1" --steps "$REF_STEPS"; }
# --holdout 0 and one CSV row: the steps alone, as the reference.
axon_run() {
	teb-fit train -q --threads "$1" -n "$STEPS" --holdout 0 --log-every "$STEPS" "$tmp/lg.st" >/dev/null
}
vs_torch teb-fit %.1f
