/* eval.c — the TE estimate on held-out windows:
 *
 *   TE ~ E[log d_TE(y' | z, c)] - E[log d_Y(y' | c)]
 *
 * per window summed over the target's dims and averaged over the horizon
 * (nats per step), z and c drawn from the encoders as in training; the mean
 * over windows with a percentile bootstrap interval over windows.
 */
#include "teb.h"

#include <math.h>
#include <string.h>

static double log_normal(double y, double mu, double lv)
{
	double d = y - mu;
	return -0.5 * (log(2 * M_PI) + lv + d * d * exp(-lv));
}

void teb_window_scores(const struct teb_config *c, const struct teb_batch *b,
		       const struct teb_out *o, double *te, double *se_y, double *se_te,
		       double *nll_y, double *nll_te)
{
	int n = c->H * c->dy;
	for (int i = 0; i < b->B; i++) {
		double gain = 0, ey = 0, et = 0, ly = 0, lt = 0;
		for (int j = 0; j < n; j++) {
			size_t k = (size_t)i * n + j;
			double y = b->yf[k], a = log_normal(y, o->mu_y->data[k], o->lv_y->data[k]);
			double e = log_normal(y, o->mu_te->data[k], o->lv_te->data[k]);
			double dy = y - o->mu_y->data[k], dt = y - o->mu_te->data[k];
			gain += e - a, ly -= a, lt -= e, ey += dy * dy, et += dt * dt;
		}
		te[i] = gain / c->H;
		se_y[i] = ey / n, se_te[i] = et / n, nll_y[i] = ly / n, nll_te[i] = lt / n;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void teb_bootstrap(const double *v, long n, int reps, double level, struct ax_rng *r,
		   double *mean, double *lo, double *hi)
{
	double s = 0;
	for (long i = 0; i < n; i++)
		s += v[i];
	*mean = n ? s / n : NAN;
	*lo = *hi = *mean;
	if (n < 2 || reps < 2)
		return;
	double *m = ax_xmalloc((size_t)reps * sizeof *m);
	for (int k = 0; k < reps; k++) {
		double acc = 0;
		for (long i = 0; i < n; i++)
			acc += v[ax_rng_below(r, (uint32_t)n)];
		m[k] = acc / n;
	}
	qsort(m, (size_t)reps, sizeof *m, cmp_double);
	int a = (int)floor((1 - level) / 2 * (reps - 1)), b = (int)ceil((1 + level) / 2 * (reps - 1));
	*lo = m[AX_MAX(a, 0)], *hi = m[AX_MIN(b, reps - 1)];
	free(m);
}

static double mean_of(const double *v, long n)
{
	double s = 0;
	for (long i = 0; i < n; i++)
		s += v[i];
	return n ? s / n : NAN;
}

/* The window indices of span s whose sequence has label group (all if < 0). */
static long pick_windows(const struct teb_data *d, const struct teb_span *s, int L, int H,
			 int group, long *idx)
{
	long all = teb_span_windows(s, L, H), n = 0, per = all ? all / (s->s1 - s->s0) : 1;
	for (long i = 0; i < all; i++)
		if (group < 0 || !d->group || d->group[s->s0 + i / per] == group)
			idx[n++] = i;
	return n;
}

void teb_evaluate(const struct teb_model *m, const struct teb_data *d, const struct teb_span *s,
		  int group, int batch, int reps, double level, uint64_t seed,
		  struct teb_estimate *e)
{
	const struct teb_config *c = &m->cfg;
	long all = teb_span_windows(s, c->L, c->H);
	long *idx = ax_xmalloc((size_t)(all ? all : 1) * sizeof *idx);
	long n = pick_windows(d, s, c->L, c->H, group, idx);
	double *v = ax_xmalloc((size_t)(5 * n + 1) * sizeof *v);
	struct teb_batch b = { .B = batch };
	b.yh = ax_xmalloc((size_t)batch * c->L * c->dy * sizeof(float));
	b.xh = ax_xmalloc((size_t)batch * c->L * c->dx * sizeof(float));
	b.yf = ax_xmalloc((size_t)batch * c->H * c->dy * sizeof(float));
	struct ax_arena arena;
	struct ax_tape t;
	ax_arena_init(&arena, 0);
	ax_tape_init(&t, &arena);
	ax_no_grad_begin(&t);
	struct ax_rng root, noise, boot;
	ax_rng_seed(&root, seed);
	noise = ax_rng_split(&root, 1), boot = ax_rng_split(&root, 2);
	for (long i0 = 0; i0 < n; i0 += batch) {
		b.B = (int)AX_MIN((long)batch, n - i0);
		for (int i = 0; i < b.B; i++)
			teb_window(d, s, c->L, c->H, idx[i0 + i], b.yh + (size_t)i * c->L * c->dy,
				   b.xh + (size_t)i * c->L * c->dx, b.yf + (size_t)i * c->H * c->dy);
		struct teb_out o;
		teb_forward(&t, m, &b, &noise, &o);
		teb_window_scores(c, &b, &o, v + i0, v + n + i0, v + 2 * n + i0, v + 3 * n + i0,
				  v + 4 * n + i0);
		ax_tape_reset(&t);
	}
	e->n = n;
	teb_bootstrap(v, n, reps, level, &boot, &e->te, &e->lo, &e->hi);
	e->mse_y = mean_of(v + n, n), e->mse_te = mean_of(v + 2 * n, n);
	e->nll_y = mean_of(v + 3 * n, n), e->nll_te = mean_of(v + 4 * n, n);
	ax_tape_free(&t);
	ax_arena_free(&arena);
	free(idx), free(v), free(b.yh), free(b.xh), free(b.yf);
}

/* ---- `teb-fit te` ---- */

/* The labels present among the sequences of span s, ascending; returns how many. */
static int span_groups(const struct teb_data *d, const struct teb_span *s, int32_t *out, int max)
{
	int n = 0;
	for (int32_t g = 0; d->group && g < 1000 && n < max; g++)
		for (int i = s->s0; i < s->s1; i++)
			if (d->group[i] == g) {
				out[n++] = g;
				break;
			}
	return n;
}

static void te_row(struct ax_csv *csv, const char *group, const struct teb_estimate *e,
		   double te_true)
{
	ax_csv_rowf(csv, "%s,%ld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6g,%.6g,%.6f", group, e->n, e->te, e->lo,
		    e->hi, e->nll_y, e->nll_te, e->mse_y, e->mse_te, te_true);
}

int teb_cmd_te(struct teb_opts *o)
{
	if (!o->model)
		ax_usage_error("te: which checkpoint? (-m FILE)");
	struct teb_model m;
	struct ax_bundle ck;
	enum ax_status st = teb_load(o->model, &m, &ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
	struct teb_train_opts to;
	if ((st = ax_ckpt_get_settings(&ck, teb_train_settings, teb_n_train_settings, &to)))
		ax_die_status(AX_EXIT_USAGE, st, o->model);
	ax_bundle_free(&ck);
	struct teb_data d;
	if ((st = teb_data_open(&d, o->cli.files, o->cli.nfiles)))
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	if (d.dx != m.cfg.dx || d.dy != m.cfg.dy)
		ax_die(AX_EXIT_USAGE, "%s: a model of %d source and %d target dims, the data has %d "
		       "and %d", o->model, m.cfg.dx, m.cfg.dy, d.dx, d.dy);
	double holdout = ax_cli_seen(&o->cli, TEB_OPT_HOLDOUT) ? o->holdout : to.holdout;
	struct teb_span s = teb_split(&d, holdout, 1);
	if (teb_span_windows(&s, m.cfg.L, m.cfg.H) < 1)
		ax_die(AX_EXIT_USAGE, "%s: no held-out window of %d + %d steps (--holdout %g; 1 "
		       "scores all of a separate file)", o->cli.files[0], m.cfg.L, m.cfg.H, holdout);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "group,windows,te,te_lo,te_hi,nll_y,nll_te,mse_y,mse_te,te_true");
	struct teb_estimate e;
	uint64_t seed = o->cli.common.seed;
	teb_evaluate(&m, &d, &s, -1, 256, o->boot, o->level, seed, &e);
	te_row(&csv, "all", &e, d.te_true);
	int32_t groups[64];
	int ng = span_groups(&d, &s, groups, 64);
	for (int i = 0; i < ng; i++) {
		char name[16];
		snprintf(name, sizeof name, "%d", groups[i]);
		teb_evaluate(&m, &d, &s, groups[i], 256, o->boot, o->level, seed, &e);
		te_row(&csv, name, &e, d.te_true);
	}
	teb_data_free(&d);
	teb_model_free(&m);
	return AX_EXIT_OK;
}
