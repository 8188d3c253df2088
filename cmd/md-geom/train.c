/* train.c — mirror-descent training: the paper's linear regression, and
 * pretraining + fine-tuning of a small network; the learning-rate search
 * both use. */
#include "md_geom.h"

#include <math.h>
#include <string.h>

double mdg_lr_grid(int i)
{
	return pow(10.0, -7.0 + 0.4 * i);
}

int mdg_lr_search(double (*run)(void *ctx, float lr), void *ctx, int nlr, double target,
		  double *loss, int *met)
{
	int best = -1;
	*met = 0;
	*loss = NAN;
	for (int i = nlr - 1; i >= 0; i--) {
		double l = run(ctx, (float)mdg_lr_grid(i));
		if (isfinite(l) && (best < 0 || l < *loss)) {
			best = i;
			*loss = l;
		}
		if (l < target) {
			*met = 1;
			return i;
		}
	}
	return best;
}

/* A loss that grew this much over its start counts as diverged. */
#define MDG_BLOWUP 1e6

/* One full-batch step at index s of md->steps: the loss of w, then (s <
 * steps) the gradient 2/N X^T (X w - y) and the mirror-descent update. */
static double regress_step(const struct mdg_regress *t, const struct mdg_md *md, int s, float *w,
			   float *m, float *r, float *g)
{
	int D = t->D, N = t->N;
	ax_sgemv(0, N, D, 1.0f, t->X, w, 0.0f, r); /* r = X w */
	double l = 0;
	for (int i = 0; i < N; i++) {
		r[i] -= t->y[i];
		l += (double)r[i] * r[i];
	}
	if (s < md->steps) {
		ax_sgemv(1, N, D, 2.0f / N, t->X, r, 0.0f, g); /* g = 2/N X^T r */
		float lr = ax_sched_cosine(s, 0, md->steps, md->lr, 0.0f);
		ax_md_update((size_t)D, w, g, m, md->pot, lr, md->momentum);
	}
	return l / N;
}

enum ax_status mdg_regress_train(const struct mdg_regress *t, const struct mdg_md *md, float *w,
				 float *loss)
{
	float *r = ax_xmalloc((size_t)t->N * sizeof *r), *g = ax_xmalloc((size_t)t->D * sizeof *g);
	float *m = ax_xcalloc((size_t)t->D, sizeof *m);
	enum ax_status st = AX_OK;
	for (int s = 0; s <= md->steps; s++) {
		loss[s] = (float)regress_step(t, md, s, w, m, r, g);
		if (!isfinite(loss[s]) || loss[s] > MDG_BLOWUP * (loss[0] + 1)) {
			st = ax_error_set(AX_ERR_NUMERIC, "loss %g at step %d", loss[s], s);
			break;
		}
	}
	free(r);
	free(g);
	free(m);
	return st;
}

struct regress_search {
	const struct mdg_regress *t;
	struct mdg_md md;
	const float *w0;
	float *w, *loss;
};

static double regress_try(void *ctx, float lr)
{
	struct regress_search *c = ctx;
	memcpy(c->w, c->w0, (size_t)c->t->D * sizeof *c->w);
	c->md.lr = lr;
	if (mdg_regress_train(c->t, &c->md, c->w, c->loss))
		return NAN;
	return c->loss[c->md.steps];
}

/* Says which rate the search chose; AX_ERR_NUMERIC if every one diverged. */
static enum ax_status search_report(const char *what, int i, int nlr, double loss, int met,
				    double target, int steps, int quiet, float *lr)
{
	if (i < 0)
		return ax_error_set(AX_ERR_NUMERIC, "%s diverged at every learning rate of "
				    "logspace(-7, %g, %d)", what, log10(mdg_lr_grid(nlr - 1)), nlr);
	*lr = (float)mdg_lr_grid(i);
	if (!quiet)
		fprintf(stderr, "%s: %s: learning rate %.3g: loss %.3g after %d steps (%s %g)\n",
			ax_prog(), what, *lr, loss, steps, met ? "under" : "none reached", target);
	return AX_OK;
}

