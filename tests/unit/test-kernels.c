/* test-kernels.c — every kernel in ax_kernels.h: gradients against central
 * finite differences (double accumulation), values against PyTorch golden
 * files (tests/ref/kernels/NAME.safetensors, made by scripts/ref/kernels_ref.py),
 * and the conventions: backward accumulates, NULL gradients are skipped,
 * fully masked attention rows give zeros, repeated runs are bit-identical. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include <omp.h>

#include "ax_io.h"
#include "ax_kernels.h"
#include "ax_math.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static float frand(void) // uniform in [-1, 1)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static float *randv(size_t n, float scale)
{
	float *v = ax_xmalloc(n * sizeof(float) + 1);
	for (size_t i = 0; i < n; i++)
		v[i] = frand() * scale;
	return v;
}

static float *zerov(size_t n)
{
	return ax_xcalloc(n + 1, sizeof(float));
}

static float *copyv(const float *x, size_t n)
{
	float *v = ax_xmalloc(n * sizeof(float) + 1);
	memcpy(v, x, n * sizeof(float));
	return v;
}

static double dotd(const float *a, const float *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* A forward pass to differentiate: writes its output into out. */
typedef void (*fwd_fn)(void *ctx, float *out);

/* Check the analytic gradient g of L = sum(out * R) w.r.t. x (n values) by
 * central differences, perturbing x in float and accumulating in double. */
static void gradcheck(const char *what, fwd_fn f, void *ctx, float *out, size_t nout,
		      const float *R, float *x, size_t n, const float *g, float eps, double atol,
		      double rtol)
{
	for (size_t i = 0; i < n; i++) {
		float save = x[i];
		float xp = save + eps, xm = save - eps;
		x[i] = xp;
		f(ctx, out);
		double lp = dotd(out, R, nout);
		x[i] = xm;
		f(ctx, out);
		double lm = dotd(out, R, nout);
		x[i] = save;
		double num = (lp - lm) / ((double)xp - (double)xm);
		if (fabs(num - g[i]) > atol + rtol * fabs(num))
			fail_msg("%s: d/dx[%zu]: analytic %.7g, numeric %.7g", what, i, g[i], num);
	}
	f(ctx, out); // leave out consistent with x
}

/* ---- golden files ---- */

static struct ax_bundle *bundle_open(const char *file)
{
	struct ax_bundle *b = ax_xmalloc(sizeof *b);
	enum ax_status st = ax_bundle_load(tu_ref(file), b);
	if (st != AX_OK)
		fail_msg("%s: %s: %s", file, ax_strerror(st), ax_error_detail());
	return b;
}

static void bundle_close(struct ax_bundle *b)
{
	ax_bundle_free(b);
	free(b);
}

static const struct ax_array *get(const struct ax_bundle *b, const char *c, const char *t,
				  enum ax_dtype dt, int optional)
{
	char name[128];
	snprintf(name, sizeof name, "%s.%s", c, t);
	const struct ax_array *a = ax_bundle_find(b, name);
	if (!a && optional)
		return NULL;
	if (!a)
		fail_msg("golden tensor %s missing", name);
	if (a->dtype != dt)
		fail_msg("golden tensor %s has dtype %s", name, ax_dtype_name(a->dtype));
	return a;
}

static const float *gf(const struct ax_bundle *b, const char *c, const char *t)
{
	return get(b, c, t, AX_F32, 0)->data;
}

static const float *gf_opt(const struct ax_bundle *b, const char *c, const char *t)
{
	const struct ax_array *a = get(b, c, t, AX_F32, 1);
	return a ? a->data : NULL;
}

static const int32_t *gi(const struct ax_bundle *b, const char *c, const char *t)
{
	return get(b, c, t, AX_I32, 0)->data;
}

static size_t gcount(const struct ax_bundle *b, const char *c, const char *t)
{
	return ax_array_count(get(b, c, t, AX_F32, 0));
}

static void close_to(const float *a, const struct ax_bundle *b, const char *c, const char *t)
{
	char what[128];
	snprintf(what, sizeof what, "%s.%s", c, t);
	tu_assert_close(a, gf(b, c, t), gcount(b, c, t), 2e-5, 1e-4, what);
}

/* ---- sgemm ---- */

static void test_sgemm(void **state)
{
	(void)state;
	int M = 5, N = 7, K = 4;
	float *A = randv(M * K, 1), *B = randv(K * N, 1), *C = randv(M * N, 1);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			float *C2 = copyv(C, M * N), ref[35];
			for (int i = 0; i < M; i++)
				for (int j = 0; j < N; j++) {
					double s = 0;
					for (int p = 0; p < K; p++)
						s += (double)(ta ? A[p * M + i] : A[i * K + p]) *
						     (tb ? B[j * K + p] : B[p * N + j]);
					ref[i * N + j] = (float)(0.5 * s + 2.0 * C[i * N + j]);
				}
			ax_sgemm(ta, tb, M, N, K, 0.5f, A, B, 2.0f, C2);
			tu_assert_close(C2, ref, M * N, 1e-5, 1e-5, "sgemm");
			free(C2);
		}
	// sub-block with strides: columns 2..4 of a (3, 8) times (3, 2) -> (3, 2) into ldc 5
	float X[24], Y[6], Z[15] = {0}, refz[15] = {0};
	for (int i = 0; i < 24; i++)
		X[i] = frand();
	for (int i = 0; i < 6; i++)
		Y[i] = frand();
	ax_sgemm_ld(0, 0, 3, 2, 3, 1.0f, X + 2, 8, Y, 2, 0.0f, Z + 1, 5);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			for (int p = 0; p < 3; p++)
				refz[i * 5 + 1 + j] += X[i * 8 + 2 + p] * Y[p * 2 + j];
	tu_assert_close(Z, refz, 15, 1e-6, 1e-5, "sgemm_ld");
	free(A), free(B), free(C);
}

/* sgemv: A (5, 7) times x, and A^T times x, against the double sum */
static void test_sgemv(void **state)
{
	(void)state;
	int M = 5, N = 7;
	float *A = randv(M * N, 1), *x = randv(N, 1), *y0 = randv(N, 1);
	for (int ta = 0; ta < 2; ta++) {
		int nx = ta ? M : N, ny = ta ? N : M;
		float *y = copyv(y0, ny), ref[7];
		for (int i = 0; i < ny; i++) {
			double s = 0;
			for (int p = 0; p < nx; p++)
				s += (double)(ta ? A[p * N + i] : A[i * N + p]) * x[p];
			ref[i] = (float)(0.5 * s + 2.0 * y0[i]);
		}
		ax_sgemv(ta, M, N, 0.5f, A, x, 2.0f, y);
		tu_assert_close(y, ref, ny, 1e-5, 1e-5, "sgemv");
		free(y);
	}
	free(A), free(x), free(y0);
}

/* ---- normalisation ---- */

struct norm_ctx {
	int N, C, rms;
	float *x, *gamma, *beta, *mean, *rstd;
};

static void norm_fwd(void *p, float *out)
{
	struct norm_ctx *c = p;
	if (c->rms)
		ax_rmsnorm_forward(c->N, c->C, c->x, c->gamma, 1e-5f, out, c->rstd);
	else
		ax_layernorm_forward(c->N, c->C, c->x, c->gamma, c->beta, 1e-5f, out, c->mean,
				     c->rstd);
}

/* Only a pre-AVX2 choice of OpenBLAS's is overridden, and only on a CPU that
 * runs the better kernels. */
static void test_blas_core_upgrade(void **state)
{
	(void)state;
	assert_string_equal(ax_blas_core_upgrade("Prescott", 1, 1), "SkylakeX");
	assert_string_equal(ax_blas_core_upgrade("Prescott", 1, 0), "Haswell");
	assert_string_equal(ax_blas_core_upgrade("Sandybridge", 1, 0), "Haswell");
	assert_null(ax_blas_core_upgrade("Prescott", 0, 0));
	assert_null(ax_blas_core_upgrade("Haswell", 1, 1));
	assert_null(ax_blas_core_upgrade("Zen", 1, 0));
	assert_null(ax_blas_core_upgrade("SkylakeX", 1, 1));
	assert_null(ax_blas_core_upgrade("Cooperlake", 1, 1));
}

static void test_norm_golden(void **state)
{
	(void)state;
	struct ax_bundle *b = bundle_open("kernels/norm.safetensors");
	// cfg: N C
	const int32_t *cfg = gi(b, "ln", "cfg");
	int N = cfg[0], C = cfg[1];
	float *y = zerov(N * C), *dx = zerov(N * C), *dg = zerov(C), *db = zerov(C);
	float mean[64], rstd[64];
	ax_layernorm_forward(N, C, gf(b, "ln", "x"), gf(b, "ln", "gamma"), gf(b, "ln", "beta"),
			     1e-5f, y, mean, rstd);
	close_to(y, b, "ln", "y");
	ax_layernorm_backward(N, C, gf(b, "ln", "x"), gf(b, "ln", "gamma"), mean, rstd,
			      gf(b, "ln", "R"), dx, dg, db, 0);
	close_to(dx, b, "ln", "dx");
	close_to(dg, b, "ln", "dgamma");
	close_to(db, b, "ln", "dbeta");

	memset(dx, 0, N * C * sizeof(float));
	memset(dg, 0, C * sizeof(float));
	ax_rmsnorm_forward(N, C, gf(b, "rms", "x"), gf(b, "rms", "gamma"), 1e-5f, y, rstd);
	close_to(y, b, "rms", "y");
	ax_rmsnorm_backward(N, C, gf(b, "rms", "x"), gf(b, "rms", "gamma"), rstd,
			    gf(b, "rms", "R"), dx, dg, 0);
	close_to(dx, b, "rms", "dx");
	close_to(dg, b, "rms", "dgamma");
	free(y), free(dx), free(dg), free(db);
	bundle_close(b);
}

