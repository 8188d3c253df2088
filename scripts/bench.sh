#!/bin/sh
# bench.sh BUILD — `make bench`: the machine, then one table of axon beside
# PyTorch (scripts/bench-lib.sh: transformer block and GRU; bench-apical-net.sh;
# bench-mod-lm.sh; bench-mtm-train.sh; bench-ssl-train.sh; bench-poyo-train.sh), then the notes those fragments
# write (sgemm rate, sampling speed) and the remaining fragments (commands
# without a PyTorch reference). See scripts/bench_common.sh for the method;
# BENCH_QUICK=1 runs everything once, briefly.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
. scripts/bench_common.sh
BENCH_NOTES=$(mktemp); export BENCH_NOTES
trap 'rm -f "$BENCH_NOTES"' EXIT INT TERM

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
ax-bench machine
echo "OPENBLAS_CORETYPE for both sides: $OPENBLAS_CORETYPE"
if [ "${BENCH_ISA:-}" = avx2 ]; then
	echo "isa: both sides held to AVX2 (BENCH_ISA=avx2; axon built for x86-64-v3)"
fi
if [ $has_torch = 1 ]; then
	echo "torch: $($py -c 'import torch; print(torch.__version__)')"
else
	echo "torch: not installed (axon columns only)"
fi
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "method: best of $REPS runs per side and thread count, interleaved; ratio = axon / torch's better setting"
echo
report_header
for name in lib mod-lm mtm-train apical-net ssl-train poyo-train; do
	sh "scripts/bench-$name.sh" "$build"
done
echo
cat "$BENCH_NOTES"
for frag in scripts/bench-*.sh; do
	case $frag in
	*/bench-lib.sh | */bench-mod-lm.sh | */bench-mtm-train.sh | */bench-apical-net.sh | \
	*/bench-ssl-train.sh | */bench-poyo-train.sh) continue ;;
	esac
	echo "== $(basename "$frag" .sh)"
	sh "$frag" "$build"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
