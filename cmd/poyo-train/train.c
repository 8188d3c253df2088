/* train.c — `poyo-train train` (multi-session pretraining, or a model from
 * scratch on one session) and `poyo-train finetune` (a pretrained model on
 * a new session: unit identification, optionally full fine-tuning), one
 * loop on lib's training run (ax_run.h), data-parallel over MPI as mod-lm.
 *
 * Optimiser: LAMB, sparse row updates on unit_emb and session_emb (only
 * the rows a step touched change), weight decay --weight-decay; schedule:
 * torch OneCycleLR with div_factor 1 (flat at --lr for the first --flat of
 * the steps), then cosine down to lr / 1e4.
 * Unit identification freezes every parameter but the two embedding
 * tables; --full unfreezes everything for the second half of the steps.
 */
#include "poyo.h"

#include <math.h>
#include <string.h>

struct poyo_trainer {
	struct poyo_model m;
	struct poyo_train_cfg ts;
	struct ax_optim opt;
	struct ax_run run;
	struct poyo_session *ss;
	int ns, first;                  /* sessions; model index of ss[0] */
	struct ax_arena arena;
	struct ax_tape tape;
	struct poyo_window *win;        /* (batch) */
	uint8_t **keep;                 /* (batch) unit dropout masks */
};

static void save_or_die(const char *path, const struct poyo_trainer *tr)
{
	struct ax_bundle b;
	ax_ckpt_begin(&b, POYO_KIND);
	poyo_put_config(&b, &tr->m.cfg);
	ax_params_to_bundle(&tr->m.params, &b, "");
	ax_optim_to_bundle(&tr->opt, &b, "");
	ax_ckpt_put_settings(&b, poyo_train_settings, poyo_n_train_settings, &tr->ts);
	ax_run_put(&tr->run, &b);
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "cannot save checkpoint");
}

/* Training trials of session s: the train split, or its first --trials. */
static int train_trials(const struct poyo_trainer *tr, const struct poyo_session *s)
{
	return tr->ts.trials > 0 ? AX_MIN(tr->ts.trials, s->ntrain) : s->ntrain;
}

/* Pooled standard deviation of the training velocity (both components). */
static double velocity_scale(const struct poyo_trainer *tr)
{
	double sum = 0, sq = 0, n = 0;
	for (int i = 0; i < tr->ns; i++) {
		const struct poyo_session *s = &tr->ss[i];
		float end = s->trial_end[train_trials(tr, s) - 1];
		for (int k = 0; k < s->S && s->hand_t[k] < end; k++)
			for (int c = 0; c < 2; c++) {
				double v = s->hand_vel[2 * k + c];
				sum += v, sq += v * v, n++;
			}
	}
	double var = n > 1 ? (sq - sum * sum / n) / (n - 1) : 0;
	return var > 0 ? sqrt(var) : 1.0;
}

static void optim_setup(struct poyo_trainer *tr)
{
	ax_optim_init(&tr->opt, AX_OPTIM_LAMB, &tr->m.params);
	tr->opt.weight_decay = (float)tr->ts.weight_decay;
	ax_optim_set_flags(&tr->opt, tr->m.unit_emb.w, AX_OPTIM_SPARSE);
	ax_optim_set_flags(&tr->opt, tr->m.session_emb.w, AX_OPTIM_SPARSE);
}

/* Unit identification: everything frozen but the embedding tables, until
 * the second half of a --full run. */
static void set_frozen(struct poyo_trainer *tr)
{
	if (!tr->ts.unit_id)
		return;
	int all = tr->ts.full && tr->run.step >= tr->ts.steps / 2;
	struct ax_params *p = &tr->m.params;
	for (int i = 0; i < p->n; i++)
		if (!poyo_param_is_embedding(p->list[i]->name))
			ax_optim_set_flags(&tr->opt, p->list[i], all ? 0 : AX_OPTIM_FROZEN);
}

