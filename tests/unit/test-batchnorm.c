/* test-batchnorm.c — lib's batch normalisation: values and gradients
 * against torch's BatchNorm1d/2d in training and evaluation mode
 * (scripts/ref/ssl_train.py), finite-difference gradients, running
 * statistics through a checkpoint bundle. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct ax_bundle ref;

static const float *ref_f32(const char *name, size_t n)
{
	const struct ax_array *a = ax_bundle_find(&ref, name);
	if (!a || a->dtype != AX_F32 || ax_array_count(a) != n)
		fail_msg("reference %s missing or not %zu floats", name, n);
	return a->data;
}

/* One golden case: prefix "bn2d" (4, 3, 5, 5) or "bn1d" (6, 4). */
static void golden_case(const char *prefix, int ndim, const int *shape)
{
	struct ax_arena long_a, step;
	struct ax_params p;
	struct ax_nn_batchnorm bn;
	struct ax_tape t;
	char k[64];
	ax_arena_init(&long_a, 0), ax_arena_init(&step, 0);
	ax_params_init(&p, &long_a);
	int C = shape[1];
	ax_nn_batchnorm_init(&bn, &p, prefix, C);
	struct ax_tensor *x = ax_tensor_zeros(&long_a, ndim, shape);
	ax_tensor_require_grad(x, &long_a);
#define REF(name, n) (snprintf(k, sizeof k, "%s.%s", prefix, name), ref_f32(k, n))
	memcpy(bn.w->data, REF("weight", C), C * sizeof(float));
	memcpy(bn.b->data, REF("bias", C), C * sizeof(float));
	memcpy(bn.running_mean, REF("running_mean0", C), C * sizeof(float));
	memcpy(bn.running_var, REF("running_var0", C), C * sizeof(float));
	memcpy(x->data, REF("x", x->size), x->size * sizeof(float));
	ax_tape_init(&t, &step);
	for (int mode = 0; mode < 2; mode++) {
		const char *m = mode ? "eval" : "train";
		t.training = !mode;
		ax_params_zero_grad(&p);
		memset(x->grad, 0, x->size * sizeof(float));
		struct ax_tensor *y = ax_nn_batchnorm(&t, &bn, x, 1);
		struct ax_tensor *R = ax_const(&t, ndim, shape, REF("R", x->size));
		ax_tape_backward(&t, ax_sum_all(&t, ax_mul(&t, y, R)), 1.0f);
		char w[64];
		snprintf(w, sizeof w, "%s.%s.y", prefix, m);
		tu_assert_close(y->data, ref_f32(w, y->size), y->size, 1e-5, 1e-4, w);
		snprintf(w, sizeof w, "%s.%s.dx", prefix, m);
		tu_assert_close(x->grad, ref_f32(w, x->size), x->size, 1e-5, 1e-3, w);
		snprintf(w, sizeof w, "%s.%s.dweight", prefix, m);
		tu_assert_close(bn.w->grad, ref_f32(w, C), C, 1e-5, 1e-4, w);
		snprintf(w, sizeof w, "%s.%s.dbias", prefix, m);
		tu_assert_close(bn.b->grad, ref_f32(w, C), C, 1e-5, 1e-4, w);
		if (!mode) {   /* the running statistics moved as torch's */
			tu_assert_close(bn.running_mean, REF("running_mean1", C), C, 1e-6, 1e-5,
					"running_mean");
			tu_assert_close(bn.running_var, REF("running_var1", C), C, 1e-6, 1e-5,
					"running_var");
			assert_int_equal(bn.num_batches, 1);
		}
		ax_tape_reset(&t);
	}
#undef REF
	ax_tape_free(&t);
	ax_params_free(&p);
	ax_arena_free(&step), ax_arena_free(&long_a);
}

static void test_golden(void **state)
{
	ax_bundle_init(&ref);
	if (ax_bundle_load(tu_ref("lib/batchnorm.safetensors"), &ref))
		fail_msg("batchnorm.safetensors: %s", ax_error_detail());
	golden_case("bn2d", 4, (int[]){ 4, 3, 5, 5 });
	golden_case("bn1d", 2, (int[]){ 6, 4 });
	ax_bundle_free(&ref);
}