static void test_norm_gradcheck(void **state)
{
	(void)state;
	for (int rms = 0; rms < 2; rms++) {
		struct norm_ctx c = {.N = 4, .C = 9, .rms = rms};
		size_t n = c.N * c.C;
		c.x = randv(n, 2);
		c.gamma = randv(c.C, 1);
		c.beta = randv(c.C, 1);
		c.mean = zerov(c.N);
		c.rstd = zerov(c.N);
		float *out = zerov(n), *R = randv(n, 1), *dx = zerov(n), *dg = zerov(c.C),
		      *db = zerov(c.C);
		norm_fwd(&c, out);
		if (rms)
			ax_rmsnorm_backward(c.N, c.C, c.x, c.gamma, c.rstd, R, dx, dg, 0);
		else
			ax_layernorm_backward(c.N, c.C, c.x, c.gamma, c.mean, c.rstd, R, dx, dg, db, 0);
		const char *nm = rms ? "rmsnorm" : "layernorm";
		gradcheck(nm, norm_fwd, &c, out, n, R, c.x, n, dx, 1e-2f, 2e-3, 2e-3);
		gradcheck(nm, norm_fwd, &c, out, n, R, c.gamma, c.C, dg, 1e-2f, 2e-3, 2e-3);
		if (!rms)
			gradcheck(nm, norm_fwd, &c, out, n, R, c.beta, c.C, db, 1e-2f, 2e-3, 2e-3);
		// accumulation: a second backward doubles; NULL outputs are skipped
		float *dx2 = copyv(dx, n), *dg2 = copyv(dg, c.C);
		if (rms) {
			ax_rmsnorm_backward(c.N, c.C, c.x, c.gamma, c.rstd, R, dx2, NULL, 0);
			ax_rmsnorm_backward(c.N, c.C, c.x, c.gamma, c.rstd, R, NULL, dg2, 0);
		} else {
			ax_layernorm_backward(c.N, c.C, c.x, c.gamma, c.mean, c.rstd, R, dx2, NULL,
					      NULL, 0);
			ax_layernorm_backward(c.N, c.C, c.x, c.gamma, c.mean, c.rstd, R, NULL, dg2,
					      NULL, 0);
		}
		for (size_t i = 0; i < n; i++)
			dx[i] *= 2;
		for (int i = 0; i < c.C; i++)
			dg[i] *= 2;
		tu_assert_close(dx2, dx, n, 1e-6, 1e-6, "norm accumulate dx");
		tu_assert_close(dg2, dg, c.C, 1e-6, 1e-6, "norm accumulate dgamma");
		free(c.x), free(c.gamma), free(c.beta), free(c.mean), free(c.rstd);
		free(out), free(R), free(dx), free(dg), free(db), free(dx2), free(dg2);
	}
}

/* ---- softmax, log-softmax, cross-entropy ---- */

struct sm_ctx {
	int N, C, log;
	float *x;
};

static void sm_fwd(void *p, float *out)
{
	struct sm_ctx *c = p;
	(c->log ? ax_log_softmax_forward : ax_softmax_forward)(c->N, c->C, c->x, out);
}

static void test_softmax(void **state)
{
	(void)state;
	struct ax_bundle *b = bundle_open("kernels/norm.safetensors");
	const int32_t *cfg = gi(b, "sm", "cfg"); // N C
	int N = cfg[0], C = cfg[1];
	float *y = zerov(N * C), *dx = zerov(N * C);
	ax_softmax_forward(N, C, gf(b, "sm", "x"), y);
	close_to(y, b, "sm", "y");
	ax_softmax_backward(N, C, y, gf(b, "sm", "R"), dx);
	close_to(dx, b, "sm", "dx");
	memset(dx, 0, N * C * sizeof(float));
	ax_log_softmax_forward(N, C, gf(b, "sm", "x"), y);
	close_to(y, b, "lsm", "y");
	ax_log_softmax_backward(N, C, y, gf(b, "sm", "R"), dx);
	close_to(dx, b, "lsm", "dx");
	free(y), free(dx);
	bundle_close(b);

	for (int lg = 0; lg < 2; lg++) {
		struct sm_ctx c = {.N = 3, .C = 6, .log = lg};
		size_t n = c.N * c.C;
		c.x = randv(n, 3);
		float *out = zerov(n), *R = randv(n, 1), *g = zerov(n);
		sm_fwd(&c, out);
		(lg ? ax_log_softmax_backward : ax_softmax_backward)(c.N, c.C, out, R, g);
		gradcheck(lg ? "log_softmax" : "softmax", sm_fwd, &c, out, n, R, c.x, n, g, 1e-2f,
			  1e-3, 2e-3);
		free(c.x), free(out), free(R), free(g);
	}
	// huge logits: stable, no inf/NaN
	float big[4] = {1e30f, -1e30f, 3e38f, 0}, yb[4];
	ax_softmax_forward(1, 4, big, yb);
	for (int i = 0; i < 4; i++)
		assert_true(isfinite(yb[i]));
	assert_true(yb[2] == 1.0f);
	ax_log_softmax_forward(1, 4, big, yb);
	assert_true(yb[2] == 0.0f && isfinite(yb[0]));

	// one row, in place, with the max and sum a caller needs for log p
	float row[3] = {1.0f, 3.0f, 2.0f}, mx;
	float sum = ax_softmax_row(3, row, row, &mx);
	double e1 = exp(-2.0), e3 = 1.0, e2 = exp(-1.0), tot = e1 + e2 + e3;
	assert_true(mx == 3.0f);
	assert_float_equal(sum, tot, 1e-6);
	assert_float_equal(row[0], e1 / tot, 1e-6);
	assert_float_equal(row[1], e3 / tot, 1e-6);
	assert_float_equal(row[2], e2 / tot, 1e-6);
	assert_float_equal(1.0f - mx - logf(sum), log(e1 / tot), 1e-6);
}

struct xent_ctx {
	int N, V;
	float s;
	float *logits, *probs;
	const int32_t *tgt;
};

static void xent_fwd(void *p, float *out)
{
	struct xent_ctx *c = p;
	int cnt;
	out[0] = ax_xent_forward(c->N, c->V, c->logits, c->tgt, c->s, -1, c->probs, &cnt);
}

static void test_xent(void **state)
{
	(void)state;
	struct ax_bundle *b = bundle_open("kernels/norm.safetensors");
	const char *cases[] = {"xent", "xent0"};
	for (size_t ci = 0; ci < AX_COUNTOF(cases); ci++) {
		const char *c = cases[ci];
		const int32_t *cfg = gi(b, c, "cfg"); // N V ignore_index
		int N = cfg[0], V = cfg[1], count = -5;
		float s = gf(b, c, "smoothing")[0];
		float *probs = zerov(N * V), *dl = zerov(N * V);
		float loss = ax_xent_forward(N, V, gf(b, c, "logits"), gi(b, c, "targets"), s,
					     cfg[2], probs, &count);
		assert_int_equal(count, N - 2);
		tu_assert_close(&loss, gf(b, c, "loss"), 1, 1e-6, 1e-5, c);
		ax_xent_backward(N, V, probs, gi(b, c, "targets"), s, cfg[2], count, 1.0f, dl);
		close_to(dl, b, c, "dlogits");
		free(probs), free(dl);
	}
	bundle_close(b);

	struct xent_ctx c = {.N = 5, .V = 4, .s = 0.2f};
	int32_t tgt[5] = {1, -1, 3, 0, 3};
	c.tgt = tgt;
	c.logits = randv(c.N * c.V, 3);
	c.probs = zerov(c.N * c.V);
	float out, R = 1.7f, *g = zerov(c.N * c.V);
	int cnt;
	ax_xent_forward(c.N, c.V, c.logits, tgt, c.s, -1, c.probs, &cnt);
	assert_int_equal(cnt, 4);
	ax_xent_backward(c.N, c.V, c.probs, tgt, c.s, -1, cnt, R, g);
	for (int i = 0; i < c.V; i++) // ignored row gets no gradient
		assert_true(g[c.V + i] == 0.0f);
	gradcheck("xent", xent_fwd, &c, &out, 1, &R, c.logits, c.N * c.V, g, 1e-2f, 1e-3, 2e-3);
	// all rows ignored: loss 0, count 0, no gradient, no NaN
	int32_t none[5] = {-1, -1, -1, -1, -1};
	float l0 = ax_xent_forward(c.N, c.V, c.logits, none, c.s, -1, c.probs, &cnt);
	assert_true(l0 == 0.0f && cnt == 0);
	free(c.logits), free(c.probs), free(g);
}