static void load_or_die(const char *path, struct ax_bundle *ck, struct poyo_config *cfg)
{
	enum ax_status st = poyo_checkpoint_open(path, ck, cfg);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
}

/* Continue a run from --resume; the sessions are the checkpoint's last ones. */
static void start_resumed(struct poyo_opts *o, struct poyo_trainer *tr)
{
	const char *path = o->cli.common.run.resume;
	ax_cli_refuse(&o->cli, AX_OPT_FIXED,
		      "conflicts with --resume (the checkpoint fixes the model and training settings)");
	struct ax_bundle ck;
	enum ax_status st = poyo_model_load(path, &tr->m, &ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
	st = ax_ckpt_get_settings(&ck, poyo_train_settings, poyo_n_train_settings, &tr->ts);
	if (!st) {
		ax_run_init(&tr->run, &o->cli.common.run, tr->ts.steps, o->cli.common.quiet);
		st = ax_run_resume(&tr->run, &ck);
	}
	if (!st) {
		optim_setup(tr);
		st = ax_optim_from_bundle(&tr->opt, &ck, "");
	}
	ax_bundle_free(&ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, path);
}

/* finetune: the checkpoint's model with one more session (the new one). */
static void start_finetune(struct poyo_opts *o, struct poyo_trainer *tr)
{
	struct ax_bundle ck;
	struct poyo_config cfg;
	load_or_die(o->model_path, &ck, &cfg);
	int n = cfg.nsessions, total = 0;
	for (int s = 0; s < n; s++)
		total += cfg.units[s];
	cfg.units = ax_xrealloc(cfg.units, (size_t)(n + 1) * sizeof *cfg.units);
	cfg.units[n] = tr->ss[0].U;
	cfg.nsessions = n + 1;
	poyo_model_init(&tr->m, &cfg, tr->ts.seed);
	free(cfg.units);
	const struct ax_array *a, *b;
	int C = cfg.dim;
	enum ax_status st = ax_params_from_bundle_except(&tr->m.params, &ck, "",
							 poyo_param_is_embedding);
	if (!st)
		st = ax_bundle_get(&ck, "unit_emb.weight", AX_F32, 2, (int64_t[]){ total, C }, &a);
	if (!st)
		st = ax_bundle_get(&ck, "session_emb.weight", AX_F32, 2, (int64_t[]){ n, C }, &b);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, o->model_path);
	memcpy(tr->m.unit_emb.w->data, a->data, (size_t)total * C * sizeof(float));
	memcpy(tr->m.session_emb.w->data, b->data, (size_t)n * C * sizeof(float));
	poyo_rows_like_pretrained(tr->m.unit_emb.w, total);
	poyo_rows_like_pretrained(tr->m.session_emb.w, n);
	ax_bundle_free(&ck);
	tr->ts.unit_id = 1;
	optim_setup(tr);
	ax_run_init(&tr->run, &o->cli.common.run, tr->ts.steps, o->cli.common.quiet);
}

static void start_new(struct poyo_opts *o, struct poyo_trainer *tr)
{
	struct poyo_config cfg = o->model;
	const char *why = poyo_config_check(&cfg);
	if (why)
		ax_usage_error("%s", why);
	cfg.nsessions = tr->ns;
	cfg.units = ax_xmalloc((size_t)tr->ns * sizeof *cfg.units);
	for (int i = 0; i < tr->ns; i++)
		cfg.units[i] = tr->ss[i].U;
	cfg.vel_scale = velocity_scale(tr);
	poyo_model_init(&tr->m, &cfg, tr->ts.seed);
	free(cfg.units);
	optim_setup(tr);
	ax_run_init(&tr->run, &o->cli.common.run, tr->ts.steps, o->cli.common.quiet);
}

