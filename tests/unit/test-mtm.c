/* test-mtm.c — mtm-train's masking schemes, its causal attention, and the
 * statistics in lib/stats.c (bits/spike, ridge, logistic regression,
 * Cholesky). */
#include "testutil.h"

#include "../../cmd/mtm-train/mask.c"
#include "../../cmd/mtm-train/model.c"
#include "../../cmd/mtm-train/settings.c"

#include <math.h>
#include <string.h>

enum { T = 20, N = 12, DRAWS = 400 };
/* Three regions of 4 neurons, interleaved so region order != neuron order. */
static const int32_t region[N] = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2 };

/* For every scheme: target is exactly the masked (keep == 0) entries, except
 * intra-region, where context outside the target region is zeroed but not
 * scored. */
static void check_targets_are_masked(enum mtm_scheme s, const float *keep, const float *target)
{
	for (int i = 0; i < T * N; i++) {
		assert_true(keep[i] == 0 || keep[i] == 1);
		if (target[i])
			assert_true(keep[i] == 0);
		if (s != MTM_INTRA)
			assert_true(target[i] == 1 - keep[i]);
	}
}

/* Whole columns (neurons) masked or kept. */
static int column_masked(const float *m, int n)
{
	for (int t = 1; t < T; t++)
		assert_true(m[t * N + n] == m[n]);
	return m[n] != 0;
}

static int row_masked(const float *m, int t)
{
	for (int n = 1; n < N; n++)
		assert_true(m[t * N + n] == m[t * N]);
	return m[t * N] != 0;
}

/* The region whose neurons are scored (checks at least one is). */
static int scored_region(const float *target)
{
	int reg = -1;
	for (int n = 0; n < N; n++)
		if (column_masked(target, n))
			reg = region[n];
	assert_true(reg >= 0);
	return reg;
}

static void test_neuron_and_temporal_masks(void **state)
{
	(void)state;
	float keep[T * N], target[T * N];
	struct ax_rng r;
	ax_rng_seed(&r, 1);
	for (int k = 0; k < 3; k++) {
		enum mtm_scheme s = (enum mtm_scheme[]){ MTM_NEURON, MTM_TEMPORAL, MTM_CAUSAL }[k];
		double expect = s == MTM_CAUSAL ? 0.6 : 0.3;
		long masked = 0, units = s == MTM_NEURON ? N : T;
		for (int d = 0; d < DRAWS; d++) {
			int hits = mtm_mask_draw(s, &r, T, N, region, 3, keep, target);
			check_targets_are_masked(s, keep, target);
			int here = 0;
			for (int u = 0; u < units; u++)
				here += s == MTM_NEURON ? column_masked(target, u) : row_masked(target, u);
			assert_true(here >= 1);
			assert_int_equal(hits, here * (s == MTM_NEURON ? T : N));
			masked += here;
		}
		double frac = (double)masked / (DRAWS * units);
		assert_true(fabs(frac - expect) < 0.04);
	}
}

static void test_region_masks(void **state)
{
	(void)state;
	float keep[T * N], target[T * N];
	struct ax_rng r;
	ax_rng_seed(&r, 2);
	int seen[3] = { 0 };
	long inside = 0, inside_masked = 0;
	for (int d = 0; d < DRAWS; d++) {
		/* inter: exactly one whole region masked and scored. */
		mtm_mask_draw(MTM_INTER, &r, T, N, region, 3, keep, target);
		check_targets_are_masked(MTM_INTER, keep, target);
		int reg = scored_region(target);
		seen[reg]++;
		for (int n = 0; n < N; n++)
			assert_int_equal(column_masked(target, n), region[n] == reg);

		/* intra: outside the target region zeroed, never scored; inside,
		 * the masked neurons and only they are scored. */
		mtm_mask_draw(MTM_INTRA, &r, T, N, region, 3, keep, target);
		check_targets_are_masked(MTM_INTRA, keep, target);
		int treg = scored_region(target);
		for (int n = 0; n < N; n++) {
			int zeroed = !column_masked(keep, n), scored = column_masked(target, n);
			if (region[n] != treg) {
				assert_true(zeroed && !scored);
			} else {
				assert_int_equal(zeroed, scored);
				inside++, inside_masked += scored;
			}
		}
	}
	for (int k = 0; k < 3; k++)
		assert_true(seen[k] > DRAWS / 5);
	/* p 0.3 per neuron, plus the forced one when none was drawn. */
	double frac = (double)inside_masked / inside;
	assert_true(frac > 0.3 && frac < 0.42);
}