// The row kernels above PAR_MIN (32768 elements) run in parallel; the tests
// above are all smaller. Rows are independent and dgamma/dbeta are summed
// per column block, so 1 and 3 threads must agree bit for bit (the xent loss
// is a sum over thread chunks: equal only to rounding).
static void test_rows_threads(void **state)
{
	(void)state;
	int N = 64, C = 600, nt = omp_get_max_threads();
	size_t n = (size_t)N * C;
	float *x = randv(n, 3), *R = randv(n, 1), *gamma = randv(C, 1), *beta = randv(C, 1);
	int32_t *tgt = ax_xmalloc(N * sizeof(int32_t));
	int counted = 0;
	for (int i = 0; i < N; i++) {
		tgt[i] = i % 5 == 2 ? -1 : (i * 37) % C;
		counted += tgt[i] >= 0;
	}
	enum { NOUT = 16 };
	size_t len[NOUT] = {n, N, N, n, C, C, n, N, n, C, n, n, n, n, n, n};
	float *res[2][NOUT], loss[2];
	for (int run = 0; run < 2; run++) {
		omp_set_num_threads(run == 0 ? 1 : 3);
		float **r = res[run];
		for (int j = 0; j < NOUT; j++)
			r[j] = zerov(len[j]);
		ax_layernorm_forward(N, C, x, gamma, beta, 1e-5f, r[0], r[1], r[2]);
		ax_layernorm_backward(N, C, x, gamma, r[1], r[2], R, r[3], r[4], r[5], 0);
		ax_rmsnorm_forward(N, C, x, gamma, 1e-5f, r[6], r[7]);
		ax_rmsnorm_backward(N, C, x, gamma, r[7], R, r[8], r[9], 0);
		ax_softmax_forward(N, C, x, r[10]);
		ax_softmax_backward(N, C, r[10], R, r[11]);
		ax_log_softmax_forward(N, C, x, r[12]);
		ax_log_softmax_backward(N, C, r[12], R, r[13]);
		int cnt;
		loss[run] = ax_xent_forward(N, C, x, tgt, 0.1f, -1, r[14], &cnt);
		assert_int_equal(cnt, counted);
		ax_xent_backward(N, C, r[14], tgt, 0.1f, -1, cnt, 1.0f, r[15]);
	}
	omp_set_num_threads(nt);
	for (int j = 0; j < NOUT; j++) {
		assert_memory_equal(res[0][j], res[1][j], len[j] * sizeof(float));
		free(res[0][j]), free(res[1][j]);
	}
	tu_assert_close(&loss[1], &loss[0], 1, 0, 1e-6, "xent loss, 1 vs 3 threads");
	free(x), free(R), free(gamma), free(beta), free(tgt);
}

/* ---- lib/ax_math.h: tanh, and the fixed-order lane reductions ---- */

/* The documented order: element i into lane i % AX_LANES, lanes added
 * pairwise (l += l + w for w = 8, 4, 2, 1). */
static float lanes_ref(size_t n, const float *x)
{
	float acc[AX_LANES] = { 0 };
	for (size_t i = 0; i < n; i++)
		acc[i % AX_LANES] += x[i];
	for (int w = AX_LANES / 2; w > 0; w /= 2)
		for (int l = 0; l < w; l++)
			acc[l] += acc[l + w];
	return acc[0];
}

static void test_math_helpers(void **state)
{
	(void)state;
	double worst = 0;
	for (float x = -12.0f; x < 12.0f; x += 0.000611f) {
		double t = tanh((double)x);
		worst = fmax(worst, fabs(ax_tanhf(x) - t) / fmax(fabs(t), 1e-30));
	}
	assert_true(worst < 4e-7);
	assert_true(isnan(ax_expf(NAN)) && isnan(ax_tanhf(NAN)));
	assert_true(ax_expf(-INFINITY) > 0 && ax_expf(-INFINITY) < 1e-37f);
	assert_true(ax_expf(-0.0f) == 1.0f && ax_expf(88.0f) == ax_expf(1e30f));
	float *x = randv(1000, 100), *y = randv(1000, 1);
	for (size_t n = 0; n < 1000; n = n < 40 ? n + 1 : n * 3 + 7) {
		float sum = ax_sumf(n, x), ref = lanes_ref(n, x);
		assert_memory_equal(&sum, &ref, sizeof sum); // same bits: the order is fixed
		double d = 0, m = -INFINITY, sq = 0;
		for (size_t i = 0; i < n; i++) {
			m = fmax(m, x[i]);
			sq += ((double)x[i] - 0.5) * ((double)x[i] - 0.5);
		}
		assert_true(ax_maxf(n, x) == (float)m);
		d = dotd(x, y, n);
		assert_true(fabs(ax_dotf(n, x, y) - d) < 1e-5 * (1 + dotd(x, x, n)));
		assert_true(fabs(ax_sqdevf(n, x, 0.5f) - sq) < 1e-5 * (1 + sq));
		// one pass for both: the sum bit for bit as ax_sumf's, the dot to rounding
		float s1, dev;
		double dref = 0;
		for (size_t i = 0; i < n; i++)
			dref += (double)x[i] * ((double)y[i] - 0.5);
		ax_sum_dotdevf(n, x, y, 0.5f, &s1, &dev);
		assert_memory_equal(&s1, &sum, sizeof sum);
		assert_true(fabs(dev - dref) < 1e-5 * (1 + dotd(x, x, n)));
	}
	free(x), free(y);
}

/* ---- attention ---- */

struct attn_ctx {
	struct ax_attn_desc d;
	float *q, *k, *v, *saved, *work;
};

static void attn_fwd(void *p, float *out)
{
	struct attn_ctx *c = p;
	ax_attn_forward(&c->d, c->q, c->k, c->v, out, c->saved);
}

static void attn_alloc(struct attn_ctx *c)
{
	c->saved = zerov(ax_attn_saved_size(&c->d));
	c->work = zerov(ax_attn_work_size(&c->d));
}

// One golden case: q, k, v, R from the bundle; out and the gradients
// against PyTorch's, and with fd also against finite differences.
static void attn_golden_case(const struct ax_bundle *b, const char *cn, struct attn_ctx *c,
			     int fd)
{
	size_t nq = gcount(b, cn, "q"), nk = gcount(b, cn, "k");
	c->q = copyv(gf(b, cn, "q"), nq);
	c->k = copyv(gf(b, cn, "k"), nk);
	c->v = copyv(gf(b, cn, "v"), nk);
	attn_alloc(c);
	float *out = zerov(nq), *dq = zerov(nq), *dk = zerov(nk), *dv = zerov(nk);
	float *R = copyv(gf(b, cn, "R"), nq);
	attn_fwd(c, out);
	close_to(out, b, cn, "out");
	ax_attn_backward(&c->d, c->q, c->k, c->v, c->saved, R, dq, dk, dv, c->work);
	close_to(dq, b, cn, "dq");
	close_to(dk, b, cn, "dk");
	close_to(dv, b, cn, "dv");
	if (fd) {
		gradcheck(cn, attn_fwd, c, out, nq, R, c->q, nq, dq, 1e-2f, 2e-3, 5e-3);
		gradcheck(cn, attn_fwd, c, out, nq, R, c->k, nk, dk, 1e-2f, 2e-3, 5e-3);
		gradcheck(cn, attn_fwd, c, out, nq, R, c->v, nk, dv, 1e-2f, 2e-3, 5e-3);
	}
	free(c->q), free(c->k), free(c->v), free(c->saved), free(c->work);
	free(out), free(dq), free(dk), free(dv), free(R);
}

static void test_attn_golden(void **state)
{
	(void)state;
	struct ax_bundle *b = bundle_open("kernels/attn.safetensors");
	const char *cases[] = {"causal", "window", "keypad", "mask",   "mask2d", "cross",
			       "crossc", "kvcache", "routed", "rope",  "ropev"};
	for (size_t ci = 0; ci < AX_COUNTOF(cases); ci++) {
		const char *cn = cases[ci];
		// cfg: B Tq Tk H D causal window rope rope_v mask_kind has_key_pad has_pos
		const int32_t *cfg = gi(b, cn, "cfg");
		const float *fp = gf(b, cn, "fparams"); // scale, rope_base
		struct attn_ctx c = {.d = {.B = cfg[0], .Tq = cfg[1], .Tk = cfg[2], .H = cfg[3],
					   .D = cfg[4], .causal = cfg[5], .window = cfg[6],
					   .rope = cfg[7], .rope_v = cfg[8], .scale = fp[0],
					   .rope_base = fp[1]}};
		if (cfg[9]) {
			c.d.mask = get(b, cn, "mask", AX_U8, 0)->data;
			c.d.mask_per_batch = cfg[9] == 2;
		}
		if (cfg[10])
			c.d.key_pad = get(b, cn, "key_pad", AX_U8, 0)->data;
		if (cfg[11]) {
			c.d.qpos = gi(b, cn, "qpos");
			c.d.kpos = gi(b, cn, "kpos");
		}
		attn_golden_case(b, cn, &c, 0);
	}
	bundle_close(b);
}