/* The chosen run on the training run: CSV rows step,loss,lr. */
static int regress_final(const struct mdg_regress *t, const struct mdg_md *md,
			 const struct ax_common *c, float *w)
{
	float *r = ax_xmalloc((size_t)t->N * sizeof *r), *g = ax_xmalloc((size_t)t->D * sizeof *g);
	float *m = ax_xcalloc((size_t)t->D, sizeof *m);
	struct ax_run run;
	struct ax_csv csv;
	ax_run_init(&run, &c->run, md->steps, c->quiet);
	ax_csv_begin(&csv, stdout, "step,loss,lr");
	while (ax_run_next(&run)) {
		float lr = ax_sched_cosine(run.step, 0, md->steps, md->lr, 0.0f);
		unsigned d = ax_run_step_done(&run, regress_step(t, md, (int)run.step, w, m, r, g));
		if (d & AX_RUN_LOG)
			ax_csv_rowf(&csv, "%ld,%.9g,%.9g", run.step, ax_run_mean_loss(&run), lr);
	}
	free(r);
	free(g);
	free(m);
	return ax_run_finish(&run);
}

enum ax_status mdg_regress_run(const struct mdg_train_cfg *cfg, const struct ax_common *c,
			       int *code)
{
	struct mdg_regress t;
	enum ax_status st = mdg_regress_make(&t, cfg->D, cfg->N, cfg->q, c->seed);
	if (st)
		return st;
	float *w0 = ax_xmalloc((size_t)cfg->D * sizeof *w0), *w = ax_xmalloc((size_t)cfg->D * sizeof *w);
	float *loss = ax_xmalloc(((size_t)cfg->steps + 1) * sizeof *loss);
	struct ax_rng root, rw;
	ax_rng_seed(&root, c->seed);
	rw = ax_rng_split(&root, 4);
	ax_rng_fill_normal(&rw, w0, (size_t)cfg->D, 0.0f, 1.0f / sqrtf((float)cfg->D));
	struct mdg_md md = { cfg->pot, cfg->steps, (float)cfg->lr, (float)cfg->momentum };
	if (!(cfg->lr > 0)) {
		struct regress_search s = { &t, md, w0, w, loss };
		double best;
		int met, i = mdg_lr_search(regress_try, &s, MDG_NLR, cfg->target, &best, &met);
		st = search_report("regression", i, MDG_NLR, best, met, cfg->target, cfg->steps,
				   c->quiet, &md.lr);
	}
	if (!st) {
		memcpy(w, w0, (size_t)cfg->D * sizeof *w);
		*code = regress_final(&t, &md, c, w);
		st = mdg_save_weights(cfg->out_dir, "w0.npy", w0, (size_t)cfg->D);
		if (!st)
			st = mdg_save_weights(cfg->out_dir, "w1.npy", w, (size_t)cfg->D);
	}
	free(w0);
	free(w);
	free(loss);
	mdg_regress_free(&t);
	return st;
}

/* ---- fine-tuning ---- */

enum ax_status mdg_ft_begin(struct mdg_ft_state *s, const struct mdg_finetune *cfg,
			    const char *data_dir)
{
	memset(s, 0, sizeof *s);
	enum ax_status st = mdg_images_load(data_dir, 1, cfg->pre_n, &s->pre);
	if (!st)
		st = mdg_images_load(data_dir, 0, cfg->ft_n, &s->ft);
	if (!st && (s->pre.n < cfg->pre_n || s->ft.n < cfg->ft_n))
		st = ax_error_set(AX_ERR_ARG, "%s holds %d training and %d test images, fewer "
				  "than asked (%d, %d)", data_dir, s->pre.n, s->ft.n, cfg->pre_n,
				  cfg->ft_n);
	if (st) {
		mdg_images_free(&s->pre);
		mdg_images_free(&s->ft);
		return st;
	}
	mdg_model_init(&s->model, cfg->net, cfg->hidden, cfg->seed);
	struct ax_params *p = &s->model.params;
	s->w0 = ax_arena_alloc(p->arena, (size_t)p->n * sizeof *s->w0);
	for (int i = 0; i < p->n; i++)
		s->w0[i] = ax_arena_alloc(p->arena, p->list[i]->size * sizeof(float));
	ax_optim_init(&s->opt, AX_OPTIM_MD, p);
	ax_arena_init(&s->step, 0);
	ax_tape_init(&s->tape, &s->step);
	return AX_OK;
}