/* --forward-window W: the last W bins, all neurons, masked and scored;
 * nothing else. */
static void test_forward_window_mask(void **state)
{
	(void)state;
	float keep[T * N], target[T * N];
	for (int w = 1; w < T; w += 6) {
		assert_int_equal(mtm_mask_forward(T, N, w, keep, target), w * N);
		check_targets_are_masked(MTM_CAUSAL, keep, target);
		for (int t = 0; t < T; t++)
			assert_int_equal(row_masked(target, t), t >= T - w);
	}
}

/* Training settings from a checkpoint written before --causal-share and
 * --forward-window: their defaults; present: their values, range-checked. */
static void test_train_settings_of_older_checkpoints(void **state)
{
	(void)state;
	struct mtm_train_cfg c = { .mask = MTM_MASK_MTM, .steps = 10, .batch = 4, .lr = 1e-3,
				   .warmup = 0.1, .seed = 3, .causal_share = 0.5, .forward_window = 7 };
	struct ax_bundle b;
	ax_bundle_init(&b);
	for (int i = 0; i < mtm_n_train_settings; i++)
		if (strcmp(mtm_train_settings[i].key, "mtm.causal_share") &&
		    strcmp(mtm_train_settings[i].key, "mtm.forward_window"))
			ax_ckpt_put_setting(&b, &mtm_train_settings[i], &c);
	struct mtm_train_cfg got = { 0 };
	assert_int_equal(mtm_get_train_settings(&b, &got), AX_OK);
	assert_int_equal(got.steps, 10);
	assert_true(got.causal_share == 0.25);
	assert_int_equal(got.forward_window, 0);
	ax_bundle_free(&b);
	ax_bundle_init(&b);
	ax_ckpt_put_settings(&b, mtm_train_settings, mtm_n_train_settings, &c);
	assert_int_equal(mtm_get_train_settings(&b, &got), AX_OK);
	assert_true(got.causal_share == 0.5);
	assert_int_equal(got.forward_window, 7);
	ax_bundle_set_meta(&b, "mtm.causal_share", "1.5");
	assert_int_equal(mtm_get_train_settings(&b, &got), AX_ERR_FORMAT);
	ax_bundle_free(&b);
}

/* Under the causal prompt, changing bin t's input leaves the outputs at
 * bins < t unchanged; without it, they change. */
static void test_causal_attention(void **state)
{
	(void)state;
	int neurons[1] = { N };
	struct mtm_config cfg = { .D = 16, .layers = 2, .heads = 2, .hidden = 32, .T = T,
				  .dropout = 0, .nsessions = 1, .neurons = neurons };
	struct mtm_model m;
	mtm_model_init(&m, &cfg, 7);
	struct ax_arena a;
	ax_arena_init(&a, 0);
	struct ax_tape t;
	ax_tape_init(&t, &a);
	t.no_grad = 1;
	struct ax_rng r;
	ax_rng_seed(&r, 3);
	float out[2][2][T * N];
	for (int causal = 0; causal < 2; causal++)
		for (int v = 0; v < 2; v++) {
			struct ax_tensor *x = ax_tensor_new(&a, 3, (int[]){ 1, T, N });
			struct ax_rng rr = r;
			for (int i = 0; i < T * N; i++)
				x->data[i] = (float)ax_rng_poisson(&rr, 1.0);
			if (v)
				x->data[12 * N + 3] += 5; /* change bin 12 */
			struct ax_tensor *y = mtm_forward(&t, &m, 0, x, causal ? MTM_CAUSAL : MTM_NEURON,
							  NULL, NULL);
			memcpy(out[causal][v], y->data, sizeof out[0][0]);
			ax_tape_reset(&t);
		}
	for (int i = 0; i < 12 * N; i++)
		assert_true(out[1][0][i] == out[1][1][i]);
	double diff = 0;
	for (int i = 0; i < 12 * N; i++)
		diff += fabs(out[0][0][i] - out[0][1][i]);
	assert_true(diff > 1e-4);
	ax_tape_free(&t);
	ax_arena_free(&a);
	mtm_model_free(&m);
}

