/* test-md-geom.c — the mirror-descent step (lib/optim.c) against PyTorch
 * and direct formulas, p = 1.5 and 3 rounded stage by stage, p = 2 against
 * SGD bit for bit; md-geom's statistic against NumPy and on exact samples of
 * a dual change; the correlated regression inputs, the regression and
 * fine-tuning loops. Reference:
 * scripts/ref/md_geom.py -> tests/ref/md-geom/md_geom.safetensors. */
#include "testutil.h"

#include "../../cmd/md-geom/data.c"
#include "../../cmd/md-geom/eval.c"
#include "../../cmd/md-geom/model.c"
#include "../../cmd/md-geom/score.c"
#include "../../cmd/md-geom/train.c"

#include <math.h>
#include <string.h>

static const char *const pot_names[] = { "negentropy", "p1.5", "p2", "p3" };

static struct ax_potential pot_of(const char *name)
{
	struct ax_potential p;
	assert_int_equal(ax_potential_parse(name, &p), AX_OK);
	return p;
}

static const struct ax_array *ref_get(const struct ax_bundle *b, const char *name)
{
	const struct ax_array *a = ax_bundle_find(b, name);
	if (!a)
		fail_msg("reference has no '%s'", name);
	return a;
}

static void load_ref(struct ax_bundle *b)
{
	ax_bundle_init(b);
	if (ax_bundle_load(tu_ref("md-geom/md_geom.safetensors"), b))
		fail_msg("%s", ax_error_detail());
}

/* Three steps with momentum 0.9 from weights with zeros and both signs,
 * against torch (float64), and grad phi against torch's. */
static void test_step_against_torch(void **state)
{
	(void)state;
	struct ax_bundle b;
	load_ref(&b);
	const struct ax_array *w0 = ref_get(&b, "step.w0"), *g = ref_get(&b, "step.g");
	size_t n = ax_array_count(w0);
	for (size_t k = 0; k < AX_COUNTOF(pot_names); k++) {
		struct ax_potential pot = pot_of(pot_names[k]);
		float w[16], m[16] = { 0 };
		memcpy(w, w0->data, n * sizeof(float));
		for (int s = 0; s < 3; s++)
			ax_md_update(n, w, (const float *)g->data + s * n, m, pot, 0.05f, 0.9f);
		char name[64];
		snprintf(name, sizeof name, "step.%s", pot_names[k]);
		tu_assert_close(w, ref_get(&b, name)->data, n, 1e-7, 2e-5, name);
		snprintf(name, sizeof name, "dual.%s", pot_names[k]);
		const double *dual = ref_get(&b, name)->data;
		for (size_t i = 0; i < n; i++) {
			double got = ax_potential_grad(pot, ((const float *)w0->data)[i]);
			if (isnan(dual[i]))
				assert_true(isnan(got));
			else if (!(fabs(got - dual[i]) <= 1e-12 + 1e-12 * fabs(dual[i])))
				fail_msg("%s %zu: %.17g vs %.17g", pot_names[k], i, got, dual[i]);
		}
	}
	ax_bundle_free(&b);
}

/* One step without momentum against the formulas in double: negentropy
 * multiplies (signs kept, zeros stay), p-norm moves signpow(w, p-1). */
static void test_step_formulas(void **state)
{
	(void)state;
	const float w0[] = { 0.7f, -0.4f, 0.0f, 2e-3f, -1.5f }, g[] = { 1.0f, 2.0f, -3.0f, -50.0f, 0.5f };
	const float lr = 0.1f;
	for (size_t k = 0; k < AX_COUNTOF(pot_names); k++) {
		struct ax_potential pot = pot_of(pot_names[k]);
		float w[5];
		memcpy(w, w0, sizeof w);
		ax_md_update(5, w, g, NULL, pot, lr, 0.0f);
		for (int i = 0; i < 5; i++) {
			double want;
			if (pot.kind == AX_POT_NEGENTROPY) {
				double s = (w0[i] > 0) - (w0[i] < 0);
				want = w0[i] * exp(-(double)lr * s * g[i]);
				assert_true(w[i] * w0[i] > 0 || (w0[i] == 0 && w[i] == 0));
			} else {
				double z = ax_potential_grad(pot, w0[i]) - (double)lr * g[i];
				want = ax_potential_inverse(pot, z, 1);
			}
			assert_true(fabs(w[i] - want) <= 1e-6 * (1 + fabs(want)));
			/* the inverse undoes grad phi */
			if (w0[i] != 0) {
				double z = ax_potential_grad(pot, w0[i]);
				double back = ax_potential_inverse(pot, z, w0[i] < 0 ? -1 : 1);
				if (!(fabs(back - w0[i]) <= 1e-12 * fabs(w0[i]) + 1e-15))
					fail_msg("%s %d: %.17g vs %.17g", pot_names[k], i, back, w0[i]);
			}
		}
	}
}

