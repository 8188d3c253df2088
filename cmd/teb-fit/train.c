/* train.c — one training step of the Y module and TEB, and what a trainer
 * holds (model, two Adam optimisers, random streams, batch buffers).
 *
 * joint:        every step trains both (each on its own loss).
 * from-context: steps 1..N train the Y module alone; at step N+1 the TE
 *               decoder becomes a copy of the trained Y decoder and steps
 *               N+1..2N train the X module and TE decoder, the Y module frozen.
 * Each phase's learning rate follows a cosine from lr down to lr/20.
 * Windows are drawn uniformly from the training span, one data stream; the
 * latent samples from another.
 */
#include "teb.h"

#include <math.h>
#include <string.h>

const char *const teb_mode_names[] = { "joint", "from-context", NULL };

void teb_trainer_init(struct teb_trainer *tr, const struct teb_train_opts *o,
		      const struct teb_config *c, const struct teb_data *d)
{
	memset(tr, 0, sizeof *tr);
	tr->o = *o;
	tr->d = d;
	tr->span = teb_split(d, o->holdout, 0);
	tr->nwin = teb_span_windows(&tr->span, c->L, c->H);
	teb_model_init(&tr->m, c, o->seed);
	ax_optim_init(&tr->opt_y, AX_OPTIM_ADAM, &tr->m.py);
	ax_optim_init(&tr->opt_x, AX_OPTIM_ADAM, &tr->m.px);
	struct ax_rng root;
	ax_rng_seed(&root, o->seed);
	tr->data_rng = ax_rng_split(&root, 10);
	tr->noise_rng = ax_rng_split(&root, 11);
	int B = o->batch;
	tr->b.B = B;
	tr->b.yh = ax_xmalloc((size_t)B * c->L * c->dy * sizeof(float));
	tr->b.xh = ax_xmalloc((size_t)B * c->L * c->dx * sizeof(float));
	tr->b.yf = ax_xmalloc((size_t)B * c->H * c->dy * sizeof(float));
	ax_arena_init(&tr->arena, 0);
	ax_tape_init(&tr->tape, &tr->arena);
}

void teb_trainer_free(struct teb_trainer *tr)
{
	ax_tape_free(&tr->tape);
	ax_arena_free(&tr->arena);
	free(tr->b.yh), free(tr->b.xh), free(tr->b.yf);
	teb_model_free(&tr->m);
}

long teb_total_steps(const struct teb_train_opts *o)
{
	return o->mode == TEB_FROM_CONTEXT ? 2 * o->steps : o->steps;
}

/* Which modules step `step` (1-based) trains: bit 1 the Y module, bit 2 TEB. */
static int trained_parts(const struct teb_train_opts *o, long step)
{
	if (o->mode == TEB_JOINT)
		return 3;
	return step <= o->steps ? 1 : 2;
}

void teb_train_step(struct teb_trainer *tr, struct teb_step_log *lg)
{
	const struct teb_config *c = &tr->m.cfg;
	long step = ++tr->step;
	int parts = trained_parts(&tr->o, step);
	if (tr->o.mode == TEB_FROM_CONTEXT && step == tr->o.steps + 1)
		teb_copy_decoder(&tr->m);
	for (int i = 0; i < tr->b.B; i++) {
		long w = (long)(ax_rng_uniform_double(&tr->data_rng) * (double)tr->nwin);
		teb_window(tr->d, &tr->span, c->L, c->H, w, tr->b.yh + (size_t)i * c->L * c->dy,
			   tr->b.xh + (size_t)i * c->L * c->dx, tr->b.yf + (size_t)i * c->H * c->dy);
	}
	struct teb_out o;
	struct ax_tape *t = &tr->tape;
	teb_forward(t, &tr->m, &tr->b, &tr->noise_rng, &o);
	struct ax_tensor *loss = parts == 3 ? ax_add(t, o.loss_y, o.loss_te)
				 : parts == 1 ? o.loss_y : o.loss_te;
	ax_params_zero_grad(&tr->m.py);
	ax_params_zero_grad(&tr->m.px);
	ax_tape_backward(t, loss, 1);
	/* each phase's learning rate falls from lr to lr/20 along a cosine */
	long n = tr->o.steps, k = step > n ? step - n : step;
	float lr = ax_sched_cosine(k - 1, 0, n, (float)tr->o.lr, (float)tr->o.lr / 20);
	if (parts & 1)
		ax_optim_step(&tr->opt_y, lr);
	if (parts & 2)
		ax_optim_step(&tr->opt_x, lr);
	double half_log_2pi = 0.5 * log(2 * M_PI);
	lg->step = step;
	lg->loss = loss->data[0];
	lg->nll_y = o.nll_y->data[0] + half_log_2pi;
	lg->nll_te = o.nll_te->data[0] + half_log_2pi;
	lg->kl_y = o.kl_y->data[0];
	lg->kl_te = o.kl_te->data[0];
	double ey = 0, et = 0;
	for (size_t i = 0; i < o.mu_y->size; i++) {
		double a = tr->b.yf[i] - o.mu_y->data[i], b = tr->b.yf[i] - o.mu_te->data[i];
		ey += a * a, et += b * b;
	}
	lg->mse_y = ey / o.mu_y->size, lg->mse_te = et / o.mu_y->size;
	ax_tape_reset(t);
}
