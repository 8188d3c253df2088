/* fuzz-safetensors.c — bundles: load; mapping the same bytes must fail or
 * succeed alike and give the same bundle; whatever loads must save and load
 * back to the same names, arrays and metadata. */
#include "ax_io.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

static char saved[64];

static void cleanup(void) { unlink(saved); }

/* Aborts unless b and c hold the same names, arrays and metadata. */
static void same(const struct ax_bundle *b, const struct ax_bundle *c)
{
	if (b->n != c->n || b->nmeta != c->nmeta)
		abort();
	for (int i = 0; i < b->n; i++) {
		const struct ax_array *x = &b->entries[i].array, *y = &c->entries[i].array;
		size_t bytes = ax_array_bytes(x);
		if (strcmp(b->entries[i].name, c->entries[i].name) || x->dtype != y->dtype ||
		    x->ndim != y->ndim || memcmp(x->shape, y->shape, sizeof x->shape) ||
		    (bytes && memcmp(x->data, y->data, bytes)))
			abort();
	}
	for (int i = 0; i < b->nmeta; i++) {
		const char *v = ax_bundle_meta(c, b->meta_keys[i]);
		if (!v || strcmp(v, b->meta_values[i]))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct ax_bundle b, c;
	const char *path = fuzz_path(0, data, n);
	enum ax_status st = ax_bundle_load(path, &b);
	if (ax_bundle_map(path, &c) != st)
		abort();
	if (st)
		return 0;
	same(&b, &c);
	ax_bundle_free(&c);
	if (!saved[0]) {   /* the writer renames into place, so it needs a real folder */
		snprintf(saved, sizeof saved, "/tmp/fuzz-safetensors-%ld", (long)getpid());
		atexit(cleanup);
	}
	if (ax_bundle_save(saved, &b) || ax_bundle_load(saved, &c))
		abort();
	same(&b, &c);
	ax_bundle_free(&b);
	ax_bundle_free(&c);
	return 0;
}
