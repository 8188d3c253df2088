#!/bin/sh
# make install: commands, man pages, library, headers and a pkg-config file
# land under DESTDIR/PREFIX, and a program that trains a one-layer model
# through the public API builds against them with plain
# `pkg-config --cflags --libs axon` and runs.
. "$AXON_ROOT/tests/cmd/lib.sh"
dest=$T/root prefix=/opt/axon
check "make install" -- make -s -C "$AXON_ROOT" install DESTDIR="$dest" PREFIX=$prefix
root=$dest$prefix
for f in bin/ax-info bin/ax-plot bin/ax-bench lib/libaxon.a include/axon/axon.h \
	 share/man/man1/ax-info.1 share/man/man3/axon.3 lib/pkgconfig/axon.pc; do
	[ -e "$root/$f" ] && ok "installed $f" || bad "missing $f"
done
[ ! -e "$root/include/axon/ax_math.h" ] && ok "internal ax_math.h not installed" ||
	bad "internal ax_math.h installed"
grep -n '@[A-Z_]*@' "$root/lib/pkgconfig/axon.pc" > /dev/null &&
	bad "placeholder left in axon.pc" || ok "axon.pc has no placeholder"

export PKG_CONFIG_PATH=$root/lib/pkgconfig
# --define-prefix: the file was installed under DESTDIR, not at PREFIX.
flags=$(pkg-config --define-prefix --cflags --libs axon) && ok "pkg-config axon" ||
	bad "pkg-config axon"
[ "$(pkg-config --modversion axon)" = "$(ax-info --version | sed -n '1s/.* //p')" ] &&
	ok "axon.pc's version is the commands'" || bad "axon.pc version differs from the commands'"
# Under `make asan` the installed library is instrumented: link likewise.
check "the example links with pkg-config --cflags --libs alone" -- \
	cc ${AXON_SANITIZE:-} "$AXON_ROOT/tests/cmd/install-example.c" -o "$T/use" $flags \
	${AXON_SANITIZE:-}
check "the example trains" -- sh -c "cd '$T' && ./use w.npy"
grep -q '^loss .* -> .*, w 3\.00[0-9], b -1\.00[0-9]$' "$T/out" &&
	ok "it learnt y = 3x - 1" || bad "it did not learn y = 3x - 1: $(cat "$T/out")"
ax-info "$T/w.npy" | grep -q "float32	2	" && ok "its NPY reads back" ||
	bad "the example's NPY is unreadable"

# The man page of section 3 formats without warnings.
if command -v groff > /dev/null; then
	groff -mdoc -ww -z "$AXON_ROOT/man/man3/axon.3" 2> "$T/man.err"
	[ ! -s "$T/man.err" ] && ok "axon(3) formats cleanly" || bad "axon(3): $(head -3 "$T/man.err")"
else
	skip "groff not installed: axon(3) not checked"
fi
finish
