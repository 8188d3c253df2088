#!/bin/sh
# vec-report.sh CC CFLAGS... — the hot loops GCC did not vectorise.
# A hot loop is one whose line carries the comment "[vec]" in lib/kernels_*.c,
# lib/ops_basic.c, lib/ops_nn.c, lib/optim.c: every elementwise and row-wise
# loop of the kernels. (The row reductions are lib/ax_math.h's lane sums,
# written as GCC vectors: vector code by construction.) A marked loop passes
# when GCC's -fopt-info-vec reports it vectorised; one that is not is printed
#   file:line: why | source line
# with GCC's first reason from -fopt-info-vec-missed. Exit 1 if any.
set -eu
cc=$1; shift
files="lib/kernels_*.c lib/ops_basic.c lib/ops_nn.c lib/optim.c"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
for f in $files; do
	# shellcheck disable=SC2068
	$cc "$@" -fopt-info-vec-all -c "$f" -o "$tmp/o.o" 2>> "$tmp/log"
done
# file:line -> vectorised, or GCC's first reason why not
awk '
	match($0, /^[^: ]+:[0-9]+:[0-9]+: /) {
		loc = substr($0, 1, RLENGTH - 2); sub(/:[0-9]+$/, "", loc)
		msg = substr($0, RLENGTH + 1)
		if (msg ~ /optimized: loop vectorized/) print loc "\tvectorised"
		else if (msg ~ /missed: not vectorized:/) { sub(/.*not vectorized: */, "", msg); print loc "\t" msg }
	}' "$tmp/log" > "$tmp/seen"
n=0 ok=0
for f in $files; do
	grep -n '\[vec\]' "$f" | cut -d: -f1 > "$tmp/lines" || continue
	while read -r line; do
		loc="$f:$line"
		if grep -q "^$loc	vectorised$" "$tmp/seen"; then ok=$((ok + 1)); continue; fi
		why=$(grep "^$loc	" "$tmp/seen" | head -1 | cut -f2)
		echo "$loc: ${why:-no vectoriser report} | $(sed -n "${line}p" "$f" | sed 's/^[[:space:]]*//')"
		n=$((n + 1))
	done < "$tmp/lines"
done
for last; do :; done
echo "vec-report $last: $ok hot loops vectorised, $n not"
[ $n = 0 ]