/* The sessions match the model's last ns sessions. */
static void fit_sessions(struct poyo_trainer *tr)
{
	const struct poyo_config *c = &tr->m.cfg;
	if (tr->ns > c->nsessions)
		ax_die(AX_EXIT_USAGE, "%d sessions given, the model has %d", tr->ns, c->nsessions);
	tr->first = c->nsessions - tr->ns;
	for (int i = 0; i < tr->ns; i++)
		if (c->units[tr->first + i] != tr->ss[i].U)
			ax_die(AX_EXIT_USAGE, "%s: %d units, the model's session %d has %d",
			       tr->ss[i].path, tr->ss[i].U, tr->first + i, c->units[tr->first + i]);
}

/* The step's windows: session, training trial, a random 1 s crop inside
 * it, and the unit dropout masks; from (seed, step) alone, the same on
 * every rank. */
static void draw_windows(struct poyo_trainer *tr, struct ax_rng *r)
{
	for (int b = 0; b < tr->ts.batch; b++) {
		int i = (int)ax_rng_below(r, (uint64_t)tr->ns);
		const struct poyo_session *s = &tr->ss[i];
		int m = (int)ax_rng_below(r, (uint64_t)train_trials(tr, s));
		double span = fmax(0.0, (double)s->trial_end[m] - s->trial_start[m] - POYO_WINDOW);
		tr->win[b] = (struct poyo_window){ .session = i, .trial = m,
						   .t0 = s->trial_start[m] + span * ax_rng_uniform_double(r) };
		poyo_unit_dropout(r, s->U, tr->keep[b]);
	}
}

/* This rank's share of the weighted MSE of the global batch: the sum over
 * its windows of w (pred - velocity / vel_scale)^2 over the global batch's
 * total weight wsum (both components), so the ranks' shares add up. */
static struct ax_tensor *loss_of(struct ax_tape *t, const struct poyo_trainer *tr,
				 const struct poyo_batch *b, struct ax_tensor *pred, double wsum)
{
	size_t n = (size_t)b->B * b->Q * 2;
	struct ax_tensor *y = ax_const(t, 3, pred->shape, NULL);
	struct ax_tensor *w = ax_const(t, 3, pred->shape, NULL);
	for (size_t i = 0; i < n; i++) {
		int k = b->qsample[i / 2];
		y->data[i] = w->data[i] = 0;
		if (k < 0)
			continue;
		const struct poyo_session *s = &tr->ss[b->session[i / 2 / b->Q] - tr->first];
		y->data[i] = (float)(s->hand_vel[2 * k + i % 2] / tr->m.cfg.vel_scale);
		w->data[i] = s->weight[k];
	}
	struct ax_tensor *d = ax_sub(t, pred, y);
	return ax_scale(t, ax_sum_all(t, ax_mul(t, w, ax_mul(t, d, d))),
			(float)(wsum > 0 ? 0.5 / wsum : 0.0));
}

static double train_step(struct poyo_trainer *tr, const struct ax_rng *base, float lr)
{
	long b0, nb;
	int B = tr->ts.batch;
	ax_dist_shard(B, &b0, &nb);
	uint64_t step = (uint64_t)tr->run.step;
	struct ax_rng data = ax_rng_split(base, 2 * step), drop = ax_rng_split(base, 2 * step + 1);
	if (ax_dist_rank() > 0)
		drop = ax_rng_split(&drop, (uint64_t)ax_dist_rank());
	draw_windows(tr, &data);
	double wsum = 0;
	for (int i = 0; i < B; i++)
		wsum += poyo_window_weight(&tr->ss[tr->win[i].session], &tr->win[i]);
	struct ax_tape *t = &tr->tape;
	struct poyo_batch b;
	poyo_batch_make(t, tr->ss, tr->first, tr->win + b0, (int)nb,
			(const uint8_t *const *)tr->keep + b0, tr->m.offsets, &b);
	struct ax_tensor *loss = loss_of(t, tr, &b, poyo_forward(t, &tr->m, &b, &drop), wsum);
	double sums[1] = { loss->data[0] };
	if (isfinite(loss->data[0]))
		ax_tape_backward(t, loss, 1.0f);
	ax_dist_allreduce_grads(&tr->m.params, 1.0f, sums, ax_dist_size() > 1 ? 1 : 0);
	double value = ax_dist_size() > 1 ? sums[0] : (double)loss->data[0];
	if (isfinite(value)) {
		set_frozen(tr);
		ax_optim_step(&tr->opt, lr);
	}
	ax_params_zero_grad(&tr->m.params);
	ax_tape_reset(t);
	return value;
}