void mdg_ft_end(struct mdg_ft_state *s)
{
	ax_tape_free(&s->tape);
	ax_arena_free(&s->step);
	mdg_model_free(&s->model);
	mdg_images_free(&s->pre);
	mdg_images_free(&s->ft);
}

/* Cross-entropy of the images idx[0..B) (all of im if idx is NULL) on the
 * tape; *correct counts right answers if not NULL. */
static struct ax_tensor *batch_loss(struct mdg_ft_state *s, const struct mdg_images *im,
				    const int32_t *idx, int B, int *correct)
{
	struct ax_tensor *x = ax_tensor_2d(s->tape.arena, B, 784);
	int32_t *y = ax_tape_ints(&s->tape, (size_t)B);
	for (int b = 0; b < B; b++) {
		int k = idx ? idx[b] : b;
		memcpy(x->data + (size_t)b * 784, im->x + (size_t)k * 784, 784 * sizeof(float));
		y[b] = im->y[k];
	}
	struct ax_tensor *logits = mdg_forward(&s->tape, &s->model, x);
	if (correct) {
		*correct = 0;
		for (int b = 0; b < B; b++) {
			const float *z = logits->data + (size_t)b * 10;
			int arg = 0;
			for (int c = 1; c < 10; c++)
				if (z[c] > z[arg])
					arg = c;
			*correct += arg == y[b];
		}
	}
	return ax_cross_entropy(&s->tape, logits, y, 0.0f, -1);
}

double mdg_pretrain(struct mdg_ft_state *s, const struct mdg_finetune *cfg)
{
	struct ax_params *p = &s->model.params;
	struct ax_optim opt;
	struct ax_rng root, r;
	ax_rng_seed(&root, cfg->seed);
	r = ax_rng_split(&root, 2);
	ax_optim_init(&opt, AX_OPTIM_SGD, p);
	opt.momentum = 0.9f;
	int32_t *idx = ax_xmalloc((size_t)cfg->batch * sizeof *idx);
	double last = NAN;
	for (int step = 0; step < cfg->pre_steps; step++) {
		for (int b = 0; b < cfg->batch; b++)
			idx[b] = (int32_t)ax_rng_below(&r, (uint32_t)s->pre.n);
		struct ax_tensor *loss = batch_loss(s, &s->pre, idx, cfg->batch, NULL);
		last = loss->data[0];
		ax_params_zero_grad(p);
		ax_tape_backward(&s->tape, loss, 1.0f);
		ax_optim_step(&opt, ax_sched_cosine(step, 0, cfg->pre_steps, cfg->pre_lr, 0.0f));
		ax_tape_reset(&s->tape);
	}
	free(idx);
	for (int i = 0; i < p->n; i++)
		memcpy(s->w0[i], p->list[i]->data, p->list[i]->size * sizeof(float));
	return last;
}

double mdg_ft_loss(struct mdg_ft_state *s, const struct mdg_images *im, double *acc)
{
	int correct;
	ax_no_grad_begin(&s->tape);
	double l = batch_loss(s, im, NULL, im->n, &correct)->data[0];
	ax_no_grad_end(&s->tape);
	ax_tape_reset(&s->tape);
	if (acc)
		*acc = (double)correct / im->n;
	return l;
}

/* Weights back to the snapshot, momentum zeroed, the potential set. */
static void ft_reset(struct mdg_ft_state *s, const struct mdg_md *md)
{
	struct ax_params *p = &s->model.params;
	struct ax_optim *o = &s->opt;
	for (int i = 0; i < p->n; i++) {
		memcpy(p->list[i]->data, s->w0[i], p->list[i]->size * sizeof(float));
		memset(o->m[i], 0, p->list[i]->size * sizeof(float));
	}
	o->potential = md->pot;
	o->momentum = md->momentum;
	o->step = 0;
}

/* Full-batch step `step` of md->steps: the loss, then (step < steps) the
 * update. */
static double ft_step(struct mdg_ft_state *s, const struct mdg_md *md, int step)
{
	struct ax_tensor *lt = batch_loss(s, &s->ft, NULL, s->ft.n, NULL);
	double l = lt->data[0];
	if (step < md->steps && isfinite(l)) {
		ax_params_zero_grad(&s->model.params);
		ax_tape_backward(&s->tape, lt, 1.0f);
		ax_optim_step(&s->opt, ax_sched_cosine(step, 0, md->steps, md->lr, 0.0f));
	}
	ax_tape_reset(&s->tape);
	return l;
}

