/* eval.c — stitched velocity R^2 on the test trials (`poyo-train eval`) and
 * the Wiener-filter baseline (`poyo-train baseline`), with the same split
 * and the same R^2.
 *
 * Stitching: 1 s windows every 0.5 s inside each test trial (the last one
 * ending at the trial's end); a sample's prediction is the mean over the
 * windows that hold it. R^2 per velocity component over the scored
 * samples, r2 their mean.
 * Wiener filter: ridge regression (ax_ridge_fit) of each velocity
 * component on the spike counts of every unit in --lags bins of --bin
 * seconds before each sample (a causal filter), lambda chosen from
 * {0.1, 1, 10, 100, 1000} on the last 20% of the training trials, then
 * refitted on all of them.
 */
#include "poyo.h"

#include <math.h>
#include <string.h>

#define EVAL_BATCH 16

void poyo_r2(const struct poyo_session *s, const float *pred, double *r2, double *r2x,
	     double *r2y, int *n)
{
	float *y = ax_xmalloc((size_t)s->S * sizeof *y), *p = ax_xmalloc((size_t)s->S * sizeof *p);
	double r[2];
	int k = 0;
	for (int c = 0; c < 2; c++) {
		k = 0;
		for (int i = 0; i < s->S; i++)
			if (isfinite(pred[2 * i + c]))
				y[k] = s->hand_vel[2 * i + c], p[k++] = pred[2 * i + c];
		r[c] = k > 1 ? ax_r2((size_t)k, y, p) : NAN;
	}
	*r2x = r[0], *r2y = r[1], *r2 = 0.5 * (r[0] + r[1]), *n = k;
	free(y), free(p);
}

/* The evaluation windows of test trials, appended to *w (grown). */
static int test_windows(const struct poyo_session *s, struct poyo_window **w)
{
	int n = 0, cap = 16;
	*w = ax_xmalloc((size_t)cap * sizeof **w);
	for (int m = s->ntrain; m < s->M; m++) {
		double a = s->trial_start[m], e = s->trial_end[m];
		for (double t0 = a;; t0 += 0.5 * POYO_WINDOW) {
			int last = t0 + POYO_WINDOW >= e - 1e-6;
			if (n == cap)
				*w = ax_xrealloc(*w, (size_t)(cap *= 2) * sizeof **w);
			(*w)[n++] = (struct poyo_window){ .session = 0, .trial = m,
							  .t0 = last ? fmax(a, e - POYO_WINDOW) : t0 };
			if (last)
				break;
		}
	}
	return n;
}

void poyo_predict(const struct poyo_model *m, const struct poyo_session *s, int sidx,
		  float *pred)
{
	struct ax_arena arena;
	struct ax_tape t;
	ax_arena_init(&arena, 0);
	ax_tape_init(&t, &arena);
	t.no_grad = 1;
	t.training = 0;
	struct poyo_window *w;
	int nw = test_windows(s, &w);
	float *count = ax_xcalloc((size_t)s->S, sizeof *count);
	memset(pred, 0, (size_t)s->S * 2 * sizeof *pred);
	for (int i0 = 0; i0 < nw; i0 += EVAL_BATCH) {
		struct poyo_batch b;
		int B = AX_MIN(EVAL_BATCH, nw - i0);
		poyo_batch_make(&t, s, sidx, w + i0, B, NULL, m->offsets, &b);
		struct ax_tensor *y = poyo_forward(&t, m, &b, NULL);
		for (int q = 0; q < B * b.Q; q++) {
			int k = b.qsample[q];
			if (k < 0)
				continue;
			pred[2 * k] += y->data[2 * q], pred[2 * k + 1] += y->data[2 * q + 1];
			count[k] += 1;
		}
		ax_tape_reset(&t);
	}
	for (int k = 0; k < s->S; k++)
		for (int c = 0; c < 2; c++)
			pred[2 * k + c] = count[k] > 0
				? (float)(pred[2 * k + c] / count[k] * m->cfg.vel_scale) : NAN;
	free(count), free(w);
	ax_tape_free(&t);
	ax_arena_free(&arena);
}

/* CSV rows and the --predict-out stream, one session at a time. */
struct report {
	struct ax_csv csv;
	struct ax_outfile out;
	int has_out;
};

