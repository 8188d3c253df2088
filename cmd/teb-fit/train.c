/* train.c — one training step of the Y module and TEB, what a trainer holds
 * (model, two Adam optimisers, random streams, batch buffers), and
 * `teb-fit train`: the loop on lib's training run (ax_run.h).
 *
 * joint:        every step trains both (each on its own loss).
 * from-context: steps 1..N train the Y module alone; at step N+1 the TE
 *               decoder becomes a copy of the trained Y decoder and steps
 *               N+1..2N train the X module and TE decoder, the Y module frozen.
 * Each phase's learning rate follows a cosine from lr down to lr/20.
 * Windows are drawn uniformly from the training span, one data stream; the
 * latent samples from another. Under MPI every rank draws both for the
 * whole batch and computes its shard of rows; one allreduce sums both
 * modules' gradients with the step's loss terms (ax_dist.h).
 */
#include "teb.h"

#include <math.h>
#include <string.h>

const char *const teb_mode_names[] = { "joint", "from-context", NULL };

const struct ax_setting teb_train_settings[] = {
	AX_SETTING_CHOICE("teb.mode", "--from-context", struct teb_train_opts, mode, teb_mode_names),
	AX_SETTING_LONG("teb.steps", "--steps", struct teb_train_opts, steps, 1, 1L << 40),
	AX_SETTING_INT("teb.batch", "--batch", struct teb_train_opts, batch, 1, 1 << 16),
	AX_SETTING_DOUBLE("teb.lr", "--lr", struct teb_train_opts, lr, 0, 10, AX_LO_OPEN),
	AX_SETTING_DOUBLE("teb.holdout", "--holdout", struct teb_train_opts, holdout, 0, 0.9, 0),
	AX_SETTING_U64("teb.seed", "--seed", struct teb_train_opts, seed),
};
const int teb_n_train_settings = (int)AX_COUNTOF(teb_train_settings);

/* One list of both parameter sets (the tensors stay the model's). */
static void join_params(struct ax_params *all, const struct teb_model *m)
{
	const struct ax_params *part[2] = { &m->py, &m->px };
	ax_params_init(all, m->py.arena);
	all->cap = m->py.n + m->px.n;
	all->list = ax_xmalloc((size_t)all->cap * sizeof *all->list);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < part[k]->n; i++)
			all->list[all->n++] = part[k]->list[i];
}

void teb_trainer_init(struct teb_trainer *tr, const struct teb_train_opts *o,
		      const struct teb_config *c, const struct teb_data *d)
{
	memset(tr, 0, sizeof *tr);
	tr->o = *o;
	tr->d = d;
	tr->span = teb_split(d, o->holdout, 0);
	tr->nwin = teb_span_windows(&tr->span, c->L, c->H);
	teb_model_init(&tr->m, c, o->seed);
	join_params(&tr->all, &tr->m);
	ax_optim_init(&tr->opt_y, AX_OPTIM_ADAM, &tr->m.py);
	ax_optim_init(&tr->opt_x, AX_OPTIM_ADAM, &tr->m.px);
	struct ax_rng root;
	ax_rng_seed(&root, o->seed);
	tr->data_rng = ax_rng_split(&root, 10);
	tr->noise_rng = ax_rng_split(&root, 11);
	long first, B;
	ax_dist_shard(o->batch, &first, &B);
	tr->b = (struct teb_batch){ .B = (int)B, .first = (int)first, .total = o->batch };
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
	ax_params_free(&tr->all);
	teb_model_free(&tr->m);
}

void teb_trainer_put(const struct teb_trainer *tr, struct ax_bundle *b)
{
	ax_optim_to_bundle(&tr->opt_y, b, "y.");
	ax_optim_to_bundle(&tr->opt_x, b, "x.");
	ax_ckpt_put_rng(b, "rng.data", &tr->data_rng);
	ax_ckpt_put_rng(b, "rng.noise", &tr->noise_rng);
}

