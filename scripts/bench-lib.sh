#!/bin/sh
# bench-lib.sh BUILD — library building blocks beside PyTorch
# (scripts/ref/bench_lib.py): a pre-LN transformer block (B=8, T=128, C=256,
# 4 heads, MLP 4C, causal, exact GELU) and a GRU (B=64, T=256, H=64),
# forward + backward, ms per iteration. Notes: the sgemm rate at 1024^3 and
# the block's GFLOP/s as a share of it.
set -eu
build=$1
PATH="$(cd "$build/bin" && pwd):$PATH"; export PATH
. scripts/bench_common.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
iters=""; [ "$QUICK" = 1 ] && iters="-n 2"

sg1="" sg2=""
for th in 1 2; do
	for rep in $(seq "$REPS"); do
		# shellcheck disable=SC2086
		r=$(ax-bench sgemm -j $th -C 1024 $iters | tail -1 | cut -d, -f7)
		keep sg$th "$r" higher
	done
done
for what in block gru; do
	a1="" a2="" t1="" t2="" ra="" rt="" g1="" g2=""
	for rep in $(seq "$REPS"); do
		for th in 1 2; do
			# shellcheck disable=SC2086
			run_rss "$tmp/a" $th ax-bench $what -j $th $iters
			keep a$th "$(tail -1 "$tmp/a" | cut -d, -f6)" lower
			keep g$th "$(tail -1 "$tmp/a" | cut -d, -f7)" higher
			rss_max ra "$tmp/a.rss"
			if [ $has_torch = 1 ]; then
				run_rss "$tmp/t" $th $py scripts/ref/bench_lib.py $what $th \
					${iters:+2}
				keep t$th "$(tail -1 "$tmp/t" | cut -d, -f3)" lower
				rss_max rt "$tmp/t.rss"
			fi
		done
	done
	case $what in
	block) label="block B8 T128 C256" ;;
	*) label="gru B64 T256 H64" ;;
	esac
	report "$label" ms/iter lower "$a1" "$a2" "$t1" "$t2" "$ra" "$rt"
	awk -v w="$label" -v g1="$g1" -v g2="$g2" -v s1="$sg1" -v s2="$sg2" 'BEGIN {
		printf "%s: %.1f GFLOP/s at 1 thread (%.0f%% of sgemm 1024^3, %.1f), %.1f at 2 (%.0f%% of %.1f)\n",
			w, g1, 100 * g1 / s1, s1, g2, 100 * g2 / s2, s2 }' >> "${BENCH_NOTES:-/dev/stdout}"
done