// Gradient-check one attention configuration with random inputs; also checks
// that a second backward accumulates and that NULL gradients are skipped.
static void attn_check(const char *what, struct ax_attn_desc d)
{
	struct attn_ctx c = {.d = d};
	size_t nq = (size_t)d.B * d.Tq * d.H * d.D, nk = (size_t)d.B * d.Tk * d.H * d.D;
	c.q = randv(nq, 1.5f);
	c.k = randv(nk, 1.5f);
	c.v = randv(nk, 1);
	attn_alloc(&c);
	float *out = zerov(nq), *R = randv(nq, 1);
	float *dq = zerov(nq), *dk = zerov(nk), *dv = zerov(nk);
	attn_fwd(&c, out);
	for (size_t i = 0; i < nq; i++)
		assert_true(isfinite(out[i]));
	ax_attn_backward(&c.d, c.q, c.k, c.v, c.saved, R, dq, dk, dv, c.work);
	gradcheck(what, attn_fwd, &c, out, nq, R, c.q, nq, dq, 1e-2f, 2e-3, 5e-3);
	gradcheck(what, attn_fwd, &c, out, nq, R, c.k, nk, dk, 1e-2f, 2e-3, 5e-3);
	gradcheck(what, attn_fwd, &c, out, nq, R, c.v, nk, dv, 1e-2f, 2e-3, 5e-3);
	// one gradient at a time into copies: same as all together, plus what was there
	float *dq2 = copyv(dq, nq), *dk2 = copyv(dk, nk), *dv2 = copyv(dv, nk);
	ax_attn_backward(&c.d, c.q, c.k, c.v, c.saved, R, dq2, NULL, NULL, c.work);
	ax_attn_backward(&c.d, c.q, c.k, c.v, c.saved, R, NULL, dk2, NULL, c.work);
	ax_attn_backward(&c.d, c.q, c.k, c.v, c.saved, R, NULL, NULL, dv2, c.work);
	for (size_t i = 0; i < nq; i++)
		dq[i] *= 2;
	for (size_t i = 0; i < nk; i++)
		dk[i] *= 2, dv[i] *= 2;
	tu_assert_close(dq2, dq, nq, 1e-6, 1e-5, "attn accumulate dq");
	tu_assert_close(dk2, dk, nk, 1e-6, 1e-5, "attn accumulate dk");
	tu_assert_close(dv2, dv, nk, 1e-6, 1e-5, "attn accumulate dv");
	free(c.q), free(c.k), free(c.v), free(c.saved), free(c.work);
	free(out), free(R), free(dq), free(dk), free(dv), free(dq2), free(dk2), free(dv2);
}

static void test_attn_gradcheck(void **state)
{
	(void)state;
	attn_check("attn plain", (struct ax_attn_desc){.B = 2, .Tq = 4, .Tk = 4, .H = 2, .D = 3});
	attn_check("attn causal+rope", (struct ax_attn_desc){.B = 2, .Tq = 5, .Tk = 5, .H = 2,
							     .D = 4, .causal = 1, .rope = 1});
	attn_check("attn window", (struct ax_attn_desc){.B = 1, .Tq = 6, .Tk = 6, .H = 2, .D = 2,
							.causal = 1, .window = 2});
	uint8_t kp[2 * 5] = {0, 0, 1, 0, 1, 1, 1, 1, 1, 1}; // batch 1 sees nothing
	attn_check("attn keypad+cross", (struct ax_attn_desc){.B = 2, .Tq = 3, .Tk = 5, .H = 2,
							      .D = 2, .key_pad = kp});
	uint8_t m[2 * 3 * 4] = {1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0,
				1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1};
	attn_check("attn mask", (struct ax_attn_desc){.B = 2, .Tq = 3, .Tk = 4, .H = 1, .D = 3,
						      .mask = m, .mask_per_batch = 1,
						      .scale = 0.7f});
	int32_t qpos[2 * 3] = {2, 5, 9, 100, 101, 103}, kpos[2 * 4] = {0, 2, 5, 6,
								     99, 100, 102, 103};
	attn_check("attn pos+rope_v", (struct ax_attn_desc){.B = 2, .Tq = 3, .Tk = 4, .H = 2,
							    .D = 4, .causal = 1, .qpos = qpos,
							    .kpos = kpos, .rope = 1, .rope_v = 1,
							    .rope_base = 100});
}

// Rotary on continuous time against POYO's own PyTorch formulation
// (scripts/ref/kernels_ref.py, ropetime_cases): rotary on q, k, and with
// rotary values on v and the output rotated back by the query's angles.
static void test_attn_ropetime_golden(void **state)
{
	(void)state;
	struct ax_bundle *b = bundle_open("kernels/ropetime.safetensors");
	const char *cases[] = {"ropetime", "ropetimeqk"};
	for (size_t ci = 0; ci < AX_COUNTOF(cases); ci++) {
		const char *cn = cases[ci];
		const int32_t *cfg = gi(b, cn, "cfg"); // B Tq Tk H D rotate_value
		struct attn_ctx c = {.d = {.B = cfg[0], .Tq = cfg[1], .Tk = cfg[2], .H = cfg[3],
					   .D = cfg[4], .rope = 1, .rope_v = cfg[5],
					   .rope_out = cfg[5], .qtime = gf(b, cn, "qtime"),
					   .ktime = gf(b, cn, "ktime"),
					   .key_pad = get(b, cn, "key_pad", AX_U8, 0)->data}};
		attn_golden_case(b, cn, &c, 1);
	}
	bundle_close(b);
}

// The time rotary against the direct formula: with one key the softmax is 1,
// so out = R(-w tq) R(w tk) v = R(w (tk - tq)) v pair by pair, with
// w_i = 2 pi / (tmin (tmax/tmin)^(4i/D)) on the first D/4 pairs, 0 after;
// and the scores depend on time differences only (a common shift of every
// time changes nothing but rounding).
static void test_attn_ropetime_formula(void **state)
{
	(void)state;
	enum { D = 16 };
	float q[D], k[D], v[D], out[D], qt = 0.3125f, kt = 0.2871f;
	for (int i = 0; i < D; i++)
		q[i] = 0.1f * (float)i - 0.5f, k[i] = 0.05f * (float)(i % 5), v[i] = 1.0f - 0.1f * i;
	struct ax_attn_desc d = {.B = 1, .Tq = 1, .Tk = 1, .H = 1, .D = D, .rope = 1, .rope_v = 1,
				 .rope_out = 1, .qtime = &qt, .ktime = &kt};
	float *saved = zerov(ax_attn_saved_size(&d));
	ax_attn_forward(&d, q, k, v, out, saved);
	for (int i = 0; i < D / 2; i++) {
		double w = i < D / 4 ? 2 * M_PI / (1e-4 * pow(4.0 / 1e-4, 4.0 * i / D)) : 0.0;
		assert_true(fabs(ax_rope_time_freq(i, D, 0, 0) - w) <= 1e-12 * w);
		double a = w * ((double)kt - (double)qt), c = cos(a), s = sin(a);
		double y0 = v[2 * i] * c - v[2 * i + 1] * s, y1 = v[2 * i] * s + v[2 * i + 1] * c;
		assert_true(fabs(out[2 * i] - y0) < 2e-4 && fabs(out[2 * i + 1] - y1) < 2e-4);
	}
	// two keys, then every time shifted by 0.5 s: same output
	float k2[2 * D], v2[2 * D], kt2[2] = {0.25f, 0.375f}, qt2 = 0.3125f, o1[D], o2[D];
	for (int i = 0; i < 2 * D; i++)
		k2[i] = 0.3f * sinf((float)i), v2[i] = cosf(0.7f * (float)i);
	struct ax_attn_desc d2 = {.B = 1, .Tq = 1, .Tk = 2, .H = 1, .D = D, .rope = 1,
				  .rope_v = 1, .rope_out = 1, .qtime = &qt2, .ktime = kt2};
	float *saved2 = zerov(ax_attn_saved_size(&d2));
	ax_attn_forward(&d2, q, k2, v2, o1, saved2);
	qt2 += 0.5f, kt2[0] += 0.5f, kt2[1] += 0.5f;
	ax_attn_forward(&d2, q, k2, v2, o2, saved2);
	tu_assert_close(o2, o1, D, 2e-3, 1e-3, "time rotary: shift invariance");
	free(saved), free(saved2);
}

