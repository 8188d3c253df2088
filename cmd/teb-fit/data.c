/* data.c — data sets: loading and checking, windows, the synthetic tasks.
 *
 * lingauss: x_t ~ N(0, 1) i.i.d., y_{t+1} = a y_t + c x_t + s e_t. Given the
 * whole past, y_{t+1} ~ N(a y_t + c x_t, s^2); given only y's past, x_t is
 * independent of it (x is white and reaches y one step later), so
 * y_{t+1} ~ N(a y_t, c^2 + s^2). The difference of the two conditional
 * entropies is
 *   TE = 1/2 ln(1 + c^2 / s^2)                       (independent of a).
 * lingauss-multi: x_t ~ N(0, I_d), y_{t+1} = a y_t + c M x_t + s e_t, M the
 * fixed pattern of teb_multi_pattern; the same argument with covariances
 * s^2 I and c^2 M M^T + s^2 I gives
 *   TE = 1/2 ln det(I + (c^2 / s^2) M M^T).
 * lingauss-ar: x_{t+1} = b x_t + sqrt(1 - b^2) u_t (stationary variance 1).
 * Now y's past tells something about x_t: z_t = y_t - a y_{t-1} =
 * c x_{t-1} + s e_{t-1} observes x_{t-1} with noise variance r = s^2 / c^2.
 * With P the steady-state Kalman prediction variance Var(x_t | y_<=t),
 * y_{t+1} | y_<=t ~ N(., c^2 P + s^2), so
 *   TE = 1/2 ln(1 + c^2 P / s^2),
 * P the positive root of P^2 + (1 - b^2)(r - 1) P - (1 - b^2) r = 0 (from
 * P = b^2 P r / (P + r) + 1 - b^2); b = 0 gives P = 1, lingauss.
 *
 * sines (the paper's task): sequences of 120 steps, 5 channels
 * sin(2 pi k t / 20 + phase), k a random permutation of {0.2, ..., 1.0},
 * phases U(0, 2 pi); with probability 0.5 one random channel switches to
 * another k at t = 100. The target is the channel mean (120, 1); the source
 * (120, 5) at step t is the channels' k at step t + 20 plus U(+-0.15) noise:
 * it leads the target by the 20-step horizon, so the last 20 steps of a
 * 100-step history announce a switch (a single noisy label, 0.15 against
 * levels 0.2 apart, would often leave it ambiguous); "group" marks the
 * sequences that switch (1) or not (0).
 */
#include "teb.h"

#include <math.h>
#include <string.h>

const char *const teb_task_names[TEB_NTASKS + 1] = { "lingauss", "lingauss-multi",
						     "lingauss-ar", "sines", NULL };

enum { SINES_T = 120, SINES_SWITCH = 100, SINES_LEAD = 20, SINES_CH = 5, BURN_IN = 200 };

/* ---- loading ---- */

/* arr as float32 (nseq, T, d) dims with its data checked finite. */
static enum ax_status take_array(struct ax_array *a, const char *path, const char *name,
				 int *nseq, int *T, int *dim)
{
	if (a->dtype == AX_BOOL || a->ndim < 1 || a->ndim > 3)
		return ax_error_set(AX_ERR_FORMAT, "%s: '%s' must be numeric (T), (T, d) or "
				    "(sequences, T, d)", path, name);
	int64_t s[3] = { 1, a->shape[0], 1 };
	if (a->ndim == 2)
		s[1] = a->shape[0], s[2] = a->shape[1];
	if (a->ndim == 3)
		s[0] = a->shape[0], s[1] = a->shape[1], s[2] = a->shape[2];
	if (s[0] < 1 || s[1] < 2 || s[2] < 1 || s[0] > 1 << 24 || s[1] > 1 << 28 || s[2] > 4096)
		return ax_error_set(AX_ERR_FORMAT, "%s: '%s' has an empty or oversized shape", path,
				    name);
	if (ax_array_to_f32(a))
		return ax_error_set(AX_ERR_NOMEM, "%s: out of memory converting '%s'", path, name);
	const float *x = a->data;
	for (size_t i = 0, n = ax_array_count(a); i < n; i++)
		if (!isfinite(x[i]))
			return ax_error_set(AX_ERR_FORMAT, "%s: '%s' holds a non-finite value at "
					    "element %zu", path, name, i);
	*nseq = (int)s[0], *T = (int)s[1], *dim = (int)s[2];
	return AX_OK;
}