/* p = 1.5 and p = 3 round each stage correctly: the dual sqrt(|w|) or w^2
 * and the way back, as float(double result) computes them (the double root
 * of a float, rounded to float, is the correctly rounded float root). powf
 * with exponent 0.5 misses by one ulp in about 0.06% of floats, which 20000
 * draws over eight decades would catch. */
static void test_sqrt_square_steps_rounded(void **state)
{
	(void)state;
	enum { n = 20000 };
	static float w0[n], g[n], w[n];
	struct ax_rng r;
	ax_rng_seed(&r, 5);
	for (int i = 0; i < n; i++) {
		float mag = powf(10.0f, -6.0f + 8.0f * ax_rng_uniform(&r));
		w0[i] = ax_rng_uniform(&r) < 0.5f ? -mag : mag;
		g[i] = ax_rng_normal(&r) * powf(10.0f, -3.0f + 6.0f * ax_rng_uniform(&r));
	}
	w0[0] = 0.0f;
	const float lr = 1e-3f;
	for (int k = 0; k < 2; k++) {
		int is_p3 = k == 1;
		memcpy(w, w0, sizeof w);
		ax_md_update(n, w, g, NULL, pot_of(is_p3 ? "p3" : "p1.5"), lr, 0.0f);
		for (int i = 0; i < n; i++) {
			float a = fabsf(w0[i]);
			float dual = is_p3 ? (float)((double)a * a) : (float)sqrt((double)a);
			float z = copysignf(dual, w0[i]) - lr * g[i], az = fabsf(z);
			float want = copysignf(is_p3 ? (float)sqrt((double)az) : (float)((double)az * az), z);
			if (memcmp(&w[i], &want, sizeof want) != 0)
				fail_msg("%s w0 %a g %a: %a, want %a", is_p3 ? "p3" : "p1.5", w0[i], g[i], w[i], want);
		}
	}
}

/* The optimiser with p = 2 is SGD with momentum, bit for bit. */
static void test_p2_is_sgd(void **state)
{
	(void)state;
	struct ax_arena arena;
	struct ax_params p;
	struct ax_optim md, sgd;
	struct ax_rng r;
	ax_arena_init(&arena, 0);
	ax_params_init(&p, &arena);
	struct ax_tensor *a = ax_param(&p, 2, (int[]){ 7, 9 }, "a"), *b = ax_param(&p, 1, (int[]){ 5 }, "b");
	ax_rng_seed(&r, 3);
	ax_init_normal(a, &r, 1.0f);
	ax_init_normal(b, &r, 1.0f);
	float *wa = ax_xmalloc(a->size * sizeof(float)), *wb = ax_xmalloc(b->size * sizeof(float));
	memcpy(wa, a->data, a->size * sizeof(float));
	memcpy(wb, b->data, b->size * sizeof(float));
	ax_optim_init(&md, AX_OPTIM_MD, &p);
	ax_optim_init(&sgd, AX_OPTIM_SGD, &p);
	md.momentum = sgd.momentum = 0.9f;
	assert_true(md.potential.kind == AX_POT_PNORM && md.potential.p == 2.0);
	float *ra = ax_xmalloc(a->size * sizeof(float)), *rb = ax_xmalloc(b->size * sizeof(float));
	for (int pass = 0; pass < 2; pass++) {
		struct ax_rng gr;
		ax_rng_seed(&gr, 11);
		memcpy(a->data, wa, a->size * sizeof(float));
		memcpy(b->data, wb, b->size * sizeof(float));
		for (int s = 0; s < 6; s++) {
			ax_rng_fill_normal(&gr, a->grad, a->size, 0, 1);
			ax_rng_fill_normal(&gr, b->grad, b->size, 0, 1);
			ax_optim_step(pass ? &sgd : &md, ax_sched_cosine(s, 0, 6, 0.1f, 0));
		}
		if (pass == 0) {
			memcpy(ra, a->data, a->size * sizeof(float));
			memcpy(rb, b->data, b->size * sizeof(float));
		}
	}
	assert_memory_equal(ra, a->data, a->size * sizeof(float));
	assert_memory_equal(rb, b->data, b->size * sizeof(float));
	assert_true(memcmp(ra, wa, a->size * sizeof(float)) != 0);
	free(wa); free(wb); free(ra); free(rb);
	ax_params_free(&p);
	ax_arena_free(&arena);
}