// A query row that sees no key: zeros out, zero gradients, never NaN.
static void test_attn_dead_rows(void **state)
{
	(void)state;
	int32_t qpos[2] = {0, 5}, kpos[3] = {1, 2, 3};
	struct ax_attn_desc d = {.B = 1, .Tq = 2, .Tk = 3, .H = 1, .D = 2, .causal = 1,
				 .qpos = qpos, .kpos = kpos, .rope = 1};
	struct attn_ctx c = {.d = d};
	c.q = randv(4, 1);
	c.k = randv(6, 1);
	c.v = randv(6, 1);
	attn_alloc(&c);
	float out[4], dout[4] = {1, 1, 1, 1}, dq[4] = {0}, dk[6] = {0}, dv[6] = {0};
	attn_fwd(&c, out);
	assert_true(out[0] == 0.0f && out[1] == 0.0f); // query at 0 precedes all keys
	assert_true(out[2] != 0.0f);
	ax_attn_backward(&c.d, c.q, c.k, c.v, c.saved, dout, dq, dk, dv, c.work);
	assert_true(dq[0] == 0.0f && dq[1] == 0.0f);
	for (int i = 0; i < 6; i++)
		assert_true(isfinite(dk[i]) && isfinite(dv[i]));
	free(c.q), free(c.k), free(c.v), free(c.saved), free(c.work);
}

// Same inputs, same results, bit for bit, on one thread and on several (each
// (b, h) is computed by one thread, whichever).
static void test_attn_deterministic(void **state)
{
	(void)state;
	struct ax_attn_desc d = {.B = 3, .Tq = 33, .Tk = 33, .H = 4, .D = 16, .causal = 1,
				 .rope = 1};
	size_t n = (size_t)d.B * d.Tq * d.H * d.D;
	float *q = randv(n, 1), *k = randv(n, 1), *v = randv(n, 1), *R = randv(n, 1);
	float *res[2][4];
	int nt = omp_get_max_threads();
	for (int run = 0; run < 2; run++) {
		omp_set_num_threads(run == 0 ? 1 : 3);
		float *saved = zerov(ax_attn_saved_size(&d)), *work = zerov(ax_attn_work_size(&d));
		for (int j = 0; j < 4; j++)
			res[run][j] = zerov(n);
		ax_attn_forward(&d, q, k, v, res[run][0], saved);
		ax_attn_backward(&d, q, k, v, saved, R, res[run][1], res[run][2], res[run][3], work);
		free(saved), free(work);
	}
	omp_set_num_threads(nt);
	for (int j = 0; j < 4; j++) {
		assert_memory_equal(res[0][j], res[1][j], n * sizeof(float));
		free(res[0][j]), free(res[1][j]);
	}
	free(q), free(k), free(v), free(R);
}

/* ---- convolution, pooling ---- */

struct conv_ctx {
	struct ax_conv_desc d;
	float *x, *w, *b, *work;
};

static void conv_fwd(void *p, float *out)
{
	struct conv_ctx *c = p;
	ax_conv2d_forward(&c->d, c->x, c->w, c->b, out, c->work);
}

static void test_conv_golden(void **state)
{
	(void)state;
	struct ax_bundle *b = bundle_open("kernels/conv.safetensors");
	const char *cases[] = {"s2p1", "s1p0", "k1", "s2p2", "s1p1"};
	for (size_t ci = 0; ci < AX_COUNTOF(cases); ci++) {
		const char *cn = cases[ci];
		const int32_t *g = gi(b, cn, "cfg"); // B Cin H W Cout KH KW stride pad has_bias
		struct ax_conv_desc d = {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], 0, 0};
		size_t nx = gcount(b, cn, "x"), nw = gcount(b, cn, "w"), ny = gcount(b, cn, "y");
		assert_int_equal(ny, (size_t)d.B * d.Cout * ax_conv_out_h(&d) * ax_conv_out_w(&d));
		float *y = zerov(ny), *dx = zerov(nx), *dw = zerov(nw), *db = zerov(d.Cout);
		float *work = zerov(ax_conv_work_size(&d));
		const float *bias = gf_opt(b, cn, "b");
		ax_conv2d_forward(&d, gf(b, cn, "x"), gf(b, cn, "w"), bias, y, work);
		close_to(y, b, cn, "y");
		ax_conv2d_backward(&d, gf(b, cn, "x"), gf(b, cn, "w"), gf(b, cn, "R"), dx, dw,
				   bias ? db : NULL, work, 0);
		close_to(dx, b, cn, "dx");
		close_to(dw, b, cn, "dw");
		if (bias)
			close_to(db, b, cn, "db");
		free(y), free(dx), free(dw), free(db), free(work);
	}
	// pooling: cfg B C H W k s
	const char *pools[] = {"max2", "max3", "avg2", "avg3"};
	for (size_t ci = 0; ci < AX_COUNTOF(pools); ci++) {
		const char *cn = pools[ci];
		const int32_t *g = gi(b, cn, "cfg");
		size_t nx = gcount(b, cn, "x"), ny = gcount(b, cn, "y");
		float *y = zerov(ny), *dx = zerov(nx);
		int32_t *am = ax_xcalloc(ny, sizeof(int32_t));
		if (cn[0] == 'm') {
			ax_maxpool2d_forward(g[0], g[1], g[2], g[3], g[4], g[5], gf(b, cn, "x"), y,
					     am);
			ax_maxpool2d_backward(g[0], g[1], g[2], g[3], g[4], g[5], am,
					      gf(b, cn, "R"), dx, 0);
		} else {
			ax_avgpool2d_forward(g[0], g[1], g[2], g[3], g[4], g[5], gf(b, cn, "x"), y);
			ax_avgpool2d_backward(g[0], g[1], g[2], g[3], g[4], g[5], gf(b, cn, "R"), dx, 0);
		}
		close_to(y, b, cn, "y");
		close_to(dx, b, cn, "dx");
		free(y), free(dx), free(am);
	}
	bundle_close(b);
}

static void test_conv_gradcheck(void **state)
{
	(void)state;
	struct ax_conv_desc ds[] = {{2, 2, 5, 4, 3, 3, 3, 2, 1, 0, 0}, {1, 3, 3, 3, 2, 1, 1, 1, 0, 0, 0},
				    {1, 2, 4, 5, 2, 2, 3, 1, 1, 0, 0}, {3, 2, 5, 4, 3, 3, 3, 1, 1, 2, 0}};
	for (size_t i = 0; i < AX_COUNTOF(ds); i++) {
		struct conv_ctx c = {.d = ds[i]};
		struct ax_conv_desc *d = &c.d;
		size_t nx = (size_t)d->B * d->Cin * d->H * d->W,
		       nw = (size_t)d->Cout * d->Cin * d->KH * d->KW,
		       ny = (size_t)d->B * d->Cout * ax_conv_out_h(d) * ax_conv_out_w(d);
		c.x = randv(nx, 1);
		c.w = randv(nw, 1);
		c.b = randv(d->Cout, 1);
		c.work = zerov(ax_conv_work_size(d));
		float *y = zerov(ny), *R = randv(ny, 1), *dx = zerov(nx), *dw = zerov(nw),
		      *db = zerov(d->Cout);
		conv_fwd(&c, y);
		ax_conv2d_backward(d, c.x, c.w, R, dx, dw, db, c.work, 0);
		gradcheck("conv dx", conv_fwd, &c, y, ny, R, c.x, nx, dx, 1e-2f, 1e-3, 2e-3);
		gradcheck("conv dw", conv_fwd, &c, y, ny, R, c.w, nw, dw, 1e-2f, 1e-3, 2e-3);
		gradcheck("conv db", conv_fwd, &c, y, ny, R, c.b, d->Cout, db, 1e-2f, 1e-3, 2e-3);
		free(c.x), free(c.w), free(c.b), free(c.work);
		free(y), free(R), free(dx), free(dw), free(db);
	}
}

/* The direct sum, in double: y[b,o,oh,ow] = bias[o] + sum w[o,c,kh,kw] x[b,c,ih,iw];
 * with R the upstream gradient, dx, dw are that sum's derivatives. */
static void conv_naive(const struct ax_conv_desc *d, const float *x, const float *w,
		       const float *bias, const float *R, double *y, double *dx, double *dw)
{
	int OH = ax_conv_out_h(d), OW = ax_conv_out_w(d);
	for (int b = 0; b < d->B; b++)
		for (int o = 0; o < d->Cout; o++)
			for (int oh = 0; oh < OH; oh++)
				for (int ow = 0; ow < OW; ow++) {
					size_t yi = (((size_t)b * d->Cout + o) * OH + oh) * OW + ow;
					double acc = bias[o];
					for (int ci = 0; ci < d->Cin; ci++)
						for (int kh = 0; kh < d->KH; kh++)
							for (int kw = 0; kw < d->KW; kw++) {
								int ih = oh * d->stride - d->pad + kh;
								int iw = ow * d->stride - d->pad + kw;
								if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W)
									continue;
								size_t xi = (((size_t)b * d->Cin + ci) * d->H + ih) * d->W + iw;
								size_t wi = (((size_t)o * d->Cin + ci) * d->KH + kh) * d->KW + kw;
								acc += (double)w[wi] * x[xi];
								dx[xi] += (double)w[wi] * R[yi];
								dw[wi] += (double)x[xi] * R[yi];
							}
					y[yi] = acc;
				}
}