struct bn_ctx {
	int training, affine;
	float *mean, *var;
};

static struct ax_tensor *bn_fn(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct bn_ctx *c = ctx;
	t->training = c->training;
	struct ax_tensor *y = ax_batchnorm(t, in[0], c->affine ? in[1] : NULL,
					  c->affine ? in[2] : NULL, c->training ? NULL : c->mean,
					  c->training ? NULL : c->var, 0.1f, 1e-5f);
	t->training = 1;
	return y;
}

static void test_gradcheck(void **state)
{
	struct ax_arena a;
	ax_arena_init(&a, 0);
	float mean[3] = { 0.1f, -0.2f, 0.3f }, var[3] = { 0.5f, 1.5f, 2.0f };
	struct ax_tensor *x = tu_leaf(&a, 4, (int[]){ 3, 3, 2, 2 }, 1, 1.0f);
	struct ax_tensor *g = tu_leaf(&a, 1, (int[]){ 3 }, 2, 1.0f);
	struct ax_tensor *b = tu_leaf(&a, 1, (int[]){ 3 }, 3, 1.0f);
	struct ax_tensor *in[3] = { x, g, b };
	for (int training = 0; training < 2; training++)
		for (int affine = 0; affine < 2; affine++) {
			struct bn_ctx c = { training, affine, mean, var };
			char what[64];
			snprintf(what, sizeof what, "batchnorm %s%s", training ? "training" : "eval",
				 affine ? " affine" : "");
			tu_gradcheck(bn_fn, in, affine ? 3 : 1, &c, 1e-3f, 1e-3, 1e-2, 0, what);
		}
	/* rows (B, C) as BatchNorm1d */
	struct ax_tensor *x2 = tu_leaf(&a, 2, (int[]){ 5, 3 }, 4, 2.0f);
	struct bn_ctx c = { 1, 1, mean, var };
	tu_gradcheck(bn_fn, (struct ax_tensor *[]){ x2, g, b }, 3, &c, 1e-3f, 1e-3, 1e-2, 0,
		     "batchnorm rows");
	ax_arena_free(&a);
}

/* Channel c's mean and sum of squared deviations of x (B, C, S), two passes
 * in double: the reference the kernels are held to. */
static void channel_moments(int B, int C, int S, const float *x, int c, double *mean, double *ss)
{
	long M = (long)B * S;
	double m = 0, v = 0;
	for (int b = 0; b < B; b++)
		for (int j = 0; j < S; j++)
			m += x[((size_t)b * C + c) * S + j];
	m /= M;
	for (int b = 0; b < B; b++)
		for (int j = 0; j < S; j++) {
			double d = x[((size_t)b * C + c) * S + j] - m;
			v += d * d;
		}
	*mean = m, *ss = v;
}

/* Statistics of values far from zero with a small spread (1000 + 0.01 sin):
 * the variance stays within 0.1% of a two-pass double one (a float sum of
 * squares less the squared mean fails here). */
static void test_stats_offset(void **state)
{
	int B = 64, C = 2, S = 49;
	size_t n = (size_t)B * C * S;
	float *x = malloc(n * sizeof *x), st[3 * 2];
	for (size_t i = 0; i < n; i++)
		x[i] = 1000.0f + 0.01f * sinf(0.37f * i + 0.01f * (i / S));
	ax_batchnorm_stats(B, C, S, x, 0.0f, st, st + C, st + 2 * C);
	for (int c = 0; c < C; c++) {
		double m, v;
		long M = (long)B * S;
		channel_moments(B, C, S, x, c, &m, &v);
		assert_true(fabs(st[2 * C + c] - v / (M - 1)) <= 1e-3 * v / (M - 1));
	}
	free(x);
}

/* The kernels against the formulas in double, on shapes the golden cases do
 * not reach: runs of S = 49 and 17 values (lane tails), and rows with more
 * channels than one block of the (B, C) path. */