static void test_potential_names(void **state)
{
	(void)state;
	struct ax_potential c[MDG_MAX_CANDIDATES];
	char name[32];
	int n = mdg_default_candidates(c);
	assert_int_equal(n, 21);
	ax_potential_name(c[0], name, sizeof name);
	assert_string_equal(name, "negentropy");
	ax_potential_name(c[1], name, sizeof name);
	assert_string_equal(name, "p1.1");
	ax_potential_name(c[10], name, sizeof name);
	assert_string_equal(name, "p2");
	ax_potential_name(c[15], name, sizeof name);
	assert_string_equal(name, "p2.5");
	ax_potential_name(c[20], name, sizeof name);
	assert_string_equal(name, "p3");
	assert_int_equal(mdg_parse_candidates("negentropy,p2,p1.25", c, &n), AX_OK);
	assert_int_equal(n, 3);
	assert_true(c[2].kind == AX_POT_PNORM && c[2].p == 1.25);
	const char *bad[] = { "p1", "p0.5", "q2", "p", "p 2", "p2x", "pnan", "negentropy,", ",p2", "" };
	for (size_t i = 0; i < AX_COUNTOF(bad); i++)
		assert_int_equal(mdg_parse_candidates(bad[i], c, &n), AX_ERR_ARG);
}

static struct mdg_pair pair_from(const double *w0, const double *w1, size_t n)
{
	struct mdg_pair pr;
	double *a = ax_xmalloc(n * sizeof *a), *b = ax_xmalloc(n * sizeof *b);
	memcpy(a, w0, n * sizeof *a);
	memcpy(b, w1, n * sizeof *b);
	mdg_pair_init(&pr, n, a, b);
	return pr;
}

/* Distances, relative changes and left-out counts against NumPy. */
static void test_score_against_numpy(void **state)
{
	(void)state;
	struct ax_bundle b;
	load_ref(&b);
	const struct ax_array *w0 = ref_get(&b, "score.w0"), *w1 = ref_get(&b, "score.w1");
	const double *dist = ref_get(&b, "score.distance")->data;
	const double *rel = ref_get(&b, "score.rel_change")->data;
	const int32_t *inv = ref_get(&b, "score.invalid")->data;
	struct mdg_pair pr = pair_from(w0->data, w1->data, ax_array_count(w0));
	struct ax_potential c[MDG_MAX_CANDIDATES];
	struct mdg_score s[MDG_MAX_CANDIDATES];
	int n = mdg_default_candidates(c);
	for (int i = 0; i < n; i++) {
		mdg_score(&pr, c[i], &s[i]);
		assert_true(fabs(s[i].distance - dist[i]) < 1e-9);
		assert_true(fabs(s[i].rel_change - rel[i]) < 1e-9 * rel[i]);
		assert_int_equal(s[i].invalid, inv[i]);
	}
	assert_int_equal(s[0].invalid, 4);        /* three sign changes and a zero */
	assert_int_equal(mdg_best(s, n), 0);
	mdg_pair_free(&pr);
	ax_bundle_free(&b);
}

/* Candidates whose dual maps differ clearly: p-norms 0.25 apart, and
 * negentropy from p >= 1.5 (as p -> 1, sign(w)|w|^(p-1) tends to
 * 1 + (p-1) log|w| in shape: p1.1 is nearly negentropy). */
static int far_apart(struct ax_potential a, struct ax_potential b)
{
	if (a.kind == AX_POT_NEGENTROPY || b.kind == AX_POT_NEGENTROPY)
		return a.kind != b.kind && AX_MAX(a.p, b.p) >= 1.5;
	return fabs(a.p - b.p) > 0.25;
}

/* An exact normal dual change of the true potential scores near zero (the
 * sampling error of n = 20000 values is about 0.01); the others clearly
 * more. Also the degenerate inputs. */