static void assert_near_d(const float *a, const double *ref, size_t n, const char *what)
{
	float *r = zerov(n);
	for (size_t i = 0; i < n; i++)
		r[i] = (float)ref[i];
	tu_assert_close(a, r, n, 1e-5, 1e-4, what);
	free(r);
}

/* Chunks of the im2col panel: every chunk size (1, one that does not divide
 * B, all of B, the automatic one) gives the direct sum's values, with stride,
 * padding (one wider than the kernel reach) and 1x1; "same" convolutions
 * (stride 1, output the input's size: the contiguous path) with 3x3, 5x5,
 * a 1x1 image and a plane narrower than the kernel; 3x3 with padding 1 (the
 * direct path) on 28x28 from 9 to 11 channels, so that a block of output
 * channels is partly padding and the backward groups end with a short one;
 * backward accumulates.
 * Teams of 2 and 3 threads (more threads than chunks, too) give y and dx
 * bit for bit as without one, and dw to rounding. */
static void test_conv_chunks(void **state)
{
	(void)state;
	struct ax_conv_desc ds[] = {{5, 2, 6, 5, 3, 3, 3, 1, 1, 0, 0}, {5, 3, 7, 6, 4, 3, 3, 2, 1, 0, 0},
				    {5, 3, 4, 3, 2, 1, 1, 1, 0, 0, 0}, {5, 2, 5, 4, 3, 2, 3, 2, 3, 0, 0},
				    {5, 2, 6, 7, 3, 5, 5, 1, 2, 0, 0}, {5, 1, 1, 1, 2, 3, 3, 1, 1, 0, 0},
				    {5, 2, 2, 1, 3, 3, 3, 1, 1, 0, 0}, {5, 9, 28, 28, 11, 3, 3, 1, 1, 0, 0}};
	int chunks[] = {1, 2, 3, 5, 0};
	for (size_t i = 0; i < AX_COUNTOF(ds); i++) {
		struct ax_conv_desc d = ds[i];
		size_t nx = (size_t)d.B * d.Cin * d.H * d.W, nw = (size_t)d.Cout * d.Cin * d.KH * d.KW,
		       ny = (size_t)d.B * d.Cout * ax_conv_out_h(&d) * ax_conv_out_w(&d);
		float *x = randv(nx, 1), *w = randv(nw, 1), *bias = randv(d.Cout, 1), *R = randv(ny, 1);
		double *ry = calloc(ny, sizeof(double)), *rdx = calloc(nx, sizeof(double)),
		       *rdw = calloc(nw, sizeof(double));
		conv_naive(&d, x, w, bias, R, ry, rdx, rdw);
		for (size_t j = 0; j < nx; j++)
			rdx[j] += 1.0; // backward adds to what dx held
		float *y0 = zerov(ny), *dx0 = zerov(nx);
		for (size_t ch = 0; ch < AX_COUNTOF(chunks); ch++)
			for (int team = 0; team <= 3; team += team ? 1 : 2) {
				d.chunk = chunks[ch], d.team = team;
				float *y = zerov(ny), *dx = zerov(nx), *dw = zerov(nw);
				float *work = zerov(ax_conv_work_size(&d));
				for (size_t j = 0; j < nx; j++)
					dx[j] = 1.0f;
				ax_conv2d_forward(&d, x, w, bias, y, work);
				ax_conv2d_backward(&d, x, w, R, dx, dw, NULL, work, 0);
				assert_near_d(y, ry, ny, "conv chunk y");
				assert_near_d(dx, rdx, nx, "conv chunk dx");
				assert_near_d(dw, rdw, nw, "conv chunk dw");
				if (!team)
					memcpy(y0, y, ny * sizeof *y), memcpy(dx0, dx, nx * sizeof *dx);
				assert_memory_equal(y, y0, ny * sizeof *y);
				assert_memory_equal(dx, dx0, nx * sizeof *dx);
				free(y), free(dx), free(dw), free(work);
			}
		free(y0), free(dx0);
		free(x), free(w), free(bias), free(R), free(ry), free(rdx), free(rdw);
	}
}

/* The direct 3x3 path fixes the order of every sum, whatever the vector
 * width: an AVX2 build and an AVX-512 build give these bits (FNV-1a of y,
 * dx and dw, one thread), and so the same training runs. Builds without FMA
 * round differently and skip it. */
static uint64_t fnv1a(const float *v, size_t n)
{
	const unsigned char *p = (const unsigned char *)v;
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n * sizeof *v; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

// n values in [-1, 1) from their own LCG: independent of the tests before
static float *lcg_values(size_t n, uint32_t seed)
{
	float *v = ax_xmalloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		v[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
	}
	return v;
}

static void test_conv3_bits(void **state)
{
	(void)state;
#ifdef __FMA__
	struct ax_conv_desc ds[] = {{3, 5, 9, 7, 9, 3, 3, 1, 1, 0, 1}, {4, 16, 14, 14, 32, 3, 3, 1, 1, 0, 1}};
	uint64_t want[][3] = {{0x0b14b431b9f43fa5, 0xb630e751c5ca4b1e, 0xc3690ce4960a7849},
			      {0xc2aafe5ce5d963d0, 0x8f8815d99b529e86, 0x7b687d6651c6dde7}};
	for (size_t i = 0; i < AX_COUNTOF(ds); i++) {
		struct ax_conv_desc d = ds[i];
		size_t nx = (size_t)d.B * d.Cin * d.H * d.W, nw = (size_t)d.Cout * d.Cin * 9,
		       ny = (size_t)d.B * d.Cout * d.H * d.W;
		float *x = lcg_values(nx, 11), *w = lcg_values(nw, 12), *R = lcg_values(ny, 13);
		float *y = zerov(ny), *dx = zerov(nx), *dw = zerov(nw), *work = zerov(ax_conv_work_size(&d));
		ax_conv2d_forward(&d, x, w, NULL, y, work);
		ax_conv2d_backward(&d, x, w, R, dx, dw, NULL, work, 0);
		uint64_t got[3] = { fnv1a(y, ny), fnv1a(dx, nx), fnv1a(dw, nw) };
		for (int k = 0; k < 3; k++)
			assert_true(got[k] == want[i][k]);
		free(x), free(w), free(R), free(y), free(dx), free(dw), free(work);
	}
#else
	skip();
#endif
}

/* assign_dx: a backward given dx full of NaN writes every element, with the
 * bits of adding to zeros: conv (direct path and im2col), batchnorm (image
 * and row layouts), layernorm, rmsnorm, max and average pooling. */
static void assert_assign_same(const float *acc, float *dx, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(&acc[i], &dx[i], sizeof *dx))
			fail_msg("%s: element %zu is %g, adding to zeros gave %g", what, i, dx[i], acc[i]);
}

static float *nanv(size_t n)
{
	float *v = ax_xmalloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = NAN;
	return v;
}