static void test_kernels_double(void **state)
{
	const int shapes[][3] = { { 3, 2, 49 }, { 2, 3, 17 }, { 5, 70, 1 } };
	for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
		int B = shapes[k][0], C = shapes[k][1], S = shapes[k][2];
		size_t n = (size_t)B * C * S;
		float *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy), *y = malloc(n * 4);
		float *dx = calloc(n, 4), *want = malloc(n * 4), *rdx = malloc(n * 4);
		float *st = calloc(7 * (size_t)C, 4), *mean = st, *rstd = st + C, *var = st + 2 * C;
		float *dg = st + 3 * C, *db = st + 4 * C, *rdg = st + 5 * C, *rdb = st + 6 * C;
		for (size_t i = 0; i < n; i++)
			x[i] = 3.0f + sinf(0.37f * i), dy[i] = cosf(0.71f * i);
		ax_batchnorm_stats(B, C, S, x, 1e-5f, mean, rstd, var);
		ax_batchnorm_forward(B, C, S, x, mean, rstd, NULL, NULL, y);
		ax_batchnorm_backward(B, C, S, 1, x, mean, rstd, NULL, dy, dx, dg, db, 0);
		long M = (long)B * S;
		for (int c = 0; c < C; c++) {
			double m, v, gs = 0, gxs = 0;
			channel_moments(B, C, S, x, c, &m, &v);
			double r = 1.0 / sqrt(v / M + 1e-5);
			for (int b = 0; b < B; b++)
				for (int j = 0; j < S; j++) {
					size_t at = ((size_t)b * C + c) * S + j;
					gs += dy[at], gxs += dy[at] * (x[at] - m) * r;
				}
			for (int b = 0; b < B; b++)
				for (int j = 0; j < S; j++) {
					size_t at = ((size_t)b * C + c) * S + j;
					want[at] = (float)((x[at] - m) * r);
					rdx[at] = (float)(r * (dy[at] - gs / M - (x[at] - m) * r * gxs / M));
				}
			rdg[c] = (float)gxs, rdb[c] = (float)gs;
			assert_true(fabs(var[c] - v / (M - 1)) <= 1e-5 * v / (M - 1));
		}
		tu_assert_close(y, want, n, 1e-5, 1e-5, "batchnorm kernel y");
		tu_assert_close(dx, rdx, n, 1e-5, 1e-4, "batchnorm kernel dx");
		tu_assert_close(dg, rdg, C, 1e-5, 1e-4, "batchnorm kernel dgamma");
		tu_assert_close(db, rdb, C, 1e-5, 1e-4, "batchnorm kernel dbeta");
		free(x), free(dy), free(y), free(dx), free(want), free(rdx), free(st);
	}
}

/* Running statistics survive a bundle; a negative variance is refused. */
static void test_bundle(void **state)
{
	struct ax_arena a;
	struct ax_params p, q;
	struct ax_nn_batchnorm bn, back;
	ax_arena_init(&a, 0);
	ax_params_init(&p, &a), ax_params_init(&q, &a);
	ax_nn_batchnorm_init(&bn, &p, "net.1", 2);
	ax_nn_batchnorm_init(&back, &q, "net.1", 2);
	bn.running_mean[0] = 0.5f, bn.running_var[1] = 3.0f, bn.num_batches = 7;
	struct ax_bundle b;
	ax_bundle_init(&b);
	ax_nn_batchnorm_to_bundle(&bn, &b, "m.");
	assert_non_null(ax_bundle_find(&b, "m.net.1.running_mean"));
	assert_int_equal(ax_nn_batchnorm_from_bundle(&back, &b, "m."), AX_OK);
	assert_true(back.running_mean[0] == 0.5f && back.running_var[1] == 3.0f);
	assert_int_equal(back.num_batches, 7);
	assert_int_equal(ax_nn_batchnorm_from_bundle(&back, &b, ""), AX_ERR_NOTFOUND);
	ax_bundle_free(&b);
	bn.running_var[0] = -1.0f;
	ax_bundle_init(&b);
	ax_nn_batchnorm_to_bundle(&bn, &b, "");
	assert_int_equal(ax_nn_batchnorm_from_bundle(&back, &b, ""), AX_ERR_FORMAT);
	tu_assert_detail("running_var[0]");
	ax_bundle_free(&b);
	ax_params_free(&p), ax_params_free(&q);
	ax_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_gradcheck),
		cmocka_unit_test(test_kernels_double),
		cmocka_unit_test(test_stats_offset),
		cmocka_unit_test(test_bundle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
