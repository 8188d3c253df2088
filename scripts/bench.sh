#!/bin/sh
# bench.sh BUILD — every benchmark fragment scripts/bench-*.sh, run as
#   sh scripts/bench-<name>.sh BUILD
# Each prints its own result lines (axon beside the PyTorch reference, with
# the ratio). PyTorch comes from Debian's python3-torch under /usr/bin/python3.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
for frag in scripts/bench-*.sh; do
	[ -e "$frag" ] || continue
	echo "== $(basename "$frag" .sh)"
	sh "$frag" "$build"
done
