/* test-idx-labelled.c — ax_idx_load_labelled: an MNIST-style image/label
 * pair, the limit, and the refusals (count mismatch, wrong size, a label
 * outside the classes, a missing file). */
#include "testutil.h"

#include <string.h>

/* <split>-images-idx3-ubyte.gz with n side x side images (pixel = image
 * index) and <split>-labels-idx1-ubyte.gz with nl labels (label = index % 10,
 * or bad at index 1). Plain bytes: readers are gzip-transparent. */
static void write_pair(const char *split, int n, int side, int nl, int bad)
{
	size_t isz = 16 + (size_t)n * side * side, lsz = 8 + (size_t)nl;
	uint8_t *im = calloc(1, isz), *lb = calloc(1, lsz);
	im[2] = 8, im[3] = 3, im[7] = (uint8_t)n, im[11] = (uint8_t)side, im[15] = (uint8_t)side;
	for (int i = 0; i < n; i++)
		memset(im + 16 + (size_t)i * side * side, i, (size_t)side * side);
	lb[2] = 8, lb[3] = 1, lb[7] = (uint8_t)nl;
	for (int i = 0; i < nl; i++)
		lb[8 + i] = (uint8_t)(i == 1 && bad ? 12 : i % 10);
	char name[64];
	snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", split);
	tu_write_file(name, im, isz);
	snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", split);
	tu_write_file(name, lb, lsz);
	free(im), free(lb);
}

static void test_labelled(void **state)
{
	struct ax_array im, lb;
	const char *dir = tu_tmpdir();
	write_pair("ok", 5, 4, 5, 0);
	assert_int_equal(ax_idx_load_labelled(dir, "ok", 4, 10, 0, &im, &lb), AX_OK);
	assert_int_equal(im.shape[0], 5);
	assert_int_equal(lb.shape[0], 5);
	assert_int_equal(((uint8_t *)im.data)[3 * 16], 3);
	assert_int_equal(((uint8_t *)lb.data)[4], 4);
	ax_array_free(&im), ax_array_free(&lb);
	assert_int_equal(ax_idx_load_labelled(dir, "ok", 4, 10, 2, &im, &lb), AX_OK);
	assert_true(im.shape[0] == 2 && lb.shape[0] == 2);
	ax_array_free(&im), ax_array_free(&lb);
	assert_int_equal(ax_idx_load_labelled(dir, "ok", 28, 10, 0, &im, &lb), AX_ERR_FORMAT);
	tu_assert_detail("not 28x28 byte images");
	assert_null(im.data);
	assert_int_equal(ax_idx_load_labelled(dir, "ok", 4, 3, 0, &im, &lb), AX_ERR_FORMAT);
	tu_assert_detail("not a class 0..2");
	write_pair("count", 5, 4, 4, 0);
	assert_int_equal(ax_idx_load_labelled(dir, "count", 4, 10, 0, &im, &lb), AX_ERR_FORMAT);
	tu_assert_detail("not one byte label per image");
	write_pair("bad", 5, 4, 5, 1);
	assert_int_equal(ax_idx_load_labelled(dir, "bad", 4, 10, 0, &im, &lb), AX_ERR_FORMAT);
	tu_assert_detail("label 12 of image 1");
	assert_int_not_equal(ax_idx_load_labelled(dir, "none", 4, 10, 0, &im, &lb), AX_OK);
	tu_assert_detail("none-images-idx3-ubyte.gz");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_labelled) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
