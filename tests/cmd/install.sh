#!/bin/sh
# make install: commands, man pages, library, headers and a pkg-config file
# land under DESTDIR/PREFIX, and a program that trains a one-layer model
# through the public API builds against them with plain
# `pkg-config --cflags --libs axon` and runs.
set -eu
fail() { echo "FAIL: $*" >&2; exit 1; }
dest=$AXON_TMP/root prefix=/opt/axon
make -s -C "$AXON_ROOT" install DESTDIR="$dest" PREFIX=$prefix > "$AXON_TMP/log" 2>&1 ||
	{ cat "$AXON_TMP/log"; fail "make install"; }
root=$dest$prefix
for f in bin/ax-info bin/ax-plot bin/ax-bench lib/libaxon.a include/axon/axon.h \
	 share/man/man1/ax-info.1 share/man/man3/axon.3 lib/pkgconfig/axon.pc; do
	[ -e "$root/$f" ] || fail "missing $f"
done
[ ! -e "$root/include/axon/ax_math.h" ] || fail "internal ax_math.h installed"
! grep -n '@[A-Z_]*@' "$root/lib/pkgconfig/axon.pc" || fail "placeholder left in axon.pc"

export PKG_CONFIG_PATH=$root/lib/pkgconfig
# --define-prefix: the file was installed under DESTDIR, not at PREFIX.
flags=$(pkg-config --define-prefix --cflags --libs axon) || fail "pkg-config axon"
[ "$(pkg-config --modversion axon)" = "$(ax-info --version | sed -n '1s/.* //p')" ] ||
	fail "axon.pc version differs from the commands'"
# Under `make asan` the installed library is instrumented: link likewise.
cc ${AXON_SANITIZE:-} "$AXON_ROOT/tests/cmd/install-example.c" -o "$AXON_TMP/use" \
	$flags ${AXON_SANITIZE:-} 2> "$AXON_TMP/cc.err" || { cat "$AXON_TMP/cc.err" >&2; fail "link"; }
(cd "$AXON_TMP" && ./use w.npy > out) || fail "example exit $?"
grep -q '^loss .* -> .*, w 3\.00[0-9], b -1\.00[0-9]$' "$AXON_TMP/out" ||
	fail "example did not learn y = 3x - 1: $(cat "$AXON_TMP/out")"
ax-info "$AXON_TMP/w.npy" | grep -q "float32	2	" || fail "example's NPY unreadable"

# The man page of section 3 formats without warnings.
if command -v groff > /dev/null; then
	groff -mdoc -ww -z "$AXON_ROOT/man/man3/axon.3" 2> "$AXON_TMP/man.err"
	[ ! -s "$AXON_TMP/man.err" ] || { cat "$AXON_TMP/man.err" >&2; fail "axon(3) warnings"; }
else
	echo "skip - groff not installed: axon(3) not checked"
fi