static void test_bits_per_spike(void **state)
{
	(void)state;
	enum { n = 20000 };
	static float count[n], rate[n], null_rate[n];
	struct ax_rng r;
	ax_rng_seed(&r, 4);
	double mean = 0;
	for (int i = 0; i < n; i++) {
		rate[i] = 0.1f + 2.0f * (float)(i % 7) / 7;
		count[i] = (float)ax_rng_poisson(&r, rate[i]);
		mean += count[i];
	}
	for (int i = 0; i < n; i++)
		null_rate[i] = (float)(mean / n);
	assert_true(fabs(ax_bits_per_spike(n, 1, count, null_rate)) < 1e-9);
	double b = ax_bits_per_spike(n, 1, count, rate);
	assert_true(b > 0.1);
	/* A worse guess than the null is negative; no spikes is NAN. */
	for (int i = 0; i < n; i++)
		null_rate[i] = 5.0f;
	assert_true(ax_bits_per_spike(n, 1, count, null_rate) < 0);
	memset(count, 0, sizeof count);
	assert_true(isnan(ax_bits_per_spike(n, 1, count, rate)));
}

static void test_regressions(void **state)
{
	(void)state;
	enum { n = 400, d = 3 };
	static float X[n * d], y[n], yc[n], pred[n];
	struct ax_rng r;
	ax_rng_seed(&r, 5);
	ax_rng_fill_normal(&r, X, n * d, 0, 1);
	for (int i = 0; i < n; i++) {
		y[i] = 2 * X[i * d] - X[i * d + 2] + 0.5f + 0.01f * ax_rng_normal(&r);
		yc[i] = X[i * d + 1] > 0.2f;
	}
	float w[d], b;
	assert_int_equal(ax_ridge_fit(n, d, X, y, 1e-6, w, &b), AX_OK);
	assert_true(fabs(w[0] - 2) < 0.01 && fabs(w[1]) < 0.01 && fabs(w[2] + 1) < 0.01);
	assert_true(fabs(b - 0.5) < 0.01);
	for (int i = 0; i < n; i++)
		pred[i] = w[0] * X[i * d] + w[1] * X[i * d + 1] + w[2] * X[i * d + 2] + b;
	assert_true(ax_r2(n, y, pred) > 0.999);
	assert_int_equal(ax_logreg_fit(n, d, X, yc, 0.1, 30, w, &b), AX_OK);
	int right = 0;
	for (int i = 0; i < n; i++)
		right += (w[0] * X[i * d] + w[1] * X[i * d + 1] + w[2] * X[i * d + 2] + b > 0) == (yc[i] > 0);
	assert_true(right > 0.97 * n);
	assert_true(w[1] > 5 * fabs(w[0]));
}

/* Cholesky reads only the lower triangle: NaN above the diagonal changes
 * nothing; a matrix that is not positive definite is refused. */
/* Mean and population sd of {2, 4, 4, 4, 5, 5, 7, 9}: 5 and 2. */
static void test_mean_sd(void **state)
{
	(void)state;
	const float x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	double mean, sd;
	ax_mean_sd(8, x, &mean, &sd);
	assert_true(mean == 5.0 && sd == 2.0);
	ax_mean_sd(1, x + 7, &mean, &sd);
	assert_true(mean == 9.0 && sd == 0.0);
}

static void test_cholesky_solve(void **state)
{
	(void)state;
	double A[9] = { 4, NAN, NAN, 2, 5, NAN, -2, 1, 6 }, x[3] = { 1, -2, 0.5 }, rhs[3];
	const double full[9] = { 4, 2, -2, 2, 5, 1, -2, 1, 6 };
	for (int i = 0; i < 3; i++)
		rhs[i] = full[i * 3] * x[0] + full[i * 3 + 1] * x[1] + full[i * 3 + 2] * x[2];
	assert_int_equal(ax_cholesky_solve(3, A, rhs), AX_OK);
	for (int i = 0; i < 3; i++)
		assert_true(fabs(rhs[i] - x[i]) < 1e-12);
	double B[4] = { 1, NAN, 2, 1 }, r2[2] = { 1, 1 }; /* eigenvalues 3, -1 */
	assert_int_equal(ax_cholesky_solve(2, B, r2), AX_ERR_NUMERIC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neuron_and_temporal_masks),
		cmocka_unit_test(test_region_masks),
		cmocka_unit_test(test_forward_window_mask),
		cmocka_unit_test(test_train_settings_of_older_checkpoints),
		cmocka_unit_test(test_causal_attention),
		cmocka_unit_test(test_bits_per_spike),
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_cholesky_solve),
		cmocka_unit_test(test_mean_sd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