static void test_score_recovers_potential(void **state)
{
	(void)state;
	enum { D = 20000 };
	float w0[D], w1[D];
	double a[D], b[D];
	const char *truth[] = { "negentropy", "p2", "p3", "p1.5" };
	for (size_t k = 0; k < AX_COUNTOF(truth); k++) {
		struct mdg_synth syn = { MDG_INIT_LOGNORMAL, D, 0.1, 1.0 };
		mdg_synth(&syn, pot_of(truth[k]), 5 + k, w0, w1);
		for (int i = 0; i < D; i++)
			a[i] = w0[i], b[i] = w1[i];
		struct mdg_pair pr = pair_from(a, b, D);
		struct ax_potential c[MDG_MAX_CANDIDATES];
		struct mdg_score s[MDG_MAX_CANDIDATES];
		int n = mdg_default_candidates(c), want = -1;
		for (int i = 0; i < n; i++) {
			mdg_score(&pr, c[i], &s[i]);
			char name[32];
			ax_potential_name(c[i], name, sizeof name);
			if (!strcmp(name, truth[k]))
				want = i;
		}
		if (!(s[want].distance < 0.03))
			fail_msg("%s: %g", truth[k], s[want].distance);
		assert_int_equal(mdg_best(s, n), want);
		for (int i = 0; i < n; i++)
			if (far_apart(c[i], c[want]))
				if (!(s[i].distance > 3 * s[want].distance + 0.02))
					fail_msg("%s: candidate %d at %g, true at %g", truth[k], i,
						 s[i].distance, s[want].distance);
		mdg_pair_free(&pr);
	}
	double one[3] = { 1, 1, 1 };
	assert_true(isnan(mdg_cdf_distance(one, 3)));
	assert_true(isnan(mdg_cdf_distance(one, 1)));
	/* A sample exactly at the normal quantiles is nearly at distance 0. */
	double qv[999];
	for (int i = 0; i < 999; i++) {  /* Phi^-1 by bisection */
		double lo = -10, hi = 10, p = (i + 0.5) / 999;
		for (int it = 0; it < 100; it++) {
			double mid = 0.5 * (lo + hi);
			if (normal_cdf(mid) < p)
				lo = mid;
			else
				hi = mid;
		}
		qv[i] = lo;
	}
	assert_true(mdg_cdf_distance(qv, 999) < 2e-3);
}

static void test_fft(void **state)
{
	(void)state;
	enum { M = 16 };
	double re[M], im[M], x[M], y[M], tw[M];
	for (int j = 0; j < M; j++)
		re[j] = x[j] = sin(j * 1.3) + j % 3, im[j] = y[j] = cos(j * 0.7);
	mdg_fft_table(M, tw);
	mdg_fft(M, tw, re, im);
	for (int k = 0; k < M; k++) {
		double sr = 0, si = 0;
		for (int j = 0; j < M; j++) {
			double a = -2 * M_PI * j * k / M;
			sr += x[j] * cos(a) - y[j] * sin(a);
			si += x[j] * sin(a) + y[j] * cos(a);
		}
		assert_true(fabs(re[k] - sr) < 1e-10 && fabs(im[k] - si) < 1e-10);
	}
}

/* Sample covariance of the circulant-embedded rows is C. */
static void test_correlated_rows(void **state)
{
	(void)state;
	enum { D = 6, R = 40000 };
	float *x = ax_xmalloc((size_t)R * D * sizeof *x);
	struct ax_rng r;
	ax_rng_seed(&r, 9);
	for (int q = 1; q <= 2; q++) {
		assert_int_equal(mdg_corr_rows(D, q, R, &r, x), AX_OK);
		for (int i = 0; i < D; i++)
			for (int j = 0; j < D; j++) {
				double c = 0;
				for (int s = 0; s < R; s++)
					c += (double)x[s * D + i] * x[s * D + j];
				c /= R;
				int lag = abs(i - j);
				double want = (lag % 2 ? -1.0 : 1.0) / pow(1 + lag, q);
				assert_true(fabs(c - want) < 0.03);
			}
	}
	assert_int_equal(mdg_corr_rows(D, -1.0, 2, &r, x), AX_ERR_NUMERIC); /* (-1)^k (1 + k) */
	free(x);
}

/* The regression loop fits N << D points; the search finds a rate; under
 * negentropy no weight changes sign. */
