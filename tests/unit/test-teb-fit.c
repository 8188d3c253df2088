/* test-teb-fit.c — teb-fit's closed-form transfer entropies against a
 * Monte-Carlo (least-squares) estimate from generated data, the sines task,
 * data loading and windows, the loss terms against PyTorch, the model's
 * starting point and gradient flow, the bootstrap, and short fits. */
#include "testutil.h"

#include "../../cmd/teb-fit/data.c"
#include "../../cmd/teb-fit/eval.c"
#include "../../cmd/teb-fit/model.c"
#include "../../cmd/teb-fit/train.c"

#include <math.h>
#include <string.h>

/* ---- closed forms against Monte Carlo ----
 * For linear-Gaussian streams the conditional entropies are those of the
 * least-squares residuals: regress y_{t+1} on k lags of y (and of x), then
 * TE = 1/2 (ln det S_y - ln det S_xy), S the residual covariances. */
enum { LAGS = 6 };

static double residual_logdet(const float *x, const float *y, long T, int dx, int dy,
			      int with_x)
{
	int d = LAGS * (dy + (with_x ? dx : 0));
	long n = T - LAGS;
	float *X = malloc((size_t)n * d * sizeof *X), *tgt = malloc((size_t)n * sizeof *tgt);
	float *w = malloc((size_t)d * sizeof *w), *res = malloc((size_t)n * dy * sizeof *res);
	for (long i = 0; i < n; i++) {
		long t = i + LAGS - 1;
		float *row = X + (size_t)i * d;
		for (int l = 0, k = 0; l < LAGS; l++) {
			for (int j = 0; j < dy; j++)
				row[k++] = y[(t - l) * dy + j];
			for (int j = 0; with_x && j < dx; j++)
				row[k++] = x[(t - l) * dx + j];
		}
	}
	for (int o = 0; o < dy; o++) {
		float b;
		for (long i = 0; i < n; i++)
			tgt[i] = y[(i + LAGS) * dy + o];
		assert_int_equal(ax_ridge_fit((int)n, d, X, tgt, 0, w, &b), AX_OK);
		for (long i = 0; i < n; i++) {
			double p = b;
			for (int k = 0; k < d; k++)
				p += (double)w[k] * X[(size_t)i * d + k];
			res[i * dy + o] = (float)(tgt[i] - p);
		}
	}
	double S[64 * 64], rhs[64] = { 0 };
	for (int a = 0; a < dy; a++)
		for (int b = 0; b < dy; b++) {
			double s = 0;
			for (long i = 0; i < n; i++)
				s += (double)res[i * dy + a] * res[i * dy + b];
			S[a * dy + b] = s / n;
		}
	assert_int_equal(ax_cholesky_solve(dy, S, rhs), AX_OK);
	double ld = 0;
	for (int a = 0; a < dy; a++)
		ld += 2 * log(S[a * dy + a]);
	free(X), free(tgt), free(w), free(res);
	return ld;
}

static double monte_carlo_te(const struct teb_task_params *p)
{
	struct ax_bundle b;
	teb_generate(p, &b);
	const struct ax_array *x = ax_bundle_find(&b, "source"), *y = ax_bundle_find(&b, "target");
	int dx = (int)x->shape[1], dy = (int)y->shape[1];
	double te = 0.5 * (residual_logdet(x->data, y->data, p->length, dx, dy, 0) -
			   residual_logdet(x->data, y->data, p->length, dx, dy, 1));
	const char *meta = ax_bundle_meta(&b, "te_true");
	assert_non_null(meta);
	assert_true(fabs(strtod(meta, NULL) - teb_te_closed_form(p)) < 1e-12);
	ax_bundle_free(&b);
	return te;
}

static void check_task(enum teb_task task, const double *cs, int n, double ar, double src_ar)
{
	for (int i = 0; i < n; i++) {
		struct teb_task_params p;
		teb_task_defaults(&p, task);
		p.coupling = cs[i], p.ar = ar, p.source_ar = src_ar, p.noise = 0.8;
		p.length = 60000, p.seed = 7 + (uint64_t)i;
		double want = teb_te_closed_form(&p), got = monte_carlo_te(&p);
		/* sampling error of a log-variance ratio at 60000 steps: ~0.005 */
		if (fabs(got - want) > 0.012 + 0.02 * want)
			fail_msg("%s c=%g: Monte Carlo %.4f, closed form %.4f", teb_task_names[task],
				 cs[i], got, want);
	}
}

