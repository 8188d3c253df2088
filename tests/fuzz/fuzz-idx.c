/* fuzz-idx.c — IDX files: load and touch every element. */
#include "ax_io.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct ax_array a;
	if (ax_idx_load(fuzz_path(0, data, n), &a))
		return 0;
	volatile double sink = 0;
	size_t count = ax_array_count(&a);
	for (size_t i = 0; i < count; i++)
		sink += ax_array_get(&a, i);
	ax_array_free(&a);
	return 0;
}
