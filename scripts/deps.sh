#!/bin/sh
# deps.sh [build|test|demo|bench] — make sure the Debian packages axon needs are
# installed. As root, installs what is missing with apt-get; otherwise prints
# the exact apt-get line and fails.
set -eu

# OpenBLAS: the OpenMP build (see the Makefile for why).
# Open MPI: the MPI build and its tests; Fashion-MNIST: apical-net's tests.
# HDF5 (serial): NWB files, read by nwb-import and ax-info through lib.
build="gcc make pkg-config libopenblas-openmp-dev libpng-dev zlib1g-dev libcmocka-dev
       openmpi-bin libopenmpi-dev dataset-fashion-mnist libhdf5-dev"
case "${1:-build}" in
build) want="$build" ;;
test)  want="$build fortunes" ;;   # mod-lm's and ax-plot's man page examples
demo)  want="$build fortunes dataset-fashion-mnist" ;;
bench) want="$build fortunes time python3-torch python3-numpy" ;;
*) echo "deps.sh: unknown set '$1' (build, test, demo, bench)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	echo "deps.sh: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "deps.sh: missing Debian packages; run as root:" >&2
	echo "  apt-get install$missing" >&2
	exit 1
fi
