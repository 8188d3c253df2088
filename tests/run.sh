#!/bin/sh
# run.sh BUILD UNIT_BINARY... -- CMD_TEST.sh...
# Runs cmocka unit binaries and command test scripts; each counts as one
# test file. Command tests get the built commands first on PATH, and AXON_TMP,
# a fresh scratch folder. Ends with one 'N passed, N failed' line.
build=$1; shift
PATH="$(pwd)/$build/bin:$PATH"; export PATH
AXON_ROOT=$(pwd); export AXON_ROOT
pass=0; fail=0; failed=""
unit=1
for t in "$@"; do
	if [ "$t" = "--" ]; then unit=0; continue; fi
	if [ $unit = 1 ]; then
		"$t"; rc=$?
	else
		AXON_TMP=$(mktemp -d); export AXON_TMP
		echo "[ RUN      ] $t"
		if [ -n "${AXON_CMD_ASAN_OPTIONS:-}" ]; then
			ASAN_OPTIONS=$AXON_CMD_ASAN_OPTIONS sh "$t"; rc=$?
		else
			sh "$t"; rc=$?
		fi
		rm -rf "$AXON_TMP"
		[ $rc = 0 ] && echo "[       OK ] $t" || echo "[  FAILED  ] $t (exit $rc)"
	fi
	if [ $rc = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