/* Takes source and target from d->bundle; group (optional) too. */
static enum ax_status take_arrays(struct teb_data *d, const char *path)
{
	struct ax_array *src = (struct ax_array *)ax_bundle_find(&d->bundle, "source");
	struct ax_array *tgt = (struct ax_array *)ax_bundle_find(&d->bundle, "target");
	if (!src || !tgt)
		return ax_error_set(AX_ERR_NOTFOUND, "%s: no '%s' array", path,
				    src ? "target" : "source");
	int ns, Ts, nt, Tt;
	enum ax_status st = take_array(src, path, "source", &ns, &Ts, &d->dx);
	if (!st)
		st = take_array(tgt, path, "target", &nt, &Tt, &d->dy);
	if (st)
		return st;
	if (ns != nt || Ts != Tt)
		return ax_error_set(AX_ERR_FORMAT, "%s: source has %d sequences of %d steps, target "
				    "%d of %d", path, ns, Ts, nt, Tt);
	d->nseq = ns, d->T = Ts;
	d->source = src->data, d->target = tgt->data;
	struct ax_array *g = (struct ax_array *)ax_bundle_find(&d->bundle, "group");
	if (g) {
		if (g->ndim != 1 || g->shape[0] != ns || ax_array_to_f32(g))
			return ax_error_set(AX_ERR_FORMAT, "%s: 'group' must have one label per "
					    "sequence (%d)", path, ns);
		d->group = ax_xmalloc((size_t)ns * sizeof *d->group);
		for (int i = 0; i < ns; i++) {
			float v = ((float *)g->data)[i];
			if (!(v >= 0 && v < 1000))
				return ax_error_set(AX_ERR_FORMAT, "%s: 'group' labels must be "
						    "integers 0..999", path);
			d->group[i] = (int32_t)v;
		}
	}
	const char *te = ax_bundle_meta(&d->bundle, "te_true");
	d->te_true = te ? strtod(te, NULL) : NAN;
	return AX_OK;
}

enum ax_status teb_data_load(struct teb_data *d, const char *path)
{
	memset(d, 0, sizeof *d);
	enum ax_status st = ax_bundle_map(path, &d->bundle);
	if (!st)
		st = take_arrays(d, path);
	return st;
}

enum ax_status teb_data_load_npy(struct teb_data *d, const char *source, const char *target)
{
	memset(d, 0, sizeof *d);
	ax_bundle_init(&d->bundle);
	struct ax_array a[2];
	enum ax_status st = ax_npy_load(source, &a[0]);
	if (st)
		return st;
	if ((st = ax_npy_load(target, &a[1]))) {
		ax_array_free(&a[0]);
		return st;
	}
	/* The bundle takes the arrays over (its entries own their data). */
	const char *names[2] = { "source", "target" };
	for (int i = 0; i < 2; i++)
		ax_bundle_adopt(&d->bundle, ax_xstrdup(names[i]), &a[i]);
	char label[512];
	snprintf(label, sizeof label, "%s + %s", source, target);
	return take_arrays(d, label);
}

enum ax_status teb_data_open(struct teb_data *d, char **files, int nfiles)
{
	memset(d, 0, sizeof *d);
	ax_bundle_init(&d->bundle);
	if (nfiles == 1)
		return teb_data_load(d, files[0]);
	if (nfiles == 2)
		return teb_data_load_npy(d, files[0], files[1]);
	return ax_error_set(AX_ERR_ARG, "give one bundle (source, target) or two NPY files "
			    "(source target), not %d files", nfiles);
}

void teb_data_free(struct teb_data *d)
{
	free(d->group);
	ax_bundle_free(&d->bundle);
	memset(d, 0, sizeof *d);
}

/* ---- windows ---- */

struct teb_span teb_split(const struct teb_data *d, double holdout, int test)
{
	struct teb_span s = { 0, d->nseq, 0, d->T };
	if (d->nseq > 1) {
		int n = (int)lround(holdout * d->nseq);
		if (test)
			s.s0 = d->nseq - n;
		else
			s.s1 = d->nseq - n;
	} else {
		int n = (int)lround(holdout * d->T);
		if (test)
			s.t0 = d->T - n;
		else
			s.t1 = d->T - n;
	}
	return s;
}

long teb_span_windows(const struct teb_span *s, int L, int H)
{
	long per = (long)(s->t1 - s->t0) - L - H + 1;
	return per > 0 && s->s1 > s->s0 ? per * (s->s1 - s->s0) : 0;
}

int teb_window(const struct teb_data *d, const struct teb_span *s, int L, int H, long i,
	       float *yh, float *xh, float *yf)
{
	long per = (long)(s->t1 - s->t0) - L - H + 1;
	int seq = s->s0 + (int)(i / per);
	long t = s->t0 + i % per + L - 1; /* last step of the history */
	const float *y = d->target + (size_t)seq * d->T * d->dy;
	const float *x = d->source + (size_t)seq * d->T * d->dx;
	memcpy(yh, y + (size_t)(t - L + 1) * d->dy, (size_t)L * d->dy * sizeof(float));
	memcpy(xh, x + (size_t)(t - L + 1) * d->dx, (size_t)L * d->dx * sizeof(float));
	memcpy(yf, y + (size_t)(t + 1) * d->dy, (size_t)H * d->dy * sizeof(float));
	return seq;
}