static void test_assign_dx(void **state)
{
	(void)state;
	struct ax_conv_desc ds[] = {{3, 5, 9, 7, 9, 3, 3, 1, 1, 0, 0}, {3, 2, 6, 5, 3, 3, 3, 2, 1, 0, 0}};
	for (size_t i = 0; i < AX_COUNTOF(ds); i++) {
		struct ax_conv_desc d = ds[i];
		size_t nx = (size_t)d.B * d.Cin * d.H * d.W, nw = (size_t)d.Cout * d.Cin * 9,
		       ny = (size_t)d.B * d.Cout * ax_conv_out_h(&d) * ax_conv_out_w(&d);
		float *x = lcg_values(nx, 21), *w = lcg_values(nw, 22), *dy = lcg_values(ny, 23);
		float *acc = zerov(nx), *dx = nanv(nx), *work = zerov(ax_conv_work_size(&d));
		ax_conv2d_backward(&d, x, w, dy, acc, NULL, NULL, work, 0);
		ax_conv2d_backward(&d, x, w, dy, dx, NULL, NULL, work, 1);
		assert_assign_same(acc, dx, nx, "conv dx");
		free(x), free(w), free(dy), free(acc), free(dx), free(work);
	}
	for (int S = 1; S <= 9; S += 8) {
		int B = 4, C = 3;
		size_t n = (size_t)B * C * S;
		float *x = lcg_values(n, 31), *dy = lcg_values(n, 32), *g = lcg_values(C, 33);
		float mean[3], rstd[3], *acc = zerov(n), *dx = nanv(n);
		ax_batchnorm_stats(B, C, S, x, 1e-5f, mean, rstd, NULL);
		ax_batchnorm_backward(B, C, S, 1, x, mean, rstd, g, dy, acc, NULL, NULL, 0);
		ax_batchnorm_backward(B, C, S, 1, x, mean, rstd, g, dy, dx, NULL, NULL, 1);
		assert_assign_same(acc, dx, n, "batchnorm dx");
		free(x), free(dy), free(g), free(acc), free(dx);
	}
	for (int rms = 0; rms < 2; rms++) {
		int N = 5, C = 37; // rows longer than a vector, with a tail
		size_t n = (size_t)N * C;
		float *x = lcg_values(n, 51), *dy = lcg_values(n, 52), *g = lcg_values(C, 53);
		float *y = zerov(n), mean[5], rstd[5], *acc = zerov(n), *dx = nanv(n);
		if (rms) {
			ax_rmsnorm_forward(N, C, x, g, 1e-5f, y, rstd);
			ax_rmsnorm_backward(N, C, x, g, rstd, dy, acc, NULL, 0);
			ax_rmsnorm_backward(N, C, x, g, rstd, dy, dx, NULL, 1);
		} else {
			ax_layernorm_forward(N, C, x, g, NULL, 1e-5f, y, mean, rstd);
			ax_layernorm_backward(N, C, x, g, mean, rstd, dy, acc, NULL, NULL, 0);
			ax_layernorm_backward(N, C, x, g, mean, rstd, dy, dx, NULL, NULL, 1);
		}
		assert_assign_same(acc, dx, n, rms ? "rmsnorm dx" : "layernorm dx");
		free(x), free(dy), free(g), free(y), free(acc), free(dx);
	}
	int B = 2, C = 3, H = 7, W = 6; // a row and no column left over
	size_t nx = (size_t)B * C * H * W, ny = (size_t)B * C * 3 * 3;
	float *x = lcg_values(nx, 41), *y = zerov(ny), *dy = lcg_values(ny, 42);
	float *acc = zerov(nx), *dx = nanv(nx);
	int32_t *am = ax_xmalloc(ny * sizeof *am);
	ax_maxpool2d_forward(B, C, H, W, 2, 2, x, y, am);
	ax_maxpool2d_backward(B, C, H, W, 2, 2, am, dy, acc, 0);
	ax_maxpool2d_backward(B, C, H, W, 2, 2, am, dy, dx, 1);
	assert_assign_same(acc, dx, nx, "maxpool dx");
	memset(acc, 0, nx * sizeof *acc);
	for (size_t i = 0; i < nx; i++)
		dx[i] = NAN;
	ax_avgpool2d_backward(B, C, H, W, 2, 2, dy, acc, 0);
	ax_avgpool2d_backward(B, C, H, W, 2, 2, dy, dx, 1);
	assert_assign_same(acc, dx, nx, "avgpool dx");
	free(x), free(y), free(dy), free(acc), free(dx), free(am);
}

struct pool_ctx {
	int B, C, H, W, k, s, max;
	float *x;
	int32_t *am;
};

static void pool_fwd(void *p, float *out)
{
	struct pool_ctx *c = p;
	if (c->max)
		ax_maxpool2d_forward(c->B, c->C, c->H, c->W, c->k, c->s, c->x, out, c->am);
	else
		ax_avgpool2d_forward(c->B, c->C, c->H, c->W, c->k, c->s, c->x, out);
}

static void test_pool_gradcheck(void **state)
{
	(void)state;
	for (int max = 0; max < 2; max++)
		for (int k = 2; k <= 3; k++) {
			struct pool_ctx c = {.B = 2, .C = 2, .H = 7, .W = 6, .k = k, .s = 2, .max = max};
			size_t nx = 2 * 2 * 7 * 6;
			int OH = (c.H - k) / 2 + 1, OW = (c.W - k) / 2 + 1;
			size_t ny = 2 * 2 * OH * OW;
			// distinct values spaced far beyond eps, so no argmax flips
			c.x = zerov(nx);
			for (size_t i = 0; i < nx; i++)
				c.x[i] = (float)((i * 37) % nx) * 0.1f;
			c.am = ax_xcalloc(ny, sizeof(int32_t));
			float *y = zerov(ny), *R = randv(ny, 1), *dx = zerov(nx);
			pool_fwd(&c, y);
			if (max)
				ax_maxpool2d_backward(c.B, c.C, c.H, c.W, k, 2, c.am, R, dx, 0);
			else
				ax_avgpool2d_backward(c.B, c.C, c.H, c.W, k, 2, R, dx, 0);
			gradcheck(max ? "maxpool" : "avgpool", pool_fwd, &c, y, ny, R, c.x, nx, dx,
				  1e-2f, 1e-3, 2e-3);
			free(c.x), free(c.am), free(y), free(R), free(dx);
		}
}

/* Max pool against the plain per-window scan: ties go to the first position
 * of the window in (i, j) order, a NaN wins over numbers (and the first NaN
 * stays); overlapping windows (stride 1) and a stride larger than k. */
static void test_maxpool_ties_nan(void **state)
{
	(void)state;
	const int geo[][2] = { { 2, 2 }, { 3, 1 }, { 2, 3 } }; // k s
	int B = 2, C = 2, H = 7, W = 8;
	size_t nx = (size_t)B * C * H * W;
	float *x = zerov(nx);
	struct ax_rng r;
	ax_rng_seed(&r, 5);
	/* many ties: i mod 3 (none between horizontal neighbours), then 0 or 1
	 * at random (ties between any two positions of a window) */
	for (size_t trial = 0; trial < 2 * AX_COUNTOF(geo); trial++) {
		size_t g = trial % AX_COUNTOF(geo);
		for (size_t i = 0; i < nx; i++)
			x[i] = trial >= AX_COUNTOF(geo) ? (float)ax_rng_below(&r, 2) : (float)((i * 7) % 3);
		x[9] = NAN, x[10] = NAN, x[60] = NAN;
		int k = geo[g][0], s = geo[g][1], OH = (H - k) / s + 1, OW = (W - k) / s + 1;
		size_t ny = (size_t)B * C * OH * OW;
		float *y = zerov(ny);
		int32_t *am = ax_xcalloc(ny, sizeof(int32_t));
		ax_maxpool2d_forward(B, C, H, W, k, s, x, y, am);
		for (int bc = 0; bc < B * C; bc++)
			for (int oh = 0; oh < OH; oh++)
				for (int ow = 0; ow < OW; ow++) {
					const float *xp = x + (size_t)bc * H * W;
					int best = oh * s * W + ow * s;
					for (int i = 0; i < k; i++)
						for (int j = 0; j < k; j++) {
							int at = (oh * s + i) * W + ow * s + j;
							if (xp[at] > xp[best] || (isnan(xp[at]) && !isnan(xp[best])))
								best = at;
						}
					size_t o = ((size_t)bc * OH + oh) * OW + ow;
					assert_int_equal(am[o], best);
					assert_true(isnan(xp[best]) ? isnan(y[o]) : y[o] == xp[best]);
				}
		free(y), free(am);
	}
	free(x);
}

/* ---- linear scan ---- */

struct scan_ctx {
	int B, T, D;
	float *a, *b, *h0;
};

static void scan_fwd(void *p, float *out)
{
	struct scan_ctx *c = p;
	ax_scan_forward(c->B, c->T, c->D, c->a, c->b, c->h0, out);
}

static void test_scan(void **state)
{
	(void)state;
	struct ax_bundle *g = bundle_open("kernels/rnn.safetensors");
	const int32_t *cfg = gi(g, "scan", "cfg"); // B T D
	int B = cfg[0], T = cfg[1], D = cfg[2];
	size_t n = (size_t)B * T * D;
	float *h = zerov(n), *da = zerov(n), *db = zerov(n), *dh0 = zerov(B * D);
	ax_scan_forward(B, T, D, gf(g, "scan", "a"), gf(g, "scan", "b"), gf(g, "scan", "h0"), h);
	close_to(h, g, "scan", "h");
	ax_scan_backward(B, T, D, gf(g, "scan", "a"), gf(g, "scan", "h0"), h, gf(g, "scan", "R"),
			 da, db, dh0);
	close_to(da, g, "scan", "da");
	close_to(db, g, "scan", "db");
	close_to(dh0, g, "scan", "dh0");
	free(h), free(da), free(db), free(dh0);
	bundle_close(g);

	// gradcheck with D wider than one lane block, with and without h0
	for (int with_h0 = 0; with_h0 < 2; with_h0++) {
		struct scan_ctx c = {.B = 2, .T = 5, .D = 70};
		size_t m = (size_t)c.B * c.T * c.D;
		c.a = randv(m, 0.9f);
		c.b = randv(m, 1);
		c.h0 = with_h0 ? randv(c.B * c.D, 1) : NULL;
		float *out = zerov(m), *R = randv(m, 1), *ga = zerov(m), *gb = zerov(m),
		      *gh0 = zerov(c.B * c.D);
		scan_fwd(&c, out);
		ax_scan_backward(c.B, c.T, c.D, c.a, c.h0, out, R, ga, gb, c.h0 ? gh0 : NULL);
		gradcheck("scan da", scan_fwd, &c, out, m, R, c.a, m, ga, 1e-2f, 1e-3, 2e-3);
		gradcheck("scan db", scan_fwd, &c, out, m, R, c.b, m, gb, 1e-2f, 1e-3, 2e-3);
		if (c.h0)
			gradcheck("scan dh0", scan_fwd, &c, out, m, R, c.h0, c.B * c.D, gh0, 1e-2f,
				  1e-3, 2e-3);
		free(c.a), free(c.b), free(c.h0), free(out), free(R), free(ga), free(gb), free(gh0);
	}
}