static int params_finite(const struct ax_params *p)
{
	for (int i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->list[i]->size; j++)
			if (!isfinite(p->list[i]->data[j]))
				return 0;
	return 1;
}

/* A diverging trial stops as soon as a weight is not finite, before the
 * network computes with it. */
double mdg_ft_run(struct mdg_ft_state *s, const struct mdg_md *md, float *loss)
{
	ft_reset(s, md);
	for (int step = 0; step <= md->steps; step++) {
		loss[step] = (float)ft_step(s, md, step);
		if (!isfinite(loss[step]) || loss[step] > MDG_BLOWUP * (loss[0] + 1) ||
		    !params_finite(&s->model.params))
			return NAN;
	}
	return loss[md->steps];
}

struct ft_search {
	struct mdg_ft_state *s;
	struct mdg_md md;
	float *loss;
};

static double ft_try(void *ctx, float lr)
{
	struct ft_search *c = ctx;
	c->md.lr = lr;
	return mdg_ft_run(c->s, &c->md, c->loss);
}

static int ft_final(struct mdg_ft_state *s, const struct mdg_md *md, const struct ax_common *c)
{
	struct ax_run run;
	struct ax_csv csv;
	ft_reset(s, md);
	ax_run_init(&run, &c->run, md->steps, c->quiet);
	ax_csv_begin(&csv, stdout, "step,loss,lr");
	while (ax_run_next(&run)) {
		float lr = ax_sched_cosine(run.step, 0, md->steps, md->lr, 0.0f);
		unsigned d = ax_run_step_done(&run, ft_step(s, md, (int)run.step));
		if (d & AX_RUN_LOG)
			ax_csv_rowf(&csv, "%ld,%.9g,%.9g", run.step, ax_run_mean_loss(&run), lr);
	}
	return ax_run_finish(&run);
}

/* The weight matrices (mdg_is_weight) as one NPY stream: the snapshot
 * (w0) or the current values. */
static enum ax_status save_stream(struct mdg_ft_state *s, const char *dir, const char *name,
				  int snapshot)
{
	struct ax_params *p = &s->model.params;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct ax_outfile o;
	enum ax_status st = ax_outfile_open(&o, path);
	for (int i = 0; i < p->n && !st; i++) {
		const struct ax_tensor *t = p->list[i];
		if (mdg_is_weight(t))
			st = ax_npy_write_f32(o.f, snapshot ? s->w0[i] : t->data, 2,
					      (int64_t[]){ t->shape[0], t->shape[1] });
	}
	if (st) {
		ax_outfile_abort(&o);
		return st;
	}
	return ax_outfile_commit(&o);
}

enum ax_status mdg_finetune_run(const struct mdg_finetune *cfg, const struct mdg_md *md_in,
				double target, const char *data_dir, const char *out_dir,
				const struct ax_common *c, int *code)
{
	struct mdg_ft_state s;
	enum ax_status st = mdg_ft_begin(&s, cfg, data_dir);
	if (st)
		return st;
	double acc, pre = mdg_pretrain(&s, cfg), ft_loss = mdg_ft_loss(&s, &s.ft, &acc);
	if (!c->quiet)
		fprintf(stderr, "%s: pretrained %d steps: loss %.3g; on the %d fine-tuning images "
			"loss %.3g, accuracy %.3f\n", ax_prog(), cfg->pre_steps, pre, cfg->ft_n,
			ft_loss, acc);
	struct mdg_md md = *md_in;
	float *loss = ax_xmalloc(((size_t)md.steps + 1) * sizeof *loss);
	if (!(md.lr > 0)) {
		struct ft_search f = { &s, md, loss };
		double best;
		int met, i = mdg_lr_search(ft_try, &f, MDG_NLR_FT, target, &best, &met);
		st = search_report("fine-tuning", i, MDG_NLR_FT, best, met, target, md.steps,
				   c->quiet, &md.lr);
	}
	if (!st) {
		*code = ft_final(&s, &md, c);
		st = save_stream(&s, out_dir, "w0.npy", 1);
		if (!st)
			st = save_stream(&s, out_dir, "w1.npy", 0);
	}
	free(loss);
	mdg_ft_end(&s);
	return st;
}