static void report_begin(struct report *r, const char *predict_out)
{
	ax_csv_begin(&r->csv, stdout, "session,r2,r2_x,r2_y,n");
	r->has_out = predict_out != NULL;
	if (r->has_out) {
		enum ax_status st = ax_outfile_open(&r->out, predict_out);
		if (st)
			ax_die_status(AX_EXIT_FAIL, st, predict_out);
	}
}

static void report_session(struct report *r, const struct poyo_session *s, const float *pred)
{
	double r2, rx, ry;
	int n;
	poyo_r2(s, pred, &r2, &rx, &ry, &n);
	ax_csv_rowf(&r->csv, "%s,%.6f,%.6f,%.6f,%d", s->name, r2, rx, ry, n);
	if (r->has_out) {
		enum ax_status st = ax_npy_write_f32(r->out.f, pred, 2, (int64_t[]){ s->S, 2 });
		if (st) {
			ax_outfile_abort(&r->out);
			ax_die_status(AX_EXIT_FAIL, st, "--predict-out");
		}
	}
}

static int report_end(struct report *r, const char *predict_out)
{
	if (r->has_out) {
		enum ax_status st = ax_outfile_commit(&r->out);
		if (st)
			ax_die_status(AX_EXIT_FAIL, st, predict_out);
	}
	return 0;
}