static void test_lingauss_closed_form(void **state)
{
	(void)state;
	const double cs[] = { 0, 0.3, 0.8, 1.6 };
	check_task(TEB_LINGAUSS, cs, 4, 0.5, 0);
	check_task(TEB_LINGAUSS, cs + 2, 1, -0.7, 0); /* a does not matter */
	struct teb_task_params p;
	teb_task_defaults(&p, TEB_LINGAUSS);
	p.coupling = 1, p.noise = 1;
	assert_true(fabs(teb_te_closed_form(&p) - 0.5 * log(2)) < 1e-12);
}

static void test_multi_closed_form(void **state)
{
	(void)state;
	const double cs[] = { 0, 0.4, 1.0 };
	check_task(TEB_LINGAUSS_MULTI, cs, 3, 0.5, 0);
	/* d = 1: the pattern is 1, the scalar formula */
	struct teb_task_params p, q;
	teb_task_defaults(&p, TEB_LINGAUSS_MULTI);
	teb_task_defaults(&q, TEB_LINGAUSS);
	p.dim = 1;
	assert_true(fabs(teb_te_closed_form(&p) - teb_te_closed_form(&q)) < 1e-12);
}

static void test_ar_closed_form(void **state)
{
	(void)state;
	const double cs[] = { 0, 0.5, 1.2 };
	check_task(TEB_LINGAUSS_AR, cs, 3, 0.5, 0.8);
	check_task(TEB_LINGAUSS_AR, cs + 2, 1, 0.3, -0.6);
	/* b = 0 is lingauss; a predictable source lowers TE */
	struct teb_task_params p, q;
	teb_task_defaults(&p, TEB_LINGAUSS_AR);
	teb_task_defaults(&q, TEB_LINGAUSS);
	p.source_ar = 0;
	assert_true(fabs(teb_te_closed_form(&p) - teb_te_closed_form(&q)) < 1e-12);
	p.source_ar = 0.9;
	assert_true(teb_te_closed_form(&p) < teb_te_closed_form(&q) - 0.05);
}

/* ---- sines ---- */
static void test_sines(void **state)
{
	(void)state;
	struct teb_task_params p;
	teb_task_defaults(&p, TEB_SINES);
	p.length = 400;
	struct ax_bundle b;
	teb_generate(&p, &b);
	const struct ax_array *x = ax_bundle_find(&b, "source"), *y = ax_bundle_find(&b, "target");
	const struct ax_array *g = ax_bundle_find(&b, "group");
	assert_int_equal(x->shape[0], 400), assert_int_equal(x->shape[1], 120);
	assert_int_equal(x->shape[2], 5), assert_int_equal(y->shape[2], 1);
	int switched = 0;
	for (int s = 0; s < 400; s++) {
		const float *xs = (const float *)x->data + s * 600;
		int changed = 0, levels = 0;
		for (int c = 0; c < 5; c++) {
			/* labels: a level in {0.2, ..., 1} plus U(+-0.15) noise; from
			 * step 80 on, the level in force from step 100 on */
			double k0 = 0, k1 = 0;
			for (int t = 0; t < 120; t++)
				*(t < 80 ? &k0 : &k1) += xs[t * 5 + c] / (t < 80 ? 80.0 : 40.0);
			double r0 = 0.2 * lround(k0 / 0.2), r1 = 0.2 * lround(k1 / 0.2);
			for (int t = 0; t < 120; t++)
				assert_true(fabs(xs[t * 5 + c] - (t < 80 ? r0 : r1)) <= 0.15 + 1e-6);
			changed += fabs(r0 - r1) > 0.1;
			levels |= 1 << (int)lround(r0 / 0.2);
		}
		assert_int_equal(levels, 0x3e); /* a permutation of the five levels */
		assert_int_equal(changed, ((const int32_t *)g->data)[s]);
		switched += changed;
		const float *ys = (const float *)y->data + s * 120;
		for (int t = 0; t < 120; t++)
			assert_true(fabs(ys[t]) <= 1.0f);
	}
	assert_true(switched > 160 && switched < 240);
	ax_bundle_free(&b);
}

