/* fuzz-npy.c — NPY streams: read arrays until the end or an error; every
 * array read must survive a write and re-read unchanged. */
#include "ax_io.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

static void roundtrip(const struct ax_array *a)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	if (ax_npy_write(f, a))
		abort();
	fclose(f);
	struct ax_array b;
	if (ax_npy_load(fuzz_path(1, buf, len), &b))
		abort();
	size_t bytes = ax_array_bytes(a);
	if (b.dtype != a->dtype || b.ndim != a->ndim ||
	    memcmp(b.shape, a->shape, sizeof a->shape[0] * (size_t)a->ndim) ||
	    (bytes && memcmp(a->data, b.data, bytes)))
		abort();
	ax_array_free(&b);
	free(buf);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct ax_reader *r;
	if (ax_reader_open(&r, fuzz_path(0, data, n)))
		abort();
	struct ax_array a;
	volatile double sink = 0;
	while (ax_npy_read(r, &a) == AX_OK) {
		size_t count = ax_array_count(&a);
		for (size_t i = 0; i < count; i++)   /* touch every element */
			sink += ax_array_get(&a, i);
		roundtrip(&a);
		ax_array_free(&a);
	}
	ax_reader_close(r);
	return 0;
}
