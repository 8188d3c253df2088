/* test-augment.c — lib's image augmentation: the identity settings change
 * nothing, a flip mirrors, results depend on the seed and the image's key
 * only (not the thread count or the batch's order), values stay in [0, 1],
 * and crop areas, flips and jitter follow their settings. */
#include "testutil.h"

#include <math.h>
#include <omp.h>
#include <string.h>

enum { N = 64, H = 28, W = 28, P = H * W };

static void random_images(float *x, int n, uint64_t seed)
{
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	ax_rng_fill_uniform(&r, x, (size_t)n * P, 0.0f, 1.0f);
}

static void test_identity_and_flip(void **state)
{
	static float x[N * P], y[N * P];
	uint64_t keys[N];
	for (int i = 0; i < N; i++)
		keys[i] = (uint64_t)i;
	random_images(x, N, 1);
	struct ax_augment a;
	ax_augment_default(&a);
	a.scale_lo = a.scale_hi = 1.0f, a.ratio_lo = a.ratio_hi = 1.0f;
	a.p_flip = 0.0f, a.p_jitter = 0.0f;
	struct ax_rng base;
	ax_rng_seed(&base, 9);
	ax_augment_batch(&a, &base, keys, N, 1, H, W, x, y);
	assert_memory_equal(x, y, sizeof x);
	a.p_flip = 1.0f;
	ax_augment_batch(&a, &base, keys, N, 1, H, W, x, y);
	for (int i = 0; i < N * H; i++)
		for (int c = 0; c < W; c++)
			assert_true(y[i * W + c] == x[i * W + W - 1 - c]);
	/* bytes are scaled by 1/255 */
	static uint8_t u[N * P];
	for (int i = 0; i < N * P; i++)
		u[i] = (uint8_t)(i * 7);
	a.p_flip = 0.0f;
	ax_augment_batch_u8(&a, &base, keys, N, 1, H, W, u, y);
	for (int i = 0; i < N * P; i++)
		assert_true(y[i] == u[i] / 255.0f);
}

static void test_deterministic(void **state)
{
	static float x[N * P], y1[N * P], y2[N * P], y3[N * P];
	uint64_t keys[N], rev[N];
	random_images(x, N, 2);
	for (int i = 0; i < N; i++)
		keys[i] = 1000 + (uint64_t)i, rev[i] = 1000 + (uint64_t)(N - 1 - i);
	struct ax_augment a;
	ax_augment_default(&a);
	struct ax_rng base, other;
	ax_rng_seed(&base, 5), ax_rng_seed(&other, 6);
	int th = omp_get_max_threads();
	omp_set_num_threads(1);
	ax_augment_batch(&a, &base, keys, N, 1, H, W, x, y1);
	omp_set_num_threads(2);
	ax_augment_batch(&a, &base, keys, N, 1, H, W, x, y2);
	omp_set_num_threads(th);
	assert_memory_equal(y1, y2, sizeof y1);
	/* the same image under the same key, wherever it sits in the batch */
	static float xr[N * P];
	for (int i = 0; i < N; i++)
		memcpy(xr + (size_t)i * P, x + (size_t)(N - 1 - i) * P, P * sizeof(float));
	ax_augment_batch(&a, &base, rev, N, 1, H, W, xr, y3);
	for (int i = 0; i < N; i++)
		assert_memory_equal(y3 + (size_t)i * P, y1 + (size_t)(N - 1 - i) * P, P * sizeof(float));
	ax_augment_batch(&a, &other, keys, N, 1, H, W, x, y3);
	assert_true(memcmp(y1, y3, sizeof y1) != 0);
	for (int i = 0; i < N * P; i++)
		assert_true(y1[i] >= 0.0f && y1[i] <= 1.0f);
}

static void test_statistics(void **state)
{
	struct ax_augment a;
	ax_augment_default(&a);
	struct ax_rng r;
	ax_rng_seed(&r, 11);
	int n = 4000, flips = 0, jit = 0;
	double area = 0, amin = 1, amax = 0;
	for (int i = 0; i < n; i++) {
		struct ax_augment_draw d;
		ax_augment_draw(&a, H, W, &r, &d);
		assert_true(d.top >= 0 && d.left >= 0 && d.top + d.h <= H && d.left + d.w <= W);
		double f = (double)d.h * d.w / P;
		area += f, amin = fmin(amin, f), amax = fmax(amax, f);
		float ratio = (float)d.w / (float)d.h;
		assert_true(ratio > 0.6f && ratio < 1.6f);
		flips += d.flip, jit += d.jitter;
		if (d.jitter)
			assert_true(fabsf(d.brightness - 1) <= 0.4f && fabsf(d.contrast - 1) <= 0.4f);
		else
			assert_true(d.brightness == 1.0f && d.contrast == 1.0f);
	}
	/* scale ~ U(0.08, 1): mean 0.54, less the large crops whose aspect does not fit */
	area /= n;
	assert_true(area > 0.42 && area < 0.56);
	assert_true(amin < 0.1 && amin > 0.06 && amax > 0.95);
	assert_true(fabs(flips / (double)n - 0.5) < 0.03);
	assert_true(fabs(jit / (double)n - 0.8) < 0.03);
	/* a fixed scale and ratio give the one box size */
	a.scale_lo = a.scale_hi = 0.25f, a.ratio_lo = a.ratio_hi = 1.0f;
	for (int i = 0; i < 100; i++) {
		struct ax_augment_draw d;
		ax_augment_draw(&a, H, W, &r, &d);
		assert_true(d.h == 14 && d.w == 14);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_flip),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_statistics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