/* ---- loading, windows ---- */
static const char *save_bundle(const char *name, int T, int dx, int Ty, int bad_at)
{
	struct ax_bundle b;
	ax_bundle_init(&b);
	float x[200], y[200];
	for (int i = 0; i < 200; i++)
		x[i] = (float)i, y[i] = (float)(1000 + i);
	if (bad_at >= 0)
		y[bad_at] = NAN;
	if (dx)
		ax_bundle_add_f32(&b, "source", 2, (int64_t[]){ T, dx }, x);
	ax_bundle_add_f32(&b, "target", 1, (int64_t[]){ Ty }, y);
	const char *path = tu_path(name);
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);
	return path;
}

static void test_load_and_windows(void **state)
{
	(void)state;
	struct teb_data d;
	assert_int_equal(teb_data_load(&d, save_bundle("ok.st", 50, 2, 50, -1)), AX_OK);
	assert_int_equal(d.nseq, 1), assert_int_equal(d.T, 50);
	assert_int_equal(d.dx, 2), assert_int_equal(d.dy, 1);
	assert_true(isnan(d.te_true));
	struct teb_span tr = teb_split(&d, 0.2, 0), te = teb_split(&d, 0.2, 1);
	assert_int_equal(tr.t1, 40), assert_int_equal(te.t0, 40);
	assert_int_equal(teb_span_windows(&tr, 4, 2), 35);
	assert_int_equal(teb_span_windows(&te, 4, 2), 5);
	float yh[4], xh[8], yf[2];
	teb_window(&d, &te, 4, 2, 1, yh, xh, yf);
	/* history ends at step 40 + 1 + 3 = 44, future 45, 46 */
	assert_true(yh[0] == 1041 && yh[3] == 1044 && yf[0] == 1045 && yf[1] == 1046);
	assert_true(xh[0] == 82 && xh[7] == 89);
	teb_data_free(&d);

	assert_int_equal(teb_data_load(&d, save_bundle("nosrc.st", 50, 0, 50, -1)),
			 AX_ERR_NOTFOUND);
	tu_assert_detail("no 'source' array");
	teb_data_free(&d);
	assert_int_equal(teb_data_load(&d, save_bundle("len.st", 50, 2, 49, -1)), AX_ERR_FORMAT);
	tu_assert_detail("source has 1 sequences of 50 steps, target 1 of 49");
	teb_data_free(&d);
	assert_int_equal(teb_data_load(&d, save_bundle("nan.st", 50, 2, 50, 7)), AX_ERR_FORMAT);
	tu_assert_detail("'target' holds a non-finite value at element 7");
	teb_data_free(&d);
}

/* ---- loss terms against PyTorch (scripts/ref/teb_fit.py) ---- */
static void test_terms_vs_torch(void **state)
{
	(void)state;
	struct ax_bundle ref;
	assert_int_equal(ax_bundle_load(tu_ref("teb-fit/terms.safetensors"), &ref), AX_OK);
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	const char *names[] = { "mu", "lv", "y", "m1", "l1", "m2", "l2" };
	struct ax_tensor *in[7];
	for (int i = 0; i < 7; i++) {
		in[i] = ax_tensor_new(&a, 2, (int[]){ 4, 6 });
		ax_tensor_require_grad(in[i], &a);
		memcpy(in[i]->data, ax_bundle_find(&ref, names[i])->data, 24 * sizeof(float));
	}
	struct ax_tensor *nll = ax_gaussian_nll(&t, in[0], in[1], in[2]);
	struct ax_tensor *kl = ax_kl_diag_gauss(&t, in[3], in[4], in[5], in[6]);
	struct ax_tensor *kl0 = ax_kl_diag_gauss(&t, in[3], in[4], NULL, NULL);
	tu_assert_close(nll->data, ax_bundle_find(&ref, "nll")->data, 1, 1e-6, 1e-5, "nll");
	tu_assert_close(kl->data, ax_bundle_find(&ref, "kl")->data, 1, 1e-6, 1e-5, "kl");
	tu_assert_close(kl0->data, ax_bundle_find(&ref, "kl_std")->data, 1, 1e-6, 1e-5, "kl std");
	ax_tape_backward(&t, ax_add(&t, ax_add(&t, nll, kl), ax_scale(&t, kl0, 2)), 1);
	for (int i = 0; i < 7; i++) {
		char g[16];
		snprintf(g, sizeof g, "grad_%s", names[i]);
		tu_assert_close(in[i]->grad, ax_bundle_find(&ref, g)->data, 24, 1e-6, 1e-4, g);
	}
	ax_tape_free(&t);
	ax_arena_free(&a);
	ax_bundle_free(&ref);
}