static void load_sessions(struct poyo_opts *o, struct poyo_trainer *tr)
{
	enum ax_status st = poyo_sessions_load(o->cli.files, o->cli.nfiles, &tr->ss);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	tr->ns = o->cli.nfiles;
}

static int run_loop(struct poyo_opts *o, struct poyo_trainer *tr)
{
	if (tr->ts.batch < ax_dist_size())
		ax_usage_error("--batch %d is less than the %d ranks", tr->ts.batch, ax_dist_size());
	ax_dist_bcast_params(&tr->m.params);
	fit_sessions(tr);
	if (!o->cli.common.quiet && ax_dist_root())
		fprintf(stderr, "poyo-train: %zu parameters, %d sessions, %ld steps of %d windows\n",
			ax_params_count(&tr->m.params), tr->m.cfg.nsessions, tr->ts.steps,
			tr->ts.batch);
	ax_arena_init(&tr->arena, 0);
	ax_tape_init(&tr->tape, &tr->arena);
	tr->tape.training = 1;
	tr->win = ax_xcalloc((size_t)tr->ts.batch, sizeof *tr->win);
	tr->keep = ax_xcalloc((size_t)tr->ts.batch, sizeof *tr->keep);
	size_t Umax = 1;
	for (int i = 0; i < tr->ns; i++)
		Umax = AX_MAX(Umax, (size_t)tr->ss[i].U);
	uint8_t *masks = ax_xmalloc((size_t)tr->ts.batch * Umax);   /* one block, a row per window */
	for (int b = 0; b < tr->ts.batch; b++)
		tr->keep[b] = masks + (size_t)b * Umax;
	struct ax_rng base;
	ax_rng_seed(&base, tr->ts.seed ^ 0x706f796f2d74ULL);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "step,loss,lr,windows_per_s");
	while (ax_run_next(&tr->run)) {
		float lr = ax_sched_onecycle(tr->run.step, tr->ts.steps, (float)tr->ts.flat,
					     (float)tr->ts.lr, 1.0f, 1e4f);
		double loss = train_step(tr, &base, lr);
		unsigned d = ax_run_step_done(&tr->run, loss);
		const struct ax_run_acc *a = &tr->run.acc;
		if ((d & AX_RUN_LOG) && ax_dist_root())
			ax_csv_rowf(&csv, "%ld,%.6f,%.6g,%.1f", tr->run.step, ax_run_mean_loss(&tr->run),
				    lr, a->seconds > 0 ? a->steps * tr->ts.batch / a->seconds : 0.0);
		if (d & AX_RUN_SAVE)
			save_or_die(o->cli.common.run.checkpoint, tr);
	}
	ax_dist_check_same(&tr->m.params);
	free(tr->keep[0]), free(tr->keep), free(tr->win);
	ax_tape_free(&tr->tape);
	ax_arena_free(&tr->arena);
	poyo_sessions_free(tr->ss, tr->ns);
	poyo_model_free(&tr->m);
	return ax_run_finish(&tr->run);
}

/* train and finetune: the same loop, started three ways. */
static int cmd_run(struct poyo_opts *o, int finetune)
{
	struct poyo_trainer tr;
	memset(&tr, 0, sizeof tr);
	ax_dist_init();
	tr.ts = o->train;
	load_sessions(o, &tr);
	if (o->cli.common.run.resume)
		start_resumed(o, &tr);
	else if (finetune)
		start_finetune(o, &tr);
	else
		start_new(o, &tr);
	return run_loop(o, &tr);
}

int poyo_cmd_train(struct poyo_opts *o) { return cmd_run(o, 0); }
int poyo_cmd_finetune(struct poyo_opts *o) { return cmd_run(o, 1); }
