/* train.c — mirror-descent training: the paper's linear regression, and
 * pretraining + fine-tuning of a small network; the learning-rate search
 * both use. */
#include "md_geom.h"

#include <math.h>
#include <string.h>

double mdg_lr_grid(int i)
{
	return pow(10.0, -7.0 + 6.0 * i / (MDG_NLR - 1));
}

int mdg_lr_search(double (*run)(void *ctx, float lr), void *ctx, double target, double *loss,
		  int *met)
{
	int best = -1;
	*met = 0;
	*loss = NAN;
	for (int i = MDG_NLR - 1; i >= 0; i--) {
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

enum ax_status mdg_regress_train(const struct mdg_regress *t, const struct mdg_md *md, float *w,
				 float *loss)
{
	int D = t->D, N = t->N;
	float *r = ax_xmalloc((size_t)N * sizeof *r), *g = ax_xmalloc((size_t)D * sizeof *g);
	float *m = ax_xcalloc((size_t)D, sizeof *m);
	enum ax_status st = AX_OK;
	for (int s = 0; s <= md->steps; s++) {
		ax_sgemm(0, 0, N, 1, D, 1.0f, t->X, w, 0.0f, r);       /* r = X w */
		double l = 0;
		for (int i = 0; i < N; i++) {
			r[i] -= t->y[i];
			l += (double)r[i] * r[i];
		}
		loss[s] = (float)(l / N);
		if (!isfinite(loss[s]) || loss[s] > MDG_BLOWUP * (loss[0] + 1)) {
			st = ax_error_set(AX_ERR_NUMERIC, "loss %g at step %d", loss[s], s);
			break;
		}
		if (s == md->steps)
			break;
		ax_sgemm(1, 0, D, 1, N, 2.0f / N, t->X, r, 0.0f, g);  /* g = 2/N X^T r */
		float lr = ax_sched_cosine(s, 0, md->steps, md->lr, 0.0f);
		ax_md_update((size_t)D, w, g, m, md->pot, lr, md->momentum);
	}
	free(r);
	free(g);
	free(m);
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

double mdg_ft_run(struct mdg_ft_state *s, const struct mdg_md *md, float *loss)
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
	double l = NAN;
	for (int step = 0; step <= md->steps; step++) {
		struct ax_tensor *lt = batch_loss(s, &s->ft, NULL, s->ft.n, NULL);
		l = loss[step] = lt->data[0];
		if (!isfinite(l) || l > MDG_BLOWUP * (loss[0] + 1)) {
			l = NAN;
			break;
		}
		if (step < md->steps) {
			ax_params_zero_grad(p);
			ax_tape_backward(&s->tape, lt, 1.0f);
			ax_optim_step(o, ax_sched_cosine(step, 0, md->steps, md->lr, 0.0f));
		}
		ax_tape_reset(&s->tape);
	}
	ax_tape_reset(&s->tape);
	return l;
}