/* ---- model ---- */
static const struct teb_config small_cfg = { .L = 3, .H = 2, .dx = 2, .dy = 1, .latent = 4,
					     .width = 8, .learned_var = 1, .fixed_var = 0.1f,
					     .beta = 100, .beta_y = 100 };

static void fill_batch(struct teb_batch *b, const struct teb_config *c, int B, struct ax_rng *r)
{
	*b = (struct teb_batch){ .B = B };
	b->yh = malloc((size_t)B * c->L * c->dy * sizeof(float));
	b->xh = malloc((size_t)B * c->L * c->dx * sizeof(float));
	b->yf = malloc((size_t)B * c->H * c->dy * sizeof(float));
	ax_rng_fill_normal(r, b->yh, (size_t)B * c->L * c->dy, 0, 1);
	ax_rng_fill_normal(r, b->xh, (size_t)B * c->L * c->dx, 0, 1);
	ax_rng_fill_normal(r, b->yf, (size_t)B * c->H * c->dy, 0, 1);
}

/* At the start e = b (KL 0), the TE decoder is the Y decoder, and the TE
 * loss's gradient reaches only the X module and the TE decoder. */
static void test_model_start_and_gradients(void **state)
{
	(void)state;
	for (int learned = 0; learned < 2; learned++) {
		struct teb_config c = small_cfg;
		c.learned_var = learned;
		assert_null(teb_config_check(&c));
		struct teb_model m;
		teb_model_init(&m, &c, 3);
		struct ax_rng r, n1, n2;
		ax_rng_seed(&r, 4);
		struct teb_batch b;
		fill_batch(&b, &c, 16, &r);
		struct ax_arena a;
		struct ax_tape t;
		ax_arena_init(&a, 0);
		ax_tape_init(&t, &a);
		struct teb_out o;
		ax_rng_seed(&n1, 5);
		teb_forward(&t, &m, &b, &n1, &o);
		assert_true(o.kl_te->data[0] >= 0 && o.kl_te->data[0] < 1e-4);
		assert_true(o.kl_y->data[0] > 0);
		if (!learned)
			assert_true(fabsf(o.lv_te->data[0] - logf(0.1f)) < 1e-6);
		ax_tape_backward(&t, o.loss_te, 1);
		for (int i = 0; i < m.py.n; i++)
			for (size_t k = 0; k < m.py.list[i]->size; k++)
				assert_true(m.py.list[i]->grad[k] == 0);
		double gx = 0;
		for (int i = 0; i < m.px.n; i++)
			for (size_t k = 0; k < m.px.list[i]->size; k++)
				gx += fabs(m.px.list[i]->grad[k]);
		assert_true(gx > 0);
		/* the same noise stream, the same outputs */
		ax_tape_reset(&t);
		ax_rng_seed(&n1, 6);
		n2 = n1;
		teb_forward(&t, &m, &b, &n1, &o);
		struct teb_out o2;
		teb_forward(&t, &m, &b, &n2, &o2);
		tu_assert_close(o.mu_te->data, o2.mu_te->data, o.mu_te->size, 0, 0, "repeatable");
		ax_tape_free(&t);
		ax_arena_free(&a);
		free(b.yh), free(b.xh), free(b.yf);
		teb_model_free(&m);
	}
}

/* A shard (rows [first, first + B) of a batch of total) sees the latent
 * noise the whole batch draws for its rows, and leaves the noise stream
 * where the whole batch does: what lets ranks split a step. */