static void test_regression(void **state)
{
	(void)state;
	struct mdg_regress t;
	assert_int_equal(mdg_regress_make(&t, 200, 14, 1, 4), AX_OK);
	for (int i = 0; i < t.N; i++)
		assert_true(t.y[i] == 1 || t.y[i] == -1);
	float w0[200], w[200], loss[101];
	struct ax_rng r;
	ax_rng_seed(&r, 1);
	ax_rng_fill_normal(&r, w0, 200, 0, 1 / sqrtf(200));
	for (size_t k = 0; k < AX_COUNTOF(pot_names); k++) {
		struct mdg_md md = { pot_of(pot_names[k]), 100, 0, 0.9f };
		int chosen = -1;
		for (int i = MDG_NLR - 1; i >= 0 && chosen < 0; i--) {
			memcpy(w, w0, sizeof w);
			md.lr = (float)mdg_lr_grid(i);
			if (mdg_regress_train(&t, &md, w, loss) == AX_OK && loss[100] < 1e-3)
				chosen = i;
		}
		assert_true(chosen >= 0);
		assert_true(loss[0] > 0.5);
		if (k == 0)
			for (int i = 0; i < 200; i++)
				assert_true(w[i] * w0[i] > 0);
	}
	/* A rate far too large diverges: NUMERIC, not a crash. */
	struct mdg_md big = { pot_of("p2"), 100, 1e3f, 0.9f };
	memcpy(w, w0, sizeof w);
	assert_int_equal(mdg_regress_train(&t, &big, w, loss), AX_ERR_NUMERIC);
	mdg_regress_free(&t);
	assert_true(fabs(mdg_lr_grid(0) - 1e-7) < 1e-20 && fabs(mdg_lr_grid(15) - 0.1) < 1e-15);
}

/* Minimal IDX files: n images whose label is the brightest of 10 stripes. */
static void write_idx(const char *dir, const char *split, int n, uint64_t seed)
{
	char path[512];
	unsigned char *img = ax_xmalloc((size_t)n * 784 + 16), *lab = ax_xmalloc((size_t)n + 8);
	unsigned char hx[16] = { 0, 0, 8, 3, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n, 0, 0, 0, 28, 0, 0, 0, 28 };
	unsigned char hy[8] = { 0, 0, 8, 1, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				(unsigned char)(n >> 8), (unsigned char)n };
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	memcpy(img, hx, 16);
	memcpy(lab, hy, 8);
	for (int i = 0; i < n; i++) {
		int y = (int)ax_rng_below(&r, 10);
		for (int p = 0; p < 784; p++)
			img[16 + (size_t)i * 784 + p] = (unsigned char)(ax_rng_below(&r, 100) +
									 ((p / 28) / 3 == y ? 150 : 0));
		lab[8 + i] = (unsigned char)y;
	}
	snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, split);
	FILE *f = fopen(path, "wb");
	fwrite(img, 1, (size_t)n * 784 + 16, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, split);
	f = fopen(path, "wb");
	fwrite(lab, 1, (size_t)n + 8, f);
	fclose(f);
	free(img);
	free(lab);
}

/* Pretraining learns the stripes; fine-tuning lowers the loss on the few
 * images; negentropy keeps every weight's sign. Both networks. */
static void test_finetune(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	write_idx(dir, "train", 300, 1);
	write_idx(dir, "t10k", 40, 2);
	for (int net = 0; net < 2; net++) {
		struct mdg_finetune cfg = { net, 16, 300, 150, 32, 40, net ? 0.3f : 0.05f, 3 };
		struct mdg_ft_state s;
		assert_int_equal(mdg_ft_begin(&s, &cfg, dir), AX_OK);
		double before = mdg_ft_loss(&s, &s.pre, NULL), acc;
		mdg_pretrain(&s, &cfg);
		double after = mdg_ft_loss(&s, &s.pre, &acc);
		if (!(after < 0.5 * before && acc > 0.8))
			fail_msg("%s: loss %g -> %g, accuracy %g", mdg_net_names[net], before, after, acc);
		float loss[31];
		struct mdg_md md = { pot_of("negentropy"), 30, 0.5f, 0.9f };
		double l = mdg_ft_run(&s, &md, loss);
		assert_true(l < loss[0]);
		struct ax_params *p = &s.model.params;
		for (int i = 0; i < p->n; i++)
			for (size_t j = 0; j < p->list[i]->size; j++)
				assert_true(p->list[i]->data[j] * s.w0[i][j] > 0 ||
					    (s.w0[i][j] == 0 && p->list[i]->data[j] == 0));
		mdg_ft_end(&s);
	}
	struct mdg_finetune big = { MDG_NET_MLP, 8, 5000, 1, 1, 5, 0.1f, 1 };
	struct mdg_ft_state s;
	assert_int_equal(mdg_ft_begin(&s, &big, dir), AX_ERR_ARG);
	assert_int_equal(mdg_ft_begin(&s, &big, "/nonexistent"), AX_ERR_IO);
}

