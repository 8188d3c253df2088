# make install: commands, man pages, library, headers and a pkg-config file
# land under DESTDIR/PREFIX, and a program builds against them with pkg-config.
set -eu
dest=$AXON_TMP/root prefix=/opt/axon
make -s -C "$AXON_ROOT" install DESTDIR="$dest" PREFIX=$prefix > "$AXON_TMP/log" 2>&1 ||
	{ cat "$AXON_TMP/log"; exit 1; }
root=$dest$prefix
for f in bin/ax-info bin/ax-plot bin/ax-bench lib/libaxon.a include/axon/axon.h \
	 share/man/man1/ax-info.1 lib/pkgconfig/axon.pc; do
	[ -e "$root/$f" ] || { echo "missing $f" >&2; exit 1; }
done
[ ! -e "$root/include/axon/ax_math.h" ] || { echo "internal ax_math.h installed" >&2; exit 1; }
cat > "$AXON_TMP/use.c" <<'C'
#include <axon.h>
int main(void)
{
	struct ax_arena a;
	ax_arena_init(&a, 0);
	struct ax_tensor *t = ax_tensor_1d(&a, 3);
	ax_tensor_fill(t, 2.5f);
	printf("%g\n", t->data[2]);
	ax_arena_free(&a);
	return 0;
}
C
export PKG_CONFIG_PATH=$root/lib/pkgconfig
# Under `make asan` the installed library is instrumented: link likewise.
cc ${AXON_SANITIZE:-} "$AXON_TMP/use.c" -o "$AXON_TMP/use" \
	$(pkg-config --define-prefix --cflags axon) $(pkg-config --define-prefix --static --libs axon) \
	${AXON_SANITIZE:-}
[ "$("$AXON_TMP/use")" = 2.5 ]