static void test_shard_noise(void **state)
{
	(void)state;
	struct teb_model m;
	teb_model_init(&m, &small_cfg, 3);
	const struct teb_config *c = &small_cfg;
	struct ax_rng r, n1, n2;
	ax_rng_seed(&r, 4);
	struct teb_batch whole, part;
	fill_batch(&whole, c, 12, &r);
	int first = 5, rows = 4;
	part = (struct teb_batch){ .B = rows, .first = first, .total = 12,
				   .yh = whole.yh + first * c->L * c->dy,
				   .xh = whole.xh + first * c->L * c->dx,
				   .yf = whole.yf + first * c->H * c->dy };
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	struct teb_out o, op;
	ax_rng_seed(&n1, 6);
	n2 = n1;
	teb_forward(&t, &m, &whole, &n1, &o);
	teb_forward(&t, &m, &part, &n2, &op);
	int n = c->H * c->dy;
	tu_assert_close(op.mu_te->data, o.mu_te->data + first * n, (size_t)rows * n, 1e-6, 1e-6,
			"shard rows");
	tu_assert_close(op.mu_y->data, o.mu_y->data + first * n, (size_t)rows * n, 1e-6, 1e-6,
			"shard rows (Y module)");
	assert_memory_equal(&n1, &n2, sizeof n1);
	ax_tape_free(&t);
	ax_arena_free(&a);
	free(whole.yh), free(whole.xh), free(whole.yf);
	teb_model_free(&m);
}

/* A checkpoint's model loads back exactly; a setting out of its flag's
 * range or another command's checkpoint is refused with the path named. */
static void test_checkpoint_load(void **state)
{
	(void)state;
	struct teb_model m, back;
	teb_model_init(&m, &small_cfg, 8);
	struct ax_bundle b;
	ax_ckpt_begin(&b, TEB_KIND);
	teb_put_model(&b, &m);
	const char *path = tu_path("m.ck");
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	assert_int_equal(teb_load(path, &back, NULL), AX_OK);
	assert_int_equal(back.cfg.latent, small_cfg.latent);
	assert_true(back.cfg.beta == small_cfg.beta && back.cfg.learned_var == 1);
	for (int i = 0; i < m.px.n; i++)
		tu_assert_close(back.px.list[i]->data, m.px.list[i]->data, m.px.list[i]->size, 0, 0,
				"weights");
	teb_model_free(&back);
	ax_bundle_set_meta(&b, "teb.latent", "0");
	const char *bad = tu_path("bad.ck");
	assert_int_equal(ax_bundle_save(bad, &b), AX_OK);
	assert_int_equal(teb_load(bad, &back, NULL), AX_ERR_FORMAT);
	tu_assert_detail("bad.ck: checkpoint setting 'teb.latent'");
	ax_bundle_set_meta(&b, "axon.kind", "mod-lm");
	assert_int_equal(ax_bundle_save(bad, &b), AX_OK);
	assert_int_not_equal(teb_load(bad, &back, NULL), AX_OK);
	tu_assert_detail("not teb-fit");
	ax_bundle_free(&b);
	teb_model_free(&m);
}

/* ---- bootstrap ---- */
static void test_bootstrap(void **state)
{
	(void)state;
	struct ax_rng r;
	ax_rng_seed(&r, 9);
	enum { n = 4000 };
	double *v = malloc(n * sizeof *v), mean, lo, hi;
	for (int i = 0; i < n; i++)
		v[i] = 0.3 + ax_rng_normal(&r);
	teb_bootstrap(v, n, 500, 0.95, &r, &mean, &lo, &hi);
	/* standard error 1/sqrt(4000) = 0.0158: the 95% interval is +-0.031 */
	assert_true(lo < mean && mean < hi);
	assert_true(fabs((hi - lo) - 2 * 1.96 / sqrt(n)) < 0.012);
	assert_true(fabs(mean - 0.3) < 0.06);
	teb_bootstrap(v, 1, 500, 0.95, &r, &mean, &lo, &hi);
	assert_true(lo == mean && hi == mean);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lingauss_closed_form),
		cmocka_unit_test(test_multi_closed_form),
		cmocka_unit_test(test_ar_closed_form),
		cmocka_unit_test(test_sines),
		cmocka_unit_test(test_load_and_windows),
		cmocka_unit_test(test_terms_vs_torch),
		cmocka_unit_test(test_model_start_and_gradients),
		cmocka_unit_test(test_shard_noise),
		cmocka_unit_test(test_checkpoint_load),
		cmocka_unit_test(test_bootstrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
