#!/bin/sh
# run.sh SECONDS FUZZ_TARGET.c... — builds each libFuzzer target with clang,
# AddressSanitizer and UBSan, and runs it for SECONDS, starting from the
# seeds in tests/fuzz/corpus/<name>/ (name without "fuzz-"). Found crashes
# land in build/fuzz/ (FUZZ_BUILD overrides); exit 1 if any target failed.
set -eu
[ $# -ge 2 ] || { echo "usage: run.sh SECONDS FUZZ_TARGET.c..." >&2; exit 2; }
secs=$1; shift
if ! command -v clang >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		echo "run.sh: installing clang" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			clang >/dev/null
	else
		echo "run.sh: clang is missing; run as root: apt-get install clang" >&2
		exit 1
	fi
fi
out=${FUZZ_BUILD:-build/fuzz}
mkdir -p "$out"
# The parsers need only the I/O modules (with the JSON tokenizer and the
# bundle container) and base; linking just those keeps
# the fuzz build free of BLAS, OpenMP and libpng.
lib="lib/base.c lib/json.c lib/bundle.c $(ls lib/io_*.c)"
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer -Ilib -Itests/fuzz"
fail=0
for src in "$@"; do
	name=$(basename "$src" .c)
	seeds=tests/fuzz/corpus/${name#fuzz-}
	echo "== $name ($secs s)"
	# shellcheck disable=SC2086
	clang $flags -o "$out/$name" "$src" $lib -lz
	mkdir -p "$out/corpus-$name"
	# Checkpoint seeds hold a whole small model and its optimiser state.
	case $name in *-ckpt) max_len=32768 ;; *) max_len=8192 ;; esac
	if ! "$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=$max_len \
		-artifact_prefix="$out/$name-" -print_final_stats=0 \
		"$out/corpus-$name" $( [ -d "$seeds" ] && echo "$seeds" ) 2>"$out/$name.log"; then
		echo "$name: FAILED (log: $out/$name.log)"
		tail -n 40 "$out/$name.log"
		fail=1
	else
		tail -n 1 "$out/$name.log"
	fi
done
exit $fail