/* ---- GRU ---- */

struct gru_ctx {
	int B, T, I, H;
	float *x, *h0, *wi, *wh, *bi, *bh, *saved;
};

static void gru_fwd(void *p, float *out)
{
	struct gru_ctx *c = p;
	ax_gru_forward(c->B, c->T, c->I, c->H, c->x, c->h0, c->wi, c->wh, c->bi, c->bh, out,
		       c->saved);
}

static void test_gru_golden(void **state)
{
	(void)state;
	struct ax_bundle *g = bundle_open("kernels/rnn.safetensors");
	const char *cases[] = {"gru", "gru0"};
	for (size_t ci = 0; ci < AX_COUNTOF(cases); ci++) {
		const char *cn = cases[ci];
		const int32_t *cfg = gi(g, cn, "cfg"); // B T I H has_h0
		int B = cfg[0], T = cfg[1], I = cfg[2], H = cfg[3];
		const float *h0 = cfg[4] ? gf(g, cn, "h0") : NULL;
		size_t nh = (size_t)B * T * H;
		float *hs = zerov(nh), *saved = zerov(ax_gru_saved_size(B, T, I, H));
		float *work = zerov(ax_gru_work_size(B, T, I, H));
		float *dx = zerov(B * T * I), *dh0 = zerov(B * H), *dwi = zerov(3 * H * I),
		      *dwh = zerov(3 * H * H), *dbi = zerov(3 * H), *dbh = zerov(3 * H);
		ax_gru_forward(B, T, I, H, gf(g, cn, "x"), h0, gf(g, cn, "w_ih"), gf(g, cn, "w_hh"),
			       gf(g, cn, "b_ih"), gf(g, cn, "b_hh"), hs, saved);
		close_to(hs, g, cn, "hs");
		ax_gru_backward(B, T, I, H, gf(g, cn, "x"), h0, gf(g, cn, "w_ih"), gf(g, cn, "w_hh"),
				hs, saved, gf(g, cn, "R"), dx, h0 ? dh0 : NULL, dwi, dwh, dbi, dbh,
				work);
		close_to(dx, g, cn, "dx");
		if (h0)
			close_to(dh0, g, cn, "dh0");
		close_to(dwi, g, cn, "dw_ih");
		close_to(dwh, g, cn, "dw_hh");
		close_to(dbi, g, cn, "db_ih");
		close_to(dbh, g, cn, "db_hh");
		free(hs), free(saved), free(work), free(dx), free(dh0), free(dwi), free(dwh);
		free(dbi), free(dbh);
	}
	bundle_close(g);
}

static void test_gru_gradcheck(void **state)
{
	(void)state;
	struct gru_ctx c = {.B = 2, .T = 4, .I = 3, .H = 5};
	int B = c.B, T = c.T, I = c.I, H = c.H;
	c.x = randv(B * T * I, 1);
	c.h0 = randv(B * H, 1);
	c.wi = randv(3 * H * I, 0.8f);
	c.wh = randv(3 * H * H, 0.8f);
	c.bi = randv(3 * H, 0.5f);
	c.bh = randv(3 * H, 0.5f);
	c.saved = zerov(ax_gru_saved_size(B, T, I, H));
	size_t nh = (size_t)B * T * H;
	float *hs = zerov(nh), *R = randv(nh, 1), *work = zerov(ax_gru_work_size(B, T, I, H));
	float *dx = zerov(B * T * I), *dh0 = zerov(B * H), *dwi = zerov(3 * H * I),
	      *dwh = zerov(3 * H * H), *dbi = zerov(3 * H), *dbh = zerov(3 * H);
	gru_fwd(&c, hs);
	ax_gru_backward(B, T, I, H, c.x, c.h0, c.wi, c.wh, hs, c.saved, R, dx, dh0, dwi, dwh, dbi,
			dbh, work);
	gradcheck("gru dx", gru_fwd, &c, hs, nh, R, c.x, B * T * I, dx, 1e-2f, 1e-3, 2e-3);
	gradcheck("gru dh0", gru_fwd, &c, hs, nh, R, c.h0, B * H, dh0, 1e-2f, 1e-3, 2e-3);
	gradcheck("gru dw_ih", gru_fwd, &c, hs, nh, R, c.wi, 3 * H * I, dwi, 1e-2f, 1e-3, 2e-3);
	gradcheck("gru dw_hh", gru_fwd, &c, hs, nh, R, c.wh, 3 * H * H, dwh, 1e-2f, 1e-3, 2e-3);
	gradcheck("gru db_ih", gru_fwd, &c, hs, nh, R, c.bi, 3 * H, dbi, 1e-2f, 1e-3, 2e-3);
	gradcheck("gru db_hh", gru_fwd, &c, hs, nh, R, c.bh, 3 * H, dbh, 1e-2f, 1e-3, 2e-3);
	// NULL gradients skipped; the rest accumulate
	float *dwh2 = copyv(dwh, 3 * H * H);
	ax_gru_backward(B, T, I, H, c.x, c.h0, c.wi, c.wh, hs, c.saved, R, NULL, NULL, NULL, dwh2,
			NULL, NULL, work);
	for (int i = 0; i < 3 * H * H; i++)
		dwh[i] *= 2;
	tu_assert_close(dwh2, dwh, 3 * H * H, 1e-6, 1e-5, "gru accumulate dw_hh");
	// saturated gates stay finite
	for (int i = 0; i < B * T * I; i++)
		c.x[i] *= 1e4f;
	gru_fwd(&c, hs);
	for (size_t i = 0; i < nh; i++)
		assert_true(isfinite(hs[i]));
	free(c.x), free(c.h0), free(c.wi), free(c.wh), free(c.bi), free(c.bh), free(c.saved);
	free(hs), free(R), free(work), free(dx), free(dh0), free(dwi), free(dwh), free(dbi);
	free(dbh), free(dwh2);
}

/* ---- top-k ---- */

static void topk_brute(int C, int k, const float *x, int32_t *idx)
{
	// rank[j] = how many beat j (larger, or equal with a lower index)
	int n = 0;
	for (int j = 0; j < C; j++) {
		int rank = 0;
		for (int i = 0; i < C; i++)
			rank += x[i] > x[j] || (x[i] == x[j] && i < j);
		if (rank < k)
			idx[n++] = j;
	}
	assert_int_equal(n, k);
}

static void test_topk(void **state)
{
	(void)state;
	float x[2][6] = {{0.5f, 2, 2, -1, 2, 0.5f}, {3, 1, 4, 1, 5, 9}};
	int32_t idx[2][3];
	ax_topk_rows(2, 6, 3, &x[0][0], &idx[0][0]);
	int32_t want[2][3] = {{1, 2, 4}, {2, 4, 5}};
	assert_memory_equal(idx, want, sizeof want);
	ax_topk_rows(2, 6, 2, &x[0][0], &idx[0][0]); // ties to the lower index
	assert_true(idx[0][0] == 1 && idx[0][1] == 2);
	int32_t all[6];
	ax_topk_rows(1, 6, 6, x[1], all);
	for (int i = 0; i < 6; i++)
		assert_int_equal(all[i], i);
	// random rows with many ties against brute force, several k
	int N = 20, C = 50;
	float *r = zerov(N * C);
	for (int i = 0; i < N * C; i++)
		r[i] = (float)(int)(frand() * 6);
	int32_t *got = ax_xmalloc(N * C * sizeof(int32_t)), ref[50];
	for (int k = 1; k <= C; k += 7) {
		ax_topk_rows(N, C, k, r, got);
		for (int n = 0; n < N; n++) {
			topk_brute(C, k, r + n * C, ref);
			assert_memory_equal(got + n * k, ref, k * sizeof(int32_t));
		}
	}
	free(r), free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgemm),
		cmocka_unit_test(test_sgemv),
		cmocka_unit_test(test_conv3_bits),
		cmocka_unit_test(test_assign_dx),
		cmocka_unit_test(test_blas_core_upgrade),
		cmocka_unit_test(test_math_helpers),
		cmocka_unit_test(test_norm_golden),
		cmocka_unit_test(test_norm_gradcheck),
		cmocka_unit_test(test_softmax),
		cmocka_unit_test(test_xent),
		cmocka_unit_test(test_rows_threads),
		cmocka_unit_test(test_attn_golden),
		cmocka_unit_test(test_attn_gradcheck),
		cmocka_unit_test(test_attn_dead_rows),
		cmocka_unit_test(test_attn_ropetime_golden),
		cmocka_unit_test(test_attn_ropetime_formula),
		cmocka_unit_test(test_attn_deterministic),
		cmocka_unit_test(test_conv_golden),
		cmocka_unit_test(test_conv_gradcheck),
		cmocka_unit_test(test_conv_chunks),
		cmocka_unit_test(test_pool_gradcheck),
		cmocka_unit_test(test_maxpool_ties_nan),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_gru_golden),
		cmocka_unit_test(test_gru_gradcheck),
		cmocka_unit_test(test_topk),
	};
	return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