int poyo_cmd_eval(struct poyo_opts *o)
{
	struct ax_bundle ck;
	struct poyo_model m;
	enum ax_status st = poyo_model_load(o->model_path, &m, &ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
	ax_bundle_free(&ck);
	int ns = o->cli.nfiles, first = m.cfg.nsessions - ns;
	if (first < 0)
		ax_die(AX_EXIT_USAGE, "%d sessions given, the model has %d", ns, m.cfg.nsessions);
	struct poyo_session *ss;
	if ((st = poyo_sessions_load(o->cli.files, ns, &ss)))
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	for (int i = 0; i < ns; i++)
		if (ss[i].U != m.cfg.units[first + i])
			ax_die(AX_EXIT_USAGE, "%s: %d units, the model's session %d has %d", ss[i].path,
			       ss[i].U, first + i, m.cfg.units[first + i]);
	struct report r;
	report_begin(&r, o->predict_out);
	for (int i = 0; i < ns; i++) {
		float *pred = ax_xmalloc((size_t)ss[i].S * 2 * sizeof *pred);
		poyo_predict(&m, &ss[i], first + i, pred);
		report_session(&r, &ss[i], pred);
		free(pred);
	}
	poyo_sessions_free(ss, ns);
	poyo_model_free(&m);
	return report_end(&r, o->predict_out);
}

/* ---- the Wiener filter ---- */
struct wiener {
	int lags, U, d;
	double bin;
};

/* Features of sample k: counts of each unit in each of the lag bins
 * [t - (l+1) bin, t - l bin), l = 0..lags-1. x (U * lags). */
static void wiener_features(const struct wiener *wf, const struct poyo_session *s, int k,
			    float *x)
{
	double t = s->hand_t[k], lo = t - wf->lags * wf->bin;
	memset(x, 0, (size_t)wf->d * sizeof *x);
	for (size_t i = poyo_lower_bound(s->spike_t, s->K, (float)lo); i < s->K; i++) {
		double ts = s->spike_t[i];
		if (ts >= t)
			break;
		int l = (int)((t - ts) / wf->bin);
		if (l >= 0 && l < wf->lags)
			x[s->spike_u[i] * wf->lags + l] += 1;
	}
}

/* Rows of samples in trials [m0, m1): X (n, d), Y (n, 2), idx (n). */
static int wiener_rows(const struct wiener *wf, const struct poyo_session *s, int m0, int m1,
		       float **X, float **Y, int **idx)
{
	size_t a = poyo_lower_bound(s->hand_t, (size_t)s->S, s->trial_start[m0]);
	size_t e = poyo_lower_bound(s->hand_t, (size_t)s->S, s->trial_end[m1 - 1]);
	int n = 0;
	*X = ax_xmalloc(((e - a) + 1) * (size_t)wf->d * sizeof **X);
	*Y = ax_xmalloc(((e - a) + 1) * 2 * sizeof **Y);
	*idx = ax_xmalloc(((e - a) + 1) * sizeof **idx);
	for (size_t k = a; k < e; k++) {
		wiener_features(wf, s, (int)k, *X + (size_t)n * wf->d);
		(*Y)[2 * n] = s->hand_vel[2 * k], (*Y)[2 * n + 1] = s->hand_vel[2 * k + 1];
		(*idx)[n++] = (int)k;
	}
	return n;
}

/* One component c of Y: w, b by ridge at lambda. */
static enum ax_status wiener_fit(int n, int d, const float *X, const float *Y, int c,
				 double lambda, float *w, float *b)
{
	float *y = ax_xmalloc((size_t)(n ? n : 1) * sizeof *y);
	for (int i = 0; i < n; i++)
		y[i] = Y[2 * i + c];
	enum ax_status st = ax_ridge_fit(n, d, X, y, lambda, w, b);
	free(y);
	return st;
}

static double wiener_predict1(int d, const float *x, const float *w, float b)
{
	double z = b;
	for (int j = 0; j < d; j++)
		z += (double)w[j] * x[j];
	return z;
}

/* lambda for component c: the best held-out R^2 on the last 20% of rows. */
static double wiener_lambda(int n, int d, const float *X, const float *Y, int c, float *w)
{
	static const double grid[] = { 0.1, 1, 10, 100, 1000 };
	int ntr = (int)(0.8 * n), best = 2;
	double best_r2 = -INFINITY;
	if (ntr < 2 || n - ntr < 2)
		return grid[best];
	float *yt = ax_xmalloc((size_t)(n - ntr) * sizeof *yt);
	float *pt = ax_xmalloc((size_t)(n - ntr) * sizeof *pt), b;
	for (int g = 0; g < (int)AX_COUNTOF(grid); g++) {
		if (wiener_fit(ntr, d, X, Y, c, grid[g], w, &b))
			continue;
		for (int i = ntr; i < n; i++) {
			yt[i - ntr] = Y[2 * i + c];
			pt[i - ntr] = (float)wiener_predict1(d, X + (size_t)i * d, w, b);
		}
		double r2 = ax_r2((size_t)(n - ntr), yt, pt);
		if (r2 > best_r2)
			best_r2 = r2, best = g;
	}
	free(yt), free(pt);
	return grid[best];
}

/* Predictions (S, 2) on the test trials, NaN elsewhere. */
static void wiener_session(const struct wiener *w0, const struct poyo_session *s, int trials,
			   float *pred)
{
	struct wiener wf = *w0;
	wf.U = s->U, wf.d = s->U * wf.lags;
	int ntr = trials > 0 ? AX_MIN(trials, s->ntrain) : s->ntrain, *itr, *ite;
	float *Xtr, *Ytr, *Xte, *Yte, b;
	int n = wiener_rows(&wf, s, 0, ntr, &Xtr, &Ytr, &itr);
	int nt = wiener_rows(&wf, s, s->ntrain, s->M, &Xte, &Yte, &ite);
	float *w = ax_xmalloc((size_t)wf.d * sizeof *w);
	for (int k = 0; k < 2 * s->S; k++)
		pred[k] = NAN;
	for (int c = 0; c < 2; c++) {
		double lambda = wiener_lambda(n, wf.d, Xtr, Ytr, c, w);
		if (wiener_fit(n, wf.d, Xtr, Ytr, c, lambda, w, &b))
			continue;   /* singular: NaN predictions, R^2 NaN */
		for (int i = 0; i < nt; i++)
			pred[2 * ite[i] + c] = (float)wiener_predict1(wf.d, Xte + (size_t)i * wf.d, w, b);
	}
	free(Xtr), free(Ytr), free(itr), free(Xte), free(Yte), free(ite), free(w);
}

int poyo_cmd_baseline(struct poyo_opts *o)
{
	struct poyo_session *ss;
	int ns = o->cli.nfiles;
	enum ax_status st = poyo_sessions_load(o->cli.files, ns, &ss);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	struct wiener wf = { .lags = o->lags, .bin = o->bin };
	struct report r;
	report_begin(&r, o->predict_out);
	for (int i = 0; i < ns; i++) {
		float *pred = ax_xmalloc((size_t)ss[i].S * 2 * sizeof *pred);
		wiener_session(&wf, &ss[i], o->train.trials, pred);
		report_session(&r, &ss[i], pred);
		free(pred);
	}
	poyo_sessions_free(ss, ns);
	return report_end(&r, o->predict_out);
}
