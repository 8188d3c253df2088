/* fuzz-csv.c — CSV tables: load, then read every cell as text and number. */
#include "ax_io.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct ax_table t;
	if (ax_table_load(fuzz_path(0, data, n), &t))
		return 0;
	if (t.ncols < 1)
		abort();
	volatile size_t sink = 0;
	for (int c = 0; c < t.ncols; c++)
		sink += strlen(t.names[c]) + (size_t)ax_table_col(&t, t.names[c]);
	for (int r = 0; r < t.nrows; r++)
		for (int c = 0; c < t.ncols; c++)
			sink += strlen(ax_table_str(&t, r, c)) + (ax_table_num(&t, r, c) > 0);
	ax_table_free(&t);
	return 0;
}