static const char *npy_file(const char *name, const float *a, int n, const float *b, int m)
{
	const char *path = tu_path(name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(ax_npy_write_f32(f, a, 1, (int64_t[]){ n }), AX_OK);
	if (b)
		assert_int_equal(ax_npy_write_f32(f, b, 1, (int64_t[]){ m }), AX_OK);
	fclose(f);
	return path;
}

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static enum ax_status score_paths(const char *a, const char *b, int per_tensor, char *out,
				  size_t cap)
{
	struct ax_potential c[2] = { { AX_POT_NEGENTROPY, 0 }, { AX_POT_PNORM, 2 } };
	struct mdg_score_job job = { a, b, c, 2, per_tensor };
	FILE *o = fmemopen(out, cap, "w"), *e = fopen("/dev/null", "w");
	enum ax_status st = mdg_score_files(&job, o, e);
	fclose(o);
	fclose(e);
	return st;
}

/* Scoring files: rows per tensor of a stream, one flat vector without
 * --per-tensor; mismatched sizes, non-finite weights, integer arrays and
 * empty files are FORMAT errors naming the file. */
static void test_score_files(void **state)
{
	(void)state;
	float a[50], b[50], c[30], d[30];
	struct ax_rng r;
	ax_rng_seed(&r, 2);
	ax_rng_fill_normal(&r, a, 50, 1, 0.1f);
	ax_rng_fill_normal(&r, b, 50, 1, 0.1f);
	ax_rng_fill_normal(&r, c, 30, 1, 0.1f);
	ax_rng_fill_normal(&r, d, 30, 1, 0.1f);
	const char *w0 = npy_file("w0.npy", a, 50, c, 30), *w1 = npy_file("w1.npy", b, 50, d, 30);
	char out[4096];
	assert_int_equal(score_paths(w0, w1, 1, out, sizeof out), AX_OK);
	assert_true(starts_with(out, "tensor,potential,distance,rel_change\n0,negentropy,"));
	assert_non_null(strstr(out, "\n1,p2,"));
	assert_null(strstr(out, "\n2,"));
	assert_int_equal(score_paths(w0, w1, 0, out, sizeof out), AX_OK);
	assert_true(starts_with(out, "potential,distance,rel_change\nnegentropy,"));
	int lines = 0;
	for (const char *s = out; *s; s++)
		lines += *s == '\n';
	assert_int_equal(lines, 3);

	const char *short1 = npy_file("s.npy", b, 49, d, 30);
	assert_int_equal(score_paths(w0, short1, 0, out, sizeof out), AX_ERR_FORMAT);
	tu_assert_detail("holds 80 weights");
	assert_int_equal(score_paths(w0, short1, 1, out, sizeof out), AX_ERR_FORMAT);
	tu_assert_detail("in this array");
	const char *one = npy_file("one.npy", a, 50, NULL, 0);
	assert_int_equal(score_paths(w0, one, 1, out, sizeof out), AX_ERR_FORMAT);
	tu_assert_detail("holds 1 arrays");
	b[7] = NAN;
	const char *bad = npy_file("nan.npy", b, 50, d, 30);
	assert_int_equal(score_paths(w0, bad, 0, out, sizeof out), AX_ERR_FORMAT);
	tu_assert_detail("weight 7 is nan");
	const char *empty = tu_write_file("empty.npy", "", 0);
	assert_int_equal(score_paths(empty, w1, 0, out, sizeof out), AX_ERR_FORMAT);
	tu_assert_detail("empty");
	int32_t ints[3] = { 1, 2, 3 };
	struct ax_array ia = { .dtype = AX_I32, .ndim = 1, .shape = { 3 }, .data = ints };
	assert_int_equal(ax_npy_save(tu_path("int.npy"), &ia), AX_OK);
	assert_int_equal(score_paths(tu_path("int.npy"), w1, 0, out, sizeof out), AX_ERR_FORMAT);
	tu_assert_detail("int32, not float32");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_against_torch),
		cmocka_unit_test(test_step_formulas),
		cmocka_unit_test(test_sqrt_square_steps_rounded),
		cmocka_unit_test(test_p2_is_sgd),
		cmocka_unit_test(test_potential_names),
		cmocka_unit_test(test_score_against_numpy),
		cmocka_unit_test(test_score_recovers_potential),
		cmocka_unit_test(test_score_files),
		cmocka_unit_test(test_fft),
		cmocka_unit_test(test_correlated_rows),
		cmocka_unit_test(test_regression),
		cmocka_unit_test(test_finetune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