/* ---- synthetic tasks ---- */

void teb_task_defaults(struct teb_task_params *p, enum teb_task task)
{
	memset(p, 0, sizeof *p);
	p->task = task;
	p->coupling = 1.0, p->ar = 0.5, p->noise = 1.0, p->source_ar = 0.8, p->dim = 3;
	p->length = task == TEB_SINES ? 2000 : 20000;
	p->switch_prob = 0.5;
	p->seed = 42;
}

double teb_multi_pattern(int d, int i, int j)
{
	return i == j ? 1.0 : j == (i + 1) % d ? 0.5 : 0.0;
}

/* 1/2 ln det(I + g M M^T) by Cholesky (the factor's diagonal). */
static double multi_te(int d, double g)
{
	double *A = ax_xcalloc((size_t)d * d, sizeof *A), *rhs = ax_xcalloc((size_t)d, sizeof *rhs);
	for (int i = 0; i < d; i++)
		for (int j = 0; j < d; j++) {
			double mm = 0;
			for (int k = 0; k < d; k++)
				mm += teb_multi_pattern(d, i, k) * teb_multi_pattern(d, j, k);
			A[i * d + j] = (i == j) + g * mm;
		}
	enum ax_status st = ax_cholesky_solve(d, A, rhs);
	AX_ASSERT(!st && "I + g M M^T is positive definite");
	double te = 0;
	for (int i = 0; i < d; i++)
		te += log(A[i * d + i]);
	free(A), free(rhs);
	return te;
}

double teb_te_closed_form(const struct teb_task_params *p)
{
	double c2 = p->coupling * p->coupling, s2 = p->noise * p->noise;
	switch (p->task) {
	case TEB_LINGAUSS:
		return 0.5 * log1p(c2 / s2);
	case TEB_LINGAUSS_MULTI:
		return multi_te(p->dim, c2 / s2);
	case TEB_LINGAUSS_AR: {
		if (c2 == 0)
			return 0;
		double q = 1 - p->source_ar * p->source_ar, r = s2 / c2;
		double bq = q * (r - 1), P = 0.5 * (-bq + sqrt(bq * bq + 4 * q * r));
		return 0.5 * log1p(c2 * P / s2);
	}
	default:
		return NAN;
	}
}

/* x (T, dx), y (T, dy) of a lingauss variant, after a burn-in. */
static void gen_lingauss(const struct teb_task_params *p, float *x, float *y, int dx, int dy)
{
	struct ax_rng root, rx, re;
	ax_rng_seed(&root, p->seed);
	rx = ax_rng_split(&root, 1), re = ax_rng_split(&root, 2);
	double b = p->task == TEB_LINGAUSS_AR ? p->source_ar : 0, sb = sqrt(1 - b * b);
	double xs[64] = { 0 }, ys[64] = { 0 }, xn[64];
	for (int d = 0; d < dx; d++)
		xs[d] = ax_rng_normal(&rx);
	for (long t = -BURN_IN; t < p->length; t++) {
		if (t >= 0)
			for (int d = 0; d < AX_MAX(dx, dy); d++) {
				if (d < dx)
					x[t * dx + d] = (float)xs[d];
				if (d < dy)
					y[t * dy + d] = (float)ys[d];
			}
		for (int i = 0; i < dy; i++) {
			double drive = 0;
			for (int j = 0; j < dx; j++)
				drive += (dx == 1 ? 1.0 : teb_multi_pattern(dx, i, j)) * xs[j];
			ys[i] = p->ar * ys[i] + p->coupling * drive + p->noise * ax_rng_normal(&re);
		}
		for (int d = 0; d < dx; d++)
			xn[d] = b * xs[d] + sb * ax_rng_normal(&rx);
		memcpy(xs, xn, sizeof(double) * (size_t)dx);
	}
}

