#!/bin/sh
# Every fuzz target (tests/fuzz/fuzz-*.c) replays its seed corpus through a
# plain main, built with the compiler the suite uses; under `make asan` with
# AddressSanitizer and UBSan. A regression test for the parsers and the
# trainers' checkpoint loading; `make fuzz` explores beyond the corpus.
. "$AXON_ROOT/tests/cmd/lib.sh"
cd "$AXON_ROOT"
# The fuzz build's library: base, the JSON tokenizer, bundles, the readers.
lib="lib/base.c lib/json.c lib/bundle.c $(ls lib/io_*.c)"
for src in tests/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	seeds=tests/fuzz/corpus/${name#fuzz-}
	# shellcheck disable=SC2086
	if ! cc -std=c11 -D_GNU_SOURCE -g -O1 ${AXON_SANITIZE:-} -Ilib -Itests/fuzz \
		-o "$T/$name" "$src" tests/fuzz/replay.c $lib -lz -lm 2> "$T/cc.err"; then
		bad "$name builds ($(head -3 "$T/cc.err" | tr '\n' ' '))"; continue
	fi
	[ -d "$seeds" ] || { bad "$name has no seed corpus $seeds"; continue; }
	check "$name replays its $(ls "$seeds" | wc -l) seeds" -- "$T/$name" "$seeds"/*
done
finish