enum ax_status teb_trainer_get(struct teb_trainer *tr, const struct ax_bundle *b, long step)
{
	enum ax_status st;
	if ((st = ax_optim_from_bundle(&tr->opt_y, b, "y.")) ||
	    (st = ax_optim_from_bundle(&tr->opt_x, b, "x.")) ||
	    (st = ax_ckpt_get_rng(b, "rng.data", &tr->data_rng)) ||
	    (st = ax_ckpt_get_rng(b, "rng.noise", &tr->noise_rng)) ||
	    (st = ax_params_from_bundle(&tr->m.py, b, "")) ||
	    (st = ax_params_from_bundle(&tr->m.px, b, "")))
		return st;
	tr->step = step;
	return AX_OK;
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

/* The step's windows: every rank draws the whole batch's (one stream) and
 * keeps its shard's rows. */
static void draw_windows(struct teb_trainer *tr)
{
	const struct teb_config *c = &tr->m.cfg;
	struct teb_batch *b = &tr->b;
	for (int i = 0; i < tr->o.batch; i++) {
		long w = (long)(ax_rng_uniform_double(&tr->data_rng) * (double)tr->nwin);
		int r = i - b->first;
		if (r < 0 || r >= b->B)
			continue;
		teb_window(tr->d, &tr->span, c->L, c->H, w, b->yh + (size_t)r * c->L * c->dy,
			   b->xh + (size_t)r * c->L * c->dx, b->yf + (size_t)r * c->H * c->dy);
	}
}

/* The step's measures (loss, NLLs, KLs, squared errors: means over this
 * rank's rows) into v[7]; under several ranks the gradients are summed and
 * v becomes the global batch's means in the same message (ax_dist.h). */
static void reduce_step(struct teb_trainer *tr, const struct teb_out *o,
			const struct ax_tensor *loss, double v[7])
{
	double ey = 0, et = 0;
	for (size_t i = 0; i < o->mu_y->size; i++) {
		double a = tr->b.yf[i] - o->mu_y->data[i], b = tr->b.yf[i] - o->mu_te->data[i];
		ey += a * a, et += b * b;
	}
	v[0] = loss->data[0], v[1] = o->nll_y->data[0], v[2] = o->nll_te->data[0];
	v[3] = o->kl_y->data[0], v[4] = o->kl_te->data[0];
	v[5] = ey / o->mu_y->size, v[6] = et / o->mu_y->size;
	if (ax_dist_size() < 2)
		return;
	float weight = (float)tr->b.B / (float)tr->o.batch;
	for (int i = 0; i < 7; i++)
		v[i] *= weight;
	ax_dist_allreduce_grads(&tr->all, weight, v, 7);
}

void teb_train_step(struct teb_trainer *tr, struct teb_step_log *lg)
{
	long step = ++tr->step;
	int parts = trained_parts(&tr->o, step);
	if (tr->o.mode == TEB_FROM_CONTEXT && step == tr->o.steps + 1)
		teb_copy_decoder(&tr->m);
	draw_windows(tr);
	struct teb_out o;
	struct ax_tape *t = &tr->tape;
	teb_forward(t, &tr->m, &tr->b, &tr->noise_rng, &o);
	struct ax_tensor *loss = parts == 3 ? ax_add(t, o.loss_y, o.loss_te)
				 : parts == 1 ? o.loss_y : o.loss_te;
	ax_params_zero_grad(&tr->m.py);
	ax_params_zero_grad(&tr->m.px);
	ax_tape_backward(t, loss, 1);
	double v[7];
	reduce_step(tr, &o, loss, v);
	/* each phase's learning rate falls from lr to lr/20 along a cosine */
	long n = tr->o.steps, k = step > n ? step - n : step;
	float lr = ax_sched_cosine(k - 1, 0, n, (float)tr->o.lr, (float)tr->o.lr / 20);
	if (parts & 1)
		ax_optim_step(&tr->opt_y, lr);
	if (parts & 2)
		ax_optim_step(&tr->opt_x, lr);
	double half_log_2pi = 0.5 * log(2 * M_PI);
	lg->step = step;
	lg->loss = v[0];
	lg->nll_y = v[1] + half_log_2pi;
	lg->nll_te = v[2] + half_log_2pi;
	lg->kl_y = v[3];
	lg->kl_te = v[4];
	lg->mse_y = v[5], lg->mse_te = v[6];
	ax_tape_reset(t);
}

/* ---- `teb-fit train` ---- */

/* Model settings from the options and the data's dimensions. */
static void new_config(const struct teb_opts *o, const struct teb_data *d, struct teb_config *c)
{
	*c = o->cfg;
	c->dx = d->dx, c->dy = d->dy;
	if (!ax_cli_seen(&o->cli, TEB_OPT_BETA_Y))
		c->beta_y = c->beta;
	const char *why = teb_config_check(c);
	if (why)
		ax_usage_error("%s", why);
}

/* Every rank needs a window of each batch. */
static void check_batch(int batch)
{
	if (batch < ax_dist_size())
		ax_usage_error("--batch %d is less than the %d ranks", batch, ax_dist_size());
}

/* Trainer from --resume FILE: settings range-checked as their flags are,
 * data dimensions checked against the model. */
static void start_resumed(struct teb_opts *o, const struct teb_data *d, struct teb_trainer *tr,
			  struct ax_run *run)
{
	const char *path = o->cli.common.run.resume;
	ax_cli_refuse(&o->cli, AX_OPT_FIXED,
		      "conflicts with --resume (the checkpoint fixes the model and training settings)");
	struct teb_model m;
	struct ax_bundle ck;
	enum ax_status st = teb_load(path, &m, &ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
	struct teb_config c = m.cfg;
	teb_model_free(&m);
	if (c.dx != d->dx || c.dy != d->dy)
		ax_die(AX_EXIT_USAGE, "%s: a model of %d source and %d target dims, the data has %d "
		       "and %d", path, c.dx, c.dy, d->dx, d->dy);
	struct teb_train_opts to;
	if (!(st = ax_ckpt_get_settings(&ck, teb_train_settings, teb_n_train_settings, &to))) {
		check_batch(to.batch);
		teb_trainer_init(tr, &to, &c, d);
		ax_run_init(run, &o->cli.common.run, teb_total_steps(&to), o->cli.common.quiet);
		st = ax_run_resume(run, &ck);
	}
	if (!st)
		st = teb_trainer_get(tr, &ck, run->step);
	ax_bundle_free(&ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, path);
}

static void save_or_die(const char *path, const struct teb_trainer *tr, const struct ax_run *run)
{
	struct ax_bundle b;
	ax_ckpt_begin(&b, TEB_KIND);
	teb_put_model(&b, &tr->m);
	ax_ckpt_put_settings(&b, teb_train_settings, teb_n_train_settings, &tr->o);
	teb_trainer_put(tr, &b);
	ax_run_put(run, &b);
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "cannot save checkpoint");
}

/* The first ~2048 held-out windows: what each CSV row scores. */
static struct teb_span val_span(const struct teb_data *d, const struct teb_train_opts *o,
				const struct teb_config *c)
{
	enum { VAL_WINDOWS = 2048 };
	struct teb_span s = teb_split(d, o->holdout, 1);
	long per = (long)(s.t1 - s.t0) - c->L - c->H + 1;
	if (d->nseq > 1 && per > 0)
		s.s1 = (int)AX_MIN((long)s.s1, s.s0 + (VAL_WINDOWS + per - 1) / per);
	else if (per > VAL_WINDOWS)
		s.t1 = s.t0 + VAL_WINDOWS + c->L + c->H - 1;
	return s;
}

#define TEB_TRAIN_CSV "step,loss,nll_y,nll_te,kl_y,kl_te,mse_y,mse_te,val_mse_y,val_mse_te,val_te"

/* One CSV row: the means since the last row (the run's sums: user[0..5]),
 * then both models and the TE estimate on (the first ~2048) held-out windows. */
static void log_row(struct ax_csv *csv, const struct teb_trainer *tr, const struct ax_run *run,
		    const struct teb_span *val)
{
	const struct ax_run_acc *a = &run->acc;
	double n = a->steps > 0 ? a->steps : 1;
	if (!ax_dist_root())
		return;   /* rank 0 alone evaluates and writes the CSV */
	struct teb_estimate e = { .mse_y = NAN, .mse_te = NAN, .te = NAN };
	if (teb_span_windows(val, tr->m.cfg.L, tr->m.cfg.H) > 0)
		teb_evaluate(&tr->m, tr->d, val, -1, 256, 0, 0.95, tr->o.seed, &e);
	ax_csv_rowf(csv, "%ld,%.6g,%.6f,%.6f,%.5f,%.5f,%.6g,%.6g,%.6g,%.6g,%.6f", run->step,
		    ax_run_mean_loss(run), a->user[0] / n, a->user[1] / n, a->user[2] / n,
		    a->user[3] / n, a->user[4] / n, a->user[5] / n, e.mse_y, e.mse_te, e.te);
}

int teb_cmd_train(struct teb_opts *o)
{
	ax_dist_init();
	struct teb_data d;
	enum ax_status st = teb_data_open(&d, o->cli.files, o->cli.nfiles);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	struct teb_trainer tr;
	struct ax_run run;
	if (o->cli.common.run.resume) {
		start_resumed(o, &d, &tr, &run);
	} else {
		struct teb_config c;
		new_config(o, &d, &c);
		o->tr.seed = o->cli.common.seed;
		check_batch(o->tr.batch);
		teb_trainer_init(&tr, &o->tr, &c, &d);
		ax_run_init(&run, &o->cli.common.run, teb_total_steps(&tr.o), o->cli.common.quiet);
	}
	if (tr.nwin < 1)
		ax_die(AX_EXIT_USAGE, "%s: no training window of %d + %d steps in %d steps "
		       "(--holdout %g)", o->cli.files[0], tr.m.cfg.L, tr.m.cfg.H, d.T, tr.o.holdout);
	ax_dist_bcast_params(&tr.all);   /* every rank starts from rank 0's values */
	struct teb_span val = val_span(&d, &tr.o, &tr.m.cfg);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, TEB_TRAIN_CSV);
	while (ax_run_next(&run)) {
		struct teb_step_log lg;
		teb_train_step(&tr, &lg);
		double v[6] = { lg.nll_y, lg.nll_te, lg.kl_y, lg.kl_te, lg.mse_y, lg.mse_te };
		for (int i = 0; i < 6; i++)
			run.acc.user[i] += v[i];
		unsigned done = ax_run_step_done(&run, lg.loss);
		if (done & AX_RUN_LOG)
			log_row(&csv, &tr, &run, &val);
		if (done & AX_RUN_SAVE)
			save_or_die(o->cli.common.run.checkpoint, &tr, &run);
	}
	ax_dist_check_same(&tr.all);
	teb_trainer_free(&tr);
	teb_data_free(&d);
	return ax_run_finish(&run);
}
