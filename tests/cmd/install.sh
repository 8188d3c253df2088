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

# axon.pc requires HDF5 (the NWB reader is in libaxon.a), and a program
# reading an NWB file through the installed library links with it alone.
pkg-config --print-requires axon | grep -qx 'hdf5' && ok "axon.pc requires hdf5" ||
	bad "axon.pc does not require hdf5: $(pkg-config --print-requires axon | tr '\n' ' ')"
cat > "$T/nwb.c" <<'EOF'
#include <axon.h>
int main(int argc, char **argv)
{
	struct ax_nwb *f;
	struct ax_nwb_units u;
	if (argc != 2 || ax_nwb_open(&f, argv[1]) || ax_nwb_units_load(f, &u))
		return 1;
	printf("%zu units, %zu spikes\n", u.n, u.nspikes);
	ax_nwb_units_free(&u);
	ax_nwb_close(f);
	return 0;
}
EOF
check "an NWB reader links with pkg-config --cflags --libs alone" -- \
	cc ${AXON_SANITIZE:-} "$T/nwb.c" -o "$T/nwb" $flags ${AXON_SANITIZE:-}
check "it reads an NWB file" -- "$T/nwb" "$AXON_ROOT/tests/ref/nwb-h5py.nwb"
grep -qx '4 units, 14 spikes' "$T/out" && ok "its units are the file's" ||
	bad "the NWB reader printed: $(cat "$T/out")"

# The man page of section 3 formats without warnings.
if command -v groff > /dev/null; then
	groff -mdoc -ww -z "$AXON_ROOT/man/man3/axon.3" 2> "$T/man.err"
	[ ! -s "$T/man.err" ] && ok "axon(3) formats cleanly" || bad "axon(3): $(head -3 "$T/man.err")"
else
	skip "groff not installed: axon(3) not checked"
fi
finish