/* One sines sequence into x (T, 5), y (T, 1); returns 1 if it switches. */
static int gen_sines_seq(const struct teb_task_params *p, struct ax_rng *r, float *x, float *y)
{
	int32_t perm[SINES_CH];
	double phase[SINES_CH], k[SINES_CH], knew[SINES_CH];
	ax_rng_permutation(r, perm, SINES_CH);
	for (int c = 0; c < SINES_CH; c++) {
		k[c] = knew[c] = 0.2 * (perm[c] + 1);
		phase[c] = 2 * M_PI * ax_rng_uniform_double(r);
	}
	int sw = ax_rng_uniform_double(r) < p->switch_prob;
	if (sw) {
		int c = (int)ax_rng_below(r, SINES_CH), other = (int)ax_rng_below(r, SINES_CH - 1);
		other += other >= perm[c]; /* any level but the current one */
		knew[c] = 0.2 * (other + 1);
	}
	for (int t = 0; t < SINES_T; t++) {
		double sum = 0;
		for (int c = 0; c < SINES_CH; c++) {
			double kt = t < SINES_SWITCH ? k[c] : knew[c];
			double knext = t + SINES_LEAD < SINES_SWITCH ? k[c] : knew[c];
			sum += sin(2 * M_PI * kt * t / 20 + phase[c]);
			x[t * SINES_CH + c] = (float)(knext + 0.3 * (ax_rng_uniform_double(r) - 0.5));
		}
		y[t] = (float)(sum / SINES_CH);
	}
	return sw;
}

static void put_params(const struct teb_task_params *p, struct ax_bundle *b)
{
	ax_bundle_set_meta(b, "teb.task", teb_task_names[p->task]);
	ax_ckpt_put_long(b, "teb.seed", (long)p->seed);
	ax_ckpt_put_long(b, "teb.length", p->length);
	if (p->task == TEB_SINES) {
		ax_ckpt_put_double(b, "teb.switch_prob", p->switch_prob);
		return;
	}
	ax_ckpt_put_double(b, "teb.coupling", p->coupling);
	ax_ckpt_put_double(b, "teb.ar", p->ar);
	ax_ckpt_put_double(b, "teb.noise", p->noise);
	if (p->task == TEB_LINGAUSS_AR)
		ax_ckpt_put_double(b, "teb.source_ar", p->source_ar);
	if (p->task == TEB_LINGAUSS_MULTI)
		ax_ckpt_put_long(b, "teb.dim", p->dim);
	ax_ckpt_put_double(b, "te_true", teb_te_closed_form(p));
}

void teb_generate(const struct teb_task_params *p, struct ax_bundle *b)
{
	AX_ASSERT(p->length >= 2 && p->dim >= 1 && p->dim <= 64 && "teb_generate: sizes");
	ax_bundle_init(b);
	if (p->task == TEB_SINES) {
		long n = p->length;
		float *x = ax_xmalloc((size_t)n * SINES_T * SINES_CH * sizeof *x);
		float *y = ax_xmalloc((size_t)n * SINES_T * sizeof *y);
		int32_t *g = ax_xmalloc((size_t)n * sizeof *g);
		struct ax_rng root;
		ax_rng_seed(&root, p->seed);
		for (long i = 0; i < n; i++) {
			struct ax_rng r = ax_rng_split(&root, (uint64_t)i);
			g[i] = gen_sines_seq(p, &r, x + i * SINES_T * SINES_CH, y + i * SINES_T);
		}
		ax_bundle_add_f32(b, "source", 3, (int64_t[]){ n, SINES_T, SINES_CH }, x);
		ax_bundle_add_f32(b, "target", 3, (int64_t[]){ n, SINES_T, 1 }, y);
		ax_bundle_add(b, "group", AX_I32, 1, (int64_t[]){ n }, g);
		free(x), free(y), free(g);
	} else {
		int d = p->task == TEB_LINGAUSS_MULTI ? p->dim : 1;
		float *x = ax_xmalloc((size_t)p->length * d * sizeof *x);
		float *y = ax_xmalloc((size_t)p->length * d * sizeof *y);
		gen_lingauss(p, x, y, d, d);
		ax_bundle_add_f32(b, "source", 2, (int64_t[]){ p->length, d }, x);
		ax_bundle_add_f32(b, "target", 2, (int64_t[]){ p->length, d }, y);
		free(x), free(y);
	}
	put_params(p, b);
}

/* ---- `teb-fit gen` ---- */

int teb_cmd_gen(struct teb_opts *o)
{
	if (o->cli.nfiles != 1)
		ax_usage_error("gen: one TASK (lingauss, lingauss-multi, lingauss-ar, sines)");
	if (!o->output)
		ax_usage_error("gen: where to? (-o FILE)");
	struct teb_task_params p = o->task;
	p.task = (enum teb_task)ax_parse_choice("TASK", o->cli.files[0], teb_task_names);
	p.seed = o->cli.common.seed;
	if (!ax_cli_seen(&o->cli, TEB_OPT_LENGTH))
		p.length = p.task == TEB_SINES ? 2000 : 20000;
	struct ax_bundle b;
	teb_generate(&p, &b);
	enum ax_status st = ax_bundle_save(o->output, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, NULL);
	if (!o->cli.common.quiet && p.task != TEB_SINES)
		fprintf(stderr, "%s: %s: closed-form TE %.6f nats per step\n", ax_prog(),
			o->output, teb_te_closed_form(&p));
	return AX_EXIT_OK;
}
